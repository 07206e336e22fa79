"""Estimate joints from sign videos or `.pose` files into a raw lslm dataset (docs/video.md).

    python tools/estimate.py videos/ --backend mediapipe --out data/raw_mp [--workers 2] [--write-pose]
    python tools/estimate.py corpus/*.pose --backend pose --out data/raw_pose
    python tools/estimate.py clip.mp4 --backend smplerx --checkout ~/SMPLer-X --python ~/envs/smplerx/bin/python --out data/raw_sx
    python tools/estimate.py videos/ --out data/raw --shard 3/8      # one of 8 machines or Slurm array tasks
    python tools/estimate.py --merge data/raw                         # after every shard has finished
    python data_prep/prepare_dataset.py --format lslm --input data/raw --output data/prepared

OUT/motion/<id>.npz holds joints (T, 52, 3) float32 (y up, facing +z, on lslm's rest skeleton), valid
(T, 52) bool and fps; OUT/manifest.jsonl lists them (split "train", empty text: fill them in, or
join a split file, before preparing); OUT/report.json has every input skipped and why, and per clip
the fraction of frames with the body, the left and the right hand found. A clip whose motion file
exists is not redone (resume). `--shard K/N` (K = 0 … N−1) takes every N-th input of the sorted list,
so shards writing into one folder never collide; each writes manifest/report.shard-K-of-N.*, and
`--merge OUT` joins them into manifest.jsonl and report.json.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TextIO

import numpy as np

from lslm.atomic import atomic_write_text, write_jsonl
from lslm.errors import ConfigError, InvalidInputError, LslmError
from lslm.video.reader import VIDEO_SUFFIXES
from lslm.video.options import RetargetOptions

BACKENDS = ("mediapipe", "pose", "smplerx", "smplestx")
MOTION_DIR, CLIPS_DIR = "motion", "clips"


@dataclass(frozen=True)
class EstimateConfig:
    """Everything `run` needs; saved as OUT/estimate_config.json."""

    inputs: tuple[str, ...]
    out: str
    backend: str = "mediapipe"
    fps: float | None = None  # the inputs' frame rate when the container's is wrong (smplerx: extraction rate)
    retarget: RetargetOptions = RetargetOptions()
    write_pose: bool = False  # also OUT/pose/<id>.pose (pose-format's viewer and tools read it)
    workers: int = 1  # processes: over inputs, or over the frames of a single video
    shard: tuple[int, int] | None = None  # (K, N): inputs K, K + N, K + 2N, … of the sorted list
    model_complexity: int = 1
    face: bool = False  # run Holistic's face mesh too (not used by the joints)
    checkout: str | None = None  # smplerx / smplestx: the user's repository
    python: str | None = None  # … and the interpreter of its environment
    smplx_model: str | None = None  # smplerx / smplestx: SMPL-X model for the joints (default: rest skeleton)
    progress: bool = True
    clip_workers: int = 1  # processes per video (set by run when there is a single video)

    def checked(self) -> EstimateConfig:
        """This config, its backend, workers and shard checked (ConfigError naming the flag)."""
        if self.backend not in BACKENDS:
            raise ConfigError(f"--backend: expected one of {BACKENDS}, got {self.backend!r}")
        if self.backend in ("smplerx", "smplestx") and not self.checkout:
            raise ConfigError(f"--backend {self.backend}: --checkout (the {self.backend} repository) is required")
        if self.workers < 1:
            raise ConfigError(f"--workers: expected at least 1, got {self.workers}")
        if self.shard is not None and not (self.shard[1] >= 1 and 0 <= self.shard[0] < self.shard[1]):
            raise ConfigError(f"--shard: expected K/N with 0 <= K < N, got {self.shard[0]}/{self.shard[1]}")
        if self.fps is not None and not self.fps > 0:
            raise ConfigError(f"--fps: expected a positive frame rate, got {self.fps}")
        return self


# ---- inputs ------------------------------------------------------------------------------------------

def find_inputs(paths: tuple[str, ...], backend: str) -> list[Path]:
    """Files given, and the matching files in folders given (recursively), sorted, each once."""
    from lslm.video.frontend import POSE_SUFFIXES

    suffixes = POSE_SUFFIXES if backend == "pose" else VIDEO_SUFFIXES
    found: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            found |= {f.resolve() for f in p.rglob("*") if f.suffix.lower() in suffixes and f.is_file()}
        else:
            found.add(p.resolve())
    return sorted(found, key=str)


def assign_ids(inputs: list[Path], skipped: list[dict]) -> dict[str, Path]:
    """Clip id = file stem; a later file with the same stem is skipped (DuplicateId)."""
    ids: dict[str, Path] = {}
    for path in inputs:
        clip_id = path.stem
        if clip_id in ids:
            skipped.append({"input": str(path), "id": clip_id, "error": "DuplicateId",
                            "message": f"same id as {ids[clip_id]}"})
        elif not clip_id or clip_id.startswith("."):
            skipped.append({"input": str(path), "id": clip_id, "error": "InvalidInputError",
                            "message": "file name: expected a name that does not start with '.'"})
        else:
            ids[clip_id] = path
    return ids


# ---- one input ---------------------------------------------------------------------------------------

def _joints_smplx(config: EstimateConfig, path: Path, work: Path):
    """smplerx / smplestx: the user's estimator in a subprocess → SMPL-X → joints (y up), converted like
    `prepare_dataset.py --format smplerx` would (its default camera translation policy)."""
    from lslm.data.adapters import load_smplerx
    from lslm.data.convert import ConvertOptions, clip_joints
    from lslm.video.reader import video_info
    from lslm.video.smplx_backends import SmplxBackend, run_smplx_backend

    backend = SmplxBackend(config.backend, config.checkout, config.python or sys.executable)
    results, count = run_smplx_backend(backend, path, work, fps=config.fps)
    fps = config.fps or video_info(path).fps
    clip = load_smplerx(results, fps=fps, num_frames=count)
    # as prepare_dataset converts camera-frame clips (lslm.data.convert): translation policy, FK, y up
    joints = clip_joints(clip, ConvertOptions(fps=fps, model_path=config.smplx_model))
    valid = np.repeat(clip.meta["detected"][:, None], 52, axis=1)
    detected = float(clip.meta["detected"].mean())
    report = {"frames": len(joints), "fps": fps, "found": {"body": detected, "left_hand": detected,
                                                           "right_hand": detected},
              "gaps": clip.meta["gaps"], "transl": clip.meta["transl"], "translation_policy": "drop",
              "people": clip.meta["people"],
              "results": str(results)}
    return joints, valid, fps, report


def estimate_one(config: EstimateConfig, clip_id: str, path: str) -> dict:
    """Estimate one input into OUT/motion/<id>.npz (+ .pose); returns its manifest row and report."""
    from lslm.data.synthetic.generate import save_npz
    from lslm.video.frontend import POSE_SUFFIXES, FrontEnd, clip_from_landmarks, landmarks_of

    out, path = Path(config.out), Path(path)
    front = FrontEnd(config.retarget, config.model_complexity, config.face, config.clip_workers)
    if config.backend in ("smplerx", "smplestx"):
        joints, valid, fps, report = _joints_smplx(config, path, out / config.backend / clip_id)
        if config.write_pose:
            from lslm.video.pose_file import write_pose
            write_pose(joints, out / "pose" / f"{clip_id}.pose", fps)
    else:
        if path.suffix.lower() not in (POSE_SUFFIXES if config.backend == "pose" else VIDEO_SUFFIXES):
            raise InvalidInputError(path, "suffix", f"an input of the {config.backend} backend", got=path.suffix)
        landmarks = landmarks_of(path, front)
        if config.write_pose and config.backend == "mediapipe":
            from lslm.video.pose_file import write_pose
            (out / "pose").mkdir(exist_ok=True)
            write_pose(landmarks, out / "pose" / f"{clip_id}.pose")
        clip, result = clip_from_landmarks(landmarks, config.fps, None, config.retarget)
        joints, valid, fps, report = result.joints, result.valid, result.fps, result.report
        report = {k: v for k, v in report.items() if k != "options"}
    save_npz(out / MOTION_DIR / f"{clip_id}.npz", {"joints": np.asarray(joints, dtype=np.float32),
                                                   "valid": np.asarray(valid, dtype=bool),
                                                   "fps": np.asarray(float(fps))})
    row = {"id": clip_id, "motion": f"{MOTION_DIR}/{clip_id}.npz", "text": "", "split": "train",
           "fps": float(fps), "source": str(path)}
    entry = {"row": row, "report": {"input": str(path), **report}}
    atomic_write_text(out / CLIPS_DIR / f"{clip_id}.json", json.dumps(entry, ensure_ascii=False))
    return entry


def _worker(config: EstimateConfig, clip_id: str, path: str) -> tuple[str, dict | None, str | None, str | None]:
    """(id, entry, error class, message): errors travel as strings between processes."""
    try:
        return clip_id, estimate_one(config, clip_id, path), None, None
    except Exception as e:  # noqa: BLE001 — one bad input must not stop a corpus; it is reported
        return clip_id, None, type(e).__name__, str(e)


def _results(config: EstimateConfig, todo: dict[str, Path]):
    if config.workers <= 1 or len(todo) <= 1:
        for clip_id, path in todo.items():
            yield _worker(config, clip_id, str(path))
        return
    # spawn: MediaPipe's graph threads do not survive a fork
    with ProcessPoolExecutor(max_workers=config.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_worker, config, clip_id, str(path)) for clip_id, path in todo.items()]
        for future in as_completed(futures):
            yield future.result()


# ---- the run -----------------------------------------------------------------------------------------

def _names(shard: tuple[int, int] | None) -> tuple[str, str]:
    if shard is None:
        return "manifest.jsonl", "report.json"
    tag = f"shard-{shard[0]}-of-{shard[1]}"
    return f"manifest.{tag}.jsonl", f"report.{tag}.json"


def run(config: EstimateConfig) -> dict:
    """Estimate every input of `config` (its shard) into config.out; returns the report."""
    from tqdm import tqdm

    config = config.checked()
    out = Path(config.out)
    for sub in (MOTION_DIR, CLIPS_DIR):
        (out / sub).mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "estimate_config.json", json.dumps(asdict(config), indent=1, default=str))
    skipped: list[dict] = []
    inputs = find_inputs(config.inputs, config.backend)
    missing = [p for p in inputs if not p.is_file()]
    for p in missing:
        skipped.append({"input": str(p), "id": p.stem, "error": "InvalidInputError", "message": "no such file"})
    ids = assign_ids([p for p in inputs if p.is_file()], skipped)
    if config.shard is not None:
        k, n = config.shard
        ids = {i: p for j, (i, p) in enumerate(ids.items()) if j % n == k}
    done = {i for i in ids if (out / MOTION_DIR / f"{i}.npz").exists() and (out / CLIPS_DIR / f"{i}.json").exists()}
    todo = {i: p for i, p in ids.items() if i not in done}
    if len(todo) == 1 and config.workers > 1:  # one video: split its frames over the processes instead
        config = replace(config, workers=1, clip_workers=config.workers)
    entries = {i: json.loads((out / CLIPS_DIR / f"{i}.json").read_text(encoding="utf-8")) for i in done}
    with tqdm(total=len(ids), initial=len(done), desc="estimate", unit="clip", disable=not config.progress) as bar:
        for clip_id, entry, error, message in _results(config, todo):
            if error is None:
                entries[clip_id] = entry
            else:
                skipped.append({"input": str(ids[clip_id]), "id": clip_id, "error": error, "message": message})
            bar.update()
    report = _write(out, config.shard, entries, skipped, resumed=len(done), inputs=len(inputs))
    return report


def _write(out: Path, shard, entries: dict[str, dict], skipped: list[dict], resumed: int, inputs: int) -> dict:
    manifest_name, report_name = _names(shard)
    write_jsonl(out / manifest_name, [entries[i]["row"] for i in sorted(entries)])
    clips = {i: entries[i]["report"] for i in sorted(entries)}
    report = {"counts": {"inputs": inputs, "estimated": len(entries), "resumed": resumed, "skipped": len(skipped),
                         "frames": int(sum(c["frames"] for c in clips.values()))},
              "skipped_by_error": dict(Counter(s["error"] for s in skipped)),
              "found_mean": {k: float(np.mean([c["found"][k] for c in clips.values()])) if clips else None
                             for k in ("body", "left_hand", "right_hand")},
              "skipped": skipped, "clips": clips}
    atomic_write_text(out / report_name, json.dumps(report, indent=1, ensure_ascii=False))
    return report


def merge(out: str | os.PathLike) -> dict:
    """Join the shards' manifests and reports in `out` into manifest.jsonl and report.json."""
    out = Path(out)
    reports = sorted(out.glob("report.shard-*-of-*.json"))
    if not reports:
        raise InvalidInputError(out, "report.shard-K-of-N.json", "shard reports to merge", got="none")
    shards = {tuple(map(int, p.name[len("report.shard-"):-len(".json")].split("-of-"))) for p in reports}
    totals = {n for _, n in shards}
    missing = [f"{k}/{n}" for n in totals for k in range(n) if (k, n) not in shards]
    if len(totals) != 1 or missing:
        raise InvalidInputError(out, "shards", "the reports of every shard K/N of one N", got=f"missing {missing}"
                                if missing else f"N = {sorted(totals)}")
    entries, skipped, inputs, resumed = {}, [], 0, 0
    for p in reports:
        part = json.loads(p.read_text(encoding="utf-8"))
        skipped += part["skipped"]
        inputs = max(inputs, part["counts"]["inputs"])
        resumed += part["counts"]["resumed"]
        for clip_id in part["clips"]:
            entries[clip_id] = json.loads((out / CLIPS_DIR / f"{clip_id}.json").read_text(encoding="utf-8"))
    return _write(out, None, entries, skipped, resumed, inputs)


# ---- command line ------------------------------------------------------------------------------------

def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected K/N, got {text!r}") from e
    return k, n


def build_parser() -> argparse.ArgumentParser:
    """The command line of `lslm estimate` / tools/estimate.py."""
    p = argparse.ArgumentParser(prog="estimate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="*", help="videos or .pose files, or folders of them")
    p.add_argument("--backend", default="mediapipe", choices=BACKENDS)
    p.add_argument("--out", help="output folder (a raw lslm dataset; re-run to resume)")
    p.add_argument("--merge", metavar="OUT", help="join the shards' manifests and reports in OUT, then exit")
    p.add_argument("--fps", type=float, help="frame rate of the inputs (default: the file's)")
    p.add_argument("--smooth", action=argparse.BooleanOptionalAction, default=True,
                   help="One-Euro filter on the bone directions (default on)")
    defaults = RetargetOptions()
    p.add_argument("--min-cutoff", type=float, default=defaults.min_cutoff, help="One-Euro min cutoff, Hz")
    p.add_argument("--beta", type=float, default=defaults.beta, help="One-Euro speed coefficient")
    p.add_argument("--max-gap", type=int, default=defaults.max_gap,
                   help="missing frames up to this many are interpolated, longer gaps held")
    p.add_argument("--write-pose", action="store_true", help="also write OUT/pose/<id>.pose")
    p.add_argument("--workers", type=int, default=1, help="processes (over inputs; one video: over its frames)")
    p.add_argument("--shard", type=_shard, metavar="K/N", help="take inputs K, K+N, … (K = 0 … N-1)")
    p.add_argument("--model-complexity", type=int, default=1, help="Holistic pose model (only 1 ships)")
    p.add_argument("--face", action="store_true", help="run Holistic's face mesh too (slower, unused)")
    p.add_argument("--checkout", help="smplerx/smplestx: the repository")
    p.add_argument("--python", help="smplerx/smplestx: its environment's python (default: this one)")
    p.add_argument("--smplx-model", help="smplerx/smplestx: SMPL-X model for the joints")
    p.add_argument("--no-progress", action="store_true")
    return p


def config_from_args(args: argparse.Namespace) -> EstimateConfig:
    """The EstimateConfig of parsed arguments."""
    retarget = RetargetOptions(max_gap=args.max_gap, smooth=args.smooth, min_cutoff=args.min_cutoff, beta=args.beta)
    return EstimateConfig(tuple(args.inputs), args.out, args.backend, args.fps, retarget, args.write_pose,
                          args.workers, args.shard, args.model_complexity, args.face, args.checkout, args.python,
                          args.smplx_model, not args.no_progress)


def print_summary(report: dict, out: str, file: TextIO | None = None) -> None:
    """A few lines: clips estimated, skipped (with why), and the frames with body and hands found."""
    file = file or sys.stdout
    c = report["counts"]
    found = ", ".join(f"{k} {v:.0%}" for k, v in report["found_mean"].items() if v is not None)
    print(f"estimated {c['estimated']} of {c['inputs']} inputs ({c['frames']} frames) into {out}; "
          f"resumed {c['resumed']}; skipped {c['skipped']}" + (f"; found per clip (mean): {found}" if found else ""),
          file=file)
    for item in report["skipped"][:10]:
        print(f"  skipped {item['input']}: {item['error']}: {item['message']}", file=file)


def main(argv: list[str] | None = None) -> int:
    """Estimate (or --merge shards) from the command line; 0 when at least one input was estimated."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.merge:
            report = merge(args.merge)
            print_summary(report, args.merge)
            return 0
        if not args.out or not args.inputs:
            parser.error("INPUT… and --out are required (or --merge OUT)")
        report = run(config_from_args(args))
    except LslmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print_summary(report, args.out)
    return 0 if report["counts"]["estimated"] else 1


if __name__ == "__main__":
    sys.exit(main())
