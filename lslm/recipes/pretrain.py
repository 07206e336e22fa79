"""LSLM pretraining, aligning motion codes to the LLM (paper §3.3, §4.3); the loop instruct shares.

    python tools/pretrain.py --config configs/lslm/synthetic.yaml --scheme mlp|joint|staged [key=value …]
    torchrun --nproc_per_node 8 tools/pretrain.py --config configs/lslm/llama3.2-3b.yaml --scheme joint \\
        data.root=DIR data.tokenizer=RUN/final [--resume auto|PATH]
    result = run(load_config(LSLMRunConfig, "configs/lslm/synthetic.yaml", ["stage=pretrain", "scheme=joint"]))

The training loop here is shared by pretraining and instruction tuning (`lslm.recipes.instruct`).

Schemes (paper §4.3–4.4): which of the two parameter groups train, phase by phase.

    pretraining          mlp      projector                       (LLM frozen)
                         joint    projector + LLM
                         staged   projector for train.stage1_steps, then LLM (projector frozen)
    instruction tuning   llm      LLM (projector frozen)
                         mlp+llm  projector + LLM

Each group has its own learning rate (optim.lr_projector, optim.lr_llm; the paper: 1e-6 and 5e-7).
Data: (codes, English) pairs of a prepared dataset, codes from the motion tokenizer (or a codes cache),
turned into prompts by templates (pretraining: `<Motion_Placeholder>` → caption; instruction tuning: the
training phrasings of assets/templates/instruct.json, never the held-out ones). Vocabulary mode also
trains text → motion pairs. Loss on the answer tokens only, dynamic padding, length-grouped batches.

Batches: global batch g of epoch e is the g-th of `length_grouped_batches(lengths, train.batch_size,
seed(e))` (an epoch's incomplete last batch is left out); process r of W takes the r-th contiguous slice and
cuts it into gradient_accumulation_steps micro-batches of train.micro_batch_size. The loss is the mean over
the global batch's answer tokens (each micro-batch's token sum is divided by the global count per
micro-batch, `num_items_in_batch`), so W processes compute what one process computes with W times more
accumulation, and the step alone fixes the data position.

Engines: DeepSpeed (train.deepspeed = a JSON under configs/deepspeed/, filled by `deepspeed_config`) or
plain PyTorch for one process (train.deepspeed = null); the loop sees the same three calls either way:
`engine(**batch)`, `engine.backward(loss)`, `engine.step()`.

Checkpoints: `step_N/` = `LSLM.save_pretrained` + `training_state/` (state.pt: step, phase, RNG; the
optimizer and schedule in state.pt, or DeepSpeed's own per-rank files under deepspeed/); `final/`;
`stage1/` (staged: the model after the projector phase, which the LLM phase starts from). Full weights
are gathered under ZeRO-3 before saving, so every folder loads with `LSLM.from_pretrained`.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from omegaconf import MISSING

from lslm.errors import CheckpointMismatchError, ConfigError
from lslm.model.config import LSLMConfig
from lslm.training.config import TrainConfig, load_config, save_config
from lslm.training.schedule import lr_factor as schedule_factor

if TYPE_CHECKING:
    import torch

    from lslm.model import LSLM, Template, TemplateSet
    from lslm.tokenizer import CodedClip, Tokenizer
    from lslm.training.checkpoint import CheckpointManager, TrainingState
    from lslm.training.distributed import DistInfo

# scheme → phases; a phase is (projector trains, LLM trains)
SCHEMES: dict[str, dict[str, list[tuple[bool, bool]]]] = {
    "pretrain": {"mlp": [(True, False)], "joint": [(True, True)], "staged": [(True, False), (False, True)]},
    "instruct": {"llm": [(False, True)], "mlp+llm": [(True, True)]},
}
DEEPSPEED_STATE_DIR = "deepspeed"


@dataclass
class LSLMDataConfig:
    root: str = MISSING  # a prepared dataset folder (manifest.jsonl, features/, dataset.json)
    tokenizer: str | None = None  # motion tokenizer folder (pretraining; instruction tuning uses --init's)
    train_split: str = "train"
    val_split: str = "val"
    templates: str = "auto"  # "pretrain", "instruct", a JSON path; auto: the stage's bundled set
    tasks: list[str] = field(default_factory=lambda: ["m2t"])  # template classes; vocab mode adds t2m
    val_max_clips: int = 0  # validate on the first N clips of val_split; 0 = all
    code_noise: float = 0.0  # projector mode: each training code replaced by a random one with this probability


@dataclass
class LSLMOptimConfig:
    """AdamW with one learning rate per parameter group, linear warm-up, then constant or cosine."""

    lr_projector: float = 1e-6
    lr_llm: float = 5e-7
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    warmup_steps: int = 0
    schedule: str = "constant"  # constant | cosine (to 0 at train.max_steps)
    grad_clip: float = 1.0  # max gradient norm; 0 turns clipping off
    alignment_weight: float = 0.0  # > 0: add this multiple of LSLM.alignment_loss (InfoNCE motion ↔ answer)
    alignment_temperature: float = 0.07


@dataclass
class LSLMTrainConfig(TrainConfig):
    micro_batch_size: int = 0  # samples per process per forward; 0 = batch_size / processes (no accumulation)
    stage1_steps: int = 0  # scheme staged: steps of the projector phase before the LLM phase
    deepspeed: str | None = None  # configs/deepspeed/zero2.json or zero3.json; null = plain PyTorch, one process
    precision: str = "auto"  # auto (bf16 on CUDA, fp32 on CPU) | bf16 | fp32
    gradient_checkpointing: bool = False


@dataclass
class LSLMRunConfig:
    output_dir: str = MISSING
    stage: str = "pretrain"  # pretrain | instruct: set by tools/pretrain.py or tools/instruct.py
    scheme: str = MISSING  # set by --scheme (pretrain) or --tune (instruct)
    init: str | None = None  # instruction tuning: the parent run's final/ (set by --init)
    model: LSLMConfig = field(default_factory=LSLMConfig)
    data: LSLMDataConfig = field(default_factory=LSLMDataConfig)
    optim: LSLMOptimConfig = field(default_factory=LSLMOptimConfig)
    train: LSLMTrainConfig = field(default_factory=LSLMTrainConfig)


# ---- data ------------------------------------------------------------------------------------------
def load_clips(cfg: LSLMDataConfig, split: str, tokenizer_dir: Path, motion_tokenizer: Tokenizer,
               max_clips: int = 0) -> tuple[list[CodedClip], int]:
    """(clips of one split with their codes, number skipped): the codes come from the dataset's codes cache
    for the tokenizer saved in `tokenizer_dir` (tools/encode_dataset.py) when there is a current one, else
    are encoded now with `motion_tokenizer`. Clips without codes (unreadable, shorter than one code) are
    skipped and counted."""
    from lslm.tokenizer.codes import split_codes

    rows, by_id, _ = split_codes(cfg.root, split, tokenizer_dir, motion_tokenizer, progress=False)
    clips = list(by_id.values())  # manifest order
    skipped = len(rows) - len(clips)
    return (clips[:max_clips] if max_clips > 0 else clips), skipped


def motion_tokenizer_dir(cfg: LSLMRunConfig, checkpoint: Path | None) -> Path:
    """The saved motion tokenizer the model of this run was built with (its codes cache is keyed on it)."""
    if checkpoint is not None:
        return Path(checkpoint) / "tokenizer"
    return Path(cfg.data.tokenizer) if cfg.stage == "pretrain" else Path(cfg.init) / "tokenizer"


def training_tasks(cfg: LSLMRunConfig) -> list[str]:
    """Template classes trained: data.tasks, plus text → motion ("t2m") in vocabulary mode."""
    tasks = list(cfg.data.tasks)
    if cfg.model.mode == "vocab" and "t2m" not in tasks:
        tasks.append("t2m")
    if cfg.model.mode != "vocab" and "t2m" in tasks:
        raise ConfigError("data.tasks: 't2m' (text → motion) needs model.mode=vocab")
    return tasks


class PairStream:
    """Global batch number → its (clip, template) pairs; a pure function of (seed, step) for resumable runs.

    Items are (clip, task) for every clip and task (m2g only for clips with a gloss). Each epoch is
    `length_grouped_batches` over the items' lengths, full batches only; the template of each item is drawn
    from the training phrasings with a generator seeded by (seed, epoch, batch).
    """

    def __init__(self, clips: list[CodedClip], tasks: list[str], templates: TemplateSet, global_batch: int, seed: int,
                 length_of):
        self.clips = clips
        self.items = [(i, task) for task in tasks for i, c in enumerate(clips) if task != "m2g" or c.gloss]
        self.skipped_no_gloss = len(clips) * len(tasks) - len(self.items)
        self.templates = {task: templates.templates(task) for task in tasks}
        self.global_batch = global_batch
        self.seed = seed
        self.lengths = [len(clips[i].codes) + length_of(clips[i].text) for i, _ in self.items]
        self.per_epoch = len(self.items) // global_batch
        if self.per_epoch == 0:
            raise ConfigError(f"train.batch_size={global_batch} is larger than the {len(self.items)} training "
                              "items of the dataset")
        self._epoch: tuple[int, list[list[int]]] | None = None

    def batch(self, step: int) -> list[tuple[CodedClip, Template]]:
        """The pairs of global batch `step` (the template of each drawn for this batch)."""
        from lslm.model import length_grouped_batches

        epoch, number = divmod(step, self.per_epoch)
        if self._epoch is None or self._epoch[0] != epoch:
            batches = length_grouped_batches(self.lengths, self.global_batch, seed=self.seed * 1_000_003 + epoch)
            self._epoch = (epoch, [b for b in batches if len(b) == self.global_batch])
        rng = random.Random(f"{self.seed}-{epoch}-{number}")
        pairs = []
        for index in self._epoch[1][number]:
            clip_index, task = self.items[index]
            pairs.append((self.clips[clip_index], rng.choice(self.templates[task])))
        return pairs


# ---- model, parameter groups, engines ----------------------------------------------------------------
def param_groups(model: LSLM, optim: LSLMOptimConfig) -> list[dict]:
    """AdamW groups of the trainable parameters: projector at lr_projector, LLM at lr_llm."""
    groups = []
    for name, params, lr in (("projector", model.projector_parameters(), optim.lr_projector),
                             ("llm", model.llm_parameters(), optim.lr_llm)):
        trainable = [p for p in params if p.requires_grad]
        if trainable:
            groups.append({"params": trainable, "lr": lr, "name": name})
    return groups


def lr_factor(optim: LSLMOptimConfig, max_steps: int) -> Callable[[int], float]:
    """Multiplier of each group's lr at a step: linear warm-up, then constant or cosine to 0."""
    if optim.schedule not in ("constant", "cosine"):
        raise ConfigError(f"optim.schedule: expected constant or cosine, got {optim.schedule!r}")
    return schedule_factor(optim.warmup_steps, optim.schedule, max_steps)


def build_engine(cfg: LSLMRunConfig, model: LSLM, info: DistInfo, step: int) -> Any:
    """Optimizer over the trainable groups, schedule, and the DeepSpeed or plain engine around `model`, for
    the phase that trains `step` (staged: the LLM phase has a fresh optimizer, its schedule continues)."""
    from lslm.training import engine as engines

    micro, accumulation = engines.batch_geometry(cfg.train, info.world_size)
    precision = engines.resolve_precision(cfg.train.precision, info.device)
    schedule = lr_factor(cfg.optim, cfg.train.max_steps)
    first = cfg.train.stage1_steps if phase_at(cfg, step) == 1 else 0  # the step this phase's schedule starts at
    return engines.build_engine(model, param_groups(model, cfg.optim), lambda s: schedule(first + s),
                                betas=cfg.optim.betas, weight_decay=cfg.optim.weight_decay,
                                grad_clip=cfg.optim.grad_clip, micro=micro, accumulation=accumulation,
                                precision=precision, info=info, deepspeed_json=cfg.train.deepspeed)


def prepare_model(model: LSLM, cfg: LSLMRunConfig, phase: tuple[bool, bool], device: torch.device) -> LSLM:
    """Apply a phase's trainable groups, gradient checkpointing, training mode; move to `device`."""
    model.set_trainable(projector=phase[0], llm=phase[1])
    if not any(p.requires_grad for p in model.parameters()):
        raise ConfigError(f"scheme {cfg.scheme}: nothing to train (model.mode={cfg.model.mode} has no projector)")
    if cfg.train.gradient_checkpointing:
        model.llm.config.use_cache = False
        model.llm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return model.to(device).train()


def build_model(cfg: LSLMRunConfig) -> LSLM:
    """A new model: pretraining from model.* and the motion tokenizer; instruction tuning from --init."""
    from lslm.model import LSLM
    from lslm.tokenizer import Tokenizer

    if cfg.stage == "pretrain":
        if cfg.data.tokenizer is None:
            raise ConfigError("data.tokenizer: the motion tokenizer folder (a train_vqvae run's final/) is "
                              "needed to build the model for pretraining")
        return LSLM.from_config(cfg.model, Tokenizer.from_pretrained(cfg.data.tokenizer))
    model = LSLM.from_pretrained(cfg.init)
    _check_parent(cfg, model.config)
    model.config = dataclasses.replace(model.config, prompt=cfg.model.prompt or _templates(cfg).default("m2t").input)
    return model


def _check_parent(cfg: LSLMRunConfig, parent: LSLMConfig) -> None:
    """Instruction tuning continues the --init model: model.* must describe that model."""
    keys = ("llm", "mode", "projector_act", "projector_norm", "chat_template", "lora")
    different = [f"{k}: parent {getattr(parent, k)!r}, config {getattr(cfg.model, k)!r}" for k in keys
                 if getattr(parent, k) != getattr(cfg.model, k)]
    if different:
        raise CheckpointMismatchError(f"{cfg.init}: the --init model differs from model.* of this run ("
                                      + "; ".join(different) + ")")


def _templates(cfg: LSLMRunConfig) -> TemplateSet:
    from lslm.model import TemplateSet

    return TemplateSet.load(cfg.stage if cfg.data.templates == "auto" else cfg.data.templates)


def phase_at(cfg: LSLMRunConfig, step: int) -> int:
    """Index of the scheme's phase that trains step `step` (0-based)."""
    return 1 if cfg.scheme == "staged" and step >= cfg.train.stage1_steps else 0


def answer_tokens(batch: dict) -> int:
    """Tokens a micro-batch's loss averages over: the labelled ones after the causal shift."""
    from lslm.model import IGNORE_INDEX

    return int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())


def check_resumable(cfg: LSLMRunConfig, checkpoint: Path, state: TrainingState, manager: CheckpointManager) -> None:
    """The checkpoint was saved by this scheme, in a phase this config agrees with, and no later `step_N/`
    of an abandoned continuation would be pruned in its place or picked by a later `--resume auto`."""
    if state.extra["scheme"] != cfg.scheme:
        raise ConfigError(f"{checkpoint}: saved by scheme {state.extra['scheme']!r}, resumed with --scheme "
                          f"{cfg.scheme!r}; resume with the same scheme or start a new output_dir")
    if state.phase > phase_at(cfg, state.step):
        raise ConfigError(f"{checkpoint}: saved in the LLM phase of staged at step {state.step}, but "
                          f"train.stage1_steps={cfg.train.stage1_steps} puts that step in the projector phase")
    later = [path.name for step, path in manager.step_dirs() if step > state.step]
    if later:
        raise ConfigError(f"{manager.output_dir}: {', '.join(later)} are newer than the resumed {checkpoint.name}; "
                          "move them out of the run directory, or resume from the newest")


def check_run_config(cfg: LSLMRunConfig) -> None:
    """The stage, scheme, --init and staged phase switch agree; a ConfigError names what does not."""
    if cfg.stage not in SCHEMES:
        raise ConfigError(f"stage: expected one of {sorted(SCHEMES)}, got {cfg.stage!r}")
    if cfg.scheme not in SCHEMES[cfg.stage]:
        raise ConfigError(f"scheme {cfg.scheme!r}: {cfg.stage} schemes are {sorted(SCHEMES[cfg.stage])}")
    if cfg.stage == "instruct" and not cfg.init:
        raise ConfigError("instruction tuning needs --init (a pretraining run's final/)")
    # stage1_steps == max_steps is a staged run stopped at the phase switch (it resumes into the LLM phase)
    if cfg.scheme == "staged" and not 0 < cfg.train.stage1_steps <= cfg.train.max_steps:
        raise ConfigError(f"scheme staged: train.stage1_steps must be in (0, train.max_steps={cfg.train.max_steps}], "
                          f"got {cfg.train.stage1_steps}")
    if not 0.0 <= cfg.data.code_noise < 1.0:
        raise ConfigError(f"data.code_noise: expected a probability in [0, 1), got {cfg.data.code_noise!r}")
    if cfg.data.code_noise and cfg.model.mode != "projector":
        raise ConfigError("data.code_noise: replaces the codes the projector reads, so it needs model.mode=projector")


# ---- the run: setup, then the loop ---------------------------------------------------------------------
def run(cfg: LSLMRunConfig, resume: str | None = None) -> Path:
    """Train (or resume: 'auto' or a `step_N/`) one run; every process of a torchrun / deepspeed job calls
    this. Returns the run directory."""
    from lslm.training.distributed import process_group

    check_run_config(cfg)
    with process_group(cfg.train.device) as info:
        session = _setup(cfg, resume, info)
        _loop(session, cfg, info)
        return session.run_dir


@dataclass
class _Session:
    """What the loop starts from; `_setup` builds it, fresh or from a checkpoint."""

    run_dir: Path
    manager: CheckpointManager
    model: LSLM
    engine: Any
    stream: PairStream
    val_pairs: list
    collate: Any
    logger: Any
    micro: int
    step: int
    phase: int
    unlogged: list[float]  # [loss sum, micro-batch count] of the steps not logged yet


def _setup(cfg: LSLMRunConfig, resume: str | None, info: DistInfo) -> _Session:
    """The model (new, --init or a checkpoint's), every clip's codes, the pair stream, the engine and its
    restored state, the run folder and its logger."""
    from transformers.utils import logging as hf_logging

    from lslm.model import LSLM
    from lslm.training.checkpoint import CheckpointManager, load_training_state, seed_all
    from lslm.training.distributed import broadcast_object
    from lslm.training.engine import batch_geometry
    from lslm.training.logging import MetricsLogger

    if not (info.is_main and cfg.train.progress):
        hf_logging.disable_progress_bar()  # transformers' own bars ("Loading weights", "Writing model shards")
    run_dir = Path(cfg.output_dir)
    manager = CheckpointManager(run_dir, keep_last=cfg.train.keep_last)
    checkpoint = broadcast_object(manager.resolve_resume(resume) if info.is_main else None)
    micro, _ = batch_geometry(cfg.train, info.world_size)
    seed_all(cfg.train.seed)

    step = phase = 0
    state = None
    if checkpoint is not None:
        state = load_training_state(checkpoint)
        step, phase = state.step, state.phase
        check_resumable(cfg, checkpoint, state, manager)
        model = LSLM.from_pretrained(checkpoint)
    else:
        model = build_model(cfg)
    model = prepare_model(model, cfg, SCHEMES[cfg.stage][cfg.scheme][phase], info.device)

    # codes of every clip: read from the cache (or encoded once) on rank 0, sent to the others
    tokenizer, tokenizer_dir = model.motion_tokenizer, motion_tokenizer_dir(cfg, checkpoint)
    train_clips, train_skipped = broadcast_object(
        load_clips(cfg.data, cfg.data.train_split, tokenizer_dir, tokenizer) if info.is_main else None)
    val_clips, _ = broadcast_object(load_clips(cfg.data, cfg.data.val_split, tokenizer_dir, tokenizer,
                                               cfg.data.val_max_clips) if info.is_main else None)
    templates = _templates(cfg)
    text_len = lambda text: len(model.text_tokenizer(text, add_special_tokens=False)["input_ids"])
    stream = PairStream(train_clips, training_tasks(cfg), templates, cfg.train.batch_size, cfg.train.seed, text_len)
    val_pairs = [(c, templates.default("m2t")) for c in val_clips]
    collate = model.collator()

    engine = build_engine(cfg, model, info, step)
    if checkpoint is not None:
        _restore(checkpoint, state, engine, phase, info)

    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / "config.yaml")
    logger = MetricsLogger(run_dir, enabled=info.is_main, tensorboard=cfg.train.tensorboard,
                           resume_step=step if checkpoint is not None else None)
    if checkpoint is None:
        logger.log(0, "data", {"train_clips": len(train_clips), "train_items": len(stream.items),
                               "skipped_no_codes": train_skipped,
                               "batches_per_epoch": stream.per_epoch, "skipped_no_gloss": stream.skipped_no_gloss,
                               "val_clips": len(val_clips), "world_size": info.world_size})
    unlogged = state.unlogged if state is not None and info.is_main else [0.0, 0.0]
    return _Session(run_dir, manager, model, engine, stream, val_pairs, collate, logger, micro, step, phase, unlogged)


def _loop(s: _Session, cfg: LSLMRunConfig, info: DistInfo) -> None:
    """Train from `s.step` to train.max_steps (staged: switching phase at stage1_steps from `stage1/`): log,
    validate, checkpoint, then `final/`."""
    import torch
    from tqdm import tqdm

    from lslm.model import LSLM
    from lslm.model.collate import corrupt_codes
    from lslm.training.distributed import all_reduce_sum, barrier
    from lslm.training.engine import group_lrs, micro_batches

    model, engine, step, phase, logger, micro = s.model, s.engine, s.step, s.phase, s.logger, s.micro
    phases = SCHEMES[cfg.stage][cfg.scheme]

    def save(name: str, with_state: bool) -> None:
        unlogged = all_reduce_sum(sums.to(info.device)).cpu().tolist() if with_state else None  # collective
        save_checkpoint(s.manager, name, engine, model, info, with_state, step=step, phase=phase, scheme=cfg.scheme,
                        unlogged=unlogged)

    sums = torch.zeros(2, dtype=torch.float64)  # loss sum over micro-batches, micro-batch count (since the last log)
    sums += torch.tensor(s.unlogged, dtype=torch.float64)  # a resumed run's train losses not logged yet
    alignment = {"alignment_weight": cfg.optim.alignment_weight,
                 "alignment_temperature": cfg.optim.alignment_temperature} if cfg.optim.alignment_weight else {}
    timed_from, tick = step, time.perf_counter()
    bar = tqdm(total=cfg.train.max_steps, initial=step, disable=not (info.is_main and cfg.train.progress),
               desc=f"{cfg.stage} {cfg.scheme}", dynamic_ncols=True)
    while step < cfg.train.max_steps:
        if phase_at(cfg, step) != phase:  # staged: projector phase done → LLM phase from the saved stage1/
            save("stage1", with_state=False)
            barrier()
            del engine
            phase = phase_at(cfg, step)
            model = prepare_model(LSLM.from_pretrained(s.run_dir / "stage1"), cfg, phases[phase], info.device)
            engine = build_engine(cfg, model, info, step)
        lrs = group_lrs(engine)  # the rates this step trains with
        batches = [s.collate(*zip(*pairs)) for pairs in micro_batches(s.stream.batch(step), info, micro)]
        if cfg.data.code_noise:  # seeded by (seed, step, rank): a resumed run corrupts the same codes
            noise = torch.Generator().manual_seed((cfg.train.seed * 1_000_003 + step) * 1009 + info.rank)
            for batch in batches:
                batch["codes"] = corrupt_codes(batch["codes"], cfg.data.code_noise, model.config.codebook_size, noise)
        batches = [{k: v.to(info.device) for k, v in batch.items()} for batch in batches]
        # every micro-batch's loss is its token sum over the global batch's mean token count per micro-batch,
        # so the step's gradient is the per-token mean over the global batch however it is split
        tokens = all_reduce_sum(torch.tensor([sum(answer_tokens(b) for b in batches)], dtype=torch.float64,
                                             device=info.device))
        per_micro_batch = float(tokens) / (info.world_size * len(batches))
        for batch in batches:
            loss = engine(**batch, num_items_in_batch=per_micro_batch, **alignment).loss
            engine.backward(loss)
            engine.step()
            sums += torch.tensor([loss.item(), 1.0], dtype=torch.float64)
        step += 1
        bar.update(1)

        last = step == cfg.train.max_steps
        if step % cfg.train.log_every == 0 or last:
            total = all_reduce_sum(sums.to(info.device)).cpu()
            elapsed = time.perf_counter() - tick
            row = {"loss": float(total[0] / total[1]), **lrs, "phase": phase,
                   "s_per_step": elapsed / (step - timed_from)}
            logger.log(step, "train", row)
            bar.set_postfix(loss=f"{row['loss']:.4f}")
            sums.zero_()
            timed_from, tick = step, time.perf_counter()
        if s.val_pairs and ((cfg.train.val_every and step % cfg.train.val_every == 0) or last):
            logger.log(step, "val", {"loss": validation_loss(engine, s.val_pairs, s.collate, micro, info)})
            model.train()
        if step % cfg.train.save_every == 0 or last:
            save(f"step_{step}", with_state=True)
    bar.close()
    save("final", with_state=False)
    logger.close()
    barrier()


def save_checkpoint(manager: CheckpointManager, name: str, engine: Any, model: LSLM, info: DistInfo,
                    with_state: bool, *, step: int, phase: int, scheme: str, unlogged: list[float] | None) -> None:
    """Write `name/` atomically: full weights (gathered under ZeRO-3), and with_state the training state.

    Collective: every process calls it. DeepSpeed first writes its per-rank optimizer shards into a staging
    folder; rank 0 moves them into the checkpoint it writes and renames that into place.
    """
    from lslm.training.checkpoint import TrainingState, rng_state, save_training_state
    from lslm.training.distributed import all_gather_object, barrier
    from lslm.training.engine import gathered, is_deepspeed

    staging = manager.output_dir / f".deepspeed-{name}"
    if with_state and is_deepspeed(engine):
        if info.is_main:
            shutil.rmtree(staging, ignore_errors=True)
        barrier()
        engine.save_checkpoint(str(staging), tag=DEEPSPEED_STATE_DIR, exclude_frozen_parameters=True)
        barrier()
    rngs = all_gather_object(rng_state()) if with_state else None

    def write(directory: Path) -> None:
        model.save_pretrained(directory)  # replaces `directory`: the training state goes in after it
        if not with_state:
            return
        state = TrainingState(step=step, rng=rngs, phase=phase, unlogged=unlogged, extra={"scheme": scheme})
        if is_deepspeed(engine):  # DeepSpeed keeps the optimiser and schedule in its own per-rank files
            (directory / "training_state").mkdir()
            os.replace(staging / DEEPSPEED_STATE_DIR, directory / "training_state" / DEEPSPEED_STATE_DIR)
            shutil.rmtree(staging)
        else:
            state.optimizer = engine.state_dict()
        save_training_state(directory, state)

    with gathered(engine, model):
        if info.is_main:
            manager.save(name, write)
    model.train()
    barrier()


def _restore(checkpoint: Path, state: TrainingState, engine: Any, phase: int, info: DistInfo) -> None:
    """Optimizer, schedule and RNG of a `step_N/` (the weights were loaded with the model). A checkpoint
    of the last projector step of `staged` leaves the LLM phase its fresh optimizer, as an unbroken run."""
    from lslm.training.checkpoint import set_rng_state
    from lslm.training.engine import is_deepspeed

    if state.phase == phase and is_deepspeed(engine):
        if not (checkpoint / "training_state" / DEEPSPEED_STATE_DIR).is_dir():
            raise CheckpointMismatchError(f"{checkpoint}: saved without DeepSpeed; resume it with train.deepspeed=null")
        engine.load_checkpoint(str(checkpoint / "training_state"), tag=DEEPSPEED_STATE_DIR,
                               load_module_strict=False)
    elif state.phase == phase:
        if state.optimizer is None:
            raise CheckpointMismatchError(f"{checkpoint}: saved by DeepSpeed; resume it with the same train.deepspeed")
        engine.load_state_dict(state.optimizer)
    if info.rank < len(state.rng):  # a different world size keeps the fresh seeds of the extra ranks
        set_rng_state(state.rng[info.rank])


def validation_loss(engine: Any, pairs: list[tuple[CodedClip, Template]], collate: Any, micro: int, info: DistInfo) -> float:
    """Mean answer-token loss over the val pairs (default template), sharded over processes.

    Every process runs the same number of forwards (ZeRO-3 gathers parameters in each), padding its share
    with a zero-weight repeat where the split does not divide evenly.
    """
    import torch

    with torch.no_grad():
        return _validation_loss(engine, pairs, collate, micro, info)


def _validation_loss(engine: Any, pairs: list[tuple[CodedClip, Template]], collate: Any, micro: int, info: DistInfo) -> float:
    import torch

    from lslm.training.distributed import all_reduce_sum

    engine.module.eval()
    batches = [pairs[i:i + micro] for i in range(0, len(pairs), micro)]
    rounds = -(-len(batches) // info.world_size)
    totals = torch.zeros(2, dtype=torch.float64)  # loss · tokens, tokens
    for r in range(rounds):
        index = r * info.world_size + info.rank
        batch = {k: v.to(info.device) for k, v in collate(*zip(*batches[min(index, len(batches) - 1)])).items()}
        tokens = answer_tokens(batch)
        loss = engine(**batch).loss
        if index < len(batches):
            totals += torch.tensor([float(loss) * tokens, tokens], dtype=torch.float64)
    totals = all_reduce_sum(totals.to(info.device)).cpu()
    return float(totals[0] / totals[1])


def stage_parser(description: str, stage_arguments: Callable[[argparse.ArgumentParser], None]) -> argparse.ArgumentParser:
    """The command line of an LSLM training stage: --config, the stage's own arguments, --resume, overrides."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", required=True, help="YAML under configs/lslm/")
    stage_arguments(parser)
    parser.add_argument("--resume", default=None, help="'auto' (latest step_N/ in output_dir) or a checkpoint dir")
    parser.add_argument("overrides", nargs="*", help="dotted key=value overrides, e.g. train.max_steps=100")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The command line of `tools/pretrain.py` / `lslm pretrain`."""
    return stage_parser("Pretrain an LSLM (motion–text alignment).", lambda parser: parser.add_argument(
        "--scheme", required=True, choices=sorted(SCHEMES["pretrain"])))


def parse_config(argv: list[str] | None = None) -> tuple[LSLMRunConfig, str | None]:
    """(the run's config: the YAML file, the overrides, stage=pretrain and --scheme; --resume) of a command line."""
    args = build_parser().parse_intermixed_args(argv)
    cfg = load_config(LSLMRunConfig, args.config, [*args.overrides, "stage=pretrain", f"scheme={args.scheme}"])
    return cfg, args.resume


def main(argv: list[str] | None = None) -> int:
    """Pretrain from the command line; 0 on success (the run directory is the config's output_dir)."""
    run(*parse_config(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
