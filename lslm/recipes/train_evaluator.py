"""Train the sign motion evaluator that FID and diversity are defined on (docs/evaluation.md).

    python tools/train_evaluator.py --data DIR --out DIR [--config configs/eval/evaluator.yaml] [key=value …]
    out = run(load_config(EvaluatorRunConfig, "configs/eval/evaluator.yaml", ["data.root=DIR", "output_dir=OUT"]))

Each step takes `train.batch_size` training clips (one seeded permutation per epoch), crops each to a
random window of at most `data.max_frames` frames, and pulls every clip's motion embedding towards its
sentence's text embedding and away from the other sentences of the batch (symmetric InfoNCE). At the end
the evaluator embeds the whole val and test splits and records its R-precision (text retrieval from
motion, pools of 32) as a sanity figure. The output folder is the evaluator itself
(evaluator_config.json + model.safetensors) plus config.yaml and metrics.jsonl of the run.
Training is short (about a minute on a CPU), so a run is not resumable: run it again.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import MISSING

from lslm.errors import ConfigError
from lslm.eval.evaluator_config import EvaluatorConfig
from lslm.training.config import OptimConfig, load_config, save_config

if TYPE_CHECKING:
    from lslm.eval.evaluator import MotionEvaluator


@dataclass
class EvaluatorDataConfig:
    root: str = MISSING  # a prepared dataset folder (manifest.jsonl, features/, stats.safetensors)
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "test"
    max_frames: int = 256  # training crops; evaluation always embeds whole clips
    min_word_count: int = 1  # rarer training words map to <unk>


@dataclass
class EvaluatorTrainConfig:
    max_steps: int = 200
    batch_size: int = 64
    seed: int = 0
    log_every: int = 50
    val_every: int = 0  # val R-precision every N steps; 0 = only at the end
    r_precision_pool: int = 32
    progress: bool = True
    device: str = "auto"  # auto: CUDA when available, else CPU


@dataclass
class EvaluatorRunConfig:
    output_dir: str = MISSING
    name: str = "lslm-sign-evaluator"  # identifies the evaluator in every FID report
    version: str = "1.0"
    model: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    data: EvaluatorDataConfig = field(default_factory=EvaluatorDataConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=1e-3, weight_decay=1e-4, warmup_steps=20))
    train: EvaluatorTrainConfig = field(default_factory=EvaluatorTrainConfig)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/train_evaluator.py` / `lslm train-evaluator`."""
    parser = argparse.ArgumentParser(description="Train the sign motion evaluator (FID/diversity embedding).")
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--out", required=True, help="output folder: the evaluator (loadable with --evaluator)")
    parser.add_argument("--config", default=None, help="YAML under configs/eval/ (default: the built-in defaults, "
                        "the same as configs/eval/evaluator.yaml)")
    parser.add_argument("overrides", nargs="*", help="dotted key=value overrides, e.g. train.max_steps=100")
    return parser


def parse_config(argv: list[str] | None = None) -> EvaluatorRunConfig:
    """The run's config of a command line: the YAML file (or the defaults), the overrides, --data and --out."""
    args = build_parser().parse_args(argv)
    return load_config(EvaluatorRunConfig, args.config,
                       [*args.overrides, f"data.root={args.data}", f"output_dir={args.out}"])


def main(argv: list[str] | None = None) -> int:
    """Train from the command line; 0 on success (the evaluator is written to --out)."""
    run(parse_config(argv))
    return 0


def run(cfg: EvaluatorRunConfig) -> Path:
    """Train one evaluator and save it into cfg.output_dir; returns that folder."""
    import torch
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    from lslm.data import MotionDataset, collate_motion
    from lslm.data.windows import TrainCrops
    from lslm.devices import resolve_device
    from lslm.eval.evaluator import MotionEvaluator, build_vocab, contrastive_loss, dataset_fingerprint
    from lslm.training.checkpoint import seed_all
    from lslm.training.logging import MetricsLogger
    from lslm.training.schedule import lr_factor

    # setup: data, vocabulary, model, optimiser, the run folder
    seed_all(cfg.train.seed)
    device = resolve_device(cfg.train.device)
    out = Path(cfg.output_dir)
    train_set = MotionDataset(cfg.data.root, split=cfg.data.train_split, normalize=True)
    if train_set.feature_dim != cfg.model.feature_dim:
        raise ConfigError(f"model.feature_dim={cfg.model.feature_dim} but {cfg.data.root} holds "
                          f"{train_set.feature_dim}-dim features")
    crops = TrainCrops(train_set, cfg.data.max_frames, cfg.model.min_frames)
    vocab = build_vocab((train_set.records[i].get("text", "") for i in crops.clips), cfg.data.min_word_count)
    info = {"dataset": {"root": str(Path(cfg.data.root).resolve()), "fingerprint": dataset_fingerprint(cfg.data.root),
                        "train_split": cfg.data.train_split, "train_clips": len(crops),
                        "skipped_short_clips": crops.skipped}}
    model = MotionEvaluator(cfg.model, vocab, train_set.normalizer, cfg.name, cfg.version, info).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, betas=tuple(cfg.optim.betas),
                                  weight_decay=cfg.optim.weight_decay)
    factor = lr_factor(cfg.optim.warmup_steps, "step", milestones=cfg.optim.milestones, gamma=cfg.optim.gamma)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "config.yaml")
    logger = MetricsLogger(out)
    logger.log(0, "data", {"train_clips": len(crops), "skipped_short_clips": crops.skipped, "vocab": len(vocab)})
    generator = torch.Generator().manual_seed(cfg.train.seed)
    loader = DataLoader(crops, batch_size=min(cfg.train.batch_size, len(crops)), shuffle=True, drop_last=True,
                        collate_fn=collate_motion, generator=generator)

    # the loop: one contrastive step per batch, epochs re-shuffled by the same generator
    batches, step, total, logged_at, start = iter(loader), 0, 0.0, 0, time.perf_counter()
    bar = tqdm(total=cfg.train.max_steps, desc="evaluator", disable=not cfg.train.progress, dynamic_ncols=True)
    model.train()
    while step < cfg.train.max_steps:
        try:
            batch = next(batches)
        except StopIteration:  # next epoch: a new permutation from the same generator
            batches = iter(loader)
            batch = next(batches)
        lengths = batch["lengths"].to(device)
        motion = model.motion_features(batch["features"].to(device), lengths)                 # (B, E)
        text = model.text_features(*model.tokenize(batch["texts"]))                            # (B, E)
        loss = contrastive_loss(motion, text, batch["texts"], cfg.model.temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.optim.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
        optimizer.step()
        scheduler.step()
        step += 1
        total += loss.item()
        bar.update(1)
        if step % cfg.train.log_every == 0 or step == cfg.train.max_steps:
            logger.log(step, "train", {"loss": total / (step - logged_at), "lr": scheduler.get_last_lr()[0]})
            bar.set_postfix(loss=f"{total / (step - logged_at):.3f}")
            total, logged_at = 0.0, step
        if cfg.train.val_every and step % cfg.train.val_every == 0 and step < cfg.train.max_steps:
            logger.log(step, "val", split_r_precision(model, cfg.data.root, cfg.data.val_split,
                                                     cfg.train.r_precision_pool))
            model.train()
    bar.close()

    # the end: sanity figures on val and test, then the evaluator folder
    seconds = time.perf_counter() - start
    model.info["training"] = {"steps": step, "batch_size": cfg.train.batch_size, "seed": cfg.train.seed,
                              "seconds": round(seconds, 1), "device": str(device)}
    model.info["sanity"] = {}
    for split in dict.fromkeys((cfg.data.val_split, cfg.data.test_split)):
        figures = split_r_precision(model, cfg.data.root, split, cfg.train.r_precision_pool)
        if figures:
            model.info["sanity"][split] = figures
            logger.log(step, split, figures)
    model.cpu().save_pretrained(out)
    logger.close()
    return out


def split_r_precision(model: MotionEvaluator, root: str | Path, split: str, pool: int = 32) -> dict:
    """R-precision (top-1/2/3) of the evaluator on a split's whole clips; {} when the split is too small."""
    import numpy as np
    import torch

    from lslm.data import MotionDataset
    from lslm.eval.evaluator import r_precision

    dataset = MotionDataset(root, split=split, normalize=False)
    clips = [i for i, row in enumerate(dataset.records) if int(row["frames"]) >= model.config.min_frames]
    if len(clips) < 4:
        return {}
    items = [dataset[i] for i in clips]
    motion = np.concatenate([
        model.embed_motion(torch.nn.utils.rnn.pad_sequence([it["features"] for it in chunk], batch_first=True),
                           [it["length"] for it in chunk])
        for chunk in (items[s:s + 64] for s in range(0, len(items), 64))])
    texts = [it["text"] for it in items]
    return r_precision(motion, model.embed_text(texts), texts, pool=pool)


if __name__ == "__main__":
    sys.exit(main())
