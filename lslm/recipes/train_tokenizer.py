"""Train the motion VQ-VAE tokenizer (stage 1 of the paper).

    python tools/train_vqvae.py --config configs/tokenizer/synthetic.yaml data.root=DIR output_dir=DIR
    torchrun --nproc_per_node 2 tools/train_vqvae.py --config … [key=value …] [--resume auto|PATH]
    run_dir = run(load_config(VQVAERunConfig, "configs/tokenizer/synthetic.yaml", ["data.root=DIR", "output_dir=OUT"]))

Training samples are random windows of `data.window` frames: an endless stream of clip indices made of
one seeded permutation of the training clips per epoch, each with a random crop start drawn from the
same per-epoch generator (T2M-GPT samples one random crop per clip). Clips shorter than the window are
skipped and counted (T2M-GPT's choice; padding would make the encoder see made-up frames). Global batch
g of the stream is samples [g·B, (g+1)·B); process r of W takes the r-th contiguous slice of B/W, so W
processes see exactly the samples one process would, and DDP's gradient average is the global-batch mean.
The data position (samples consumed) and the seed fully determine what comes next, which is what makes
a run resumable mid-epoch.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import MISSING

from lslm.errors import CheckpointMismatchError, ConfigError
from lslm.tokenizer.config import TokenizerConfig
from lslm.training.config import OptimConfig, TrainConfig, load_config, save_config

if TYPE_CHECKING:
    from lslm.data import MotionDataset
    from lslm.training.checkpoint import TrainingState
    from lslm.data.windows import TrainWindows
    from lslm.tokenizer import VQVAE, Tokenizer
    from lslm.training.distributed import DistInfo

# The train losses summed since the last logged row: total, recon, velocity, commit, perplexity.
LOSS_KEYS = ("loss", "recon", "velocity", "commit", "perplexity")


@dataclass
class DataConfig:
    root: str = MISSING  # a prepared dataset folder (manifest.jsonl, features/, stats.safetensors)
    window: int = 64  # frames per training sample; a multiple of the model's downsampling
    train_split: str = "train"
    val_split: str = "val"
    val_max_clips: int = 0  # validate on the first N clips of val_split; 0 = all
    num_workers: int = 0  # DataLoader worker processes per rank


@dataclass
class VQVAERunConfig:
    output_dir: str = MISSING
    model: TokenizerConfig = field(default_factory=TokenizerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    best_metric: str = "mpjpe"  # validation metric (lower is better) that picks `best/`: mpjpe or recon


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/train_vqvae.py` / `lslm train-tokenizer`."""
    parser = argparse.ArgumentParser(description="Train the motion VQ-VAE tokenizer.")
    parser.add_argument("--config", required=True, help="YAML under configs/tokenizer/")
    parser.add_argument("--resume", default=None, help="'auto' (latest step_N/ in output_dir) or a checkpoint dir")
    parser.add_argument("overrides", nargs="*", help="dotted key=value overrides, e.g. train.max_steps=100")
    return parser


def parse_config(argv: list[str] | None = None) -> tuple[VQVAERunConfig, str | None]:
    """(the run's config: the YAML file with the overrides, --resume) of a command line."""
    args = build_parser().parse_args(argv)
    return load_config(VQVAERunConfig, args.config, args.overrides), args.resume


def main(argv: list[str] | None = None) -> int:
    """Train from the command line; 0 on success (the run directory is the config's output_dir)."""
    run(*parse_config(argv))
    return 0


def run(cfg: VQVAERunConfig, resume: str | None = None) -> Path:
    """Train (or resume: 'auto' or a `step_N/`) one run; every process of a torchrun job calls this.
    Returns the run directory."""
    from lslm.training.distributed import process_group

    with process_group(cfg.train.device) as info:
        session = _setup(cfg, resume, info)
        _loop(session, cfg, info)
        return session.run_dir


@dataclass
class _Session:
    """What the loop works with; `_setup` builds it, fresh or from a checkpoint."""

    run_dir: Path
    is_main: bool  # rank 0, the process that writes
    train_set: MotionDataset
    val_set: MotionDataset
    windows: TrainWindows
    model: Any  # the VQVAE, or its DistributedDataParallel wrapper
    core: VQVAE
    optimizer: Any
    scheduler: Any
    manager: Any
    logger: Any
    step: int = 0
    position: int = 0  # training samples consumed
    best: float = math.inf
    unlogged: list[float] = field(default_factory=lambda: [0.0] * len(LOSS_KEYS))  # a resumed run's unlogged sums
    unlogged_steps: int = 0

    def save(self, name: str, write) -> None:
        """Rank 0 writes checkpoint `name`; Tokenizer() puts the model in eval mode, so restore train()."""
        from lslm.tokenizer import Tokenizer

        if self.is_main:
            self.manager.save(name, lambda d: write(d, Tokenizer(self.core, self.train_set.normalizer,
                                                                 self.train_set.target_skeleton, self.train_set.fps)))
        self.model.train()


def _setup(cfg: VQVAERunConfig, resume: str | None, info: DistInfo) -> _Session:
    """Check the config, load the data, build model and optimiser, restore a checkpoint when resuming."""
    import torch
    from torch.nn.parallel import DistributedDataParallel

    from lslm.data import MotionDataset
    from lslm.data.windows import TrainWindows
    from lslm.tokenizer import VQVAE
    from lslm.training.checkpoint import CheckpointManager, seed_all
    from lslm.training.distributed import broadcast_object
    from lslm.training.logging import MetricsLogger
    from lslm.training.schedule import lr_factor

    run_dir = Path(cfg.output_dir)
    if cfg.best_metric not in ("mpjpe", "recon"):
        raise ConfigError(f"best_metric: expected 'mpjpe' or 'recon', got {cfg.best_metric!r}")
    if cfg.data.window % cfg.model.downsample:
        raise ConfigError(f"data.window={cfg.data.window} is not a multiple of the model's downsampling "
                          f"({cfg.model.downsample})")
    seed_all(cfg.train.seed)
    train_set = MotionDataset(cfg.data.root, split=cfg.data.train_split, normalize=True)
    val_set = MotionDataset(cfg.data.root, split=cfg.data.val_split, normalize=True)
    if train_set.feature_dim != cfg.model.feature_dim:
        raise ConfigError(f"model.feature_dim={cfg.model.feature_dim} but {cfg.data.root} holds "
                          f"{train_set.feature_dim}-dim features")
    windows = TrainWindows(train_set, cfg.data.window, cfg.train.seed)

    model = VQVAE(cfg.model).to(info.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, betas=tuple(cfg.optim.betas),
                                  weight_decay=cfg.optim.weight_decay)
    factor = lr_factor(cfg.optim.warmup_steps, "step", milestones=cfg.optim.milestones, gamma=cfg.optim.gamma)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    manager = CheckpointManager(run_dir, keep_last=cfg.train.keep_last)

    checkpoint = broadcast_object(manager.resolve_resume(resume) if info.is_main else None)
    state = None
    if checkpoint is not None:
        state = _restore(checkpoint, cfg, model, optimizer, scheduler, windows, info)
    core = model
    if info.world_size > 1:
        model = DistributedDataParallel(model, device_ids=[info.device.index] if info.device.type == "cuda" else None)

    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / "config.yaml")
    logger = MetricsLogger(run_dir, enabled=info.is_main, tensorboard=cfg.train.tensorboard,
                           resume_step=state.step if state is not None else None)
    if checkpoint is None:
        logger.log(0, "data", {"train_clips": len(windows), "skipped_short_clips": windows.skipped,
                               "val_clips": len(val_set), "world_size": info.world_size})
    session = _Session(run_dir, info.is_main, train_set, val_set, windows, model, core, optimizer, scheduler,
                       manager, logger)
    if state is not None:
        session.step, session.position, session.best = state.step, state.position, state.extra["best"]
        session.unlogged, session.unlogged_steps = state.unlogged, state.unlogged_steps
    return session


def _loop(s: _Session, cfg: VQVAERunConfig, info: DistInfo) -> None:
    """Train from `s.step` to train.max_steps: log, validate (keeping `best/`), checkpoint, then `final/`."""
    import torch
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    from lslm.tokenizer import vqvae_loss
    from lslm.training.checkpoint import TrainingState, rng_state
    from lslm.training.distributed import ShardedBatches, all_gather_object, all_reduce_sum, barrier

    model, optimizer, scheduler, logger = s.model, s.optimizer, s.scheduler, s.logger
    step, position = s.step, s.position
    loader = DataLoader(s.windows, batch_sampler=ShardedBatches(cfg.train.batch_size, info, position),
                        num_workers=cfg.data.num_workers)
    batches = iter(loader)
    sums = torch.zeros(len(LOSS_KEYS), device=info.device)  # LOSS_KEYS summed since the last logged row
    if info.is_main:  # a resumed run's steps not logged yet (summed over processes)
        sums += torch.tensor(s.unlogged, device=info.device)
    logged_at = step - s.unlogged_steps
    timed_from, tick = step, time.perf_counter()
    bar = tqdm(total=cfg.train.max_steps, initial=step, disable=not (info.is_main and cfg.train.progress),
               desc="vqvae", dynamic_ncols=True)
    model.train()
    while step < cfg.train.max_steps:
        x = next(batches).to(info.device, non_blocking=True)          # (b, window, D)
        out = model(x)
        losses = vqvae_loss(x, out, cfg.model)
        optimizer.zero_grad(set_to_none=True)
        losses["total"].backward()
        if cfg.optim.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
        lr = scheduler.get_last_lr()[0]  # the rate this step trains with
        optimizer.step()
        scheduler.step()
        step += 1
        position += cfg.train.batch_size
        sums += torch.stack([losses[k].detach() for k in ("total", "recon", "velocity", "commit")]
                            + [out.perplexity.detach().float()])
        bar.update(1)

        last = step == cfg.train.max_steps
        if step % cfg.train.log_every == 0 or last:
            mean = all_reduce_sum(sums.clone()) / (info.world_size * (step - logged_at))
            elapsed = time.perf_counter() - tick
            row = dict(zip(LOSS_KEYS, mean.tolist()))
            row.update(lr=lr, steps_per_s=(step - timed_from) / elapsed)
            logger.log(step, "train", row)
            bar.set_postfix(loss=f"{row['loss']:.4f}", ppl=f"{row['perplexity']:.0f}")
            sums.zero_()
            logged_at = timed_from = step
            tick = time.perf_counter()
        if (cfg.train.val_every and step % cfg.train.val_every == 0) or last:
            metrics = validate(s.core, s.val_set, cfg, info)  # {} without val clips: no `best/` then
            model.train()
            if metrics:
                logger.log(step, "val", metrics)
            score = metrics.get(cfg.best_metric, math.inf)
            if score < s.best:
                s.best = score
                s.save("best", partial(_write_best, step=step, metrics=metrics))
        if step % cfg.train.save_every == 0 or last:
            state = TrainingState(
                step=step, rng=all_gather_object(rng_state()), position=position,
                unlogged=all_reduce_sum(sums.clone()).cpu().tolist(), unlogged_steps=step - logged_at,
                optimizer={"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
                extra={"best": s.best, "train_clips": len(s.windows), "seed": cfg.train.seed})
            s.save(f"step_{step}", partial(_write_checkpoint, state=state))
            barrier()
    bar.close()
    s.save("final", lambda d, tok: tok.save_pretrained(d))
    logger.close()
    barrier()


def _write_checkpoint(directory: Path, tokenizer: Tokenizer, state: TrainingState) -> None:
    from lslm.training.checkpoint import save_training_state

    tokenizer.save_pretrained(directory)
    save_training_state(directory, state)


def _write_best(directory: Path, tokenizer: Tokenizer, step: int, metrics: dict) -> None:
    tokenizer.save_pretrained(directory)
    (directory / "val_metrics.json").write_text(json.dumps({"step": step, **metrics}, indent=1))


def _restore(checkpoint: Path, cfg: VQVAERunConfig, model: VQVAE, optimizer: Any, scheduler: Any,
             windows: TrainWindows, info: DistInfo) -> TrainingState:
    """Load weights, optimiser, schedule and this process's RNG from a `step_N/`; returns its training state."""
    from lslm.tokenizer import Tokenizer
    from lslm.training.checkpoint import load_training_state, set_rng_state

    saved = Tokenizer.from_pretrained(checkpoint)
    if saved.model.config != cfg.model:
        raise CheckpointMismatchError(f"{checkpoint}: the checkpoint's model config differs from model.* of this "
                                      f"run:\n saved {saved.model.config}\n asked {cfg.model}")
    model.load_state_dict(saved.model.state_dict())
    state = load_training_state(checkpoint)
    if state.extra["train_clips"] != len(windows):
        raise CheckpointMismatchError(f"{checkpoint}: trained on {state.extra['train_clips']} clips, "
                                      f"{cfg.data.root} has {len(windows)}: the data position would not resume")
    optimizer.load_state_dict(state.optimizer["optimizer"])
    scheduler.load_state_dict(state.optimizer["scheduler"])
    if info.rank < len(state.rng):  # a different world size keeps the fresh seeds of the extra ranks
        set_rng_state(state.rng[info.rank])
    return state


def validate(model: VQVAE, val_set: MotionDataset, cfg: VQVAERunConfig, info: DistInfo) -> dict[str, float]:
    """Whole val clips (cut to a multiple of the downsampling), sharded over processes, reduced:
    recon = mean per-frame reconstruction loss, mpjpe / pa_mpjpe in mm, perplexity of the val codes."""
    import torch

    with torch.no_grad():
        return _validate(model, val_set, cfg, info)


def _validate(model: VQVAE, val_set: MotionDataset, cfg: VQVAERunConfig, info: DistInfo) -> dict[str, float]:
    import torch

    from lslm.eval.motion import mpjpe, pa_mpjpe
    from lslm.motion import features_to_joints
    from lslm.tokenizer import vqvae_loss
    from lslm.tokenizer.quantizer import code_perplexity
    from lslm.training.distributed import all_reduce_sum

    model.eval()
    count = len(val_set) if cfg.data.val_max_clips <= 0 else min(cfg.data.val_max_clips, len(val_set))
    totals = torch.zeros(4, dtype=torch.float64)  # recon·frames, mpjpe·frames, pa_mpjpe·frames, frames
    codes = torch.zeros(cfg.model.codebook_size, dtype=torch.float64)
    for index in range(info.rank, count, info.world_size):
        features = torch.as_tensor(val_set[index]["features"])
        frames = features.shape[0] - features.shape[0] % cfg.model.downsample
        if frames == 0:
            continue
        x = features[None, :frames].to(info.device)                      # (1, T, D)
        out = model(x)
        recon = vqvae_loss(x, out, cfg.model)["recon"]
        truth = features_to_joints(val_set.normalizer.denormalize(x[0].cpu()))          # (T, J, 3) metres
        guess = features_to_joints(val_set.normalizer.denormalize(out.recon[0].cpu()))
        totals += torch.tensor([float(recon) * frames, float(mpjpe(guess, truth)) * frames,
                                float(pa_mpjpe(guess, truth)) * frames, frames], dtype=torch.float64)
        codes += torch.bincount(out.codes.flatten().cpu(), minlength=cfg.model.codebook_size)
    totals, codes = all_reduce_sum(totals.to(info.device)).cpu(), all_reduce_sum(codes.to(info.device)).cpu()
    if totals[3] == 0:
        return {}
    perplexity = code_perplexity(codes)
    recon, joint_error, pa_error = (totals[:3] / totals[3]).tolist()
    return {"recon": recon, "mpjpe": joint_error, "pa_mpjpe": pa_error, "perplexity": float(perplexity),
            "codes_used": int((codes > 0).sum())}


if __name__ == "__main__":
    sys.exit(main())
