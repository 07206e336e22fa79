"""Translate sign motion to English with a trained LSLM, in batches: files or a dataset split → JSONL.

    rows = translate_files("runs/lslm/final", ["clips/a.npz", "clips/b.pkl"])   # [{id, prediction}]
    rows = translate_split("runs/lslm/final", "data/synthetic", "test", num_beams=5)   # [{id, prediction, reference}]

Inputs: raw clips of every format `prepare_dataset.py` reads (SignAvatars `.pkl`, SMPLer-X folders, Motion-X
`.npy`, joints `.npy` (T, 52, 3), lslm `.npz`; detected per file, or `fmt`), converted exactly as
`prepare_dataset.py` converts them (`lslm.data.convert`, on the tokenizer's frame rate, skeleton and compat
flag), or feature `.npy` (T, 623) (raw, at the tokenizer's frame rate). A dataset split uses its codes cache
(tools/encode_dataset.py) for the model's tokenizer when there is one, else encodes the split's features on
the fly.
Clips go to `LSLM.generate` in batches of similar code length (less padding); greedy output is the
same as translating one clip at a time. `prompt="held-out"` (`--prompt held-out`) translates with the
instruction phrasings held out of training (assets/templates/instruct.json, "m2t"), clip i with
phrasing i mod their number, and writes each row's prompt: scores on phrasings the model never saw.
Every input gets one output row; an input that cannot be read gets an empty prediction and an "error"
message, and is counted in the summary. The command line is `lslm.recipes.translate` (tools/translate.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import itertools
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from lslm.checks import check_fps, check_int, check_str
from lslm.tokenizer.codes import file_ids, motion_file_codes, printable
from lslm.devices import resolve_device
from lslm.errors import InvalidInputError, LslmError
from lslm.model.generation import DEFAULT_BATCH_SIZE, DEFAULT_GENERATION, HELD_OUT, generation_kwargs

if TYPE_CHECKING:
    from lslm.model.modeling import LSLM

# ---- translating ------------------------------------------------------------------------------------

def held_out_prompts(count: int) -> list[str]:
    """`count` prompts cycling through the instruction phrasings held out of training ("m2t")."""
    from lslm.model.templates import TemplateSet

    phrasings = [t.input for t in TemplateSet.load("instruct").templates("m2t", held_out=True)]
    return [phrasings[i % len(phrasings)] for i in range(count)]


def translate_codes(model: LSLM, codes: Sequence[torch.Tensor | Sequence[int]], batch_size: int = DEFAULT_BATCH_SIZE,
                    prompt: str | Sequence[str | None] | None = None, progress: bool = True, **gen_kwargs: Any) -> list[str]:
    """Translations of code sequences (each (L,) long), in input order. `prompt`: one for all clips or
    one per clip. Batches hold clips of one prompt and similar length; `gen_kwargs` go to
    `LSLM.generate` as they are."""
    from tqdm.auto import tqdm

    from lslm.model.modeling import check_generation_options

    check_int(batch_size, None, "batch_size", minimum=1)
    check_generation_options(gen_kwargs)
    if gen_kwargs.get("num_return_sequences", 1) != 1:
        raise InvalidInputError(None, "num_return_sequences", "1: one translation per clip (LSLM.generate returns "
                                "n per clip)", got=gen_kwargs["num_return_sequences"])
    prompts = [prompt] * len(codes) if prompt is None or isinstance(prompt, str) else list(prompt)
    if len(prompts) != len(codes):
        raise InvalidInputError(None, "prompt", f"one prompt or one per clip ({len(codes)})", got=len(prompts))
    order = sorted(range(len(codes)), key=lambda i: (prompts[i] or "", len(codes[i])))
    out: list[str] = [""] * len(codes)
    with tqdm(total=len(codes), desc="translate", unit="clip", disable=not progress) as bar:
        for _, group in itertools.groupby(order, key=lambda i: prompts[i]):
            group = list(group)
            for start in range(0, len(group), batch_size):
                batch = group[start:start + batch_size]
                texts = model.generate(codes=[codes[i] for i in batch], prompt=prompts[batch[0]], **gen_kwargs)
                for i, text in zip(batch, texts):
                    out[i] = text
                bar.update(len(batch))
    return out


def _rows(ids: list[str], codes: dict[str, torch.Tensor | Sequence[int]], errors: dict[str, str], model, batch_size: int,
          prompt: str | None, progress: bool, gen_kwargs: dict, references: dict[str, str] | None = None) -> list[dict]:
    """One row per id: {"id", "prediction", "prompt"? (held-out), "reference"?, "error"?}, in the order of `ids`."""
    ok = [i for i in ids if i in codes]
    prompts = dict(zip(ok, held_out_prompts(len(ok)))) if prompt == HELD_OUT else {}
    predictions = dict(zip(ok, translate_codes(model, [codes[i] for i in ok], batch_size,
                                               [prompts[i] for i in ok] if prompts else prompt, progress,
                                               **gen_kwargs)))
    rows = []
    for clip_id in ids:
        row = {"id": clip_id, "prediction": predictions.get(clip_id, "")}
        if clip_id in prompts:
            row["prompt"] = prompts[clip_id]
        if references is not None:
            row["reference"] = references[clip_id]
        if clip_id in errors:
            row["error"] = errors[clip_id]
        rows.append(row)
    return rows


def _load_model(model_dir: str | os.PathLike, device: str | None):
    from lslm.model.modeling import LSLM

    return LSLM.from_pretrained(model_dir, device=str(resolve_device(device)))


def translate_split(model_dir: str | os.PathLike, data_dir: str | os.PathLike, split: str, *,
                    batch_size: int = DEFAULT_BATCH_SIZE, prompt: str | None = None, device: str | None = None,
                    progress: bool = True, **gen_kwargs: Any) -> list[dict]:
    """Translate one split of a prepared dataset: [{"id", "prediction", "reference"}] in manifest order
    ("error" too for a clip without codes; its prediction is empty). `gen_kwargs` override
    DEFAULT_GENERATION."""
    gen_kwargs = generation_kwargs(**gen_kwargs)
    _check_options(batch_size, prompt, gen_kwargs)
    model = _load_model(model_dir, device)
    from lslm.tokenizer.codes import split_codes

    rows, clips, errors = split_codes(data_dir, split, Path(model_dir) / "tokenizer", model.motion_tokenizer,
                                      progress)
    codes = {clip_id: clip.codes for clip_id, clip in clips.items()}
    return _rows([r["id"] for r in rows], codes, errors, model, batch_size, prompt, progress,
                 gen_kwargs, references={r["id"]: r.get("text", "") for r in rows})


def translate_files(model_dir: str | os.PathLike, paths: Sequence[str | os.PathLike], *, fps: float | None = None,
                    fmt: str | None = None, convert: dict | None = None,
                    batch_size: int = DEFAULT_BATCH_SIZE, prompt: str | None = None, device: str | None = None,
                    progress: bool = True, **gen_kwargs: Any) -> list[dict]:
    """Translate motion files of any input format (`motion_file_codes`): [{"id" (file stem),
    "prediction"}] in input order ("error" for a file that could not be read; its prediction is empty)."""
    fps = None if fps is None else check_fps(fps, None, "fps")
    gen_kwargs = generation_kwargs(**gen_kwargs)
    _check_options(batch_size, prompt, gen_kwargs)
    model = _load_model(model_dir, device)
    ids = file_ids(paths)
    codes, errors = {}, {}
    for clip_id, path in zip(ids, paths):
        try:
            codes[clip_id] = motion_file_codes(path, model.motion_tokenizer, fps, fmt, convert)
        except Exception as e:  # noqa: BLE001 — one unreadable file must not cost the others their translations
            errors[clip_id] = printable(str(e) if isinstance(e, LslmError) else f"{path}: {type(e).__name__}: {e}")
    return _rows(ids, codes, errors, model, batch_size, prompt, progress, gen_kwargs)


def _check_options(batch_size: int, prompt: str | None, gen_kwargs: dict) -> None:
    """The run's options, checked before the model loads and any file is read."""
    from lslm.model.modeling import check_generation_options
    from lslm.model.tokens import MOTION_PLACEHOLDER

    check_int(batch_size, None, "batch_size", minimum=1)
    if prompt is not None and prompt != HELD_OUT and check_str(prompt, None, "prompt").count(MOTION_PLACEHOLDER) != 1:
        raise InvalidInputError(None, "prompt", f"one {MOTION_PLACEHOLDER} (or '{HELD_OUT}')", got=prompt[:80])
    check_generation_options(gen_kwargs)


__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_GENERATION", "HELD_OUT", "generation_kwargs", "held_out_prompts",
           "translate_codes", "translate_files", "translate_split"]
