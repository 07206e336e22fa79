"""Sign production end to end: a tiny vocabulary-mode LSLM taught three sentences writes their codes, and
the produce recipe turns sentences into lslm joint files, renders, rows and scores."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from tiny_models import make_llm, make_motion_tokenizer, make_text_tokenizer

from lslm.errors import ConfigError, InvalidInputError
from lslm.model import LSLM, LSLMConfig, TemplateSet
from lslm.tokenizer import CodedClip
from lslm.model.produce import produce_codes
from lslm.recipes.produce import ProduceConfig, file_names, main, run

PAIRS = {"the cat sits on the mat": [3, 7, 7, 1, 12], "where is the library": [5, 0, 9],
         "thank you very much": [14, 2, 2, 8, 11, 6]}
QUICK = {"max_new_tokens": 16, "progress": False}


def tiny_lslm(mode: str) -> LSLM:
    t2m = TemplateSet.load("instruct").default("t2m")
    text_tokenizer = make_text_tokenizer([*PAIRS, t2m.input, "hello there"])
    llm = make_llm(len(text_tokenizer) + 4 + (16 if mode == "vocab" else 0))
    torch.manual_seed(1)
    return LSLM(LSLMConfig(llm="tiny", mode=mode), llm, text_tokenizer, make_motion_tokenizer())


@pytest.fixture(scope="module")
def producer(tmp_path_factory):
    """A vocabulary-mode LSLM trained to write the codes of PAIRS for their sentences (80 Adam steps), saved."""
    model = tiny_lslm("vocab")
    t2m = TemplateSet.load("instruct").default("t2m")
    batch = model.collator()([CodedClip(text, tuple(codes), text) for text, codes in PAIRS.items()], t2m)
    optimizer = torch.optim.Adam(model.llm.parameters(), lr=1e-2)
    model.train()
    for _ in range(80):
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.eval().save_pretrained(tmp_path_factory.mktemp("producer") / "final")


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    """An untrained projector-mode LSLM with the same motion tokenizer (reads motion, cannot write it)."""
    return tiny_lslm("projector").save_pretrained(tmp_path_factory.mktemp("translator") / "final")


def test_the_producer_writes_what_it_learned_batched_as_one_by_one(producer):
    model = LSLM.from_pretrained(producer)
    batched = produce_codes(model, list(PAIRS), batch_size=2, progress=False, max_new_tokens=16)
    assert [c.tolist() for c in batched] == list(PAIRS.values())
    alone = [produce_codes(model, [text], progress=False, max_new_tokens=16)[0].tolist() for text in PAIRS]
    assert alone == list(PAIRS.values())


def test_projector_models_and_empty_sentences_are_refused(producer, translator):
    with pytest.raises(ConfigError, match="vocabulary-mode"):
        produce_codes(LSLM.from_pretrained(translator), ["hello there"], progress=False)
    with pytest.raises(InvalidInputError, match="sentence 1"):
        produce_codes(LSLM.from_pretrained(producer), ["hello there", "  "], progress=False)
    with pytest.raises(ConfigError, match="exactly one of"):
        ProduceConfig(model=str(producer), out="x")
    with pytest.raises(ConfigError, match="needs data"):
        ProduceConfig(model=str(producer), out="x", sentences=("a",), translator=str(translator))


def test_recipe_writes_lslm_joint_files_renders_and_rows(producer, tmp_path):
    from lslm.data.adapters import load_lslm

    out = tmp_path / "out"
    result = run(ProduceConfig(model=str(producer), out=str(out), sentences=tuple(PAIRS), render="gif",
                               max_renders=1, **QUICK))
    assert (result.produced, result.failed) == (3, 0)
    rows = [json.loads(line) for line in (out / "produced.jsonl").read_text().splitlines()]
    assert [(r["id"], r["text"], r["codes"], r["frames"]) for r in rows] == \
        [(f"s{k:04d}", text, len(codes), 4 * len(codes)) for k, (text, codes) in enumerate(PAIRS.items())]
    with np.load(out / "motion" / "s0002.npz") as f:
        assert f["joints"].shape == (24, 52, 3) and float(f["fps"]) == 30.0 and str(f["text"]) == "thank you very much"
        assert f["codes"].tolist() == PAIRS["thank you very much"] and f["features"].shape == (24, 623)
    clip = load_lslm(out / "motion" / "s0002.npz")  # what every lslm reader takes
    assert clip.joints.shape == (24, 52, 3) and clip.fps == 30.0
    assert rows[0]["files"]["render"] == "renders/s0000.gif" and (out / "renders" / "s0000.gif").is_file()
    assert "render" not in rows[1]["files"]
    assert json.loads((out / "produce_config.json").read_text())["sentences"] == list(PAIRS)


def test_recipe_writes_pose_files_of_the_same_motion(producer, tmp_path):
    pytest.importorskip("pose_format", reason="the video extra")
    from lslm.video import joints_to_landmarks, read_pose

    out = tmp_path / "out"
    result = run(ProduceConfig(model=str(producer), out=str(out), sentences=("thank you very much",), pose=True,
                               **QUICK))
    row = result.rows[0]
    assert row["files"] == {"npz": "motion/s0000.npz", "pose": "motion/s0000.pose"}
    with np.load(out / "motion" / "s0000.npz") as f:
        joints = f["joints"]
    landmarks = read_pose(out / row["files"]["pose"])
    assert (landmarks.num_frames, landmarks.fps) == (len(joints), 30.0)
    # The file holds what a perfect MediaPipe would have seen of the produced joints (float32 in the file).
    seen = joints_to_landmarks(joints, 30.0)
    np.testing.assert_allclose(landmarks.body, seen.body, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(landmarks.right_hand, seen.right_hand, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(landmarks.body_world, seen.body_world, atol=1e-5)


def test_command_line_exit_codes(producer, translator, tmp_path, capsys):
    assert main(["--model", str(producer), "where is the library", "--out", str(tmp_path / "a"), "--no-progress",
                 "--max-new-tokens", "16"]) == 0
    assert "produced 1 sentences, skipped 0" in capsys.readouterr().out
    assert main(["--model", str(translator), "hello there", "--out", str(tmp_path / "b")]) == 2
    assert "vocabulary-mode" in capsys.readouterr().err
    assert main(["--model", str(producer), " ", "--out", str(tmp_path / "c")]) == 2
    assert "non-empty string" in capsys.readouterr().err


def test_input_file_rows_without_text_are_counted_and_reported(producer, tmp_path):
    source = tmp_path / "sentences.jsonl"
    source.write_text('{"id": "a/1", "text": "where is the library"}\n{"id": "b"}\nnot json\n\n'
                      '{"text": "thank you very much"}\n')
    result = run(ProduceConfig(model=str(producer), out=str(tmp_path / "out"), input=str(source), **QUICK))
    assert (result.produced, result.failed) == (2, 2)
    by_id = {r["id"]: r for r in result.rows}
    assert by_id["a/1"]["files"]["npz"] == "motion/a_1.npz" and by_id["line00005"]["codes"] == 6
    assert "text" in by_id["b"]["error"] and "JSON object" in by_id["line00003"]["error"]
    text_file = tmp_path / "sentences.txt"
    text_file.write_text("where is the library\n\nthank you very much\n")
    assert run(ProduceConfig(model=str(producer), out=str(tmp_path / "txt"), input=str(text_file),
                             **QUICK)).produced == 2
    assert file_names(["x", "x", ".hidden", "a b"]) == ["x-0", "x-1", "hidden", "a_b"]


def test_a_sentence_without_motion_is_reported(producer, tmp_path, monkeypatch):
    real = LSLM.generate_motion

    def no_motion_for_the_library(self, texts, **kwargs):
        return [torch.empty(0, dtype=torch.long) if t == "where is the library" else c
                for t, c in zip(texts, real(self, texts, **kwargs))]

    monkeypatch.setattr(LSLM, "generate_motion", no_motion_for_the_library)
    result = run(ProduceConfig(model=str(producer), out=str(tmp_path), sentences=tuple(PAIRS), **QUICK))
    assert (result.produced, result.failed) == (2, 1)
    assert result.rows[1]["error"] == "the model wrote no motion tokens for this sentence"
    assert not (tmp_path / "motion" / "s0001.npz").exists()


def test_scored_against_the_clips_of_a_split(producer, translator, synthetic_tiny, tiny_evaluator, tmp_path):
    result = run(ProduceConfig(model=str(producer), out=str(tmp_path), data=str(synthetic_tiny), split="test",
                               raw_data=str(synthetic_tiny.parent / "raw"), translator=str(translator),
                               evaluator=str(tiny_evaluator), max_new_tokens=12,
                               progress=False))
    report = json.loads((tmp_path / "production_metrics.json").read_text())
    assert report == result.metrics and report["counts"]["sentences"] == 8
    for name in ("produced", "reconstruction", "other_sentence"):
        row = report[name]
        assert set(row["back_translation"]) == {"bleu1", "bleu4", "rouge_l", "wer", "empty"}
        assert {"dtw_mje_mm", "dtw_mje_aligned_mm", "fid", "diversity", "r_precision_top1", "r_precision_top3"} <= set(row)
    # the lower bound is real motion, the test split's own clips paired with other sentences
    assert report["other_sentence"]["fid"] == pytest.approx(0.0, abs=1e-6)
    assert report["data"]["references"] == "raw clips (each signer's body)"
    assert report["evaluator"]["name"].startswith("lslm-sign-evaluator") and set(report["goal"]) == {"bleu4_ratio", "target", "met"}
    per_sample = [json.loads(line) for line in (tmp_path / "per_sample.jsonl").read_text().splitlines()]
    assert len(per_sample) == 8 and {"produced", "reconstruction", "other_sentence"} <= set(per_sample[0])
    assert all(r["other_sentence_id"] != r["id"] for r in per_sample)


def test_summary_of_a_production_that_wrote_nothing():
    from lslm.recipes.produce import production_summary

    bt = {"bleu1": 0.0, "bleu4": 0.0, "rouge_l": 0.0, "wer": 100.0, "empty": 8}
    row = {"back_translation": bt, "dtw_mje_mm": None, "dtw_mje_aligned_mm": None}
    text = production_summary({"reference": {"back_translation": {**bt, "bleu4": 30.0}}, "produced": row,
                               "reconstruction": row, "other_sentence": row,
                               "goal": {"bleu4_ratio": 0.0, "target": 0.8, "met": False}})
    assert "DTW-MJE — mm (— aligned)" in text and "BLEU-4 ratio 0.00 (target 0.8) not met" in text
