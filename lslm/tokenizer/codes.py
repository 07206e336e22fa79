"""Motion codes of a prepared dataset, computed once per tokenizer and cached next to the features.

LLM training reads codes, not features: the tokenizer is frozen, so encoding every clip at every epoch
would only repeat the same work. `encode_dataset` writes

    DATA/codes/<fingerprint>/
        index.json               {"format", "format_version", "tokenizer": {fingerprint, codebook_size,
                                  downsample, path}, "splits": {split: {"file", "manifest_sha256",
                                  "clips": {id: [offset, length]}, "skipped": [{id, error, message}]}}}
        <split>.safetensors      "codes": (N,) int32, every clip's codes one after the other

where the fingerprint is the sha256 of the tokenizer's config.json and model.safetensors (first 16 hex
digits). Re-running with the same tokenizer skips the splits whose manifest rows are unchanged; another
tokenizer gets its own folder.

    python tools/encode_dataset.py --tokenizer runs/vq/final --data data/synthetic     (lslm.recipes.encode)
    clips = load_codes("data/synthetic", "runs/vq/final", "train")   # [CodedClip(id, codes, text, gloss)]

Raw motion files of any input format (SignAvatars `.pkl`, SMPLer-X folders, Motion-X / joints / feature
`.npy`, lslm `.npz`) are converted the way `prepare_dataset.py` converts them (lslm.data.convert) and their
codes written as JSONL, one {"id", "codes"} (or {"id", "error"}) row per file:

    python tools/encode_dataset.py --tokenizer runs/vq/final --inputs clips/*.pkl --out codes.jsonl
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save as safetensors_bytes

from lslm.checks import check_file_name, check_int, read_json
from lslm.data.manifest import read_manifest
from lslm.atomic import atomic_write_bytes, atomic_write_text
from lslm.devices import resolve_device
from lslm.errors import InvalidInputError, LslmError
from lslm.model_folder import load_safetensors

if TYPE_CHECKING:
    import numpy as np

    from lslm.tokenizer import Tokenizer

FORMAT = "lslm-codes"
FORMAT_VERSION = 1
CODES_DIR = "codes"
INDEX_NAME = "index.json"
BUILD_COMMAND = "python tools/encode_dataset.py --tokenizer TOKENIZER_DIR --data {data} --splits {split}"


@dataclass(frozen=True)
class CodedClip:
    """One clip as the LLM sees it, the same record from the codes cache to the collator: its motion codes
    (L,), its English text and its gloss."""

    id: str
    codes: tuple[int, ...]
    text: str = ""
    gloss: str | None = None


def tokenizer_fingerprint(tokenizer_dir: str | os.PathLike) -> str:
    """sha256 of a saved tokenizer's config.json then model.safetensors, first 16 hex digits."""
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors"):
        path = Path(tokenizer_dir) / name
        if not path.is_file():
            raise InvalidInputError(path, "file", "a tokenizer folder with config.json and model.safetensors",
                                    got="missing")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _split_rows(data_dir: Path, split: str) -> tuple[list[dict], str]:
    """The manifest rows of one split and a hash of what the codes depend on (id, features file, frames)."""
    rows = [r for r in read_manifest(data_dir / "manifest.jsonl") if r["split"] == split]
    key = json.dumps([[r["id"], r["features"], r["frames"]] for r in rows])
    return rows, hashlib.sha256(key.encode("utf-8")).hexdigest()


def _read_index(path: Path) -> dict | None:
    """index.json checked: format, and per split a file name, a manifest hash, {id: [offset, length]} and a
    skipped list; None when there is none."""
    if not path.is_file():
        return None
    index = read_json(path, "a codes index written by tools/encode_dataset.py")
    if index.get("format") != FORMAT or index.get("format_version") != FORMAT_VERSION:
        raise InvalidInputError(path, "format", f"{FORMAT} version {FORMAT_VERSION}",
                                got=f"{index.get('format')!r} version {index.get('format_version')!r}"[:80])
    splits = index.get("splits")
    if not isinstance(splits, dict):
        raise InvalidInputError(path, "splits", "an object {split: entry}", got=type(splits).__name__)
    for split, entry in splits.items():
        ok = isinstance(entry, dict) and isinstance(entry.get("file"), str) and isinstance(entry.get("skipped"), list) \
            and isinstance(entry.get("manifest_sha256"), str) and isinstance(entry.get("clips"), dict) and all(
                isinstance(v, list) and len(v) == 2 and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                                            for n in v) for v in entry["clips"].values())
        if not ok:
            raise InvalidInputError(path, f"splits.{split}", '{"file", "manifest_sha256", "clips": {id: [offset, '
                                    'length]}, "skipped"}', got=repr(entry)[:80])
        check_file_name(entry["file"], path, f"splits.{split}.file")  # a file of this folder, nowhere else
    return index


def cache_dir(data_dir: str | os.PathLike, fingerprint: str) -> Path:
    """DATA/codes/<fingerprint>."""
    return Path(data_dir) / CODES_DIR / fingerprint


@torch.inference_mode()
def encode_split(tokenizer: Tokenizer, data_dir: str | os.PathLike, split: str, batch_size: int = 64,
                 progress: bool = True, records: list[dict] | None = None) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """Encode one split's raw features: ({id: codes (L,) long}, skipped [{id, error, message}]).

    Clips are batched by length (the tokenizer encodes each clip at its own length, so batching does
    not change the codes); a clip that cannot be read or is shorter than one code is skipped and listed.
    `records`: the split's manifest rows when the caller has read them already.
    """
    from tqdm.auto import tqdm

    from lslm.data.dataset import MotionDataset

    dataset = MotionDataset(data_dir, split, normalize=False, records=records)
    order = sorted(range(len(dataset)), key=lambda i: dataset.records[i]["frames"])
    codes, skipped = {}, []
    bar = tqdm(total=len(order), desc=f"encode {split}", unit="clip", disable=not progress)
    for start in range(0, len(order), batch_size):
        items = []
        for i in order[start:start + batch_size]:
            try:
                item = dataset[i]
                if item["length"] < tokenizer.downsample:
                    raise InvalidInputError(dataset.root / dataset.records[i]["features"], "features",
                                            f"at least {tokenizer.downsample} frames (one code)", got=item["length"])
                items.append(item)
            except InvalidInputError as e:
                skipped.append({"id": dataset.records[i]["id"], "error": type(e).__name__, "message": str(e)})
        if items:
            feats = torch.nn.utils.rnn.pad_sequence([it["features"] for it in items], batch_first=True)
            lengths = torch.tensor([it["length"] for it in items])
            batch_codes = tokenizer.encode(feats, lengths).cpu()  # (B, T // 4), −1 past each clip's end
            for it, row, n in zip(items, batch_codes, lengths // tokenizer.downsample):
                codes[it["id"]] = row[:n].clone()
        bar.update(len(order[start:start + batch_size]))
    bar.close()
    return codes, skipped


def encode_dataset(tokenizer_dir: str | os.PathLike, data_dir: str | os.PathLike,
                   splits: list[str] | tuple[str, ...] = ("train", "val", "test"), batch_size: int = 64,
                   device: str | None = None, progress: bool = True) -> dict:
    """Build or update DATA/codes/<fingerprint>/ for `splits`; returns a summary
    {"cache", "fingerprint", "splits": {split: {"status": "encoded"|"cached"|"empty", "clips", "skipped"}}}."""
    from lslm.tokenizer import Tokenizer

    data_dir, tokenizer_dir = Path(data_dir), Path(tokenizer_dir)
    batch_size = check_int(batch_size, None, "batch_size", minimum=1)
    fingerprint = tokenizer_fingerprint(tokenizer_dir)
    out = cache_dir(data_dir, fingerprint)
    index_path = out / INDEX_NAME
    index = _read_index(index_path)
    tokenizer = None
    summary = {"cache": str(out), "fingerprint": fingerprint, "splits": {}}
    for split in splits:
        rows, manifest_hash = _split_rows(data_dir, split)
        entry = (index or {}).get("splits", {}).get(split)
        if entry is not None and entry["manifest_sha256"] == manifest_hash and (out / entry["file"]).is_file():
            summary["splits"][split] = {"status": "cached", "clips": len(entry["clips"]),
                                        "skipped": len(entry["skipped"])}
            continue
        if not rows:
            summary["splits"][split] = {"status": "empty", "clips": 0, "skipped": 0}
            continue
        if tokenizer is None:
            device = str(resolve_device(device))
            tokenizer = Tokenizer.from_pretrained(tokenizer_dir, device=device)
            index = index or {"format": FORMAT, "format_version": FORMAT_VERSION,
                              "tokenizer": {"fingerprint": fingerprint, "codebook_size": tokenizer.num_codes,
                                            "downsample": tokenizer.downsample, "path": str(tokenizer_dir.resolve())},
                              "splits": {}}
        codes, skipped = encode_split(tokenizer, data_dir, split, batch_size, progress)
        ids = [r["id"] for r in rows if r["id"] in codes]  # manifest order
        offsets, offset = {}, 0
        for clip_id in ids:
            offsets[clip_id] = [offset, len(codes[clip_id])]
            offset += len(codes[clip_id])
        flat = torch.cat([codes[i] for i in ids]) if ids else torch.zeros(0, dtype=torch.long)
        out.mkdir(parents=True, exist_ok=True)
        file = f"{split}.safetensors"
        atomic_write_bytes(out / file, safetensors_bytes({"codes": flat.to(torch.int32).contiguous()},
                                                         metadata={"format": FORMAT}))
        index["splits"][split] = {"file": file, "manifest_sha256": manifest_hash, "clips": offsets,
                                  "skipped": skipped}
        atomic_write_text(index_path, json.dumps(index, indent=1) + "\n")
        summary["splits"][split] = {"status": "encoded", "clips": len(ids), "skipped": len(skipped)}
    return summary


def _cached_codes(data_dir: Path, fingerprint: str, split: str, manifest_hash: str) -> dict[str, tuple[int, ...]]:
    """{id: codes} of one split from the codes cache of the tokenizer `fingerprint`; a missing, stale or
    malformed cache is an InvalidInputError naming its file and the command that rebuilds it."""
    out = cache_dir(data_dir, fingerprint)
    index = _read_index(out / INDEX_NAME)
    build = BUILD_COMMAND.format(data=data_dir, split=split)
    if index is None or split not in index["splits"]:
        raise InvalidInputError(out / INDEX_NAME, f"split {split!r}",
                                f"codes cached for tokenizer {fingerprint} (build them with: {build})", got="missing")
    entry = index["splits"][split]
    if entry["manifest_sha256"] != manifest_hash:
        raise InvalidInputError(out / INDEX_NAME, f"split {split!r}",
                                f"codes of the current manifest (it changed since they were cached; rebuild: {build})",
                                got="stale")
    codes_path = out / entry["file"]
    flat = load_safetensors(codes_path).get("codes")
    if flat is None or flat.dim() != 1 or flat.is_floating_point() or flat.dtype == torch.bool:
        raise InvalidInputError(codes_path, "codes", "an integer tensor (N,)",
                                got="missing" if flat is None else f"{flat.dtype} {tuple(flat.shape)}")
    size = index.get("tokenizer", {}).get("codebook_size") if isinstance(index.get("tokenizer"), dict) else None
    if len(flat) and (int(flat.min()) < 0 or (isinstance(size, int) and int(flat.max()) >= size)):
        raise InvalidInputError(codes_path, "codes", f"codes in [0, {size})", got=f"[{int(flat.min())}, {int(flat.max())}]")
    if any(offset + length > len(flat) or length == 0 for offset, length in entry["clips"].values()):
        raise InvalidInputError(out / INDEX_NAME, f"splits.{split}.clips", f"non-empty spans of the {len(flat)} codes "
                                f"in {entry['file']}", got="a span past the end")
    values = flat.tolist()
    return {clip_id: tuple(values[offset:offset + length]) for clip_id, (offset, length) in entry["clips"].items()}


def _clips(rows: list[dict], codes: dict[str, Sequence[int]]) -> dict[str, CodedClip]:
    """{id: CodedClip} of the rows that have codes, in manifest order."""
    return {r["id"]: CodedClip(r["id"], tuple(codes[r["id"]]), r.get("text", ""), r.get("gloss"))
            for r in rows if r["id"] in codes}


def load_codes(data_dir: str | os.PathLike, tokenizer: str | os.PathLike, split: str) -> list[CodedClip]:
    """The cached codes of one split in manifest order (clips the encoder skipped are left out; they are
    listed in index.json). `tokenizer`: the tokenizer folder, or its fingerprint."""
    data_dir = Path(data_dir)
    fingerprint = tokenizer_fingerprint(tokenizer) if Path(tokenizer).is_dir() else str(tokenizer)
    rows, manifest_hash = _split_rows(data_dir, split)
    return list(_clips(rows, _cached_codes(data_dir, fingerprint, split, manifest_hash)).values())


def split_codes(data_dir: str | os.PathLike, split: str, tokenizer_dir: str | os.PathLike, tokenizer: Tokenizer,
                progress: bool = True) -> tuple[list[dict], dict[str, CodedClip], dict[str, str]]:
    """(manifest rows, {id: CodedClip} in manifest order, {id: why it has none}) of a split: the codes from
    the codes cache of the tokenizer saved in `tokenizer_dir` when there is a current one, else encoded now
    with `tokenizer` (the same tokenizer, loaded). The manifest is read, and the tokenizer hashed, once."""
    data_dir = Path(data_dir)
    rows, manifest_hash = _split_rows(data_dir, split)
    fingerprint = tokenizer_fingerprint(tokenizer_dir)
    try:
        codes = _cached_codes(data_dir, fingerprint, split, manifest_hash)
        index = cache_dir(data_dir, fingerprint) / INDEX_NAME
        errors = {r["id"]: f"skipped when the codes were cached (see {index})" for r in rows if r["id"] not in codes}
    except InvalidInputError as e:
        print(f"note: no usable codes cache ({e}); encoding the {split} split now", file=sys.stderr)
        encoded, skipped = encode_split(tokenizer, data_dir, split, progress=progress, records=rows)
        codes = {clip_id: c.tolist() for clip_id, c in encoded.items()}
        errors = {s["id"]: s["message"] for s in skipped}
    return rows, _clips(rows, codes), errors


# ---- raw motion files ---------------------------------------------------------------------------

def motion_file_codes(path: str | os.PathLike, tokenizer: Tokenizer, fps: float | None = None, fmt: str | None = None,
                      convert: dict | None = None) -> torch.Tensor:
    """Codes (L,) long of one motion file of any input format (`lslm.data.convert.file_features`, the path
    `prepare_dataset` takes, on the tokenizer's frame rate, skeleton and compat flag); `fmt` is detected
    when None, `fps` is the file's frame rate (default: the format's), `convert` holds the other
    `ConvertOptions` (translation policy, SMPL-X model, ...). Bad files raise InvalidInputError."""
    from lslm.data.convert import file_features

    features = file_features(path, tokenizer.convert_options(**(convert or {})), fmt, fps,
                             feature_dim=tokenizer.config.feature_dim)  # (T − 1, D)
    return features_codes(features, tokenizer, path)


def features_codes(features: np.ndarray | torch.Tensor, tokenizer: Tokenizer, path: str | os.PathLike | None = None) -> torch.Tensor:
    """Codes (L,) long of one clip's raw features (T, D); a clip shorter than one code is an
    InvalidInputError naming `path`."""
    if len(features) < tokenizer.downsample:
        raise InvalidInputError(path, "features", f"at least {tokenizer.downsample} frames (one code)",
                                got=len(features))
    return tokenizer.encode(torch.as_tensor(features, dtype=torch.float32)).cpu()


def file_ids(paths: Sequence[str | os.PathLike]) -> list[str]:
    """File stems as ids; the whole path where two stems collide."""
    stems = [Path(p).stem for p in paths]
    return [printable(s if stems.count(s) == 1 else str(p)) for s, p in zip(stems, paths)]


def printable(text: str) -> str:
    """`text` as valid UTF-8: a lone surrogate (a non-UTF-8 byte of a file name) is written as its escape, \\udcff."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def encode_files(tokenizer_dir: str | os.PathLike, paths: list[str | os.PathLike], out: str | os.PathLike, *,
                 fps: float | None = None, fmt: str | None = None, convert: dict | None = None,
                 device: str | None = None, progress: bool = True) -> dict:
    """Codes of raw motion files (any input format, converted as `prepare_dataset.py` does) written to
    the JSONL `out`, one row per input in order: {"id", "codes": [...]} or {"id", "error"}. Returns
    {"out", "clips", "skipped"}."""
    from tqdm.auto import tqdm

    from lslm.tokenizer import Tokenizer

    tokenizer = Tokenizer.from_pretrained(tokenizer_dir, device=str(resolve_device(device)))
    rows = []
    for clip_id, path in tqdm(list(zip(file_ids(paths), paths)), desc="encode", unit="clip", disable=not progress):
        try:
            rows.append({"id": clip_id, "codes": motion_file_codes(path, tokenizer, fps, fmt, convert).tolist()})
        except Exception as e:  # noqa: BLE001 — one unreadable file must not cost the others their codes
            rows.append({"id": clip_id, "error": printable(str(e) if isinstance(e, LslmError)
                                                           else f"{path}: {type(e).__name__}: {e}")})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    skipped = [r for r in rows if "error" in r]
    return {"out": str(out), "clips": len(rows) - len(skipped), "skipped": skipped}
