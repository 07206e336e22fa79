"""Retargeting Holistic landmarks to the 52 joints: the vectorised clip against a naive per-frame loop.

    python benchmarks/bench_retarget.py [--frames 30000] [--naive-frames 600] [--repeats 3]

Landmarks: synthetic clips (lslm.data.synthetic) seen by the simulated camera with noise and lost hands
(lslm.video.simulate_landmarks), concatenated to --frames frames. Timed: `retarget` on the whole clip
without and with the One-Euro filter, and the same retargeting called once per frame (a 1-frame clip,
no smoothing: what a frame-by-frame port of the per-frame maths would cost) on the first --naive-frames
frames. Prints frames/s and the ratio, measured in this one run.
"""
from __future__ import annotations

import argparse

import numpy as np

from lslm.data.synthetic.generate import plan_corpus
from lslm.data.synthetic.motion import FPS, signer_skeleton, synthesize
from lslm.motion import Skeleton, smplx_to_joints
from lslm.video import Landmarks, RetargetOptions, retarget, simulate_landmarks
from timing import best_time


def synthetic_joints(frames: int) -> np.ndarray:
    """Test-split synthetic clips, concatenated until `frames` frames."""
    plan = plan_corpus("small", seed=0)
    clips, total = [], 0
    for index, clip in enumerate(plan["clips"]):
        params = synthesize([plan["lexicon"][g] for g in clip["sentence"].gloss], clip["signer"],
                            np.random.default_rng([0, 4, index]))
        joints = np.asarray(smplx_to_joints(params, rest_skeleton=signer_skeleton(Skeleton.smplx52(),
                                                                                   clip["signer"])))
        clips.append(joints)
        total += len(joints)
        if total >= frames:
            break
    return np.concatenate(clips)[:frames]


def frame(lm: Landmarks, t: int) -> Landmarks:
    """Frame t as a 1-frame clip."""
    pick = slice(t, t + 1)
    return Landmarks(lm.fps, lm.width, lm.height, lm.body[pick], lm.body_conf[pick], lm.left_hand[pick],
                     lm.left_conf[pick], lm.right_hand[pick], lm.right_conf[pick], lm.body_world[pick])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30000)
    parser.add_argument("--naive-frames", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    joints = synthetic_joints(args.frames)
    lm = simulate_landmarks(joints, float(FPS), rng=0)
    raw, smooth = RetargetOptions(smooth=False), RetargetOptions()
    whole = best_time(lambda: retarget(lm, options=raw), args.repeats)
    whole_smooth = best_time(lambda: retarget(lm, options=smooth), args.repeats)
    n = min(args.naive_frames, len(joints))
    naive = best_time(lambda: [retarget(frame(lm, t), options=raw) for t in range(n)], 1)
    rates = {"vectorised clip": len(joints) / whole, "vectorised clip + One-Euro": len(joints) / whole_smooth,
             "per-frame loop": n / naive}
    print(f"retarget {len(joints)} frames (naive loop: {n} frames), best of {args.repeats}")
    for name, rate in rates.items():
        print(f"  {name:28s} {rate:12,.0f} frames/s")
    print(f"  vectorised / per-frame: {rates['vectorised clip'] / rates['per-frame loop']:.0f}x; "
          f"with One-Euro: {rates['vectorised clip + One-Euro'] / rates['per-frame loop']:.0f}x")


if __name__ == "__main__":
    main()
