"""Dataset preparation: split files, manifests, the batch tool end to end, resume and reports."""
import json
import pickle

import numpy as np
import pytest

from lslm.data.manifest import RAW_FIELDS, read_manifest, read_split_csv
from lslm.data.prepare import prepare
from lslm.recipes.prepare import main
from lslm.errors import InvalidInputError
from lslm.motion import Normalizer, default_rest_skeleton, joints_to_features, smplx_to_joints

HEADER = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n"


def csv_row(name, text):
    video = name.split("_")[0]
    return f"{video}\t{video}-rgb_front\t{name}_s\t{name}\t0.5\t2.25\t{text}\n"


def signing(frames, seed):
    """Small random SMPL-X-style parameters (T frames) that move the arms and fingers."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, frames)[:, None]
    return {"global_orient": np.zeros((frames, 3)), "body_pose": rng.normal(scale=0.3, size=(1, 63)) * t,
            "left_hand_pose": rng.normal(scale=0.2, size=(1, 45)) * t,
            "right_hand_pose": rng.normal(scale=0.2, size=(1, 45)) * t,
            "transl": np.zeros((frames, 3)) + t * [0.1, 0, 0.2]}


def joints_clip(frames, seed):
    return np.asarray(smplx_to_joints(signing(frames, seed)), dtype=np.float32)  # (T, 52, 3)


# ---- split files and manifests ---------------------------------------------------------------------

def test_read_split_csv_published_layout(tmp_path):
    path = tmp_path / "how2sign_realigned_val.csv"
    path.write_bytes((HEADER + csv_row("abc_0-1", 'He said "hi", then left.') + csv_row("abc_2-1", "Two.")).encode()
                     + csv_row("bad_1-1", "caf").rstrip("\n").encode() + b"\xe9\n")
    errors = []
    rows = read_split_csv(path, on_error=lambda i, e: errors.append((i, e)))
    assert rows == {"abc_0-1": {"text": 'He said "hi", then left.', "split": "val", "fps": None, "repaired": False},
                    "abc_2-1": {"text": "Two.", "split": "val", "fps": None, "repaired": False}}
    assert [i for i, _ in errors] == ["bad_1-1"]
    assert errors[0][1].field == "SENTENCE" and errors[0][1].path.endswith("val.csv:4")
    assert read_split_csv(path, split="test", on_error=lambda *a: None)["abc_2-1"]["split"] == "test"
    with pytest.raises(InvalidInputError, match="UTF-8"):
        read_split_csv(path)


def test_read_split_csv_quotes_mojibake_ids_fps_and_repeats(tmp_path):
    """CSV quoting as in the published files (wrapped, inner quotes doubled, even across a line end),
    doubly encoded UTF-8 repaired, ids kept exactly, an FPS column read, a repeated id reported."""
    mojibake = "my horse’s nose".encode("utf-8").decode("latin-1")  # horseâ\x80\x99s, as in the val file
    header = HEADER.replace("\tSENTENCE\n", "\tSENTENCE\tFPS\n")
    rows = [("-d5_11_12-5", '"They call it ""The General""."', "24"), ("_x_1-1", mojibake, "29.97"),
            ("q_2-1", '"two\nlines"', "30"), ("_x_1-1", "the same id again", "30"), ("f_3-1", "bad rate", "fast"),
            ("c_4-1", "Ça va, café?", "25")]
    lines = [csv_row(name, text).replace("\n", f"\t{fps}\n") if "\n" not in text else
             csv_row(name, "@").replace("@\n", f"{text}\t{fps}\n") for name, text, fps in rows]
    path = tmp_path / "split_test.csv"
    path.write_text(header + "".join(lines), encoding="utf-8")
    errors = []
    rows = read_split_csv(path, on_error=lambda i, e: errors.append((i, e)))
    assert list(rows) == ["-d5_11_12-5", "_x_1-1", "q_2-1", "c_4-1"]
    assert rows["-d5_11_12-5"] == {"text": 'They call it "The General".', "split": "test", "fps": 24.0,
                                   "repaired": False}
    assert rows["_x_1-1"] == {"text": "my horse’s nose", "split": "test", "fps": 29.97, "repaired": True}
    assert rows["q_2-1"]["text"] == "two\nlines" and rows["q_2-1"]["fps"] == 30.0
    assert rows["c_4-1"]["text"] == "Ça va, café?" and not rows["c_4-1"]["repaired"]  # real accents stay
    assert [(i, e.field, e.path.rsplit(":", 1)[1]) for i, e in errors] == [("_x_1-1", "SENTENCE_NAME", "6"),
                                                                          ("f_3-1", "FPS", "7")]
    assert "first on line 3" in str(errors[0][1])


def test_read_split_csv_needs_columns_and_split(tmp_path):
    (tmp_path / "x_train.csv").write_text("SENTENCE_NAME,SENTENCE\na,b\n")  # commas: not the published layout
    with pytest.raises(InvalidInputError, match="SENTENCE_NAME"):
        read_split_csv(tmp_path / "x_train.csv")
    (tmp_path / "sentences.csv").write_text(HEADER)
    with pytest.raises(InvalidInputError, match="file name"):
        read_split_csv(tmp_path / "sentences.csv")


def test_read_manifest_errors_name_file_and_line(tmp_path):
    path = tmp_path / "manifest.jsonl"
    good = {"id": "a", "motion": "a.npz", "split": "train", "text": "hello"}
    cases = [("{not json", "line"), (json.dumps({"id": "b", "split": "train"}), "motion"),
             (json.dumps({**good, "text": 3}), "text"), (json.dumps(good), "id")]
    for line, field in cases:
        path.write_text(json.dumps(good) + "\n\n" + line + "\n")
        with pytest.raises(InvalidInputError) as err:
            read_manifest(path, RAW_FIELDS)
        assert err.value.field == field and err.value.path == f"{path}:3"
    path.write_bytes(json.dumps(good).encode() + b'\n{"id": "\xff"}\n')
    errors = []
    assert read_manifest(path, RAW_FIELDS, on_error=lambda i, e: errors.append(e)) == [good]
    assert errors[0].field == "text" and errors[0].path == f"{path}:2"


# ---- end to end ------------------------------------------------------------------------------------

def write_lslm_folder(root, bad=True):
    """Raw lslm folder: 3 train clips (params, joints, 24 fps params), 1 val clip, and bad clips."""
    root.mkdir()
    rows = []

    def add(clip_id, split, arrays, **row):
        np.savez(root / f"{clip_id}.npz", **arrays)
        rows.append({"id": clip_id, "motion": f"{clip_id}.npz", "text": f"text {clip_id}", "gloss": "G",
                     "split": split, "signer": 1, **row})

    add("p0", "train", {**signing(9, 0), "fps": 30.0})
    add("j1", "train", {"joints": joints_clip(7, 1), "fps": 30.0})
    add("r2", "train", signing(9, 2), fps=24.0)  # fps from the manifest, resampled to 30: 11 frames
    add("v3", "val", {**signing(6, 3), "fps": 30.0})
    if bad:
        add("nan", "train", {**signing(5, 4), "body_pose": np.full((5, 63), np.nan), "fps": 30.0})
        add("short", "train", {**signing(1, 5), "fps": 30.0})
        add("cut", "train", {**signing(5, 6), "fps": 30.0})
        data = (root / "cut.npz").read_bytes()
        (root / "cut.npz").write_bytes(data[: len(data) // 2])
        rows.append({"id": "gone", "motion": "gone.npz", "split": "test", "fps": 30.0})
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def test_prepare_lslm_end_to_end(tmp_path, capsys):
    raw = write_lslm_folder(tmp_path / "raw")
    out = tmp_path / "out"
    assert main(["--format", "lslm", "--input", str(raw), "--output", str(out), "--workers", "1",
                 "--no-progress"]) == 0
    rows = read_manifest(out / "manifest.jsonl")
    assert [r["id"] for r in rows] == ["p0", "j1", "r2", "v3"]  # input manifest order
    frames = {r["id"]: r["frames"] for r in rows}
    assert frames == {"p0": 8, "j1": 6, "r2": 10, "v3": 5}  # T − 1; r2: round(8·30/24) + 1 = 11 frames
    row = next(r for r in rows if r["id"] == "p0")
    assert row == {"id": "p0", "features": "features/p0.npy", "text": "text p0", "gloss": "G", "split": "train",
                   "fps": 30.0, "frames": 8, "signer": 1}

    # the joints clip's features are exactly joints_to_features on the default target skeleton
    feats = np.load(out / "features" / "j1.npy")
    assert feats.dtype == np.float32 and feats.shape == (6, 623)
    expected = joints_to_features(np.load(raw / "j1.npz")["joints"], target=default_rest_skeleton(), fps=30.0,
                                  compat=True)
    np.testing.assert_allclose(feats, expected, atol=1e-6)

    # stats from the train split only
    norm = Normalizer.load(out / "stats.safetensors")
    train = np.concatenate([np.load(out / f"features/{i}.npy") for i in ("j1", "p0", "r2")])
    np.testing.assert_allclose(norm.mean.numpy(), train.mean(0), atol=1e-5)
    everything = np.concatenate([train, np.load(out / "features/v3.npy")])
    assert not np.allclose(norm.mean.numpy(), everything.mean(0), atol=1e-5)

    info = json.loads((out / "dataset.json").read_text())
    assert info["fps"] == 30.0 and info["feature_dim"] == 623 and info["num_joints"] == 52 and info["compat"]
    assert info["source_format"] == "lslm" and info["counts"]["splits"] == {"train": 3, "val": 1}
    np.testing.assert_allclose(info["target_skeleton"]["offsets"], default_rest_skeleton().offsets)

    report = json.loads((out / "report.json").read_text())
    skipped = {s["id"]: s for s in report["skipped"]}
    assert set(skipped) == {"nan", "short", "cut", "gone"} and report["counts"]["skipped"] == 4
    assert all(s["error"] == "InvalidInputError" for s in skipped.values())
    assert "body_pose" in skipped["nan"]["message"] and skipped["nan"]["path"].endswith("nan.npz")
    assert "at least 2 frames" in skipped["short"]["message"]
    assert "'file'" in skipped["cut"]["message"] and "'file'" in skipped["gone"]["message"]
    printed = capsys.readouterr().out
    assert "prepared 4 clips" in printed and "skipped 4 × InvalidInputError" in printed


def test_resume_skips_existing_and_refuses_other_settings(tmp_path):
    raw = write_lslm_folder(tmp_path / "raw", bad=False)
    out = tmp_path / "out"
    prepare("lslm", raw, out, progress=False)
    sentinel = np.full((8, 623), 7.0, dtype=np.float32)
    np.save(out / "features" / "p0.npy", sentinel)  # a resumed run must not recompute existing clips
    (out / "features" / "v3.npy").unlink()
    report = prepare("lslm", raw, out, progress=False)
    assert report["counts"]["resumed"] == 3 and report["counts"]["converted"] == 4
    np.testing.assert_array_equal(np.load(out / "features" / "p0.npy"), sentinel)
    assert np.load(out / "features" / "v3.npy").shape == (5, 623)
    assert not list((out / "features").glob(".*tmp"))
    assert main(["--format", "lslm", "--input", str(raw), "--output", str(out), "--no-compat",
                 "--no-progress"]) == 2


def test_stats_on_strided_train_frames(tmp_path):
    raw = write_lslm_folder(tmp_path / "raw", bad=False)
    prepare("lslm", raw, tmp_path / "out", stats_max_frames=7, progress=False)
    train = np.concatenate([np.load(tmp_path / f"out/features/{i}.npy") for i in ("p0", "j1", "r2")])  # 24 rows
    norm = Normalizer.load(tmp_path / "out/stats.safetensors")
    np.testing.assert_allclose(norm.mean.numpy(), train[::4].mean(0), atol=1e-5)  # stride ⌈24 / 7⌉ = 4


def test_unusable_arguments(tmp_path, capsys):
    raw = write_lslm_folder(tmp_path / "raw", bad=False)
    assert main(["--format", "lslm", "--input", str(tmp_path / "nope"), "--output", str(tmp_path / "o")]) == 2
    assert main(["--format", "lslm", "--input", str(raw), "--output", str(tmp_path / "o"),
                 "--smplx-model", str(tmp_path / "SMPLX_NEUTRAL.npz")]) == 2
    assert main(["--format", "lslm", "--input", str(raw), "--output", str(tmp_path / "o"),
                 "--split-csv", str(tmp_path / "x_train.csv")]) == 2
    assert "--smplx-model" in capsys.readouterr().err


def test_parallel_matches_serial(tmp_path):
    raw = write_lslm_folder(tmp_path / "raw", bad=False)
    prepare("lslm", raw, tmp_path / "a", workers=1, progress=False)
    prepare("lslm", raw, tmp_path / "b", workers=2, progress=False)
    for clip in ("p0", "j1", "r2", "v3"):
        np.testing.assert_array_equal(np.load(tmp_path / f"a/features/{clip}.npy"),
                                      np.load(tmp_path / f"b/features/{clip}.npy"))
    assert (tmp_path / "a/manifest.jsonl").read_text() == (tmp_path / "b/manifest.jsonl").read_text()


def test_prepare_signavatars_with_split_csvs(tmp_path):
    pkls = tmp_path / "pkls"
    pkls.mkdir()

    def smplx(seed, frames=6):
        p = signing(frames, seed)
        flat = np.zeros((frames, 182))
        flat[:, 3:66], flat[:, 66:111], flat[:, 111:156] = p["body_pose"], p["left_hand_pose"], p["right_hand_pose"]
        flat[:, 0] = np.pi  # camera frame: upside down
        flat[:, 179:182] = [0.0, 0.3, 4.0]
        return flat

    class Evil:
        def __reduce__(self):
            return exec, ("open('owned', 'w')",)

    for name, value in [("a_0-1", {"smplx": smplx(0)}), ("a_1-1", {"smplx": smplx(1)}),
                        ("extra_0-1", {"smplx": smplx(2)}), ("evil_0-1", {"smplx": Evil()})]:
        (pkls / f"{name}.pkl").write_bytes(pickle.dumps(value))
    train = tmp_path / "how2sign_realigned_train.csv"
    train.write_text(HEADER + csv_row("a_0-1", "First.") + csv_row("evil_0-1", "Evil.") + csv_row("miss_0-1", "M."))
    other = tmp_path / "held_out.csv"
    other.write_text(HEADER + csv_row("a_1-1", "Second."))
    out = tmp_path / "out"
    report = prepare("signavatars", pkls, out, [str(train), f"test={other}"], progress=False)
    rows = {r["id"]: r for r in read_manifest(out / "manifest.jsonl")}
    assert {i: (r["split"], r["text"]) for i, r in rows.items()} == {"a_0-1": ("train", "First."),
                                                                   "a_1-1": ("test", "Second.")}
    assert rows["a_0-1"]["frames"] == round(5 * 30 / 24)  # 6 frames at 24 fps → 7 at 30 → 6 rows
    errors = {s["id"]: s["error"] for s in report["skipped"]}
    assert errors == {"evil_0-1": "UnsafePickleError", "miss_0-1": "MissingMotion", "extra_0-1": "NotInSplitFiles"}
    assert not (tmp_path / "owned").exists()
    assert any("smplx-model" in w for w in report["warnings"])
    # the y-down flip puts the upside-down body upright: the head is above the pelvis in the features
    feats = np.load(out / "features" / "a_0-1.npy")
    head_y = feats[0, 4 + 3 * (15 - 1) + 1]  # position block: joint 15 (head) relative to the root
    assert head_y > 0.3


def test_prepare_exclude_list_fps_column_and_repeated_ids(tmp_path):
    """--exclude leaves clips out (listed), a split file's FPS column sets each clip's source rate, and an id
    listed twice is reported with the first row used."""
    pkls = tmp_path / "pkls"
    pkls.mkdir()
    flat = np.zeros((9, 182))
    flat[:, 0] = np.pi
    for name in ("-a_0-1", "_b_1-1", "c_2-1"):
        (pkls / f"{name}.pkl").write_bytes(pickle.dumps({"smplx": flat}))
    header = HEADER.replace("\tSENTENCE\n", "\tSENTENCE\tFPS\n")
    split = tmp_path / "how2sign_realigned_train.csv"
    split.write_text(header + "".join(csv_row(n, t).replace("\n", f"\t{fps}\n") for n, t, fps in
                                      [("-a_0-1", "A.", "24"), ("_b_1-1", "B.", "12"), ("-a_0-1", "Again.", "30"),
                                       ("c_2-1", "C.", "24")]))
    (tmp_path / "exclude.txt").write_text("# signer withdrew\nc_2-1\n\n")
    assert main(["--format", "signavatars", "--input", str(pkls), "--output", str(tmp_path / "out"), "--split-csv",
                 str(split), "--exclude", str(tmp_path / "exclude.txt"), "--workers", "1", "--no-progress"]) == 0
    rows = {r["id"]: r for r in read_manifest(tmp_path / "out" / "manifest.jsonl")}
    assert {i: (r["text"], r["frames"]) for i, r in rows.items()} == {"-a_0-1": ("A.", 10), "_b_1-1": ("B.", 20)}
    report = json.loads((tmp_path / "out" / "report.json").read_text())  # 9 frames at 24 → 11, at 12 → 21
    assert {(s["id"], s["error"]) for s in report["skipped"]} == {("-a_0-1", "DuplicateId"), ("c_2-1", "Excluded")}
    assert next(s for s in report["skipped"] if s["error"] == "DuplicateId")["path"].endswith("train.csv:4")
