"""Build a prepared dataset folder from a published format (docs/data.md).

    python data_prep/prepare_dataset.py --format signavatars --input PKL_DIR --output data/how2sign \
        --split-csv how2sign_realigned_train.csv how2sign_realigned_val.csv how2sign_realigned_test.csv

Per clip: read and validate (lslm.data.adapters) → resample to --fps → joints (SMPL-X FK, camera frame
rotated to y-up) → 623-dim features on the target skeleton → OUT/features/<id>.npy. Then a Normalizer is
fitted on the train split only. Clips run in parallel processes; a clip whose feature file exists is not
redone (resume); every clip that cannot be used is skipped and listed with its reason in report.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lslm.data.adapters import ADAPTERS, MotionClip
from lslm.data.manifest import (
    RAW_FIELDS,
    atomic_save_npy,
    atomic_write_text,
    read_manifest,
    read_split_csv,
    split_from_filename,
    write_jsonl,
)
from lslm.errors import ConfigError, InvalidInputError, LslmError

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
    """Conversion settings shared by every clip (recorded in dataset.json; a resumed run must match)."""

    format: str
    fps: float
    compat: bool
    model_path: str | None
    flat_hand_mean: bool
    target_offsets: tuple[tuple[float, float, float], ...]


# ---- one clip --------------------------------------------------------------------------------------

def clip_to_joints(clip: MotionClip, model_path: str | None = None, flat_hand_mean: bool = False) -> np.ndarray:
    """Joints (T, 52, 3), y up. Without a model file, FK runs on the clip's rest offsets when it has
    them, else on lslm's default rest skeleton. Camera-frame clips are rotated 180° about X after FK
    (exact, unlike rotating global_orient and transl about the origin, which the pelvis is not at)."""
    from lslm.motion import Skeleton, smplx_to_joints

    if clip.joints is not None:
        joints = clip.joints
    else:
        rest = None
        if model_path is None and clip.rest_offsets is not None:
            rest = replace(Skeleton.smplx52(), offsets=clip.rest_offsets)
        joints = smplx_to_joints(clip.params, model_path=model_path, flat_hand_mean=flat_hand_mean,
                                 rest_skeleton=rest)
    if clip.y_down:
        joints = joints * np.array([1.0, -1.0, -1.0])  # R_x(π): (x, y, z) → (x, −y, −z)
    return np.asarray(joints, dtype=np.float64)


def convert_clip(job: Job, opts: Options, output: Path) -> int:
    """Read, convert and write one clip's features; returns the number of feature rows (T − 1)."""
    from lslm.motion import Skeleton, joints_to_features

    clip = ADAPTERS[opts.format].load(job.path, fps=job.source_fps).resampled(opts.fps)
    joints = clip_to_joints(clip, opts.model_path, opts.flat_hand_mean)
    target = replace(Skeleton.smplx52(), offsets=np.array(opts.target_offsets))
    features = np.asarray(joints_to_features(joints, target=target, fps=opts.fps, compat=opts.compat),
                          dtype=np.float32)  # (T − 1, 623)
    if not np.isfinite(features).all():
        raise InvalidInputError(job.path, "features", "finite values after conversion", got="NaN or inf")
    atomic_save_npy(output / FEATURES_DIR / f"{job.id}.npy", features)
    return len(features)


def _run(job: Job, opts: Options, output: Path) -> tuple[str, int | None, str | None, str | None]:
    """Worker entry: (id, frames, error class, message). Errors travel as strings (lslm errors do
    not survive pickling between processes)."""
    existing = output / FEATURES_DIR / f"{job.id}.npy"
    try:
        if existing.exists():  # resume: written atomically, so an existing file is complete
            return job.id, len(np.load(existing, mmap_mode="r")), None, None
        return job.id, convert_clip(job, opts, output), None, None
    except Exception as e:  # noqa: BLE001 — one bad clip must not stop a 30k-clip run; it is reported
        return job.id, None, type(e).__name__, str(e)


def _init_worker() -> None:
    import torch
    torch.set_num_threads(1)  # one clip per process: avoid workers × cores threads


# ---- the clip list ----------------------------------------------------------------------------------

def _skip(skipped: list, clip_id, path, error: Exception | str, message: str | None = None) -> None:
    name = error if isinstance(error, str) else type(error).__name__
    skipped.append({"id": clip_id, "path": None if path is None else str(path), "error": name,
                    "message": message if message is not None else str(error)})


def collect_jobs(fmt: str, input_dir: Path, split_csvs: list[tuple[str, Path]],
                 source_fps: float | None, skipped: list) -> list[Job]:
    """The clips to convert, with text and split; what cannot be matched goes to `skipped`."""
    if fmt == "lslm":
        return _lslm_jobs(input_dir, skipped)
    adapter = ADAPTERS[fmt]
    fps = source_fps or adapter.default_fps
    found: dict[str, Path] = {}
    for clip_id, path in adapter.discover(input_dir):
        if clip_id in found:
            _skip(skipped, clip_id, path, "DuplicateId", f"same id as {found[clip_id]}")
        else:
            found[clip_id] = path
    if not split_csvs:  # no split files: every clip is a training clip without text
        return [Job(i, str(p), fps) for i, p in sorted(found.items())]
    labels: dict[str, dict] = {}
    for split, csv_path in split_csvs:
        on_error = lambda clip_id, err: _skip(skipped, clip_id, None, err)
        for clip_id, row in read_split_csv(csv_path, split, on_error).items():
            if clip_id in labels:
                _skip(skipped, clip_id, csv_path, "DuplicateId", f"also in the {labels[clip_id]['split']} split")
            labels[clip_id] = row
    jobs = []
    for clip_id, path in sorted(found.items()):
        if clip_id not in labels:
            _skip(skipped, clip_id, path, "NotInSplitFiles", "no row with this SENTENCE_NAME in the split files")
            continue
        jobs.append(Job(clip_id, str(path), fps, text=labels[clip_id]["text"], split=labels[clip_id]["split"]))
    for clip_id in sorted(set(labels) - set(found)):
        _skip(skipped, clip_id, None, "MissingMotion", f"in the {labels[clip_id]['split']} split file, no motion file")
    return jobs


def _lslm_jobs(input_dir: Path, skipped: list) -> list[Job]:
    manifest = input_dir / "manifest.jsonl"
    if not manifest.is_file():
        raise InvalidInputError(manifest, "manifest.jsonl", "a raw lslm dataset folder", got="no such file")
    rows = read_manifest(manifest, RAW_FIELDS, on_error=lambda clip_id, err: _skip(skipped, clip_id, manifest, err))
    return [Job(r["id"], str(input_dir / r["motion"]), r.get("fps"), text=r.get("text", ""),
                gloss=r.get("gloss"), split=r["split"], signer=r.get("signer")) for r in rows]


def _safe_id(job: Job, skipped: list) -> bool:
    if "/" in job.id or "\\" in job.id or job.id.startswith("."):
        _skip(skipped, job.id, job.path, "InvalidInputError", "id: expected a file name (no '/', '\\', leading '.')")
        return False
    return True


# ---- target skeleton and stats ----------------------------------------------------------------------

def load_target_offsets(path: str | None) -> np.ndarray:
    """Target bone offsets (52, 3): lslm's default rest skeleton, or a JSON file with either
    {"offsets": [[x, y, z]] × 52} or {"joints": {name: [x, y, z]}} (rest positions, as in assets/)."""
    from lslm.motion import Skeleton, default_rest_skeleton

    if path is None:
        return default_rest_skeleton().offsets
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidInputError(path, "target skeleton", "a JSON file", got=repr(e)) from e
    skeleton = Skeleton.smplx52()
    if "offsets" in data:
        offsets = np.asarray(data["offsets"], dtype=np.float64)
        if offsets.shape != (skeleton.num_joints, 3):
            raise InvalidInputError(path, "offsets", f"shape ({skeleton.num_joints}, 3)", got=offsets.shape)
        return offsets
    joints = data.get("joints")
    if not isinstance(joints, dict) or list(joints) != list(skeleton.names):
        raise InvalidInputError(path, "joints", "the 52 joint names in Skeleton.smplx52() order with [x, y, z]")
    return skeleton.with_offsets_from([joints[n] for n in skeleton.names]).offsets


def fit_stats(output: Path, rows: list[dict], max_frames: int):
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
            workers: int = 1, stats_max_frames: int = 2_000_000, progress: bool = True) -> dict:
    """Convert `input_dir` (format `fmt`) into a prepared dataset at `output`; returns the report."""
    from tqdm import tqdm

    if fmt not in ADAPTERS:
        raise ConfigError(f"--format: expected one of {sorted(ADAPTERS)}, got {fmt!r}")
    if fmt == "lslm" and split_csvs:
        raise ConfigError("--split-csv: a raw lslm folder takes texts and splits from its manifest.jsonl")
    input_dir, output = Path(input_dir), Path(output)
    if not input_dir.is_dir():
        raise InvalidInputError(input_dir, "--input", "a folder", got="no such folder")
    if model_path is not None and not Path(model_path).exists():
        raise InvalidInputError(model_path, "--smplx-model", "an SMPL-X .npz or a folder", got="no such path")
    opts = Options(fmt, float(fps), compat, None if model_path is None else str(model_path), flat_hand_mean,
                   tuple(map(tuple, load_target_offsets(target_skeleton).tolist())))
    (output / FEATURES_DIR).mkdir(parents=True, exist_ok=True)
    _check_resume(output, opts)
    dataset_info = {"format_version": FORMAT_VERSION, "source_format": fmt, "fps": opts.fps, "num_joints": 52,
                    "compat": compat, "body_model": _body_model(opts),
                    "flat_hand_mean": flat_hand_mean, "target_skeleton": {"offsets": opts.target_offsets}}
    atomic_write_text(output / "dataset.json", json.dumps(dataset_info, indent=1))

    skipped: list[dict] = []
    csvs = [(s.split("=", 1)[0], Path(s.split("=", 1)[1])) if "=" in s else (split_from_filename(s), Path(s))
            for s in split_csvs]  # [(split, file)]
    jobs = [j for j in collect_jobs(fmt, input_dir, csvs, source_fps, skipped) if _safe_id(j, skipped)]

    frames: dict[str, int] = {}
    resumed = sum((output / FEATURES_DIR / f"{j.id}.npy").exists() for j in jobs)
    by_id = {j.id: j for j in jobs}
    bar = tqdm(total=len(jobs), desc="prepare", unit="clip", disable=not progress)
    results = _results(jobs, opts, output, workers)
    for clip_id, count, error, message in results:
        if error is None:
            frames[clip_id] = count
        else:
            _skip(skipped, clip_id, by_id[clip_id].path, error, message)
        bar.update()
    bar.close()

    rows = [{"id": j.id, "features": f"{FEATURES_DIR}/{j.id}.npy", "text": j.text, "gloss": j.gloss,
             "split": j.split, "fps": opts.fps, "frames": frames[j.id], "signer": j.signer}
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
    report = {"counts": counts, "skipped_by_error": dict(Counter(s["error"] for s in skipped)),
              "warnings": warnings, "skipped": skipped}
    atomic_write_text(output / "report.json", json.dumps(report, indent=1, ensure_ascii=False))
    return report


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
    info = json.loads(info_path.read_text(encoding="utf-8"))
    before = [info.get(k) for k in ("source_format", "fps", "compat", "flat_hand_mean", "body_model")]
    before.append(info.get("target_skeleton", {}).get("offsets"))
    now = [opts.format, opts.fps, opts.compat, opts.flat_hand_mean, _body_model(opts), opts.target_offsets]
    if json.loads(json.dumps(before)) != json.loads(json.dumps(now)):
        raise ConfigError(f"{output}: prepared with other settings (format, fps, compat, flat_hand_mean or "
                          "target skeleton); use a new --output folder")


def _body_model(opts: Options) -> str:
    return opts.model_path or "lslm rest skeleton (no SMPL-X model)"


def print_summary(report: dict, output: Path, file=None) -> None:
    file = file or sys.stdout
    counts = report["counts"]
    print(f"prepared {counts['converted']} clips ({counts['frames']} frames) in {output}; "
          f"splits {counts['splits']}; resumed {counts['resumed']}; skipped {counts['skipped']}", file=file)
    for error, n in report["skipped_by_error"].items():
        print(f"  skipped {n} × {error}", file=file)
    for item in report["skipped"][:10]:
        print(f"    {item['id']}: {item['error']}: {item['message']}", file=file)
    if counts["skipped"] > 10:
        print(f"    … all in {output / 'report.json'}", file=file)
    for warning in report["warnings"]:
        print(f"  warning: {warning}", file=file)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="prepare_dataset", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", required=True, choices=sorted(ADAPTERS))
    p.add_argument("--input", required=True, help="folder with the clips (lslm: the folder with manifest.jsonl)")
    p.add_argument("--output", required=True, help="prepared dataset folder (created; re-run to resume)")
    p.add_argument("--split-csv", nargs="+", default=[], metavar="[SPLIT=]FILE",
                   help="How2Sign/SignAvatars split files (tab-separated, SENTENCE_NAME, SENTENCE); the split "
                        "comes from the file name (…_train.csv) unless given as SPLIT=FILE")
    p.add_argument("--smplx-model", help="SMPL-X model .npz or folder with SMPLX_NEUTRAL.npz")
    p.add_argument("--flat-hand-mean", action="store_true", help="hand poses are relative to a flat hand")
    p.add_argument("--fps", type=float, default=30.0, help="output frame rate (default 30)")
    p.add_argument("--source-fps", type=float, help="frame rate of the input (default: the format's)")
    p.add_argument("--target-skeleton", help="JSON with target offsets (default: lslm's rest skeleton)")
    p.add_argument("--compat", action=argparse.BooleanOptionalAction, default=True,
                   help="reproduce the reference facing-direction hip swap (default on; see docs/data.md)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--stats-max-frames", type=int, default=2_000_000,
                   help="fit the normalizer on at most this many (evenly strided) train frames")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = prepare(args.format, args.input, args.output, args.split_csv, fps=args.fps,
                         source_fps=args.source_fps, model_path=args.smplx_model,
                         flat_hand_mean=args.flat_hand_mean, compat=args.compat,
                         target_skeleton=args.target_skeleton, workers=args.workers,
                         stats_max_frames=args.stats_max_frames, progress=not args.no_progress)
    except LslmError as e:  # unusable arguments or inputs as a whole (clips are skipped, not raised)
        print(f"error: {e}", file=sys.stderr)
        return 2
    print_summary(report, Path(args.output))
    return 0 if report["counts"]["converted"] else 1


if __name__ == "__main__":
    sys.exit(main())
