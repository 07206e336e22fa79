"""tools/estimate.py: inputs → a raw lslm dataset that prepare_dataset reads; skips, resume, shards and merge."""
import json

import numpy as np
import pytest
from video_fixtures import realdata

from lslm.data.prepare import prepare
from lslm.recipes import estimate as est
from lslm.recipes.estimate import EstimateConfig, main, merge, run

pytest.importorskip("pose_format")


@pytest.fixture
def pose_inputs(tmp_path):
    """The four DSGS lexicon files, the v0.2 file, an OpenPose file (refused) and a second 'kinder'."""
    folder = realdata("dsgs_lexicon")
    other = tmp_path / "other"
    other.mkdir()
    (other / "kinder.pose").write_bytes((folder / "kinder.pose").read_bytes())  # same id as the lexicon's
    return [str(folder), str(realdata("pose_format", "hand_estimation_7731febd6afbbe90f806a4434c282016.pose")),
            str(realdata("pose_format", "openpose.pose")), str(other / "kinder.pose")]


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pose_files_become_a_raw_dataset_that_prepare_reads(tmp_path, pose_inputs):
    out = tmp_path / "raw"
    report = run(EstimateConfig(tuple(pose_inputs), str(out), backend="pose", progress=False))
    ids = ["essen", "hand_estimation_7731febd6afbbe90f806a4434c282016", "kinder", "kleine", "pizza"]
    assert [r["id"] for r in rows(out / "manifest.jsonl")] == ids
    assert report["counts"] == {"inputs": 7, "estimated": 5, "resumed": 0, "skipped": 2,
                                "frames": 73 + 18 + 45 + 68 + 53}
    assert sorted(s["error"] for s in report["skipped"]) == ["DuplicateId", "InvalidInputError"]
    assert "OpenPose" in next(s["message"] for s in report["skipped"] if s["id"] == "openpose")
    kinder = report["clips"]["kinder"]
    assert kinder["found"] == {"body": 1.0, "left_hand": 0.0, "right_hand": pytest.approx(30 / 45)}
    with np.load(out / "motion" / "kinder.npz") as clip:
        assert clip["joints"].shape == (45, 52, 3) and clip["valid"].shape == (45, 52) and float(clip["fps"]) == 24.0
        assert not clip["valid"][:, 22:37].any()  # the left hand was never found
    prepared = prepare("lslm", out, tmp_path / "prepared", progress=False)
    assert prepared["counts"]["converted"] == 5 and prepared["counts"]["skipped"] == 0
    features = np.load(tmp_path / "prepared" / "features" / "kleine.npy")
    assert features.shape == (80, 623) and np.isfinite(features).all()  # 68 frames at 25 fps → 81 at 30 fps


def test_resume_shards_and_merge(tmp_path, pose_inputs, monkeypatch):
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    assert main([*pose_inputs, "--backend", "pose", "--out", str(whole), "--no-progress"]) == 0
    calls, estimate_one = [], est.estimate_one
    monkeypatch.setattr(est, "estimate_one", lambda config, clip_id, path: calls.append(clip_id) or
                        estimate_one(config, clip_id, path))
    again = run(EstimateConfig(tuple(pose_inputs), str(whole), backend="pose", progress=False))
    assert calls == ["openpose"]  # only what failed is tried again
    assert again["counts"]["resumed"] == again["counts"]["estimated"] == 5 and again["counts"]["skipped"] == 2
    monkeypatch.undo()
    for k in range(3):
        assert main([*pose_inputs, "--backend", "pose", "--out", str(sharded), "--shard", f"{k}/3",
                     "--no-progress"]) == 0
    shard_ids = [{r["id"] for r in rows(sharded / f"manifest.shard-{k}-of-3.jsonl")} for k in range(3)]
    assert not (shard_ids[0] & shard_ids[1]) and sum(map(len, shard_ids)) == 5
    assert main(["--merge", str(sharded)]) == 0
    assert rows(sharded / "manifest.jsonl") == rows(whole / "manifest.jsonl")
    merged = json.loads((sharded / "report.json").read_text())
    assert merged["clips"] == json.loads((whole / "report.json").read_text())["clips"]
    (sharded / "report.shard-1-of-3.json").unlink()
    with pytest.raises(Exception, match="missing"):
        merge(sharded)


def test_bad_arguments_are_config_errors(tmp_path, capsys):
    assert main(["x.mp4", "--out", str(tmp_path), "--backend", "smplerx"]) == 2
    assert "--checkout" in capsys.readouterr().err
    assert main(["x.mp4", "--out", str(tmp_path), "--shard", "3/3"]) == 2


def test_mediapipe_backend_writes_pose_files(tmp_path, real_video_landmarks, monkeypatch):
    """The tool's mediapipe path on the real clip (the session's Holistic run stands in for a second one)."""
    video = realdata("pose_format", "test_video.mp4")
    monkeypatch.setattr("lslm.video.holistic.estimate_video", lambda *a, **k: real_video_landmarks)
    report = run(EstimateConfig((str(video),), str(tmp_path), write_pose=True, progress=False))
    clip = report["clips"]["test_video"]
    assert clip["frames"] == 58 and clip["found"]["body"] == 1.0 and clip["body_source"] == "world"
    from lslm.video import read_pose
    back = read_pose(tmp_path / "pose" / "test_video.pose")
    np.testing.assert_allclose(back.body, real_video_landmarks.body, rtol=1e-6, atol=1e-3)
