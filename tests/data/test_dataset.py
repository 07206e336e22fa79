"""MotionDataset over a prepared folder, collate_motion, and a light `import lslm.data`."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from lslm.data import MotionDataset, collate_motion
from lslm.data.prepare import prepare
from lslm.errors import InvalidInputError
from lslm.motion import default_rest_skeleton, smplx_to_joints


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A joints-format folder (3 train clips of different lengths, 1 test clip) prepared at 30 fps."""
    root = tmp_path_factory.mktemp("prep")
    raw = root / "raw"
    raw.mkdir()
    rng = np.random.default_rng(0)
    for name, frames in [("a", 5), ("b", 8), ("c", 6), ("t", 7)]:
        t = np.linspace(0, 1, frames)[:, None]
        params = {"body_pose": rng.normal(scale=0.3, size=(1, 63)) * t, "transl": t * [0.0, 0.0, 0.3],
                  "left_hand_pose": rng.normal(scale=0.2, size=(1, 45)) * t}
        np.save(raw / f"{name}.npy", np.asarray(smplx_to_joints(params), dtype=np.float32))
    csv = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n"
    train = root / "x_train.csv"
    train.write_text(csv + "".join(f"v\tv\t{n}\t{n}\t0\t1\tclip {n}\n" for n in "abc"))
    test = root / "x_test.csv"
    test.write_text(csv + "v\tv\tt\tt\t0\t1\tclip t\n")
    out = root / "out"
    prepare("joints", raw, out, [str(train), str(test)], progress=False)
    return out


def test_items_and_attributes(prepared):
    ds = MotionDataset(prepared, split="train")
    assert len(ds) == 3 and [r["id"] for r in ds.records] == ["a", "b", "c"]
    assert ds.fps == 30.0 and ds.feature_dim == 623 and ds.num_joints == 52
    np.testing.assert_allclose(ds.target_skeleton.offsets, default_rest_skeleton().offsets)
    assert ds.target_skeleton.num_joints == 52
    item = ds[1]
    assert item["id"] == "b" and item["text"] == "clip b" and item["length"] == 7
    assert item["features"].dtype == torch.float32 and item["features"].shape == (7, 623)
    raw = torch.from_numpy(np.load(prepared / "features" / "b.npy"))
    expected = (raw - ds.normalizer.mean) / ds.normalizer.std
    torch.testing.assert_close(item["features"], expected)
    torch.testing.assert_close(MotionDataset(prepared, "train", normalize=False)[1]["features"], raw)
    assert [r["id"] for r in MotionDataset(prepared, split="test").records] == ["t"]
    assert len(MotionDataset(prepared, split=None)) == 4


def test_collate_pads_with_zeros(prepared):
    ds = MotionDataset(prepared, split="train")
    batch = collate_motion([ds[0], ds[1], ds[2]])
    assert batch["features"].shape == (3, 7, 623)
    assert batch["lengths"].tolist() == [4, 7, 5] and batch["lengths"].dtype == torch.long
    assert batch["ids"] == ["a", "b", "c"] and batch["texts"] == ["clip a", "clip b", "clip c"]
    assert batch["glosses"] == [None, None, None]
    torch.testing.assert_close(batch["features"][0, :4], ds[0]["features"])
    assert batch["features"][0, 4:].abs().sum() == 0 and batch["features"][2, 5:].abs().sum() == 0
    loader = torch.utils.data.DataLoader(ds, batch_size=2, collate_fn=collate_motion)
    assert [b["features"].shape[0] for b in loader] == [2, 1]


def test_bad_folder_errors(prepared, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("dataset.json", "stats.safetensors"):
        (broken / name).write_bytes((prepared / name).read_bytes())
    rows = (prepared / "manifest.jsonl").read_text().splitlines()
    row = json.loads(rows[1])
    del row["frames"]
    (broken / "manifest.jsonl").write_text("\n".join([rows[0], json.dumps(row)]) + "\n")
    with pytest.raises(InvalidInputError) as err:
        MotionDataset(broken)
    assert err.value.path == f"{broken / 'manifest.jsonl'}:2" and err.value.field == "frames"
    (broken / "manifest.jsonl").write_text(rows[0] + "\n")
    (broken / "stats.safetensors").unlink()
    with pytest.raises(InvalidInputError, match="stats.safetensors"):
        MotionDataset(broken)
    assert len(MotionDataset(broken, normalize=False)) == 1
    with pytest.raises(InvalidInputError, match="dataset.json"):
        MotionDataset(tmp_path)


def test_import_is_light():
    code = "import sys, lslm.data; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
