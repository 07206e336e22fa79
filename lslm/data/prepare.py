"""Build a prepared dataset folder from a published format (docs/data.md).

    report = prepare("signavatars", "PKL_DIR", "data/how2sign", ["how2sign_realigned_train.csv", …])

The command line is `lslm.recipes.prepare` (data_prep/prepare_dataset.py).

Per clip (lslm.data.convert, the path translate and encode_dataset take for raw files): read and validate
(lslm.data.adapters) → camera translation policy (--translation) → resample to --fps → joints (SMPL-X FK,
camera frame rotated to y-up) → 623-dim features on the target skeleton → OUT/features/<id>.npy. Then a
Normalizer is fitted on the train split only. Clips run in parallel processes; a clip whose feature file
exists is not redone (resume); every clip or split-file row that cannot be used is skipped and listed with
its reason in report.json, with what the adapters repaired.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import json
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lslm.checks import check_bool, check_file_name, check_fps, check_int, check_numeric, read_json
from lslm.data.adapters import ADAPTERS
from lslm.data.convert import (
    DEFAULT_TRANSLATION,
    ConvertOptions,
    clip_features,
    read_clip,
)
from lslm.data.manifest import RAW_FIELDS, read_manifest, read_split_csv, split_from_filename
from lslm.atomic import atomic_save_npy, atomic_write_text, write_jsonl
from lslm.errors import ConfigError, InvalidInputError

if TYPE_CHECKING:
    from lslm.motion import Normalizer

FORMAT_VERSION = 1
FEATURES_DIR = "features"


@dataclass(frozen=True)
class Job:
    """One clip to convert: where it is and what the manifest will say about it."""

    id: str
    path: str
    source_fps: float | None
    text: str = ""
    gloss: str | None = None
    split: str = "train"
    signer: str | int | None = None


@dataclass(frozen=True)
class Options:
    """Settings shared by every clip (recorded in dataset.json; a resumed run must match)."""

    format: str
    convert: ConvertOptions


# ---- one clip --------------------------------------------------------------------------------------

def convert_clip(job: Job, opts: Options, output: Path) -> tuple[int, dict]:
    """Read, convert and write one clip's features (lslm.data.convert, the path translate uses too);
    returns (feature rows T − 1, what the adapter repaired)."""
    clip = read_clip(job.path, opts.format, job.source_fps, opts.convert)
    features = clip_features(clip, opts.convert)  # (T − 1, 623)
    atomic_save_npy(output / FEATURES_DIR / f"{job.id}.npy", features)
    return len(features), {k: v for k, v in clip.meta.get("repairs", {}).items() if v}


def _run(job: Job, opts: Options, output: Path) -> tuple[str, int | None, dict | None, str | None, str | None]:
    """Worker entry: (id, frames, repairs (None when resumed), error class, message). Errors travel as
    strings (lslm errors do not survive pickling between processes)."""
    existing = output / FEATURES_DIR / f"{job.id}.npy"
    try:
        if existing.exists():  # resume: written atomically, so an existing file is complete
            return job.id, len(np.load(existing, mmap_mode="r")), None, None, None
        return job.id, *convert_clip(job, opts, output), None, None
    except Exception as e:  # noqa: BLE001 — one bad clip must not stop a 30k-clip run; it is reported
        return job.id, None, None, type(e).__name__, str(e)


def _init_worker() -> None:
    import torch
    torch.set_num_threads(1)  # one clip per process: avoid workers × cores threads


# ---- the clip list ----------------------------------------------------------------------------------

def _skip(skipped: list, clip_id, path, error: Exception | str, message: str | None = None) -> None:
    name = error if isinstance(error, str) else type(error).__name__
    skipped.append({"id": clip_id, "path": None if path is None else str(path), "error": name,
                    "message": message if message is not None else str(error)})


def collect_jobs(fmt: str, input_dir: Path, split_csvs: list[tuple[str, Path]],
                 source_fps: float | None, skipped: list, exclude: frozenset[str] = frozenset(),
                 split_counts: dict | None = None) -> list[Job]:
    """The clips to convert, with text, split and frame rate (a split file's per-clip FPS, else
    `source_fps`, else the format's); what cannot be matched, and the `exclude`d ids, go to `skipped`.
    `split_counts` receives {file: {"split", "rows", "repaired"}} for the split files read."""
    if fmt == "lslm":
        return [j for j in _lslm_jobs(input_dir, skipped) if not _excluded(j.id, j.path, exclude, skipped)]
    adapter = ADAPTERS[fmt]
    fps = adapter.default_fps if source_fps is None else source_fps
    found: dict[str, Path] = {}
    for clip_id, path in adapter.discover(input_dir):
        if clip_id in found:
            _skip(skipped, clip_id, path, "DuplicateId", f"same id as {found[clip_id]}")
        elif not _excluded(clip_id, path, exclude, skipped):
            found[clip_id] = path
    if not split_csvs:  # no split files: every clip is a training clip without text
        return [Job(i, str(p), fps) for i, p in sorted(found.items())]
    labels: dict[str, dict] = {}
    for split, csv_path in split_csvs:
        def on_error(clip_id, err):  # a repeated id within one file is a DuplicateId like one across files
            _skip(skipped, clip_id, err.path, "DuplicateId" if err.field == "SENTENCE_NAME" else err, str(err))
        rows = read_split_csv(csv_path, split, on_error)
        if split_counts is not None:
            split_counts[str(csv_path)] = {"split": split, "rows": len(rows),
                                           "repaired": sum(r["repaired"] for r in rows.values())}
        for clip_id, row in rows.items():
            if clip_id in labels:  # the first file's row is used
                _skip(skipped, clip_id, csv_path, "DuplicateId",
                      f"also in the {labels[clip_id]['split']} split file, whose row is used")
            elif clip_id not in exclude:
                labels[clip_id] = row
    jobs = []
    for clip_id, path in sorted(found.items()):
        if clip_id not in labels:
            _skip(skipped, clip_id, path, "NotInSplitFiles", "no row with this SENTENCE_NAME in the split files")
            continue
        label = labels[clip_id]
        jobs.append(Job(clip_id, str(path), label["fps"] or fps, text=label["text"], split=label["split"]))
    for clip_id in sorted(set(labels) - set(found)):
        _skip(skipped, clip_id, None, "MissingMotion", f"in the {labels[clip_id]['split']} split file, no motion file")
    return jobs


def _excluded(clip_id: str, path, exclude: frozenset[str], skipped: list) -> bool:
    if clip_id in exclude:
        _skip(skipped, clip_id, path, "Excluded", "listed in the --exclude file")
        return True
    return False


def read_exclude(path: str | Path | None) -> frozenset[str]:
    """Clip ids to leave out: one per line, kept exactly; blank lines and lines starting with # are ignored."""
    if path is None:
        return frozenset()
    try:
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInputError(path, "--exclude", "a UTF-8 text file with one clip id per line", got=repr(e)) from e
    return frozenset(line.rstrip("\r") for line in lines if line.strip() and not line.startswith("#"))


def _lslm_jobs(input_dir: Path, skipped: list) -> list[Job]:
    manifest = input_dir / "manifest.jsonl"
    if not manifest.is_file():
        raise InvalidInputError(manifest, "manifest.jsonl", "a raw lslm dataset folder", got="no such file")
    rows = read_manifest(manifest, RAW_FIELDS, on_error=lambda clip_id, err: _skip(skipped, clip_id, manifest, err))
    return [Job(r["id"], str(input_dir / r["motion"]), r.get("fps"), text=r.get("text", ""),
                gloss=r.get("gloss"), split=r["split"], signer=r.get("signer")) for r in rows]


def _safe_id(job: Job, skipped: list) -> bool:
    """Whether the clip's id can name its feature file (FEATURES_DIR/<id>.npy); if not, the clip is skipped."""
    try:
        check_file_name(job.id, job.path, "id", suffix=".npy")
    except InvalidInputError as e:
        _skip(skipped, job.id, job.path, e)
        return False
    return True


# ---- target skeleton and stats ----------------------------------------------------------------------

def load_target_offsets(path: str | None) -> np.ndarray:
    """Target bone offsets (52, 3): lslm's default rest skeleton, or a JSON file with either
    {"offsets": [[x, y, z]] × 52} or {"joints": {name: [x, y, z]}} (rest positions, as in assets/).
    The offsets must be finite with non-zero bones."""
    from lslm.motion import Skeleton, default_rest_skeleton

    if path is None:
        return default_rest_skeleton().offsets
    data = read_json(path, "a target skeleton JSON file")
    skeleton = Skeleton.smplx52()
    if "offsets" in data:
        offsets = _numbers(path, "offsets", data["offsets"], (skeleton.num_joints, 3))
    else:
        joints = data.get("joints")
        if not isinstance(joints, dict) or list(joints) != list(skeleton.names):
            raise InvalidInputError(path, "joints", "the 52 joint names in Skeleton.smplx52() order with [x, y, z] "
                                    '(or "offsets")', got=repr(joints)[:80])
        pose = _numbers(path, "joints", [joints[n] for n in skeleton.names], (skeleton.num_joints, 3))
        offsets = skeleton.with_offsets_from(pose).offsets
    return Skeleton.from_dict(skeleton.to_dict(), offsets, path, "target skeleton").offsets


def _numbers(path, field: str, value, shape: tuple[int, ...]) -> np.ndarray:
    """A JSON array of numbers of `shape` as float64 (bools, strings, nulls and ragged rows refused)."""
    try:
        array = np.asarray(check_numeric(value, path, field), dtype=np.float64)
    except InvalidInputError:
        raise InvalidInputError(path, field, f"numbers of shape {shape}", got=repr(value)[:80]) from None
    if array.shape != shape:
        raise InvalidInputError(path, field, f"shape {shape}", got=array.shape)
    return array


def fit_stats(output: Path, rows: list[dict], max_frames: int) -> Normalizer:
    """Normalizer fitted on the train rows' features; at most `max_frames` frames, evenly strided."""
    from lslm.motion import Normalizer

    train = [r for r in rows if r["split"] == "train"]
    if not train:
        return None
    stride = max(1, -(-sum(r["frames"] for r in train) // max_frames))
    chunks, seen = [], 0
    for row in train:  # every stride-th frame of the concatenated train frames, one file at a time
        features = np.load(output / row["features"], mmap_mode="r")
        chunks.append(np.asarray(features[(-seen) % stride::stride]))
        seen += len(features)
    return Normalizer.fit(np.concatenate(chunks), num_joints=52)  # (N, D)


# ---- main -------------------------------------------------------------------------------------------

def prepare(fmt: str, input_dir: str | Path, output: str | Path, split_csvs: list[str] = (),
            fps: float = 30.0, source_fps: float | None = None, model_path: str | None = None,
            flat_hand_mean: bool = False, compat: bool = True, target_skeleton: str | None = None,
            workers: int = 1, stats_max_frames: int = 2_000_000, progress: bool = True,
            translation: str = DEFAULT_TRANSLATION, signavatars_params: str = "smplx",
            invalid_hands: str = "interpolate", exclude: str | None = None) -> dict:
    """Convert `input_dir` (format `fmt`) into a prepared dataset at `output`; returns the report.

    `translation` is the camera-frame translation policy (lslm.data.convert); `signavatars_params` and
    `invalid_hands` are SignAvatars' table and hand-flag handling; `exclude` a file of clip ids to leave out.
    """
    from tqdm import tqdm

    if fmt not in ADAPTERS:
        raise ConfigError(f"--format: expected one of {sorted(ADAPTERS)}, got {fmt!r}")
    if fmt == "lslm" and split_csvs:
        raise ConfigError("--split-csv: a raw lslm folder takes texts and splits from its manifest.jsonl")
    input_dir, output = Path(input_dir), Path(output)
    if not input_dir.is_dir():
        raise InvalidInputError(input_dir, "--input", "a folder", got="no such folder")
    if output.exists() and not output.is_dir():
        raise InvalidInputError(output, "--output", "a folder (created when missing)", got="a file")
    if model_path is not None and not Path(model_path).exists():
        raise InvalidInputError(model_path, "--smplx-model", "an SMPL-X .npz or a folder", got="no such path")
    fps = check_fps(fps, None, "--fps")
    source_fps = None if source_fps is None else check_fps(source_fps, None, "--source-fps")
    compat = check_bool(compat, None, "--compat")
    flat_hand_mean = check_bool(flat_hand_mean, None, "--flat-hand-mean")
    workers = check_int(workers, None, "--workers", minimum=1)
    stats_max_frames = check_int(stats_max_frames, None, "--stats-max-frames", minimum=1)
    csvs = [_split_file(s) for s in split_csvs]  # [(split, file)], checked before any clip is converted
    excluded = read_exclude(exclude)
    convert = ConvertOptions(fps=fps, compat=compat, model_path=None if model_path is None else str(model_path),
                             flat_hand_mean=flat_hand_mean,
                             target_offsets=tuple(map(tuple, load_target_offsets(target_skeleton).tolist())),
                             translation=translation, signavatars_params=signavatars_params,
                             invalid_hands=invalid_hands)
    opts = Options(fmt, convert)
    (output / FEATURES_DIR).mkdir(parents=True, exist_ok=True)
    _check_resume(output, opts)
    dataset_info = {"format_version": FORMAT_VERSION, "source_format": fmt, "num_joints": 52,
                    "body_model": _body_model(opts), **_recorded(convert)}
    atomic_write_text(output / "dataset.json", json.dumps(dataset_info, indent=1))

    skipped: list[dict] = []
    split_counts: dict[str, dict] = {}
    jobs = [j for j in collect_jobs(fmt, input_dir, csvs, source_fps, skipped, excluded, split_counts)
            if _safe_id(j, skipped)]

    frames: dict[str, int] = {}
    repairs = _previous_repairs(output)  # resumed clips keep what their first run repaired
    resumed = sum((output / FEATURES_DIR / f"{j.id}.npy").exists() for j in jobs)
    by_id = {j.id: j for j in jobs}
    bar = tqdm(total=len(jobs), desc="prepare", unit="clip", disable=not progress)
    for clip_id, count, repaired, error, message in _results(jobs, opts, output, workers):
        if error is None:
            frames[clip_id] = count
            if repaired is not None:
                repairs[clip_id] = repaired
        else:
            _skip(skipped, clip_id, by_id[clip_id].path, error, message)
        bar.update()
    bar.close()
    repairs = {i: r for i, r in repairs.items() if i in frames and r}

    rows = [{"id": j.id, "features": f"{FEATURES_DIR}/{j.id}.npy", "text": j.text, "gloss": j.gloss,
             "split": j.split, "fps": convert.fps, "frames": frames[j.id], "signer": j.signer}
            for j in jobs if j.id in frames]
    write_jsonl(output / "manifest.jsonl", rows)
    warnings = []
    normalizer = fit_stats(output, rows, stats_max_frames)
    if normalizer is None:
        warnings.append("no train clip: stats.safetensors not written")
    else:
        normalizer.save(output / "stats.safetensors")
    if model_path is None and fmt in ("signavatars", "smplerx", "motionx"):
        warnings.append("no --smplx-model: SMPL-X poses were posed on lslm's rest skeleton (betas ignored)")

    splits = Counter(r["split"] for r in rows)
    counts = {"converted": len(rows), "resumed": resumed, "skipped": len(skipped),
              "splits": dict(sorted(splits.items())), "frames": int(sum(frames.values()))}
    example = next(iter(frames), None)
    feature_dim = int(np.load(output / FEATURES_DIR / f"{example}.npy", mmap_mode="r").shape[1]) if example else None
    dataset_info.update(feature_dim=feature_dim, counts=counts)
    atomic_write_text(output / "dataset.json", json.dumps(dataset_info, indent=1))
    totals = Counter()
    for repaired in repairs.values():
        totals.update(repaired)
    report = {"counts": counts, "skipped_by_error": dict(Counter(s["error"] for s in skipped)),
              "warnings": warnings, "split_files": split_counts,
              "repairs": {"totals": dict(sorted(totals.items())), "clips": repairs}, "skipped": skipped}
    atomic_write_text(output / "report.json", json.dumps(report, indent=1, ensure_ascii=False))
    return report


def _recorded(convert: ConvertOptions) -> dict:
    """The conversion settings as dataset.json records them (target_offsets as target_skeleton.offsets)."""
    fields = asdict(convert)
    fields.pop("model_path")  # recorded as body_model
    return {**fields, "target_skeleton": {"offsets": fields.pop("target_offsets")}}


def _previous_repairs(output: Path) -> dict[str, dict]:
    """Per-clip repairs recorded by an earlier run into this folder (report.json), for resumed clips."""
    try:
        return dict(json.loads((output / "report.json").read_text(encoding="utf-8"))["repairs"]["clips"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _split_file(arg: str) -> tuple[str, Path]:
    """--split-csv [SPLIT=]FILE → (split, file): the split from the file name unless given; the file must exist."""
    split, sep, name = arg.partition("=")
    split, path = (split, Path(name)) if sep else (split_from_filename(arg), Path(arg))
    if not split:
        raise InvalidInputError(path, "--split-csv", "SPLIT=FILE with a split name", got=arg)
    if not path.is_file():
        raise InvalidInputError(path, "--split-csv", "a split file (tab-separated, SENTENCE_NAME, SENTENCE)",
                                got="a folder" if path.is_dir() else "no such file")
    return split, path


def _results(jobs: list[Job], opts: Options, output: Path, workers: int):
    if workers <= 1:
        for job in jobs:
            yield _run(job, opts, output)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
        futures = [pool.submit(_run, job, opts, output) for job in jobs]
        for future in as_completed(futures):
            yield future.result()


def _check_resume(output: Path, opts: Options) -> None:
    """A folder prepared with other settings cannot be resumed into (its features would mix)."""
    info_path = output / "dataset.json"
    if not info_path.exists():
        return
    info = read_json(info_path, "the dataset.json of the folder being resumed (or use a new --output)")
    now = {"source_format": opts.format, "body_model": _body_model(opts), **_recorded(opts.convert)}
    # folders written before a setting existed were made with its default
    defaults = {"translation": "keep", "signavatars_params": "smplx", "invalid_hands": "keep"}
    before = {key: info.get(key, defaults.get(key)) for key in now}
    changed = [key for key in now if json.loads(json.dumps(before[key])) != json.loads(json.dumps(now[key]))]
    if changed:
        raise ConfigError(f"the folder was prepared with other settings ({', '.join(changed)}); use a new --output "
                          "folder", path=info_path)


def _body_model(opts: Options) -> str:
    return opts.convert.model_path or "lslm rest skeleton (no SMPL-X model)"
