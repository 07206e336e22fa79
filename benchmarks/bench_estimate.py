"""MediaPipe estimation against real time, and a 5 s sign video to English end to end.

    python benchmarks/bench_estimate.py [--video ../shared/realdata/pose_format/test_video.mp4]
                                        [--model runs/demo/lslm/final] [--repeats 2]

Estimation: Holistic (model_complexity 1) on every frame of a 5 s video made of the clip played forward
and back: in one process with the face mesh (what `mp.solutions.holistic.Holistic` runs), in one process
without it (lslm's default), and split over two processes (one spawned); frames/s and the ratio to the
clip's frame rate (≥ 1: faster than real time). End to end (with --model): the same 5 s video through
`tools/translate.py VIDEO --model MODEL` in a fresh process (start-up, imports, model load, estimation,
retargeting, features, codes, generation), and the same steps timed one by one in this process.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import best_time

REPO = Path(__file__).resolve().parents[1]
VIDEO = REPO.parent / "shared" / "realdata" / "pose_format" / "test_video.mp4"


def best(fn, repeats: int) -> tuple[float, object]:
    """(fastest of `repeats` calls, the last call's result)."""
    out = []
    seconds = best_time(lambda: out.append(fn()), repeats)
    return seconds, out[-1]


def five_second_video(source: Path, out: Path, seconds: float = 5.0) -> Path:
    """The clip played forward, backward, forward … (no jumps) for `seconds`, at the clip's frame rate."""
    import imageio_ffmpeg

    from lslm.video import read_video

    frames, info = read_video(source)
    order = np.concatenate([np.arange(len(frames)), np.arange(len(frames) - 2, 0, -1)])
    n = int(round(seconds * info.fps))
    picks = np.resize(order, n)
    writer = imageio_ffmpeg.write_frames(str(out), (info.width, info.height), fps=info.fps, macro_block_size=1,
                                         quality=8)
    writer.send(None)
    for k in picks:
        writer.send(np.ascontiguousarray(frames[k]).tobytes())
    writer.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=str(VIDEO))
    parser.add_argument("--model", help="a trained LSLM folder (e.g. runs/demo/lslm/final) for the end-to-end run")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-estimation", action="store_true")
    args = parser.parse_args()
    from lslm.video import estimate_video, video_info

    info = video_info(args.video)
    print(f"{args.video}: {info.num_frames} frames, {info.width}x{info.height}, {info.fps} fps")
    with tempfile.TemporaryDirectory() as tmp:
        clip = five_second_video(Path(args.video), Path(tmp) / "five_seconds.mp4")
        n = video_info(clip).num_frames
        print(f"the same clip played forward and back for 5 s: {clip.name}, {n} frames")
        if not args.skip_estimation:
            runs = {"Holistic with face mesh, 1 process": {"face": True},
                    "without face mesh, 1 process (default)": {"face": False},
                    "without face mesh, 2 processes": {"face": False, "workers": 2}}
            estimate_video(clip, max_frames=5)  # warm: model files, page cache
            for name, kwargs in runs.items():
                seconds, lm = best(lambda: estimate_video(clip, **kwargs), args.repeats)
                rate = lm.num_frames / seconds
                print(f"  {name:40s} {rate:6.1f} frames/s  {rate / info.fps:4.2f}x real time  "
                      f"({1000 * seconds / lm.num_frames:.0f} ms/frame)")
        if args.model:
            end_to_end(args.model, clip, n, info.fps)


def end_to_end(model: str, clip: Path, n: int, fps: float) -> None:
    """tools/translate.py on the clip in a fresh process, then the same steps timed in this one."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(REPO / "tools" / "translate.py"), "--model", model, str(clip),
                           "--no-progress"], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    print(f"end to end, {n} frames ({n / fps:.1f} s of video): tools/translate.py in {wall:.1f} s")
    print(f"  output: {done.stdout.strip()}")
    steps(model, clip)


def steps(model_dir: str, clip: Path) -> None:
    """The end-to-end path timed step by step in this process."""
    import torch

    from lslm.data.convert import clip_to_joints
    from lslm.model.modeling import LSLM
    from lslm.video import estimate_video
    from lslm.video.frontend import clip_from_landmarks

    timings = {}

    def timed(name, fn):
        start = time.perf_counter()
        out = fn()
        timings[name] = time.perf_counter() - start
        return out

    model = timed("load model", lambda: LSLM.from_pretrained(model_dir, device="cpu"))
    tok = model.motion_tokenizer
    lm = timed("MediaPipe Holistic", lambda: estimate_video(clip))
    motion, _ = timed("retarget + smooth", lambda: clip_from_landmarks(lm))
    joints = timed("resample", lambda: clip_to_joints(motion.resampled(tok.fps)))
    codes = timed("features + codes", lambda: tok.encode_joints(torch.as_tensor(joints, dtype=torch.float32)))
    text = timed("generate", lambda: model.generate(codes=[codes], max_new_tokens=64)[0])
    total = sum(timings.values())
    print("  in process: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()) + f"; total {total:.1f} s")
    print(f"  translation: {text!r}")


if __name__ == "__main__":
    main()
