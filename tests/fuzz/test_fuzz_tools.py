"""Fuzz the batch tools: `prepare` (data_prep/prepare_dataset.py) with bad arguments and, in each of its five
formats, a folder where good clips sit next to broken ones; `translate` over good and unreadable files;
`evaluate` with bad arguments and rows. Bad arguments end in a typed error (exit 2 on the command line);
one bad input never stops a batch: it is skipped, counted and reported with a typed error naming its file,
and the good inputs beside it are converted."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fuzzing import COUNTS, Case, check, lslm_arrays, lying_header, npy_bytes, npz_bytes, zip_bytes

from lslm.data.prepare import prepare
from lslm.recipes import evaluate as evaluate_cli
from lslm.model import translate
from lslm.recipes import translate as translate_recipe

REPO = Path(__file__).resolve().parents[2]
TYPED = {"InvalidInputError", "UnsafePickleError", "ConfigError", "CheckpointMismatchError"}


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ---- prepare: arguments ------------------------------------------------------------------------------

def test_prepare_refuses_bad_arguments(tmp_path, clip):
    inputs = tmp_path / "in"
    write(inputs / "a.npy", npy_bytes(clip["joints"]))
    out = tmp_path / "out"
    csv = write(tmp_path / "how2sign_realigned_val.csv", b"SENTENCE_NAME\tSENTENCE\na\thello\n")
    skeletons = {"list": b"[]", "number": b"5", "null": b"null", "offsets 5": b'{"offsets": 5}',
                 "offsets 51": json.dumps({"offsets": [[0.0, 0.1, 0.0]] * 51}).encode(),
                 "offsets null": json.dumps({"offsets": [[0.0, 0.1, None]] * 52}).encode(),
                 "offsets NaN": json.dumps({"offsets": [[0.0, float("nan"), 0.0]] * 52}).encode(),
                 "offsets strings": json.dumps({"offsets": [["0", "0.1", "0"]] * 52}).encode(),
                 "offsets bools": json.dumps({"offsets": [[True, False, True]] * 52}).encode(),
                 "offsets zero": json.dumps({"offsets": [[0.0, 0.0, 0.0]] * 52}).encode(),
                 "offsets ragged": json.dumps({"offsets": [[0.0, 0.1]] + [[0.0, 0.1, 0.0]] * 51}).encode(),
                 "joints list": b'{"joints": []}', "joints names": b'{"joints": {"pelvis": [0, 0, 0]}}',
                 "neither": b'{"bones": 1}', "not json": b"{oops", "empty": b"", "not utf-8": b'{"\xff": 1}'}
    cases = []
    for name, data in skeletons.items():
        path = write(tmp_path / f"skeleton_{name}.json", data)
        cases.append(Case(f"--target-skeleton {name}", lambda p=path: prepare("joints", inputs, out, target_skeleton=p,
                                                                             progress=False), None, path))
    for name, bad in {"zero": 0, "negative": -30, "nan": float("nan"), "inf": float("inf"), "tiny": 1e-300,
                      "bool": True, "string": "30"}.items():
        cases.append(Case(f"--fps {name}", lambda b=bad: prepare("joints", inputs, out, fps=b, progress=False), "--fps"))
        cases.append(Case(f"--source-fps {name}", lambda b=bad: prepare("joints", inputs, out, source_fps=b,
                                                                        progress=False), "--source-fps"))
    for name, kwargs, field in [("--stats-max-frames 0", {"stats_max_frames": 0}, "--stats-max-frames"),
                                ("--stats-max-frames -1", {"stats_max_frames": -1}, "--stats-max-frames"),
                                ("--stats-max-frames 2.5", {"stats_max_frames": 2.5}, "--stats-max-frames"),
                                ("--workers 0", {"workers": 0}, "--workers"),
                                ("--compat no", {"compat": "no"}, "--compat"),
                                ("--split-csv missing", {"split_csvs": [str(tmp_path / "nope_train.csv")]}, "--split-csv"),
                                ("--split-csv folder", {"split_csvs": [f"train={tmp_path}"]}, "--split-csv"),
                                ("--split-csv =file", {"split_csvs": [f"={csv}"]}, "--split-csv"),
                                ("--split-csv no split name", {"split_csvs": [str(tmp_path / "in" / "a.npy")]},
                                 "file name"),
                                ("--smplx-model missing", {"model_path": tmp_path / "no_model"}, "--smplx-model")]:
        cases.append(Case(name, lambda k=kwargs: prepare("joints", inputs, out, progress=False, **k), field))
    a_file = write(tmp_path / "a_file", b"x")
    cases.append(Case("--output a file", lambda: prepare("joints", inputs, a_file, progress=False), "--output", a_file))
    cases.append(Case("--input missing", lambda: prepare("joints", tmp_path / "none", out, progress=False), "--input"))
    cases.append(Case("--format unknown", lambda: prepare("bvh", inputs, out, progress=False), "--format"))
    for name, data in {"empty": b"", "garbage": b"{oops", "null": b"null", "list": b"[1]", "not utf-8": b"\xff\xfe",
                       "skeleton 5": b'{"source_format": "joints", "target_skeleton": 5}'}.items():
        resumed = tmp_path / f"resume_{name}"
        write(resumed / "dataset.json", data)
        cases.append(Case(f"resume over dataset.json {name}", lambda r=resumed: prepare("joints", inputs, r,
                                                                                        progress=False),
                          None, resumed / "dataset.json"))
    check("prepare arguments", cases)
    assert not out.exists()  # nothing was written by a refused run


# ---- prepare: one run per format, good clips beside broken ones ----------------------------------------

def _signavatars(root: Path, clip) -> tuple[list[str], dict[str, Path]]:
    smplx = np.zeros((len(clip["joints"]), 182), dtype=np.float32)
    smplx[:, 3:66] = clip["params"]["body_pose"]
    good = [write(root / f"good{i}.pkl", pickle.dumps({"smplx": smplx * (1 + i)})).stem for i in range(2)]
    long_name = "L" * 251  # a legal file name whose temp names would pass the 255-byte limit
    good.append(write(root / f"{long_name}.pkl", pickle.dumps({"smplx": smplx})).stem)
    nan = smplx.copy()
    nan[0, 5] = np.nan
    bad = {"nan": pickle.dumps({"smplx": nan}), "hostile": pickle.dumps({"smplx": _System("true")}),
           "truncated": pickle.dumps({"smplx": smplx})[:100], "one_frame": pickle.dumps({"smplx": smplx[:1]}),
           "narrow": pickle.dumps({"smplx": smplx[:, :100]}),
           "huge_claim": b"\x80\x04\x8e" + (2 ** 40).to_bytes(8, "little") + b"abc"}
    return good, {k: write(root / f"{k}.pkl", v) for k, v in bad.items()}


class _System:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def _joints(root: Path, clip) -> tuple[list[str], dict[str, Path]]:
    j = clip["joints"]
    good = [write(root / f"good{i}.npy", npy_bytes(j * (1 + 0.1 * i))).stem for i in range(2)]
    nan = j.copy()
    nan[2, 3, 1] = np.nan
    bad = {"nan": npy_bytes(nan), "lying_header": lying_header(j, "(1000000000000, 52, 3)"),
           "truncated": npy_bytes(j)[:300], "22_joints": npy_bytes(j[:, :22]), "ints": npy_bytes(j.astype(np.int8)),
           "text": b"hello"}
    return good, {k: write(root / f"{k}.npy", v) for k, v in bad.items()}


def _motionx(root: Path, clip) -> tuple[list[str], dict[str, Path]]:
    T = len(clip["joints"])
    m = np.zeros((T, 322))
    m[:, 3:66] = clip["params"]["body_pose"]
    good = [write(root / f"good{i}.npy", npy_bytes(m * (1 + i))).stem for i in range(2)]
    bad = {"lying_header": lying_header(m, "(99999999999, 322)"), "short_rows": npy_bytes(m[:, :300]),
           "inf": npy_bytes(m * np.inf), "one_frame": npy_bytes(m[:1]), "object": npy_bytes(np.array([m, 1], dtype=object))}
    return good, {k: write(root / f"{k}.npy", v) for k, v in bad.items()}


def _smplerx(root: Path, clip) -> tuple[list[str], dict[str, Path]]:
    def frame(i, **changes):
        p = {k: np.asarray(v[i]) for k, v in clip["params"].items()}
        return npz_bytes({"global_orient": p["global_orient"], "body_pose": p["body_pose"].reshape(21, 3),
                          "left_hand_pose": p["left_hand_pose"].reshape(15, 3),
                          "right_hand_pose": p["right_hand_pose"].reshape(15, 3), "transl": p["transl"], **changes})

    T = len(clip["joints"])
    good = []
    for name in ("good0", "good1"):
        for i in range(T):
            write(root / name / f"frame_{i:04d}.npz", frame(i))
        good.append(name)
    bad = {}
    for name, frames in {"one_frame": {"frame_0000.npz": frame(0)},
                         "no_transl": {f"f{i}.npz": npz_bytes({"global_orient": np.zeros(3)}) for i in range(3)},
                         "nan": {f"f{i}.npz": frame(i, transl=np.full(3, np.nan)) for i in range(3)},
                         "corrupt": {"f0.npz": frame(0), "f1.npz": frame(1)[:40], "f2.npz": frame(2)},
                         "raw_member": {f"f{i}.npz": zip_bytes({"transl": b"123"}) for i in range(3)}}.items():
        for file, data in frames.items():
            write(root / name / file, data)
        bad[name] = root / name
    return good, bad


def _lslm(root: Path, clip) -> tuple[list[str], dict[str, Path]]:
    arrays = lslm_arrays(clip)
    rows, good, bad = [], [], {}
    for i, clip_id in enumerate(["good0", "good1", "G" * 251]):
        write(root / f"clip{i}.npz", npz_bytes(arrays))
        rows.append({"id": clip_id, "motion": f"clip{i}.npz", "split": "train", "text": "hi"})
        good.append(clip_id)
    for clip_id, data in {"bad fps": npz_bytes({**arrays, "fps": np.array(0.0)}),
                          "nul\x00id": npz_bytes(arrays), "a/b": npz_bytes(arrays), ".hidden": npz_bytes(arrays),
                          "x" * 300: npz_bytes(arrays), "tab\tid": npz_bytes(arrays),
                          "zip bomb": zip_bytes({"fps.npy": npy_bytes(np.array(30.0)), "x": b"0" * 100}),
                          "missing": None}.items():
        name = f"bad{len(bad)}.npz"
        if data is not None:
            write(root / name, data)
        rows.append({"id": clip_id, "motion": name, "split": "train"})
        bad[clip_id] = root / name
    lines = [json.dumps(r) for r in rows] + ['{"id": "row fps", "motion": "clip0.npz", "split": "train", "fps": 0}',
                                             '{"id": "no split", "motion": "clip0.npz"}', "{oops"]
    bad.update({"row fps": None, "no split": None, None: None})
    write(root / "manifest.jsonl", ("\n".join(lines) + "\n").encode())
    return good, bad


@pytest.mark.parametrize("fmt, build", [("signavatars", _signavatars), ("joints", _joints), ("motionx", _motionx),
                                        ("smplerx", _smplerx), ("lslm", _lslm)])
def test_prepare_skips_and_reports_each_broken_clip(tmp_path, clip, fmt, build):
    good, bad = build(tmp_path / "in", clip)
    report = prepare(fmt, tmp_path / "in", tmp_path / "out", workers=1, progress=False)
    manifest = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in manifest) == sorted(good)
    for row in manifest:
        features = np.load(tmp_path / "out" / row["features"])
        assert features.shape == (row["frames"], 623) and np.isfinite(features).all()
    skipped = {s["id"]: s for s in report["skipped"]}
    assert set(skipped) == set(bad), (set(skipped) ^ set(bad))
    problems = [f"{i}: {s['error']}: {s['message']}" for i, s in skipped.items() if s["error"] not in TYPED]
    problems += [f"{i}: does not name {bad[i]}: {s['message']}" for i, s in skipped.items()
                 if bad[i] is not None and str(bad[i]) not in s["message"] and s["path"] != str(bad[i])]
    assert not problems, "\n".join(problems)
    assert report["counts"]["converted"] == len(good) and report["counts"]["skipped"] == len(bad)
    COUNTS["prepare batches"] += len(bad)
    assert json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["counts"] == report["counts"]


# ---- translate and evaluate --------------------------------------------------------------------------------

def test_translate_survives_bad_files(model_dir, clip, tmp_path, capsys):
    good = [write(tmp_path / "joints.npy", npy_bytes(clip["joints"])),
            write(tmp_path / "features.npy", npy_bytes(clip["features"])),
            write(tmp_path / "raw.npz", npz_bytes(lslm_arrays(clip)))]
    nan = clip["joints"].copy()
    nan[1, 1, 1] = np.nan
    folder = tmp_path / "folder.npy"
    folder.mkdir()
    bad = [write(tmp_path / "nan.npy", npy_bytes(nan)),
           write(tmp_path / "lie.npy", lying_header(clip["joints"], "(1000000000000, 52, 3)")),
           write(tmp_path / "short.npy", npy_bytes(clip["joints"][:3])), write(tmp_path / "clip.txt", b"x"),
           write(tmp_path / "fps.npz", npz_bytes({**lslm_arrays(clip), "fps": np.array(np.nan)})),
           write(tmp_path / "raw_member.npz", zip_bytes({"fps": b"30"})), folder, tmp_path / "missing.npy",
           write(tmp_path / os.fsdecode(b"name\xff.npy"), npy_bytes(nan))]
    out = tmp_path / "preds.jsonl"
    code = translate_recipe.main(["--model", str(model_dir), *map(str, good + bad), "--out", str(out), "--no-progress",
                           "--max-new-tokens", "3"])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert code == 0 and len(rows) == len(good) + len(bad)
    assert all("error" not in r for r in rows[:len(good)])
    for row, path in zip(rows[len(good):], bad):
        assert row["prediction"] == "" and "InvalidInputError" not in row["error"]  # typed: the message itself
        assert os.fsdecode(path).encode("utf-8", "backslashreplace").decode() in row["error"], row
    assert f"translated {len(good)} clips, skipped {len(bad)}" in capsys.readouterr().out
    COUNTS["translate batch"] += len(bad)

    cases = []
    for name, args, field in [("--batch-size 0", ["--batch-size", "0"], "batch_size"),
                              ("--num-beams 0", ["--num-beams", "0"], "num_beams"),
                              ("--max-new-tokens -1", ["--max-new-tokens", "-1"], "max_new_tokens"),
                              ("--source-fps 0", ["--source-fps", "0"], "fps"),
                              ("--source-fps nan", ["--source-fps", "nan"], "fps"),
                              ("--prompt without placeholder", ["--prompt", "Translate."], "prompt"),
                              ("--top-p 2", ["--do-sample", "--top-p", "2"], "top_p")]:
        cases.append(Case(name, lambda a=args: translate.translate_files(model_dir, good, **_translate_kwargs(a)), field))
    check("translate options", cases)
    assert translate_recipe.main(["--model", str(model_dir), str(good[0]), "--out", str(tmp_path), "--no-progress"]) == 2
    assert translate_recipe.main(["--model", str(model_dir), str(good[0]), "--out", str(out), "--batch-size", "0"]) == 2


def _translate_kwargs(args: list[str]) -> dict:
    """translate_files keyword arguments of command-line options, as main parses them."""
    parsed = translate_recipe.build_parser().parse_args(["--model", "m", "x", "--out", "o", *args])
    gen = translate.generation_kwargs(num_beams=parsed.num_beams, max_new_tokens=parsed.max_new_tokens,
                                      do_sample=parsed.do_sample, top_p=parsed.top_p)
    return {"fps": parsed.source_fps, "batch_size": parsed.batch_size, "prompt": parsed.prompt, "progress": False, **gen}


def test_evaluate_refuses_bad_arguments_and_rows(tmp_path, capsys):
    preds = write(tmp_path / "preds.jsonl", b'{"id": "a", "prediction": "a cat", "reference": "a cat"}\n'
                                            b'{"id": 2, "prediction": "the dog", "reference": ["a dog", "the dog"]}\n')
    out_file = write(tmp_path / "out_file", b"")
    bad_rows = {"null id": b'{"id": null, "prediction": "x", "reference": "x"}',
                "empty id": b'{"id": "", "prediction": "x", "reference": "x"}',
                "surrogate": b'{"id": "s", "prediction": "\\ud800", "reference": "x"}',
                "train surrogate": None}
    cases = []
    for name, argv, field in [("--out a file", ["--out", str(out_file)], "--out"),
                              ("--top-k -1", ["--top-k", "-1"], "--top-k"), ("--top-k 0", ["--top-k", "0"], "--top-k"),
                              ("--labels with /", ["--labels", "a/b", "c", "--predictions", str(preds), str(preds)],
                               "--labels")]:
        argv = ["--predictions", str(preds), "--out", str(tmp_path / "o"), "--metrics", "bleu"] + argv
        cases.append(Case(name, lambda a=argv: evaluate_cli.run(evaluate_cli.parse_config(a)), field))
    for name, row in bad_rows.items():
        path = write(tmp_path / f"{name}.jsonl", row) if row else preds
        extra = ["--train-references", str(write(tmp_path / "train.jsonl", b'{"id": 1, "text": "\\udc80"}\n'))] \
            if row is None else []
        argv = ["--predictions", str(path), "--out", str(tmp_path / "o"), "--metrics", "bleu", *extra]
        cases.append(Case(name, lambda a=argv: evaluate_cli.run(evaluate_cli.parse_config(a)), None,
                          path if row else tmp_path / "train.jsonl"))
    check("evaluate", cases)
    assert evaluate_cli.main(["--predictions", str(preds), "--out", str(out_file)]) == 2
    assert "error:" in capsys.readouterr().err
    assert evaluate_cli.main(["--predictions", str(preds), "--out", str(tmp_path / "ok"), "--metrics", "bleu,wer"]) == 0
    assert json.loads((tmp_path / "ok" / "metrics.json").read_text())["counts"]["samples"] == 2


def test_command_line_reports_bad_arguments_without_a_traceback(tmp_path):
    """One subprocess per tool wrapper kind (they only call main): exit 2 and an 'error:' line."""
    (tmp_path / "in").mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(REPO / "data_prep" / "prepare_dataset.py"), "--format", "joints",
                             "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--split-csv",
                             str(tmp_path / "missing_train.csv"), "--no-progress"],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "error:" in result.stderr and "missing_train.csv" in result.stderr and "--split-csv" in result.stderr
