"""The LSLM training loop shared by pretraining (`pretrain.py`) and instruction tuning (`instruct.py`).

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

import contextlib
import dataclasses
import math
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from omegaconf import MISSING
from tqdm import tqdm
from transformers.utils import logging as hf_logging

from lslm.errors import CheckpointMismatchError, ConfigError
from lslm.model import IGNORE_INDEX, LSLM, LSLMConfig, MotionTextPair, TemplateSet, length_grouped_batches
from lslm.training.checkpoint import (
    CheckpointManager,
    load_training_state,
    rng_state,
    save_training_state,
    seed_all,
    set_rng_state,
)
from lslm.training.config import TrainConfig, save_config
from lslm.training.deepspeed_config import fill_deepspeed_config
from lslm.training.distributed import (
    DistInfo,
    all_gather_object,
    all_reduce_sum,
    barrier,
    broadcast_object,
    destroy_distributed,
    init_distributed,
)
from lslm.training.logging import MetricsLogger

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
@dataclass(frozen=True)
class Clip:
    """One clip of the dataset as the LLM sees it: motion codes and its English (and gloss)."""

    id: str
    codes: tuple[int, ...]
    text: str
    gloss: str | None


def load_clips(cfg: LSLMDataConfig, split: str, tokenizer_dir: Path, motion_tokenizer,
               max_clips: int = 0) -> tuple[list[Clip], int]:
    """(clips of one split with their codes, number skipped): the codes come from the dataset's codes cache
    for the tokenizer saved in `tokenizer_dir` (tools/encode_dataset.py) when there is a current one, else
    are encoded now with `motion_tokenizer`. Clips without codes (unreadable, shorter than one code) are
    skipped and counted."""
    from lslm.data.codes import split_codes

    rows, codes, _ = split_codes(cfg.root, split, tokenizer_dir, motion_tokenizer, progress=False)
    clips = [Clip(r["id"], tuple(codes[r["id"]].tolist()), r["text"], r.get("gloss")) for r in rows if r["id"] in codes]
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
    """Global batch number → its MotionTextPairs; a pure function of (seed, step) for resumable runs.

    Items are (clip, task) for every clip and task (m2g only for clips with a gloss). Each epoch is
    `length_grouped_batches` over the items' lengths, full batches only; the template of each item is drawn
    from the training phrasings with a generator seeded by (seed, epoch, batch).
    """

    def __init__(self, clips: list[Clip], tasks: list[str], templates: TemplateSet, global_batch: int, seed: int,
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

    def batch(self, step: int) -> list[MotionTextPair]:
        epoch, number = divmod(step, self.per_epoch)
        if self._epoch is None or self._epoch[0] != epoch:
            batches = length_grouped_batches(self.lengths, self.global_batch, seed=self.seed * 1_000_003 + epoch)
            self._epoch = (epoch, [b for b in batches if len(b) == self.global_batch])
        rng = random.Random(f"{self.seed}-{epoch}-{number}")
        pairs = []
        for index in self._epoch[1][number]:
            clip_index, task = self.items[index]
            clip = self.clips[clip_index]
            pairs.append(MotionTextPair(clip.codes, clip.text, clip.gloss, rng.choice(self.templates[task])))
        return pairs


def micro_batches(pairs: list, info: DistInfo, micro: int) -> list[list]:
    """This process's contiguous slice of a global batch, cut into micro-batches of `micro`."""
    local = len(pairs) // info.world_size
    mine = pairs[info.rank * local:(info.rank + 1) * local]
    return [mine[i:i + micro] for i in range(0, local, micro)]


def batch_geometry(train: LSLMTrainConfig, world_size: int) -> tuple[int, int]:
    """(micro-batch size, gradient accumulation steps) such that micro × accumulation × world = batch."""
    if train.batch_size % world_size:
        raise ConfigError(f"train.batch_size={train.batch_size} is not divisible by the number of processes "
                          f"({world_size})")
    local = train.batch_size // world_size
    micro = train.micro_batch_size or local
    if local % micro:
        raise ConfigError(f"train.batch_size={train.batch_size} over {world_size} process(es) gives {local} per "
                          f"process, not a multiple of train.micro_batch_size={micro}")
    return micro, local // micro


# ---- model, parameter groups, engines ----------------------------------------------------------------
def resolve_precision(precision: str, device: torch.device) -> str:
    """auto → bf16 on a CUDA device that supports it, else fp32."""
    if precision == "auto":
        return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if precision not in ("bf16", "fp32"):
        raise ConfigError(f"train.precision: expected auto, bf16 or fp32, got {precision!r}")
    return precision


def param_groups(model: LSLM, optim: LSLMOptimConfig) -> list[dict]:
    """AdamW groups of the trainable parameters: projector at lr_projector, LLM at lr_llm."""
    groups = []
    for name, params, lr in (("projector", model.projector_parameters(), optim.lr_projector),
                             ("llm", model.llm_parameters(), optim.lr_llm)):
        trainable = [p for p in params if p.requires_grad]
        if trainable:
            groups.append({"params": trainable, "lr": lr, "name": name})
    return groups


def lr_factor(optim: LSLMOptimConfig, max_steps: int):
    """Multiplier of each group's lr at a step: linear warm-up, then constant or cosine to 0."""
    if optim.schedule not in ("constant", "cosine"):
        raise ConfigError(f"optim.schedule: expected constant or cosine, got {optim.schedule!r}")

    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / optim.warmup_steps) if optim.warmup_steps > 0 else 1.0
        if optim.schedule == "cosine":
            warm *= 0.5 * (1 + math.cos(math.pi * min(step, max_steps) / max_steps))
        return warm
    return factor


class PlainEngine:
    """The three calls of a DeepSpeed engine the loop uses, for one process in plain PyTorch."""

    def __init__(self, model: LSLM, optimizer, scheduler, accumulation: int, grad_clip: float, precision: str,
                 device: torch.device):
        self.module, self.optimizer, self.lr_scheduler = model, optimizer, scheduler
        self.accumulation, self.grad_clip = accumulation, grad_clip
        self.autocast = torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" \
            else contextlib.nullcontext()
        self.micro_steps = 0

    def __call__(self, **batch):
        with self.autocast:
            return self.module(**batch)

    def backward(self, loss: torch.Tensor) -> None:
        (loss / self.accumulation).backward()  # the accumulated gradient is the mean over micro-batches

    def step(self) -> None:
        self.micro_steps += 1
        if self.micro_steps % self.accumulation:
            return
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_([p for g in self.optimizer.param_groups for p in g["params"]],
                                           self.grad_clip)
        self.optimizer.step()
        self.lr_scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.lr_scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.lr_scheduler.load_state_dict(state["scheduler"])


def build_engine(cfg: LSLMRunConfig, model: LSLM, info: DistInfo, step: int):
    """Optimizer over the trainable groups, schedule, and the DeepSpeed or plain engine around `model`, for
    the phase that trains `step` (staged: the LLM phase has a fresh optimizer, its schedule continues)."""
    micro, accumulation = batch_geometry(cfg.train, info.world_size)
    precision = resolve_precision(cfg.train.precision, info.device)
    groups = param_groups(model, cfg.optim)
    optimizer = torch.optim.AdamW(groups, lr=groups[0]["lr"], betas=tuple(cfg.optim.betas),
                                  weight_decay=cfg.optim.weight_decay)
    schedule = lr_factor(cfg.optim, cfg.train.max_steps)
    first = cfg.train.stage1_steps if phase_at(cfg, step) == 1 else 0  # the step this phase's schedule starts at
    factor = lambda s: schedule(first + s)
    if cfg.train.deepspeed is None:
        if info.world_size > 1:
            raise ConfigError("train.deepspeed=null runs one process; give configs/deepspeed/zero2.json or "
                              "zero3.json to train on several")
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor, last_epoch=-1)
        return PlainEngine(model, optimizer, scheduler, accumulation, cfg.optim.grad_clip, precision, info.device)
    deepspeed = import_deepspeed(info)
    ds_config = fill_deepspeed_config(cfg.train.deepspeed, micro_batch_size=micro,
                                      gradient_accumulation_steps=accumulation, world_size=info.world_size,
                                      precision=precision, grad_clip=cfg.optim.grad_clip)
    engine, *_ = deepspeed.initialize(model=model, optimizer=optimizer, config=ds_config,
                                      lr_scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, factor))
    return engine


def import_deepspeed(info: DistInfo):
    """deepspeed, with its CPU accelerator when this process trains on the CPU."""
    if info.device.type == "cpu":
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
    try:
        import deepspeed
    except ImportError as err:
        raise ConfigError(f"train.deepspeed is set but deepspeed cannot be imported ({err}); pip install "
                          "deepspeed, or set train.deepspeed=null for a one-process run") from None
    return deepspeed


def is_deepspeed(engine) -> bool:
    return not isinstance(engine, PlainEngine)


def group_lrs(engine) -> dict[str, float]:
    """Current learning rate of each parameter group, by group name."""
    return {f"lr_{g['name']}": g["lr"] for g in engine.optimizer.param_groups if "name" in g}


def gathered(engine, model: LSLM):
    """Context in which every process holds the full parameters (ZeRO-3 partitions them); collective."""
    if is_deepspeed(engine) and engine.zero_optimization_stage() == 3:
        import deepspeed

        return deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None)
    return contextlib.nullcontext()


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
    keys = ("llm", "mode", "projector_act", "chat_template", "lora")
    different = [f"{k}: parent {getattr(parent, k)!r}, config {getattr(cfg.model, k)!r}" for k in keys
                 if getattr(parent, k) != getattr(cfg.model, k)]
    if different:
        raise CheckpointMismatchError(f"{cfg.init}: the --init model differs from model.* of this run ("
                                      + "; ".join(different) + ")")


def _templates(cfg: LSLMRunConfig) -> TemplateSet:
    return TemplateSet.load(cfg.stage if cfg.data.templates == "auto" else cfg.data.templates)


def phase_at(cfg: LSLMRunConfig, step: int) -> int:
    """Index of the scheme's phase that trains step `step` (0-based)."""
    return 1 if cfg.scheme == "staged" and step >= cfg.train.stage1_steps else 0


def answer_tokens(batch: dict) -> int:
    """Tokens a micro-batch's loss averages over: the labelled ones after the causal shift."""
    return int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())


def check_resumable(cfg: LSLMRunConfig, checkpoint: Path, state: dict, manager: CheckpointManager) -> None:
    """The checkpoint was saved by this scheme, in a phase this config agrees with, and no later `step_N/`
    of an abandoned continuation would be pruned in its place or picked by a later `--resume auto`."""
    if state.get("scheme", cfg.scheme) != cfg.scheme:
        raise ConfigError(f"{checkpoint}: saved by scheme {state['scheme']!r}, resumed with --scheme {cfg.scheme!r}; "
                          "resume with the same scheme or start a new output_dir")
    if state["phase"] > phase_at(cfg, state["step"]):
        raise ConfigError(f"{checkpoint}: saved in the LLM phase of staged at step {state['step']}, but "
                          f"train.stage1_steps={cfg.train.stage1_steps} puts that step in the projector phase")
    later = [path.name for step, path in manager.step_dirs() if step > state["step"]]
    if later:
        raise ConfigError(f"{manager.output_dir}: {', '.join(later)} are newer than the resumed {checkpoint.name}; "
                          "move them out of the run directory, or resume from the newest")


def check_run_config(cfg: LSLMRunConfig) -> None:
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


# ---- the loop -------------------------------------------------------------------------------------
def train(cfg: LSLMRunConfig, resume: str | None = None) -> Path:
    """Train (or resume) one run; every process of a torchrun / deepspeed job calls this."""
    check_run_config(cfg)
    info = init_distributed(cfg.train.device)
    try:
        return _train(cfg, resume, info)
    finally:
        destroy_distributed()


def _train(cfg: LSLMRunConfig, resume: str | None, info: DistInfo) -> Path:
    if not (info.is_main and cfg.train.progress):
        hf_logging.disable_progress_bar()  # transformers' own bars ("Loading weights", "Writing model shards")
    run_dir = Path(cfg.output_dir)
    manager = CheckpointManager(run_dir, keep_last=cfg.train.keep_last)
    checkpoint = broadcast_object(manager.resolve_resume(resume) if info.is_main else None)
    micro, _ = batch_geometry(cfg.train, info.world_size)
    seed_all(cfg.train.seed)

    step = phase = 0
    if checkpoint is not None:
        state = load_training_state(checkpoint)
        step, phase = state["step"], state["phase"]
        check_resumable(cfg, checkpoint, state, manager)
        model = LSLM.from_pretrained(checkpoint)
    else:
        model = build_model(cfg)
    phases = SCHEMES[cfg.stage][cfg.scheme]
    model = prepare_model(model, cfg, phases[phase], info.device)

    # codes of every clip: read from the cache (or encoded once) on rank 0, sent to the others
    tokenizer, tokenizer_dir = model.motion_tokenizer, motion_tokenizer_dir(cfg, checkpoint)
    train_clips, train_skipped = broadcast_object(
        load_clips(cfg.data, cfg.data.train_split, tokenizer_dir, tokenizer) if info.is_main else None)
    val_clips, _ = broadcast_object(load_clips(cfg.data, cfg.data.val_split, tokenizer_dir, tokenizer,
                                               cfg.data.val_max_clips) if info.is_main else None)
    templates = _templates(cfg)
    text_len = lambda text: len(model.text_tokenizer(text, add_special_tokens=False)["input_ids"])
    stream = PairStream(train_clips, training_tasks(cfg), templates, cfg.train.batch_size, cfg.train.seed, text_len)
    val_pairs = [MotionTextPair(c.codes, c.text, c.gloss, templates.default("m2t")) for c in val_clips]
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

    def save(name: str, with_state: bool) -> None:
        window = all_reduce_sum(sums.to(info.device)).cpu().tolist() if with_state else None  # collective
        save_checkpoint(manager, name, engine, model, info, with_state, step=step, phase=phase, scheme=cfg.scheme,
                        loss_window=window)

    sums = torch.zeros(2, dtype=torch.float64)  # loss sum over micro-batches, micro-batch count
    alignment = {"alignment_weight": cfg.optim.alignment_weight,
                 "alignment_temperature": cfg.optim.alignment_temperature} if cfg.optim.alignment_weight else {}
    if checkpoint is not None and info.is_main:  # the train losses not logged yet
        sums += torch.tensor(state.get("loss_window", [0.0, 0.0]), dtype=torch.float64)
    timed_from, tick = step, time.perf_counter()
    bar = tqdm(total=cfg.train.max_steps, initial=step, disable=not (info.is_main and cfg.train.progress),
               desc=f"{cfg.stage} {cfg.scheme}", dynamic_ncols=True)
    while step < cfg.train.max_steps:
        if phase_at(cfg, step) != phase:  # staged: projector phase done → LLM phase from the saved stage1/
            save("stage1", with_state=False)
            barrier()
            del engine
            phase = phase_at(cfg, step)
            model = prepare_model(LSLM.from_pretrained(run_dir / "stage1"), cfg, phases[phase], info.device)
            engine = build_engine(cfg, model, info, step)
        lrs = group_lrs(engine)  # the rates this step trains with
        batches = [{k: v.to(info.device) for k, v in collate(pairs).items()}
                   for pairs in micro_batches(stream.batch(step), info, micro)]
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
        if val_pairs and ((cfg.train.val_every and step % cfg.train.val_every == 0) or last):
            logger.log(step, "val", {"loss": validation_loss(engine, val_pairs, collate, micro, info)})
            model.train()
        if step % cfg.train.save_every == 0 or last:
            save(f"step_{step}", with_state=True)
    bar.close()
    save("final", with_state=False)
    logger.close()
    barrier()
    return run_dir


def save_checkpoint(manager: CheckpointManager, name: str, engine, model: LSLM, info: DistInfo,
                    with_state: bool, **state) -> None:
    """Write `name/` atomically: full weights (gathered under ZeRO-3), and with_state the training state.

    Collective: every process calls it. DeepSpeed first writes its per-rank optimizer shards into a staging
    folder; rank 0 moves them into the checkpoint it writes and renames that into place.
    """
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
        full_state = {**state, "rng": rngs}
        if is_deepspeed(engine):
            (directory / "training_state").mkdir()
            os.replace(staging / DEEPSPEED_STATE_DIR, directory / "training_state" / DEEPSPEED_STATE_DIR)
            shutil.rmtree(staging)
        else:
            full_state["engine"] = engine.state_dict()
        save_training_state(directory, full_state)

    with gathered(engine, model):
        if info.is_main:
            manager.save(name, write)
    model.train()
    barrier()


def _restore(checkpoint: Path, state: dict, engine, phase: int, info: DistInfo) -> None:
    """Optimizer, schedule and RNG of a `step_N/` (the weights were loaded with the model). A checkpoint
    of the last projector step of `staged` leaves the LLM phase its fresh optimizer, as an unbroken run."""
    if state["phase"] == phase and is_deepspeed(engine):
        if not (checkpoint / "training_state" / DEEPSPEED_STATE_DIR).is_dir():
            raise CheckpointMismatchError(f"{checkpoint}: saved without DeepSpeed; resume it with train.deepspeed=null")
        engine.load_checkpoint(str(checkpoint / "training_state"), tag=DEEPSPEED_STATE_DIR,
                               load_module_strict=False)
    elif state["phase"] == phase:
        if "engine" not in state:
            raise CheckpointMismatchError(f"{checkpoint}: saved by DeepSpeed; resume it with the same train.deepspeed")
        engine.load_state_dict(state["engine"])
    if info.rank < len(state["rng"]):  # a different world size keeps the fresh seeds of the extra ranks
        set_rng_state(state["rng"][info.rank])


@torch.no_grad()
def validation_loss(engine, pairs: list[MotionTextPair], collate, micro: int, info: DistInfo) -> float:
    """Mean answer-token loss over the val pairs (default template), sharded over processes.

    Every process runs the same number of forwards (ZeRO-3 gathers parameters in each), padding its share
    with a zero-weight repeat where the split does not divide evenly.
    """
    engine.module.eval()
    batches = [pairs[i:i + micro] for i in range(0, len(pairs), micro)]
    rounds = -(-len(batches) // info.world_size)
    totals = torch.zeros(2, dtype=torch.float64)  # loss · tokens, tokens
    for r in range(rounds):
        index = r * info.world_size + info.rank
        batch = {k: v.to(info.device) for k, v in collate(batches[min(index, len(batches) - 1)]).items()}
        tokens = answer_tokens(batch)
        loss = engine(**batch).loss
        if index < len(batches):
            totals += torch.tensor([float(loss) * tokens, tokens], dtype=torch.float64)
    totals = all_reduce_sum(totals.to(info.device)).cpu()
    return float(totals[0] / totals[1])
