"""Recipe: train the motion VQ-VAE tokenizer (stage 1 of the paper).

    python tools/train_vqvae.py --config configs/tokenizer/synthetic.yaml data.root=DIR output_dir=DIR
    torchrun --nproc_per_node 2 tools/train_vqvae.py --config … [key=value …] [--resume auto|PATH]

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
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch
from omegaconf import MISSING
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm import tqdm

from lslm.errors import CheckpointMismatchError, ConfigError, InvalidInputError
from lslm.tokenizer import VQVAE, Tokenizer, TokenizerConfig, vqvae_loss
from lslm.training.checkpoint import (
    CheckpointManager,
    load_training_state,
    rng_state,
    save_training_state,
    seed_all,
    set_rng_state,
)
from lslm.training.config import OptimConfig, TrainConfig, load_config, save_config
from lslm.training.distributed import (
    DistInfo,
    all_gather_object,
    all_reduce_sum,
    barrier,
    broadcast_object,
    destroy_distributed,
    init_distributed,
    local_batch_size,
)
from lslm.training.logging import MetricsLogger

# Summed train losses (total, recon, velocity, commit, perplexity) of the steps since the last logged row:
# a checkpoint keeps them, so a resumed run logs the rows an unbroken one does.
NO_UNLOGGED_STEPS = {"sums": [0.0] * 5, "steps": 0}


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


class TrainWindows(Dataset):
    """Stream position p → a (window, D) crop. Epoch e = p // N uses a generator seeded with (seed, e)."""

    def __init__(self, dataset, window: int, seed: int):
        self.dataset = dataset
        self.window = window
        self.seed = seed
        lengths = [int(row["frames"]) for row in dataset.records]  # feature rows, from the manifest
        self.clips = [i for i, n in enumerate(lengths) if n >= window]
        self.lengths = torch.tensor([lengths[i] for i in self.clips])
        self.skipped = len(lengths) - len(self.clips)
        self._plan: tuple[int, torch.Tensor, torch.Tensor] | None = None  # (epoch, order, starts)
        if not self.clips:
            raise InvalidInputError(getattr(dataset, "root", None), "frames",
                                    f"at least one training clip of >= data.window={window} frames",
                                    got=f"{len(lengths)} clips, the longest {max(lengths, default=0)} frames")

    def epoch_plan(self, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(clip order (N,), crop starts (N,)) of one epoch; a pure function of (seed, epoch)."""
        if self._plan is None or self._plan[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            order = torch.randperm(len(self.clips), generator=g)
            starts = (torch.rand(len(self.clips), generator=g) * (self.lengths[order] - self.window + 1)).long()
            self._plan = (epoch, order, starts)
        return self._plan[1], self._plan[2]

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, position: int) -> torch.Tensor:
        epoch, slot = divmod(position, len(self.clips))
        order, starts = self.epoch_plan(epoch)
        start = int(starts[slot])
        clip = self.clips[int(order[slot])]
        crop = self.dataset[clip]["features"][start:start + self.window]
        if len(crop) != self.window:
            raise InvalidInputError(self.dataset.root / self.dataset.records[clip]["features"], "frames",
                                    f"{int(self.lengths[int(order[slot])])} rows as the manifest says",
                                    got=f"{start + len(crop)} or fewer")
        return crop


class ShardedBatches(Sampler):
    """This process's slice of every global batch of stream positions, from `position` on, endlessly."""

    def __init__(self, global_batch: int, info: DistInfo, position: int = 0):
        self.global_batch = global_batch
        self.local = local_batch_size(global_batch, info)
        self.offset = info.rank * self.local
        self.position = position

    def __iter__(self):
        position = self.position
        while True:
            first = position + self.offset
            yield list(range(first, first + self.local))
            position += self.global_batch


def lr_lambda(optim: OptimConfig):
    """Multiplier of the base lr at a step: linear warm-up, then × gamma at each milestone passed."""
    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / optim.warmup_steps) if optim.warmup_steps > 0 else 1.0
        return warm * optim.gamma ** sum(step >= m for m in optim.milestones)
    return factor


def main(argv: list[str] | None = None) -> Path:
    """CLI entry point; returns the run directory."""
    parser = argparse.ArgumentParser(description="Train the motion VQ-VAE tokenizer.")
    parser.add_argument("--config", required=True, help="YAML under configs/tokenizer/")
    parser.add_argument("--resume", default=None, help="'auto' (latest step_N/ in output_dir) or a checkpoint dir")
    parser.add_argument("overrides", nargs="*", help="dotted key=value overrides, e.g. train.max_steps=100")
    args = parser.parse_args(argv)
    cfg = load_config(VQVAERunConfig, args.config, args.overrides)
    return train(cfg, resume=args.resume)


def train(cfg: VQVAERunConfig, resume: str | None = None) -> Path:
    """Train (or resume) one run; every process of a torchrun job calls this."""
    info = init_distributed(cfg.train.device)
    try:
        return _train(cfg, resume, info)
    finally:
        destroy_distributed()


def _train(cfg: VQVAERunConfig, resume: str | None, info: DistInfo) -> Path:
    from lslm.data import MotionDataset

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
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg.optim))
    manager = CheckpointManager(run_dir, keep_last=cfg.train.keep_last)

    step, position, best, window = 0, 0, math.inf, NO_UNLOGGED_STEPS
    checkpoint = broadcast_object(manager.resolve_resume(resume) if info.is_main else None)
    if checkpoint is not None:
        step, position, best, window = _restore(checkpoint, cfg, model, optimizer, scheduler, windows, info)
    if info.world_size > 1:
        model = DistributedDataParallel(model, device_ids=[info.device.index] if info.device.type == "cuda" else None)
    core = model.module if isinstance(model, DistributedDataParallel) else model

    def save(name: str, write) -> None:
        """Rank 0 writes checkpoint `name`; Tokenizer() puts the model in eval mode, so restore train()."""
        if info.is_main:
            manager.save(name, lambda d: write(d, Tokenizer(core, train_set.normalizer,
                                                            train_set.target_skeleton, train_set.fps)))
        model.train()

    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / "config.yaml")
    logger = MetricsLogger(run_dir, enabled=info.is_main, tensorboard=cfg.train.tensorboard,
                           resume_step=step if checkpoint is not None else None)
    if checkpoint is None:
        logger.log(0, "data", {"train_clips": len(windows), "skipped_short_clips": windows.skipped,
                               "val_clips": len(val_set), "world_size": info.world_size})

    loader = DataLoader(windows, batch_sampler=ShardedBatches(cfg.train.batch_size, info, position),
                        num_workers=cfg.data.num_workers)
    batches = iter(loader)
    sums = torch.zeros(5, device=info.device)  # total, recon, velocity, commit, perplexity since last log
    if info.is_main:  # a resumed run's steps not logged yet (summed over processes)
        sums += torch.tensor(window["sums"], device=info.device)
    logged_at = step - window["steps"]
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
            row = dict(zip(("loss", "recon", "velocity", "commit", "perplexity"), mean.tolist()))
            row.update(lr=lr, steps_per_s=(step - timed_from) / elapsed)
            logger.log(step, "train", row)
            bar.set_postfix(loss=f"{row['loss']:.4f}", ppl=f"{row['perplexity']:.0f}")
            sums.zero_()
            logged_at = timed_from = step
            tick = time.perf_counter()
        if (cfg.train.val_every and step % cfg.train.val_every == 0) or last:
            metrics = validate(core, val_set, cfg, info)  # {} without val clips: no `best/` then
            model.train()
            if metrics:
                logger.log(step, "val", metrics)
            score = metrics.get(cfg.best_metric, math.inf)
            if score < best:
                best = score
                save("best", partial(_write_best, step=step, metrics=metrics))
        if step % cfg.train.save_every == 0 or last:
            state = {"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                     "data": {"position": position, "epoch": position // len(windows),
                              "train_clips": len(windows), "seed": cfg.train.seed},
                     "best": best, "rng": all_gather_object(rng_state()),
                     "loss_window": {"sums": all_reduce_sum(sums.clone()).cpu().tolist(), "steps": step - logged_at}}
            save(f"step_{step}", partial(_write_checkpoint, state=state))
            barrier()
    bar.close()
    save("final", lambda d, tok: tok.save_pretrained(d))
    logger.close()
    barrier()
    return run_dir


def _write_checkpoint(directory: Path, tokenizer: Tokenizer, state: dict) -> None:
    tokenizer.save_pretrained(directory)
    save_training_state(directory, state)


def _write_best(directory: Path, tokenizer: Tokenizer, step: int, metrics: dict) -> None:
    tokenizer.save_pretrained(directory)
    (directory / "val_metrics.json").write_text(json.dumps({"step": step, **metrics}, indent=1))


def _restore(checkpoint: Path, cfg: VQVAERunConfig, model: VQVAE, optimizer, scheduler, windows: TrainWindows,
             info: DistInfo) -> tuple[int, int, float, dict]:
    """Load weights and training state from a `step_N/`; returns (step, data position, best score, the
    losses not logged yet: {"sums", "steps"})."""
    saved = Tokenizer.from_pretrained(checkpoint)
    if saved.model.config != cfg.model:
        raise CheckpointMismatchError(f"{checkpoint}: the checkpoint's model config differs from model.* of this "
                                      f"run:\n saved {saved.model.config}\n asked {cfg.model}")
    model.load_state_dict(saved.model.state_dict())
    state = load_training_state(checkpoint)
    if state["data"]["train_clips"] != len(windows):
        raise CheckpointMismatchError(f"{checkpoint}: trained on {state['data']['train_clips']} clips, "
                                      f"{cfg.data.root} has {len(windows)}: the data position would not resume")
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if info.rank < len(state["rng"]):  # a different world size keeps the fresh seeds of the extra ranks
        set_rng_state(state["rng"][info.rank])
    window = state.get("loss_window", NO_UNLOGGED_STEPS)  # absent from older checkpoints
    return state["step"], state["data"]["position"], state["best"], window


@torch.no_grad()
def validate(model: VQVAE, val_set, cfg: VQVAERunConfig, info: DistInfo) -> dict[str, float]:
    """Whole val clips (cut to a multiple of the downsampling), sharded over processes, reduced:
    recon = mean per-frame reconstruction loss, mpjpe / pa_mpjpe in mm, perplexity of the val codes."""
    from lslm.eval.motion import mpjpe, pa_mpjpe
    from lslm.motion import features_to_joints

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
    p = codes / codes.sum()
    perplexity = torch.exp(-(p * p.clamp_min(1e-12).log()).sum())
    recon, joint_error, pa_error = (totals[:3] / totals[3]).tolist()
    return {"recon": recon, "mpjpe": joint_error, "pa_mpjpe": pa_error, "perplexity": float(perplexity),
            "codes_used": int((codes > 0).sum())}
