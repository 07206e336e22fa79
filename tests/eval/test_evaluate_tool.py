"""tools/evaluate.py: files in, metrics.json / per_sample.jsonl / report.md out, bad input reported."""
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from lslm.eval import text
from lslm.eval.scoring import evaluate_files
from lslm.recipes.evaluate import main
from lslm.eval.text import score

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["bleu1", "bleu2", "bleu3", "bleu4", "chrf", "rouge_l", "cider", "meteor", "wer", "sub", "ins", "del",
        "distinct2", "tsr", "pger"]
PREDS = {"a": "the quick brown fox jumped", "b": "a green turtle walks under a bridge", "c": "",
         "d": "we meet next week again"}
REFS = {"a": "The quick brown fox jumps over.", "b": ["A slow green turtle walks under the bridge.", "a turtle walks"],
        "c": "My old red car is broken today.", "d": "We will meet again next week!"}
FAST = "bleu,chrf,rouge_l,cider,wer,distinct"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path):
    preds = write_jsonl(tmp_path / "preds.jsonl", [{"id": k, "prediction": v} for k, v in PREDS.items()])
    refs = write_jsonl(tmp_path / "refs.jsonl", [{"id": k, "reference": v} for k, v in reversed(REFS.items())])
    return preds, refs


def test_metrics_json_has_every_key_and_the_library_numbers(files, tmp_path, monkeypatch):
    monkeypatch.setattr(text.shutil, "which", lambda name: None)  # METEOR: the no-Java path, fast
    out = tmp_path / "out"
    assert main(["--predictions", str(files[0]), "--references", str(files[1]), "--out", str(out),
                 "--metrics", FAST + ",meteor"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert all(k in m for k in KEYS)
    assert m["meteor"] is None and "needs Java" in m["unavailable"]["meteor"]
    assert m["tsr"] is None and m["unavailable"]["tsr"] == "not requested"
    ids = list(REFS)[::-1]  # reference-file order
    expected = score([PREDS[k] for k in ids], [REFS[k] for k in ids], metrics=FAST.split(",")).corpus
    for k, v in expected.items():
        assert m[k] == pytest.approx(v), k
    assert m["counts"]["empty_predictions"] == 1 and m["problems"]["empty_predictions"] == ["c"]
    rows = [json.loads(line) for line in (out / "per_sample.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ids and rows[1]["prediction"] == "" and rows[1]["wer"] == 100.0
    md = (out / "report.md").read_text()
    assert "| Run | BLEU@1↑ | BLEU@4↑ | ROUGE↑ | CIDEr↑ | WER↓ | Insertions↓ | Deletions↓ |" in md
    assert f"{m['cider'] * 100:.1f}" in md and "Most over-generated words" in md
    assert json.loads((out / "vocabulary_bias.json").read_text())["preds"]["most_predicted"][0]["word"] == "a"


def test_one_file_with_both_columns_matches_two_files(files, tmp_path):
    both = write_jsonl(tmp_path / "both.jsonl", [{"id": k, "prediction": PREDS[k], "reference": REFS[k]}
                                                 for k in PREDS])
    one, _, _ = evaluate_files(both, metrics=["bleu", "wer"])
    two, _, _ = evaluate_files(*files, metrics=["bleu", "wer"])
    assert one["bleu4"] == pytest.approx(two["bleu4"]) and one["wer"] == pytest.approx(two["wer"])


def test_mismatched_ids_error_or_counted(files, tmp_path, capsys):
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "prediction": PREDS["a"]}, {"id": "z", "prediction": "x"}])
    assert main(["--predictions", str(preds), "--references", str(files[1]), "--out", str(tmp_path / "o"),
                 "--metrics", "wer"]) == 2
    err = capsys.readouterr().err
    assert "p.jsonl" in err and "3 references without prediction" in err and "'z'" in err
    m, scores, _ = evaluate_files(preds, files[1], tmp_path / "o2", allow_mismatch=True, metrics=["wer"])
    assert m["counts"]["missing_predictions"] == 3 and m["counts"]["missing_references"] == 1
    assert m["problems"]["missing_references"] == ["z"]
    assert len(scores.per_sample) == 4  # the three references without prediction are scored as empty
    assert m["counts"]["empty_predictions"] == 3


def test_non_utf8_bad_json_and_bad_fields_are_clear_errors(files, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": "a", "prediction": "ok"}\n{"id": "b", "prediction": "caf\xe9"}\n')
    assert main(["--predictions", str(bad), "--references", str(files[1]), "--out", str(tmp_path / "o")]) == 2
    assert "bad.jsonl: field 'line 2': expected UTF-8 text" in capsys.readouterr().err
    bad.write_text('{"id": "a", "prediction": "ok"}\nnot json\n')
    assert main(["--predictions", str(bad), "--references", str(files[1]), "--out", str(tmp_path / "o")]) == 2
    assert "line 2" in capsys.readouterr().err
    bad.write_text('{"id": "a", "prediction": null}\n')
    assert main(["--predictions", str(bad), "--references", str(files[1]), "--out", str(tmp_path / "o")]) == 2
    assert "prediction of id a" in capsys.readouterr().err
    bad.write_text('{"id": "a", "prediction": "x"}\n{"id": "a", "prediction": "y"}\n')
    assert main(["--predictions", str(bad), "--references", str(files[1]), "--out", str(tmp_path / "o")]) == 2
    assert "id a" in capsys.readouterr().err


def test_several_runs_backbone_table_and_motion_metrics(files, tmp_path):
    other = write_jsonl(tmp_path / "other.jsonl", [{"id": k, "prediction": REFS[k] if isinstance(REFS[k], str)
                                                    else REFS[k][0]} for k in REFS])
    motion = tmp_path / "motion.json"
    motion.write_text(json.dumps({"mpjpe_mm": 41.5, "codebook": {"perplexity": 300.0}}))
    out = tmp_path / "out"
    assert main(["--predictions", str(files[0]), str(other), "--references", str(files[1]), "--out", str(out),
                 "--labels", "MLP", "MLP+LLM", "--backbones", "Llama", "Qwen", "--metrics", "wer,bleu",
                 "--motion-metrics", str(motion), "--train-references", str(files[1])]) == 0
    md = (out / "report.md").read_text()
    assert "| Backbone | Run | BLEU@1↑" in md and "| Qwen | MLP+LLM | 100.0 |" in md
    assert "| codebook.perplexity | 300 |" in md
    run = json.loads((out / "MLP+LLM" / "metrics.json").read_text())
    assert run["wer"] == 0.0 and run["motion"]["mpjpe_mm"] == 41.5
    assert set(json.loads((out / "metrics.json").read_text())["runs"]) == {"MLP", "MLP+LLM"}
    assert "train_count" in json.loads((out / "vocabulary_bias.json").read_text())["MLP"]["most_predicted"][0]


def test_model_path_translates_then_scores(tmp_path, monkeypatch, capsys):
    calls = []

    def translate_split(model_dir, data_dir, split, **gen):
        calls.append((model_dir, data_dir, split, gen))
        return [{"id": k, "prediction": PREDS[k], "reference": REFS[k]} for k in PREDS]
    monkeypatch.setitem(sys.modules, "lslm.model.translate", types.SimpleNamespace(translate_split=translate_split))
    out = tmp_path / "out"
    assert main(["--model", str(tmp_path / "run"), "--data", str(tmp_path / "data"), "--split", "test",
                 "--gen", "num_beams=4", "--out", str(out), "--metrics", "wer"]) == 0
    assert calls == [(str(tmp_path / "run"), str(tmp_path / "data"), "test", {"num_beams": 4})]
    assert (out / "predictions.jsonl").exists() and json.loads((out / "metrics.json").read_text())["wer"] > 0
    two = tmp_path / "two"
    assert main(["--model", str(tmp_path / "mlp" / "final"), str(tmp_path / "joint" / "step_9"), "--data", "d",
                 "--out", str(two), "--metrics", "wer"]) == 0
    assert set(json.loads((two / "metrics.json").read_text())["runs"]) == {"mlp", "joint"}  # run names, not final
    monkeypatch.setitem(sys.modules, "lslm.model.translate", None)  # an install without lslm.model
    assert main(["--model", "run", "--data", "d", "--out", str(out)]) == 2
    assert "translate_split" in capsys.readouterr().err


def test_tool_script_is_a_thin_wrapper(files, tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "evaluate.py"), "--predictions", str(files[0]),
                        "--references", str(files[1]), "--out", str(tmp_path / "o"), "--metrics", "wer"],
                       check=False, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["wer"] > 0
