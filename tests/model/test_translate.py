"""Batch translation: files and dataset splits → rows, batched greedy = one clip at a time, codes cache use."""
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from lslm.tokenizer.codes import encode_dataset, tokenizer_fingerprint
from lslm.errors import InvalidInputError
from lslm.model import translate
from lslm.model.translate import DEFAULT_GENERATION, translate_codes, translate_split
from lslm.recipes import translate as translate_recipe
from lslm.recipes.translate import main
from lslm.motion import Skeleton, default_rest_skeleton, smplx_to_joints

GEN = {**DEFAULT_GENERATION, "max_new_tokens": 6}
# (id, feature rows, split); "short" has fewer rows than one code
CLIPS = [("a", 17, "test"), ("b", 8, "test"), ("short", 2, "test"), ("c", 30, "test"), ("d", 12, "test"),
         ("e", 25, "test"), ("t", 20, "train")]


@pytest.fixture(scope="module")
def model(model_dir):
    from lslm.model import LSLM

    return LSLM.from_pretrained(model_dir)


@pytest.fixture
def dataset(tmp_path, write_dataset):
    rng = np.random.default_rng(0)
    clips = [({"id": clip_id, "text": f"text of {clip_id}", "gloss": None, "split": split, "signer": None},
              rng.normal(size=(frames, 623)).astype(np.float32)) for clip_id, frames, split in CLIPS]
    return write_dataset(tmp_path / "data", clips)


def one_by_one(model, root, ids):
    """Reference: each clip's raw features through `LSLM.generate` alone."""
    return [model.generate(motion=np.load(root / "features" / f"{i}.npy"), **GEN) for i in ids]


def test_batched_greedy_equals_one_clip_at_a_time(model):
    g = torch.Generator().manual_seed(0)
    codes = [torch.randint(0, 16, (n,), generator=g) for n in (5, 1, 9, 3, 7, 2, 6)]
    batched = translate_codes(model, codes, batch_size=3, progress=False, **GEN)
    single = [model.generate(codes=c, **GEN) for c in codes]
    assert batched == single
    assert len(set(single)) > 2  # the motion changes the output, so a mix-up of rows would show


def test_one_translation_per_clip(model):
    codes = [torch.tensor([1, 2, 3])]
    with pytest.raises(InvalidInputError, match="num_return_sequences"):
        translate_codes(model, codes, progress=False, num_beams=2, num_return_sequences=2)
    with pytest.raises(InvalidInputError, match="batch_size"):
        translate_codes(model, codes, batch_size=0, progress=False)


def test_split_uses_the_codes_cache_when_present(model, model_dir, dataset, monkeypatch, tmp_path):
    ids = ["a", "b", "short", "c", "d", "e"]
    expected = one_by_one(model, dataset, [i for i in ids if i != "short"])
    rows = translate_split(model_dir, dataset, "test", batch_size=2, progress=False, max_new_tokens=6)
    assert [r["id"] for r in rows] == ids
    assert [r["prediction"] for r in rows if r["id"] != "short"] == expected and len(set(expected)) > 1
    assert [r["reference"] for r in rows] == [f"text of {i}" for i in ids]
    short = rows[ids.index("short")]
    assert short["prediction"] == "" and "one code" in short["error"]

    # a cache built with a separately saved copy of the tokenizer is found through its fingerprint
    tokenizer_dir = model.motion_tokenizer.save_pretrained(tmp_path / "tok")
    assert tokenizer_fingerprint(tokenizer_dir) == tokenizer_fingerprint(model_dir / "tokenizer")
    encode_dataset(tokenizer_dir, dataset, ["test"], progress=False)

    def no_encoding(*args, **kwargs):
        raise AssertionError("encoded on the fly despite the cache")
    monkeypatch.setattr("lslm.tokenizer.codes.encode_split", no_encoding)
    cached = translate_split(model_dir, dataset, "test", batch_size=4, progress=False, max_new_tokens=6)
    assert [{k: r[k] for k in ("id", "prediction", "reference")} for r in cached] == \
        [{k: r[k] for k in ("id", "prediction", "reference")} for r in rows]
    assert "index.json" in cached[ids.index("short")]["error"]


def test_held_out_prompt_cycles_through_the_unseen_phrasings(model, model_dir, dataset):
    from lslm.model import TemplateSet

    templates = TemplateSet.load("instruct")
    held_out = [t.input for t in templates.templates("m2t", held_out=True)]
    assert len(held_out) > 1 and not set(held_out) & {t.input for t in templates.templates("m2t")}
    rows = translate_split(model_dir, dataset, "test", prompt="held-out", batch_size=2, progress=False,
                           max_new_tokens=6)
    ok = [r for r in rows if "error" not in r]
    assert [r["prompt"] for r in ok] == [held_out[i % len(held_out)] for i in range(len(ok))]
    expected = [model.generate(motion=np.load(dataset / "features" / f"{r['id']}.npy"), prompt=r["prompt"], **GEN)
                for r in ok]
    assert [r["prediction"] for r in ok] == expected
    assert expected != one_by_one(model, dataset, [r["id"] for r in ok])  # the prompt reaches the model
    assert all("prompt" not in r for r in rows if "error" in r)


def raw_npz(path, frames, seed):
    """A raw lslm clip: SMPL-X parameters on a signer's own rest skeleton, at 30 fps."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, frames)[:, None]
    params = {"global_orient": np.zeros((frames, 3)), "body_pose": rng.normal(scale=0.3, size=(1, 63)) * t,
              "left_hand_pose": rng.normal(scale=0.3, size=(1, 45)) * t, "right_hand_pose": np.zeros((frames, 45)),
              "transl": t * [0.0, 0.0, 0.3]}
    rest = default_rest_skeleton().offsets * 1.1
    np.savez(path, **params, rest_offsets=rest, fps=np.float64(30.0))
    return smplx_to_joints(params, rest_skeleton=replace(Skeleton.smplx52(), offsets=rest))


def test_command_line_on_motion_files(model, model_dir, tmp_path):
    rng = np.random.default_rng(1)
    features = rng.normal(size=(22, 623)).astype(np.float32)
    np.save(tmp_path / "feats.npy", features)
    npz_joints = raw_npz(tmp_path / "raw.npz", 19, seed=2)
    walk_joints = np.asarray(smplx_to_joints({"body_pose": rng.normal(scale=0.3, size=(15, 63))}))
    np.save(tmp_path / "walk.npy", walk_joints)
    np.save(tmp_path / "bad.npy", np.zeros((10, 22, 3), dtype=np.float32))
    inputs = [str(tmp_path / n) for n in ("feats.npy", "raw.npz", "bad.npy", "walk.npy")]
    out = tmp_path / "out" / "preds.jsonl"
    assert main(["--model", str(model_dir), *inputs, "--max-new-tokens", "6", "--batch-size", "2",
                 "--no-progress", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["feats", "raw", "bad", "walk"]
    expected = [model.generate(motion=features, **GEN), model.generate(motion=npz_joints, **GEN),
                "", model.generate(motion=walk_joints, **GEN)]
    assert [r["prediction"] for r in rows] == expected and len(set(expected)) == 4
    assert "bad.npy" in rows[2]["error"] and "(10, 22, 3)" in rows[2]["error"]
    assert all("error" not in r and "reference" not in r for i, r in enumerate(rows) if i != 2)


def test_generation_defaults_are_greedy_and_overridable():
    assert translate.generation_kwargs() == DEFAULT_GENERATION
    assert DEFAULT_GENERATION["num_beams"] == 1 and DEFAULT_GENERATION["do_sample"] is False
    assert translate.generation_kwargs(num_beams=5, top_p=None)["num_beams"] == 5
    args = translate_recipe.build_parser().parse_args(["--model", "m", "x.npy", "--out", "o", "--num-beams", "5",
                                                "--length-penalty", "0.6", "--no-repeat-ngram-size", "4"])
    assert (args.num_beams, args.length_penalty, args.no_repeat_ngram_size) == (5, 0.6, 4)


def test_command_line_on_pose_files_and_videos_prints_english(model, model_dir, tmp_path, monkeypatch, capsys):
    """.pose files and videos go through lslm.video's front-end (the same joints as tools/estimate.py);
    without --out the translations are printed. The video's Holistic run is stood in for by the landmarks
    of a .pose file here (tests/video runs MediaPipe on a real clip)."""
    pytest.importorskip("pose_format")
    from lslm.video import read_pose, retarget

    pose = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "dsgs_lexicon" / "kleine.pose"
    if not pose.exists():
        pytest.skip("shared/realdata is not here")
    video = tmp_path / "kleine.mp4"
    video.write_bytes(b"")  # never decoded: estimate_video is replaced below
    monkeypatch.setattr("lslm.video.holistic.estimate_video", lambda *a, **k: read_pose(pose))
    assert main(["--model", str(model_dir), str(pose), str(video), "--max-new-tokens", "6", "--no-progress"]) == 0
    printed = capsys.readouterr().out.splitlines()
    from lslm.motion.resample import resample_linear

    lm = read_pose(pose)
    joints = resample_linear(retarget(lm).joints.astype(np.float64), lm.fps, 30.0)  # kleine is 25 fps
    expected = model.generate(motion=joints, **GEN)
    assert printed == [f"{str(pose)}\t{expected}", f"{str(video)}\t{expected}"]  # both named 'kleine'
