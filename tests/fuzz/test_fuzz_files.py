"""Fuzz the file readers: .npy / .npz / .pkl clips of every adapter, the unpickler, manifests and prediction
files, broken systematically (headers that lie, wrong keys, dtypes, shapes, frame rates, hostile pickles)
and at random (seeded byte flips, truncations). Each must raise a typed lslm error naming the file (and its
field); the good files beside them must still load."""
from __future__ import annotations

import json
import pickle
import struct
import zipfile

import numpy as np
import pytest
import torch
from fuzzing import (
    Case,
    check,
    flips,
    lslm_arrays,
    lying_header,
    npy_bytes,
    npz_bytes,
    truncations,
    zip_bytes,
)

from lslm.data.adapters import (
    load_joints,
    load_lslm,
    load_motionx,
    load_npy,
    load_npz,
    load_signavatars,
    load_smplerx,
)
from lslm.data.manifest import RAW_FIELDS, read_manifest
from lslm.data.safe_pickle import safe_load
from lslm.eval.pairs import load_pairs


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def npy_cases(tmp_path, good: np.ndarray, load, field_shape: str) -> list[Case]:
    """Malformed .npy versions of `good` for `load`: headers, dtypes, shapes, values, other files."""
    cases, raw = [], npy_bytes(good)
    T = len(good)

    def add(name, data: bytes, field="file", may_pass=False):
        path = write(tmp_path / f"{load.__name__}_{name}.npy", data)
        cases.append(Case(f"{load.__name__}({name})", lambda p=path: load(p), field, path, may_pass))

    for shape in ("(1000000000000, 52, 3)", f"({T + 1}, 52, 3)", f"({T - 1}, 52, 3)", "(0,)", "()", "(-1, 52, 3)",
                  f"({T}, 52, 3, 1000000)"):
        add(f"header shape {shape}", lying_header(good, shape))
    for descr in ("<f4", "|O", "<U4", "<c16", "|b1", "<M8[s]", "|V8"):
        add(f"header dtype {descr}", lying_header(good, repr(good.shape), descr), None)
    for name, data in truncations(raw, 12) + flips(raw[:128], 25, seed=1):
        add(name, data + raw[128:] if name.startswith("flip") else data, None, may_pass=name.startswith("flip"))
    add("text", b"not an array\n")
    add("pickle", pickle.dumps(good))
    add("npz instead", npz_bytes({"joints": good}))
    add("object array", npy_bytes(np.array([good, None], dtype=object)))
    nan = good.copy()
    nan.flat[100] = np.nan
    for name, array in {"nan": nan, "inf": good * np.inf, "ints": good.astype(np.int32), "bools": good > 0,
                        "complex": good.astype(np.complex64), "strings": good.astype("U8"),
                        "one frame": good[:1], "empty": good[:0], "1-d": good.reshape(-1),
                        "other shape": good.reshape(T, -1)[:, :100]}.items():
        field = {"nan": field_shape, "inf": field_shape}.get(name, field_shape)
        add(name, npy_bytes(array), field)
    folder = tmp_path / f"{load.__name__}_folder.npy"
    folder.mkdir()
    cases.append(Case(f"{load.__name__}(a folder)", lambda: load(folder), "file", folder))
    missing = tmp_path / f"{load.__name__}_missing.npy"
    cases.append(Case(f"{load.__name__}(missing)", lambda: load(missing), "file", missing))
    return cases


def test_npy_loaders(tmp_path, clip):
    joints = clip["joints"].astype(np.float64)
    cases = npy_cases(tmp_path, joints, load_joints, "joints")
    motionx = np.concatenate([np.zeros((len(joints), 3)), clip["params"]["body_pose"],
                              np.zeros((len(joints), 322 - 66))], axis=1)
    cases += npy_cases(tmp_path, motionx, load_motionx, "smplx_322")
    path = write(tmp_path / "ok.npy", npy_bytes(joints))
    for name, fps in {"zero": 0.0, "nan": float("nan"), "negative": -24.0, "string": "24", "tiny": 1e-300}.items():
        cases.append(Case(f"load_joints(fps={name})", lambda f=fps: load_joints(path, fps=f), "fps", path))
    check("npy loaders", cases)
    assert load_joints(write(tmp_path / "good.npy", npy_bytes(joints))).num_frames == len(joints)
    assert load_npy(write(tmp_path / "fortran.npy", npy_bytes(np.asfortranarray(joints)))).shape == joints.shape


def test_npz_loader(tmp_path, clip):
    good = lslm_arrays(clip)
    raw = npz_bytes(good)
    cases = []

    def add(name, data: bytes, field="file", may_pass=False):
        path = write(tmp_path / f"{name}.npz", data)
        cases.append(Case(f"load_lslm({name})", lambda p=path: load_lslm(p), field, path, may_pass))

    for key in ("global_orient", "body_pose", "left_hand_pose", "right_hand_pose", "transl"):
        add(f"no {key}", npz_bytes({k: v for k, v in good.items() if k != key}), key)
    nan = dict(good)
    for key in ("global_orient", "body_pose", "transl", "rest_offsets", "betas"):
        bad = good[key].copy()
        bad.flat[1] = np.nan
        add(f"{key} nan", npz_bytes({**good, key: bad}), key)
        add(f"{key} strings", npz_bytes({**good, key: good[key].astype("U6")}), key)
        add(f"{key} bools", npz_bytes({**good, key: good[key] > 0}), key)
        add(f"{key} 3-d", npz_bytes({**good, key: good[key][None, None]}), key)
    add("body_pose short", npz_bytes({**good, "body_pose": good["body_pose"][:, :60]}), "body_pose")
    add("transl fewer frames", npz_bytes({**good, "transl": good["transl"][:-2]}), "transl")
    add("one frame", npz_bytes({**good, **{k: v[:1] for k, v in good.items() if v.ndim == 2 and k != "rest_offsets"}}),
        "global_orient")
    add("expression frames", npz_bytes({**good, "expression": np.zeros((3, 10))}), "expression")
    add("joints nan", npz_bytes({"joints": np.full((5, 52, 3), np.nan), "fps": np.array(30.0)}), "joints")
    add("joints shape", npz_bytes({"joints": np.zeros((5, 22, 3)), "fps": np.array(30.0)}), "joints")
    for name, fps in {"zero": 0.0, "negative": -1.0, "nan": np.nan, "inf": np.inf, "tiny": 1e-300, "huge": 1e300,
                      "bool": True, "string": "30", "1-d": [30.0, 30.0], "complex": 30 + 0j}.items():
        add(f"fps {name}", npz_bytes({**good, "fps": np.array(fps)}), "fps")
    add("fps missing", npz_bytes({k: v for k, v in good.items() if k != "fps"}), "fps")
    del nan
    # archive-level: raw members, lies, bombs, other compressions, corruption
    members = {f"{k}.npy": npy_bytes(v) for k, v in good.items()}
    add("raw fps member", zip_bytes({**members, "fps": b"30"}), "fps")
    add("fps.txt member", zip_bytes({**members, "fps.txt": b"30"}), "fps.txt")
    add("member header lies", zip_bytes({**members, "transl.npy": lying_header(good["transl"], "(100000000000, 3)")}),
        "transl.npy")
    add("member truncated", zip_bytes({**members, "transl.npy": members["transl.npy"][:-8]}), "transl.npy")
    add("bzip2 member", zip_bytes(members, zipfile.ZIP_BZIP2), "global_orient.npy")
    bomb = bytearray(zip_bytes({**members, "transl.npy": npy_bytes(np.zeros((20_000, 3)))}))
    add("zip bomb claim", _claim_size(bytes(bomb), "transl.npy", 1 << 40), "transl.npy")
    add("empty zip", zip_bytes({}), "fps")
    add("not a zip", b"PK\x03\x04 garbage")
    for name, data in truncations(raw, 15) + flips(raw, 40, seed=2):
        add(name, data, None, may_pass=name.startswith("flip"))
    missing = tmp_path / "missing.npz"
    cases.append(Case("load_lslm(missing)", lambda: load_lslm(missing), "file", missing))
    check("npz loader", cases)
    clip_out = load_lslm(write(tmp_path / "good.npz", raw))
    assert clip_out.num_frames == len(good["transl"]) and clip_out.fps == 30.0
    assert load_npz(write(tmp_path / "stored.npz", npz_bytes(good, compressed=False)))["fps"] == 30.0


def _claim_size(data: bytes, member: str, size: int) -> bytes:
    """The zip with `member`'s uncompressed size field (local and central headers) set to `size` (ZIP64-less:
    capped at 2³² − 1)."""
    size = min(size, 0xFFFFFFFF)
    out = bytearray(data)
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := out.find(signature, start)) >= 0:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if out[name_at:name_at + len(name)] == name:
                out[start + offset:start + offset + 4] = struct.pack("<I", size)
            start += 4
    return bytes(out)


class _Reduce:
    """Pickles as a call of `func(*args)`: what a hostile pickle does."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def test_pickles(tmp_path, clip):
    smplx = np.zeros((len(clip["joints"]), 182), dtype=np.float32)
    smplx[:, 3:66] = clip["params"]["body_pose"]
    raw = pickle.dumps({"smplx": smplx})
    cases = []

    def add(name, data: bytes, field="file", load=load_signavatars, may_pass=False):
        path = write(tmp_path / f"{name}.pkl", data)
        cases.append(Case(f"{load.__name__}({name})", lambda p=path: load(p), field, path, may_pass))

    import os
    import subprocess
    for name, func, args in [("os.system", os.system, ("true",)), ("eval", eval, ("1",)),
                             ("subprocess", subprocess.call, (["true"],)), ("exec", exec, ("x = 1",)),
                             ("numpy.load", np.load, ("x.npy",)), ("torch.load", torch.load, ("x.pt",)),
                             ("open", open, ("/etc/passwd",))]:
        add(f"hostile {name}", pickle.dumps({"smplx": _Reduce(func, *args)}), "pickle global", safe_load)
    add("huge bytes8", b"\x80\x04\x8e" + struct.pack("<Q", 2 ** 40) + b"abc", "file", safe_load)
    add("huge frame", b"\x80\x04\x95" + struct.pack("<Q", 2 ** 40) + b"abc", "file", safe_load)
    add("huge unicode8", b"\x80\x04\x8d" + struct.pack("<Q", 2 ** 40) + b"abc", "file", safe_load)
    reconstruct = (b"\x80\x02cnumpy._core.multiarray\n_reconstruct\ncnumpy\nndarray\nJ\x00\x00\x00\x40\x85cnumpy\n"
                   b"dtype\nX\x02\x00\x00\x00f8\x89\x88\x87R\x87R.")
    add("9 TiB _reconstruct", reconstruct.replace(b"J\x00\x00\x00\x40\x85", b"\x8a\x05\x00\x00\x00\x00\x90\x85"),
        "pickle array", safe_load)
    add("1 GiB _reconstruct", reconstruct, "pickle array", safe_load)
    add("huge storage", b"\x80\x02ctorch\nFloatStorage\nJ\x00\x00\x00\x40\x85R.", "pickle array", safe_load)
    add("persistent id", b"\x80\x02X\x01\x00\x00\x00aQ.", "file", safe_load)
    add("no smplx", pickle.dumps({"pose": smplx}), "smplx")
    add("not a dict", pickle.dumps([smplx]), "smplx")
    add("smplx 181", pickle.dumps({"smplx": smplx[:, :181]}), "smplx")
    add("smplx one frame", pickle.dumps({"smplx": smplx[:1]}), "smplx")
    add("smplx ints", pickle.dumps({"smplx": smplx.astype(np.int16)}), "smplx")
    add("smplx bools", pickle.dumps({"smplx": smplx > 0}), "smplx")
    add("smplx objects", pickle.dumps({"smplx": smplx.astype(object)}), "smplx")
    add("smplx strings", pickle.dumps({"smplx": "smplx"}), "smplx")
    nan = smplx.copy()
    nan[2, 7] = np.nan
    add("smplx nan", pickle.dumps({"smplx": nan}), "smplx")
    add("torch nan", pickle.dumps({"smplx": torch.from_numpy(nan)}), "smplx")
    add("torch complex", pickle.dumps({"smplx": torch.zeros(5, 182, dtype=torch.complex64)}), "smplx")
    for name, data in truncations(raw, 15) + flips(raw, 30, seed=3):
        add(name, data, None, may_pass=name.startswith("flip"))
    path = write(tmp_path / "good.pkl", raw)
    for name, fps in {"zero": 0, "nan": float("nan"), "string": "24"}.items():
        cases.append(Case(f"load_signavatars(fps={name})", lambda f=fps: load_signavatars(path, fps=f), "fps", path))
    check("pickles", cases)
    assert load_signavatars(write(tmp_path / "good.pkl", raw)).num_frames == len(smplx)
    assert load_signavatars(write(tmp_path / "torch.pkl", pickle.dumps({"smplx": torch.from_numpy(smplx)}))).num_frames


def test_smplerx_folders(tmp_path, clip):
    frame = {"global_orient": np.zeros((1, 3)), "body_pose": np.zeros((1, 21, 3)), "left_hand_pose": np.zeros((1, 15, 3)),
             "right_hand_pose": np.zeros((1, 15, 3)), "transl": np.zeros((1, 3)), "betas": np.zeros((1, 10))}
    cases = []

    def folder(name, frames: dict[str, bytes], field):
        path = tmp_path / name
        path.mkdir()
        for file, data in frames.items():
            write(path / file, data)
        cases.append(Case(f"load_smplerx({name})", lambda: load_smplerx(path), field, path if field in
                          ("frames", "frame files", "file name") else None))

    good = {f"{i:05d}.npz": npz_bytes(frame) for i in range(4)}
    folder("one frame", dict(list(good.items())[:1]), "frames")
    folder("empty", {}, "frame files")
    folder("no number", {**good, "frame.npz": npz_bytes(frame)}, "file name")
    folder("duplicate numbers", {**good, "a00001.npz": npz_bytes(frame)}, "file name")
    for key in ("global_orient", "body_pose", "transl"):
        folder(f"no {key}", {**good, "00002.npz": npz_bytes({k: v for k, v in frame.items() if k != key})}, key)
        folder(f"{key} nan", {**good, "00002.npz": npz_bytes({**frame, key: frame[key] * np.nan})}, key)
        folder(f"{key} short", {**good, "00002.npz": npz_bytes({**frame, key: frame[key].reshape(-1)[1:]})}, key)
    folder("betas in some", {**good, "00002.npz": npz_bytes({k: v for k, v in frame.items() if k != "betas"})},
           "frame files")
    folder("corrupt frame", {**good, "00002.npz": npz_bytes(frame)[:50]}, "file")
    check("smplerx folders", cases)
    path = tmp_path / "good"
    path.mkdir()
    for file, data in good.items():
        write(path / file, data)
    assert load_smplerx(path).num_frames == 4


def test_manifests_and_prediction_files(tmp_path):
    good_row = {"id": "a", "motion": "a.npz", "split": "train", "text": "hello", "fps": 30.0}
    cases = []

    def manifest(name, line: bytes, field, fields=RAW_FIELDS, first=good_row):
        path = write(tmp_path / f"{name}.jsonl", json.dumps(first).encode() + b"\n" + line + b"\n")
        cases.append(Case(f"read_manifest({name})", lambda: read_manifest(path, fields), field, f"{path}:2"))

    def row(**changes):
        return json.dumps({**good_row, "id": "b", **changes}).encode()

    manifest("not json", b"{id: b}", "line")
    manifest("array", b"[1, 2]", "line")
    manifest("string", b'"b"', "line")
    manifest("null", b"null", "line")
    manifest("non-utf8", b'{"id": "b\xff"}', "text")
    manifest("duplicate id", json.dumps(good_row).encode(), "id")
    for key, bad in [("id", ""), ("id", 5), ("id", None), ("id", True), ("motion", 5), ("split", None),
                     ("text", 3), ("gloss", 1.5), ("signer", [1]), ("fps", 0), ("fps", -30), ("fps", "30"),
                     ("fps", True), ("fps", 1e-300), ("fps", 1e300)]:
        manifest(f"{key}={bad!r}", row(**{key: bad}), key)
    manifest("fps NaN", row().replace(b"30.0", b"NaN"), "fps")
    manifest("fps Infinity", row().replace(b"30.0", b"Infinity"), "fps")
    manifest("lone surrogate", row(text="x").replace(b'"x"', b'"\\ud800"'), "text")
    manifest("missing motion", json.dumps({"id": "b", "split": "train"}).encode(), "motion")
    prepared = {"features": "f.npy", "text": "t", "frames": 10}
    for bad in (0, -1, 2.5, "10", True):
        manifest(f"frames={bad!r}", row(**{**prepared, "frames": bad}), "frames", fields=None,
                 first={**good_row, **prepared})

    def pairs(name, lines: list[bytes], field, refs: list[bytes] | None = None):
        pred = write(tmp_path / f"pred_{name}.jsonl", b"\n".join(lines) + b"\n")
        ref = None if refs is None else write(tmp_path / f"ref_{name}.jsonl", b"\n".join(refs) + b"\n")
        cases.append(Case(f"load_pairs({name})", lambda: load_pairs(pred, ref), field, pred if refs is None else None))

    ok = b'{"id": "a", "prediction": "hi", "reference": "hi"}'
    for name, line, field in [("null id", b'{"id": null, "prediction": "x", "reference": "x"}', "id"),
                              ("empty id", b'{"id": "", "prediction": "x", "reference": "x"}', "id"),
                              ("bool id", b'{"id": true, "prediction": "x", "reference": "x"}', "id"),
                              ("list id", b'{"id": [1], "prediction": "x", "reference": "x"}', "id"),
                              ("float id", b'{"id": 1.5, "prediction": "x", "reference": "x"}', "id"),
                              ("null prediction", b'{"id": "b", "prediction": null, "reference": "x"}', "prediction"),
                              ("number prediction", b'{"id": "b", "prediction": 5, "reference": "x"}', "prediction"),
                              ("empty references", b'{"id": "b", "prediction": "x", "reference": []}', "reference"),
                              ("number reference", b'{"id": "b", "prediction": "x", "reference": [1]}', "reference"),
                              ("lone surrogate prediction", b'{"id": "b", "prediction": "\\udc80", "reference": "x"}',
                               "prediction"),
                              ("lone surrogate reference", b'{"id": "b", "prediction": "x", "reference": "\\ud800"}',
                               "reference"),
                              ("lone surrogate id", b'{"id": "\\ud800", "prediction": "x", "reference": "x"}', "id"),
                              ("conflicting duplicate", b'{"id": "a", "prediction": "other", "reference": "hi"}', "id a"),
                              ("no id", b'{"prediction": "x", "reference": "x"}', "line 2"),
                              ("not json", b"{oops", "line 2"), ("non-utf8", b'{"id": "\xff"}', "line 2"),
                              ("array", b"[1]", "line 2")]:
        pairs(name, [ok, line], field)
    pairs("mismatched ids", [b'{"id": "a", "prediction": "x"}'], "id", refs=[b'{"id": "b", "reference": "y"}'])
    check("manifests and predictions", cases)
    assert len(read_manifest(write(tmp_path / "good.jsonl", json.dumps(good_row).encode() + b"\n"), RAW_FIELDS)) == 1
    assert load_pairs(write(tmp_path / "good_pairs.jsonl", ok + b"\n" + b'{"id": 7, "prediction": "a", '
                                                                      b'"reference": ["a", "b"]}\n')).ids == ["a", "7"]


@pytest.mark.parametrize("fields", [None])
def test_read_manifest_with_on_error_keeps_the_good_rows(tmp_path, fields):
    lines = [json.dumps({"id": "a", "motion": "a.npz", "split": "train"}), "{oops", json.dumps({"id": "b", "fps": 0,
             "motion": "b.npz", "split": "train"}), json.dumps({"id": "c", "motion": "c.npz", "split": "test"})]
    path = write(tmp_path / "m.jsonl", ("\n".join(lines) + "\n").encode())
    errors = []
    rows = read_manifest(path, RAW_FIELDS, on_error=lambda clip_id, err: errors.append((clip_id, err.field)))
    assert [r["id"] for r in rows] == ["a", "c"] and errors == [(None, "line"), ("b", "fps")]
