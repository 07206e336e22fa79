"""How each camera translation policy (lslm.data.convert) shapes the features of real camera-frame clips.

    python benchmarks/camera_translation.py                         # ../shared/realdata/signavatars_wlasl/*.json
    python benchmarks/camera_translation.py --input PKL_DIR         # SignAvatars .pkl files

Per clip and policy, from the 623-dim features at 30 fps (lslm's rest skeleton, no SMPL-X model): the
median and 95th percentile joint speed (velocity block, m/frame), the median wrist speed, the median root
speed and the mean foot contact. A signer standing or seated still has a root speed near 0 and feet in
contact (1.0); the weak-perspective depth of monocular fits makes neither true unless the policy removes it.
The numbers are in docs/data.md.
"""
from __future__ import annotations

import argparse
import json
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lslm.data.convert import TRANSLATION_POLICIES, ConvertOptions, clip_features, read_clip
from lslm.motion import feature_layout

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "signavatars_wlasl"
WRISTS = [20, 21]


@dataclass(frozen=True)
class Config:
    input: str = str(REALDATA)  # a folder of SignAvatars .pkl, or of the realdata JSON exports
    fps: float = 30.0


def plausibility(features: np.ndarray) -> dict[str, float]:
    """Speeds (m/frame) and foot contact of one clip's features (T − 1, 623)."""
    layout = feature_layout(52)
    speed = np.linalg.norm(features[:, layout["velocities"]].reshape(len(features), 52, 3), axis=-1)  # (T−1, 52)
    return {"joint_median": float(np.median(speed)), "joint_p95": float(np.percentile(speed, 95)),
            "wrist_median": float(np.median(speed[:, WRISTS])),
            "root_median": float(np.median(np.linalg.norm(features[:, 1:3], axis=-1))),
            "contact": float(features[:, layout["contacts"]].mean())}


def _pickles(folder: Path, scratch: Path) -> list[Path]:
    """The folder's .pkl files, or its JSON exports ({"smplx", "leftValid", "rightValid"}) written as pickles."""
    pkls = sorted(folder.glob("*.pkl"))
    for path in sorted(folder.glob("*.json")) if not pkls else []:
        d = json.loads(path.read_text())
        data = {"smplx": np.asarray(d["smplx"], np.float32), "left_valid": np.asarray(d["leftValid"]),
                "right_valid": np.asarray(d["rightValid"])}
        pkls.append(scratch / f"{path.stem}.pkl")
        pkls[-1].write_bytes(pickle.dumps(data))
    return pkls


def run(config: Config) -> dict[str, dict[str, dict[str, float]]]:
    """{clip: {policy: plausibility}}."""
    with tempfile.TemporaryDirectory() as scratch:
        pkls = _pickles(Path(config.input), Path(scratch))
        if not pkls:
            raise SystemExit(f"{config.input}: no .pkl or .json clips")
        results = {}
        for path in pkls:
            results[path.stem] = {}
            for policy in TRANSLATION_POLICIES:
                options = ConvertOptions(fps=config.fps, translation=policy)
                results[path.stem][policy] = plausibility(clip_features(read_clip(path, "signavatars",
                                                                                   options=options), options))
    return results


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--input", default=Config.input)
    p.add_argument("--fps", type=float, default=Config.fps)
    args = p.parse_args(argv)
    results = run(Config(args.input, args.fps))
    print("| clip | policy | joint speed median | p95 | wrist median | root median | foot contact |")
    print("|---|---|---|---|---|---|---|")
    for clip, by_policy in results.items():
        for policy, m in by_policy.items():
            print(f"| {clip} | {policy} | {m['joint_median']:.4f} | {m['joint_p95']:.4f} | {m['wrist_median']:.4f} "
                  f"| {m['root_median']:.4f} | {m['contact']:.2f} |")
    return results


if __name__ == "__main__":
    main()
