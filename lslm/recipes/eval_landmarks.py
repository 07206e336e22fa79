"""The video front-end measured on the synthetic corpus, where the true joints are known (docs/results.md).

    python tools/eval_landmarks.py --corpus runs/demo/corpus --out runs/landmarks [--model runs/demo/lslm/final]
    report = run(EvalLandmarksConfig(corpus="runs/demo/corpus", out="runs/landmarks"))

Each clip of the split is seen by a pinhole camera as MediaPipe Holistic would report it
(`lslm.video.simulate_landmarks`: body 33 and hands 21, image-space hands, pixel noise, world noise,
hands lost in runs of frames), retargeted back to the 52 joints, and compared with its true joints:
MPJPE (all joints, upper body, hands; pelvis-aligned, on the signer's own skeleton so that only the pose
is measured) and acceleration error, with and without smoothing and without noise. With --model the clips
are translated twice, from the true joints and from the front-end's joints (on the default target
skeleton, as a real video would be), and both are scored against the references.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from lslm.data.manifest import RAW_FIELDS, read_manifest
from lslm.atomic import atomic_write_text
from lslm.errors import LslmError
from lslm.video.options import RetargetOptions

UPPER = [0, 3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]
HANDS = list(range(22, 52))
METRICS = ("bleu", "rouge_l", "cider", "wer")


@dataclass(frozen=True)
class EvalLandmarksConfig:
    """The corpus, the split, the simulated estimator's noise and the model to translate with."""

    corpus: str  # a raw synthetic corpus (manifest.jsonl, motion/*.npz with rest_offsets)
    out: str
    split: str = "test"
    limit: int | None = None  # first N clips of the split
    pixel_noise: float = 1.5  # px (on a 720 × 720 image framing the upper body)
    world_noise: float = 0.01  # m
    hand_dropout: float = 0.1  # fraction of frames each hand is lost, in runs of 1..20 frames
    seed: int = 0
    model: str | None = None  # LSLM folder: translate the true and the front-end joints
    batch_size: int = 64
    progress: bool = True


def _errors(estimate: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """MPJPE (mm) of all joints, upper body, hands (pelvis-aligned) and acceleration error (mm/frame²)."""
    e = 1000 * np.linalg.norm((estimate - estimate[:, :1]) - (truth - truth[:, :1]), axis=-1)  # (T, 52)
    accel = 1000 * np.linalg.norm(np.diff(estimate, 2, axis=0) - np.diff(truth, 2, axis=0), axis=-1)
    return {"mpjpe_mm": float(e.mean()), "upper_body_mm": float(e[:, UPPER].mean()),
            "hands_mm": float(e[:, HANDS].mean()), "accel_mm": float(accel.mean())}


def run(config: EvalLandmarksConfig) -> dict:
    """Retarget the split through simulated landmarks; MPJPE per condition and, with a model, scores."""
    from tqdm import tqdm

    from lslm.data.adapters import load_lslm
    from lslm.data.convert import clip_to_joints
    from lslm.motion import Skeleton
    from lslm.video.retargeting import retarget
    from lslm.video.simulate import joints_to_landmarks, simulate_landmarks

    corpus, out = Path(config.corpus), Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [r for r in read_manifest(corpus / "manifest.jsonl", RAW_FIELDS) if r["split"] == config.split]
    rows = rows[:config.limit] if config.limit else rows
    conditions = {"perfect landmarks, no smoothing": ("perfect", RetargetOptions(smooth=False)),
                  "noise, hands never lost, One-Euro": ("noise", RetargetOptions()),
                  "noise and lost hands, no smoothing": ("noisy", RetargetOptions(smooth=False)),
                  "noise and lost hands, One-Euro (default)": ("noisy", RetargetOptions())}
    errors = {name: [] for name in conditions}
    truth, front_end, texts, lost, rates = [], [], [], [], []
    for k, row in enumerate(tqdm(rows, desc="clips", disable=not config.progress)):
        clip = load_lslm(corpus / row["motion"])
        joints = clip_to_joints(clip)
        signer = replace(Skeleton.smplx52(), offsets=clip.rest_offsets)
        noise = {"pixel_noise": config.pixel_noise, "world_noise": config.world_noise}
        sources = {"perfect": joints_to_landmarks(joints, clip.fps),
                   "noise": simulate_landmarks(joints, clip.fps, rng=[config.seed, k], hand_dropout=0.0, **noise),
                   "noisy": simulate_landmarks(joints, clip.fps, rng=[config.seed, k],
                                               hand_dropout=config.hand_dropout, **noise)}
        noisy = sources["noisy"]
        lost.append(1 - (noisy.left_conf[:, 0].mean() + noisy.right_conf[:, 0].mean()) / 2)
        for name, (source, options) in conditions.items():
            errors[name].append(_errors(retarget(sources[source], signer, options).joints, joints))
        truth.append(joints)
        front_end.append(retarget(noisy).joints)  # default target skeleton and options: a real video's path
        texts.append(row.get("text", ""))
        rates.append(clip.fps)
    frames = [len(j) for j in truth]
    weights = np.array(frames, dtype=np.float64) / sum(frames)
    table = {name: {key: float(sum(w * e[key] for w, e in zip(weights, values))) for key in values[0]}
             for name, values in errors.items()}
    report = {"config": asdict(config), "clips": len(rows), "frames": int(sum(frames)),
              "hand_frames_lost": float(np.mean(lost)), "retargeting": table}
    if config.model:
        report["translation"] = _translate(config, truth, front_end, rates, texts, [r["id"] for r in rows])
    atomic_write_text(out / "eval_landmarks.json", json.dumps(report, indent=1))
    return report


def _translate(config: EvalLandmarksConfig, truth, front_end, rates, texts, ids) -> dict:
    import torch

    from lslm.motion.resample import resample_linear
    from lslm.devices import resolve_device
    from lslm.eval.text import score
    from lslm.model.modeling import LSLM
    from lslm.model.translate import DEFAULT_GENERATION, translate_codes

    model = LSLM.from_pretrained(config.model, device=str(resolve_device("auto")))
    tok = model.motion_tokenizer
    result = {}
    for name, clips in (("true joints", truth), ("simulated MediaPipe → front-end", front_end)):
        codes = [tok.encode_joints(torch.as_tensor(resample_linear(j, fps, tok.fps), dtype=torch.float32)).cpu()
                 for j, fps in zip(clips, rates)]
        predictions = translate_codes(model, codes, config.batch_size, progress=config.progress, **DEFAULT_GENERATION)
        scores = score(predictions, texts, ids, metrics=METRICS)
        result[name] = {k: v for k, v in scores.corpus.items() if v is not None}
        out = Path(config.out) / f"predictions_{'truth' if name == 'true joints' else 'front_end'}.jsonl"
        atomic_write_text(out, "".join(json.dumps({"id": i, "prediction": p, "reference": r}) + "\n"
                                       for i, p, r in zip(ids, predictions, texts)))
    return result


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/eval_landmarks.py` / `lslm eval-landmarks`."""
    p = argparse.ArgumentParser(prog="eval_landmarks", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True, help="raw synthetic corpus folder (data_prep/make_synthetic.py)")
    p.add_argument("--out", required=True, help="folder for eval_landmarks.json (and predictions with --model)")
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int)
    p.add_argument("--pixel-noise", type=float, default=1.5)
    p.add_argument("--world-noise", type=float, default=0.01)
    p.add_argument("--hand-dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", help="LSLM folder to translate with (e.g. runs/demo/lslm/final)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """Evaluate from the command line and print the figures; 2 on bad input."""
    a = build_parser().parse_args(argv)
    config = EvalLandmarksConfig(a.corpus, a.out, a.split, a.limit, a.pixel_noise, a.world_noise, a.hand_dropout,
                                 a.seed, a.model, a.batch_size, not a.no_progress)
    try:
        report = run(config)
    except LslmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: report[k] for k in ("clips", "frames", "hand_frames_lost", "retargeting")}, indent=1))
    if "translation" in report:
        print(json.dumps(report["translation"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
