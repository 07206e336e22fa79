"""The synthetic corpus: determinism, held-out splits, grammar, lexicon, and plausible smooth motion."""
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import roma
import torch

from lslm.data.synthetic import build_lexicon, generate_corpus, plan_corpus
from lslm.data.synthetic.grammar import GENERATORS, random_sentence
from lslm.data.synthetic.lexicon import TIME_WORDS, WH_WORDS, all_glosses
from lslm.motion import default_rest_skeleton, smplx_to_joints

PARAMS = {"global_orient": 3, "body_pose": 63, "left_hand_pose": 45, "right_hand_pose": 45, "transl": 3}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "tiny"
    generate_corpus(out, "tiny", seed=0, workers=1)
    return out


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def _joints(folder: Path, row: dict) -> tuple[np.ndarray, np.ndarray]:
    """World joints (T, 52, 3) and body-frame joints (global facing and translation undone)."""
    with np.load(folder / row["motion"]) as data:
        params = {k: data[k] for k in PARAMS}
        rest = replace(default_rest_skeleton(), offsets=data["rest_offsets"].astype(np.float64))
    joints = smplx_to_joints(params, rest_skeleton=rest)
    facing = roma.rotvec_to_rotmat(torch.from_numpy(params["global_orient"][0].astype(np.float64))).numpy()
    body = (joints - params["transl"][:, None]) @ facing  # row vectors: applies facing⁻¹
    return joints, body


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tiny, tmp_path):
    again = tmp_path / "again"
    generate_corpus(again, "tiny", seed=0, workers=2)  # process pool must not change a byte
    files = sorted(p.relative_to(tiny) for p in tiny.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for name in files:
        assert (tiny / name).read_bytes() == (again / name).read_bytes(), name
    other = plan_corpus("tiny", seed=1)
    assert [c["sentence"].text for c in other["clips"]] != [r["text"] for r in _rows(tiny)]


def test_manifest_rows_and_motion_files(tiny):
    rows = _rows(tiny)
    assert len(rows) == 60
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    for row in rows:
        assert set(row) == {"id", "motion", "text", "gloss", "split", "signer", "fps"}
        assert row["motion"] == f"motion/{row['id']}.npz" and row["fps"] == 30
        with np.load(tiny / row["motion"]) as data:
            t = len(data["body_pose"])
            assert 2.0 * 30 <= t <= 8.0 * 30
            for key, dim in PARAMS.items():
                assert data[key].shape == (t, dim) and data[key].dtype == np.float32
                assert np.isfinite(data[key]).all()
            assert data["rest_offsets"].shape == (52, 3) and data["rest_offsets"].dtype == np.float32
            assert float(data["fps"]) == 30.0
    summary = json.loads((tiny / "corpus.json").read_text())
    assert summary["seed"] == 0 and summary["size"] == "tiny" and summary["clips"] == 60
    assert summary["lexicon"]["tomorrow"]["gloss"] == "TOMORROW"
    assert set(summary["lexicon"]["tomorrow"]) >= {"handshape", "location", "movement", "orientation", "hands"}


def test_held_out_signers_and_sentences(tiny):
    rows = _rows(tiny)
    by_split = {s: [r for r in rows if r["split"] == s] for s in ("train", "val", "test")}
    signers = {s: {r["signer"] for r in rs} for s, rs in by_split.items()}
    assert len(signers["train"]) == 8 and len(signers["val"]) == 2 and len(signers["test"]) == 2
    assert not signers["train"] & signers["test"] and not signers["train"] & signers["val"]
    assert not signers["val"] & signers["test"]
    train_text = {r["text"] for r in by_split["train"]}
    train_gloss = {r["gloss"] for r in by_split["train"]}
    train_signs = {g for r in by_split["train"] for g in r["gloss"].split()}
    for row in by_split["test"] + by_split["val"]:
        assert row["text"] not in train_text and row["gloss"] not in train_gloss
        assert set(row["gloss"].split()) <= train_signs  # unseen combinations of known signs
    held = json.loads((tiny / "corpus.json").read_text())["held_out"]["test"]
    assert held["unseen_sentences"] == held["all_signs_in_train"] == len(by_split["test"]) == 8


def test_gloss_order_differs_from_english():
    # Hand-checked: time first, then the topic (the place), then subject and verb.
    s = GENERATORS["time_topic_comment"](np.random.default_rng(10662))
    assert s.text == "I will go to the store tomorrow."
    assert s.gloss == ("TOMORROW", "STORE", "I", "GO")
    s = GENERATORS["negation_final"](np.random.default_rng(0))
    assert s.text == "She won't write a letter tomorrow."
    assert s.gloss == ("TOMORROW", "LETTER", "SHE", "WRITE", "NOT")
    s = GENERATORS["wh_final"](np.random.default_rng(0))
    assert (s.text, s.gloss) == ("Which egg does she want?", ("EGG", "SHE", "WANT", "WHICH"))
    # The rules hold on many sentences: time words lead the gloss, wh-words end it.
    rng = np.random.default_rng(5)
    for _ in range(300):
        s = random_sentence(rng)
        assert re.fullmatch(r"[A-Z][^.?]*[a-z][.?]", s.text) and "  " not in s.text
        assert all(re.fullmatch(r"[A-Z][A-Z-]*", g) for g in s.gloss)
        assert not {"THE", "A", "AN", "IS", "ARE", "DO", "DOES", "WILL"} & set(s.gloss)
        if set(s.gloss) & set(TIME_WORDS):
            assert s.gloss[0] in TIME_WORDS and s.text.rstrip(".?").endswith(TIME_WORDS[s.gloss[0]][0])
        if s.rule == "wh_final":
            assert s.gloss[-1] in WH_WORDS and s.text.lower().startswith(WH_WORDS[s.gloss[-1]])


def test_lexicon_is_deterministic_unique_and_covered_by_train():
    lexicon = build_lexicon(0)
    assert lexicon == build_lexicon(0) and lexicon != build_lexicon(1)
    assert set(lexicon) == set(all_glosses()) and len(lexicon) > 200
    assert len({s.key() for s in lexicon.values()}) == len(lexicon)  # no two signs look the same
    plan = plan_corpus("default", seed=0)  # sentences and signers only: no motion is made
    train_signs = {g for s in plan["sentences"]["train"] for g in s.gloss}
    assert train_signs == set(lexicon)
    counts = {k: sum(c["split"] == k for c in plan["clips"]) for k in ("train", "val", "test")}
    assert counts == {"train": 2400, "val": 300, "test": 300}


def test_large_size_triples_the_train_sentences_and_keeps_held_out_ones_unseen():
    default, large = plan_corpus("default", seed=0), plan_corpus("large", seed=0)
    counts = {k: len(v) for k, v in large["sentences"].items()}
    assert counts == {"train": 4800, "val": 300, "test": 300}  # 7200 / 1.5 train sentences
    train = {s.gloss for s in large["sentences"]["train"]} | {s.text for s in large["sentences"]["train"]}
    held = [s for split in ("val", "test") for s in large["sentences"][split]]
    assert not any(s.gloss in train or s.text in train for s in held)
    assert [s.name for s in large["signers"]["test"]] == [s.name for s in default["signers"]["test"]]
    assert sum(c["split"] == "train" for c in large["clips"]) == 7200


def test_motion_is_signing_in_front_of_the_body(tiny):
    for row in _rows(tiny)[::6]:
        joints, body = _joints(tiny, row)
        assert np.abs(body[..., [0, 2]]).max() < 1.0 and -1.1 < body[..., 1].min() and body[..., 1].max() < 1.05
        wrist, pelvis, spine3 = body[:, 21], body[:, 0], body[:, 9]
        assert np.allclose(wrist[[0, -1], 1], wrist[[0, -1], 1].min(), atol=0.05)  # starts and ends at rest
        assert wrist[0, 1] < pelvis[0, 1] + 0.05
        signing = wrist[:, 1] > pelvis[:, 1] + 0.05
        assert signing.mean() > 0.5  # most of the clip: right hand above the hips
        raised = wrist[:, 1] > spine3[:, 1] - 0.15
        assert (wrist[raised, 2] > spine3[raised, 2] + 0.02).all()  # raised hands are in front of the chest
        feet = joints[:, [10, 11], 1]
        assert abs(feet.min()) < 0.05  # on the floor


def test_motion_is_smooth(tiny):
    for row in _rows(tiny)[::5]:
        joints, _ = _joints(tiny, row)
        acc = np.linalg.norm(np.diff(joints, 2, axis=0), axis=-1) * 30 ** 2  # m/s²
        # Measured on this corpus: body ≤ ~80, finger tips ≤ ~110 m/s² (fast human signing reaches these).
        assert acc[:, :22].max() < 120 and acc[:, 22:].max() < 200
        assert np.median(acc) < 5


def test_signers_differ_in_bone_lengths(tiny):
    lengths = {}
    for row in _rows(tiny):
        with np.load(tiny / row["motion"]) as data:
            bones = np.linalg.norm(data["rest_offsets"], axis=-1)
        if row["signer"] in lengths:
            assert np.array_equal(lengths[row["signer"]], bones)  # one skeleton per signer
        lengths[row["signer"]] = bones
    rest = np.linalg.norm(default_rest_skeleton().offsets, axis=-1)
    arms = [b[19] + b[21] for b in lengths.values()]  # right forearm + upper arm
    assert len(set(np.round(arms, 4))) == len(lengths) == 12
    ratio = np.array([b[1:] / rest[1:] for b in lengths.values()])
    assert ratio.min() > 0.92 * 0.92 - 1e-6 and ratio.max() < 1.08 * 1.08 + 1e-6
