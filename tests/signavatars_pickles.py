"""SignAvatars `.pkl` files as published, built from the real fits in ../shared/realdata/signavatars_wlasl
(JSON exports of the pickles' `smplx` table and hand flags): the pickle layout of the SignAvatars README,
with torch tensors, one of them tagged as saved on a GPU."""
from __future__ import annotations

import io
import json
import pickle
from pathlib import Path

import numpy as np
import torch

# Inside a pickled tensor, torch writes the storage as a nested legacy `torch.save` archive
# (TypedStorage.__reduce__ → torch.storage._load_from_bytes(bytes)). Its storage record names the device
# the tensor lived on, `location_tag(storage)`: "cpu", or "cuda:0" for a tensor on the first GPU. Protocol 2
# writes that string as BINUNICODE: b"X" + 4-byte little-endian length + UTF-8.
CPU_TAG = b"X\x03\x00\x00\x00cpu"
CUDA_TAG = b"X\x06\x00\x00\x00cuda:0"


class _CudaTaggedPickler(pickle.Pickler):
    """Pickles tensors the way `pickle.dump` does on a GPU machine: their storage archives say cuda:0."""

    def reducer_override(self, obj):
        if isinstance(obj, torch.storage.TypedStorage):
            load_from_bytes, (archive,) = obj.__reduce__()
            assert archive.count(CPU_TAG) == 1, "torch's storage archive layout changed"
            return load_from_bytes, (archive.replace(CPU_TAG, CUDA_TAG),)
        return NotImplemented


def cuda_tagged_dumps(obj) -> bytes:
    """pickle.dumps(obj) with every torch tensor's storage tagged as CUDA-serialized."""
    buffer = io.BytesIO()
    _CudaTaggedPickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def read_fit(json_path: Path) -> dict:
    """One real fit: {"smplx": (T, 182) float32, "left_valid" / "right_valid": (T,) bool}."""
    d = json.loads(Path(json_path).read_text())
    return {"smplx": np.asarray(d["smplx"], np.float32), "left_valid": np.asarray(d["leftValid"], bool),
            "right_valid": np.asarray(d["rightValid"], bool)}


def published_dict(fit: dict) -> dict:
    """The keys of a SignAvatars .pkl (their README) around a real fit; `unsmooth_smplx` (T, 169) is the
    same fit with small per-frame noise, the image keys have their shapes. The hand flags are torch bool
    tensors, as in the published files."""
    smplx = fit["smplx"]
    T = len(smplx)
    rng = np.random.default_rng(T)
    s = smplx.astype(np.float64)
    unsmooth = np.concatenate([s[:, :156] + rng.normal(scale=0.02, size=(T, 156)), s[:, 159:169], s[:, 179:182]], 1)
    return {"width": np.array([1280]), "height": np.array([720]),
            "focal": np.full((T, 2), 5000.0), "princpt": np.tile([640.0, 360.0], (T, 1)),
            "2d": rng.normal(size=(T, 106, 3)), "pred2d": rng.normal(size=(T, 106, 3)),
            "total_valid_index": np.arange(T), "bb2img_trans": np.tile(np.eye(2, 3), (T, 1, 1)),
            "left_valid": torch.from_numpy(fit["left_valid"]), "right_valid": torch.from_numpy(fit["right_valid"]),
            "smplx": smplx, "unsmooth_smplx": unsmooth.astype(np.float32)}


def write_published_pickle(json_path: Path, path: Path, cuda: bool = True) -> Path:
    """A SignAvatars-style .pkl of the real fit in `json_path`; with `cuda` its tensors say cuda:0."""
    data = published_dict(read_fit(json_path))
    path.write_bytes(cuda_tagged_dumps(data) if cuda else pickle.dumps(data, protocol=2))
    return path
