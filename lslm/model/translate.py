"""Translate sign motion to English with a trained LSLM, in batches: files or a dataset split → JSONL.

    python tools/translate.py --model runs/lslm/final clips/*.npz --out preds.jsonl
    python tools/translate.py --model runs/lslm/final --data data/synthetic --split test --out preds.jsonl
    rows = translate_split("runs/lslm/final", "data/synthetic", "test", num_beams=5)   # [{id, prediction, reference}]

Inputs: raw clips of every format `prepare_dataset.py` reads (SignAvatars `.pkl`, SMPLer-X folders, Motion-X
`.npy`, joints `.npy` (T, 52, 3), lslm `.npz`; detected per file, or `--format`), converted exactly as
`prepare_dataset.py` converts them (`lslm.data.convert`, on the tokenizer's frame rate, skeleton and compat
flag), or feature `.npy` (T, 623) (raw, at the tokenizer's frame rate). A dataset split uses its codes cache
(tools/encode_dataset.py) for the model's tokenizer when there is one, else encodes the split's features on
the fly.
Clips go to `LSLM.generate` in batches of similar code length (less padding); greedy output is the
same as translating one clip at a time. `prompt="held-out"` (`--prompt held-out`) translates with the
instruction phrasings held out of training (assets/templates/instruct.json, "m2t"), clip i with
phrasing i mod their number, and writes each row's prompt: scores on phrasings the model never saw.
Every input gets one output row; an input that cannot be read gets an empty prediction and an "error"
message, and is counted in the summary.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from lslm.checks import check_fps, check_int, check_str
from lslm.cpu_memory import keep_freed_memory
from lslm.data.codes import file_ids, motion_file_codes, printable
from lslm.data.convert import add_convert_arguments, convert_overrides, input_formats
from lslm.data.manifest import write_jsonl
from lslm.errors import InvalidInputError, LslmError

# The paper does not state its decoding. Greedy is deterministic, batch-invariant and what MotionGPT
# reports m2t with; the other options are neutral until set (docs/translation.md).
DEFAULT_GENERATION = {"num_beams": 1, "do_sample": False, "length_penalty": 1.0, "no_repeat_ngram_size": 0,
                      "repetition_penalty": 1.0, "max_new_tokens": 64}


# Clips per batch. On 2 CPU cores 64 translates 3-19 % faster than 32 (docs/benchmarks.md); on a GPU,
# where one step's cost is reading the weights, larger batches gain more. Beam search makes
# num_beams rows of each clip.
DEFAULT_BATCH_SIZE = 64

HELD_OUT = "held-out"  # prompt value: the instruction phrasings held out of training


def generation_kwargs(**overrides) -> dict:
    """DEFAULT_GENERATION updated with the given options (None values are ignored)."""
    return {**DEFAULT_GENERATION, **{k: v for k, v in overrides.items() if v is not None}}


# ---- reading inputs ---------------------------------------------------------------------------------

# ---- translating ------------------------------------------------------------------------------------

def held_out_prompts(count: int) -> list[str]:
    """`count` prompts cycling through the instruction phrasings held out of training ("m2t")."""
    from lslm.model.templates import TemplateSet

    phrasings = [t.input for t in TemplateSet.load("instruct").templates("m2t", held_out=True)]
    return [phrasings[i % len(phrasings)] for i in range(count)]


def translate_codes(model, codes: Sequence[torch.Tensor], batch_size: int = DEFAULT_BATCH_SIZE,
                    prompt: str | Sequence[str | None] | None = None, progress: bool = True, **gen_kwargs) -> list[str]:
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


def _rows(ids: list[str], codes: dict[str, torch.Tensor], errors: dict[str, str], model, batch_size: int,
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

    return LSLM.from_pretrained(model_dir, device=device or ("cuda" if torch.cuda.is_available() else "cpu"))


def translate_split(model_dir: str | os.PathLike, data_dir: str | os.PathLike, split: str, *,
                    batch_size: int = DEFAULT_BATCH_SIZE, prompt: str | None = None, device: str | None = None,
                    progress: bool = True, **gen_kwargs) -> list[dict]:
    """Translate one split of a prepared dataset: [{"id", "prediction", "reference"}] in manifest order
    ("error" too for a clip without codes; its prediction is empty). `gen_kwargs` override
    DEFAULT_GENERATION."""
    gen_kwargs = generation_kwargs(**gen_kwargs)
    _check_options(batch_size, prompt, gen_kwargs)
    model = _load_model(model_dir, device)
    from lslm.data.codes import split_codes

    rows, codes, errors = split_codes(data_dir, split, Path(model_dir) / "tokenizer", model.motion_tokenizer,
                                      progress)
    return _rows([r["id"] for r in rows], codes, errors, model, batch_size, prompt, progress,
                 gen_kwargs, references={r["id"]: r.get("text", "") for r in rows})


def translate_files(model_dir: str | os.PathLike, paths: Sequence[str | os.PathLike], *, fps: float | None = None,
                    fmt: str | None = None, convert: dict | None = None,
                    batch_size: int = DEFAULT_BATCH_SIZE, prompt: str | None = None, device: str | None = None,
                    progress: bool = True, **gen_kwargs) -> list[dict]:
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


# ---- command line -----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Translate sign motion to English with a trained LSLM.")
    p.add_argument("--model", required=True, help="LSLM folder (LSLM.save_pretrained), e.g. RUN/final")
    p.add_argument("inputs", nargs="*", help="raw clips of any format (SignAvatars .pkl, SMPLer-X folder, Motion-X "
                   ".npy, joints .npy (T, 52, 3), lslm .npz, MediaPipe .pose, video: the `video` extra) or "
                   "features .npy (T, 623)")
    p.add_argument("--data", help="prepared dataset folder (instead of inputs)")
    p.add_argument("--split", default="test", help="split of --data (default test)")
    p.add_argument("--out", help="JSONL output: id, prediction, reference when known (default: print "
                   "'id<TAB>prediction' lines)")
    p.add_argument("--prompt", help="prompt with one <Motion_Placeholder> (default: the model's), or "
                   f"'{HELD_OUT}': the instruction phrasings held out of training, in turn")
    d = DEFAULT_GENERATION
    p.add_argument("--num-beams", type=int, default=d["num_beams"], help="1 = greedy (default)")
    p.add_argument("--length-penalty", type=float, default=d["length_penalty"], help="beam search only")
    p.add_argument("--no-repeat-ngram-size", type=int, default=d["no_repeat_ngram_size"], help="0 = off")
    p.add_argument("--repetition-penalty", type=float, default=d["repetition_penalty"], help="1.0 = off")
    p.add_argument("--max-new-tokens", type=int, default=d["max_new_tokens"])
    p.add_argument("--do-sample", action="store_true", help="sample instead of greedy / beam search")
    p.add_argument("--temperature", type=float, help="with --do-sample")
    p.add_argument("--top-p", type=float, help="with --do-sample")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                   help=f"clips per batch (default {DEFAULT_BATCH_SIZE}); beam search makes num_beams rows of each")
    p.add_argument("--format", choices=input_formats(), help="format of the inputs (default: detected per file)")
    add_convert_arguments(p)
    p.add_argument("--fps", dest="source_fps", type=float, help=argparse.SUPPRESS)  # the old name of --source-fps
    p.add_argument("--device", help="default: cuda when available, else cpu")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """0 when at least one clip was translated, 1 when none was, 2 for unusable arguments or model."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if bool(args.inputs) == bool(args.data):
        parser.error("give motion files or --data DIR (with --split), not both")
    gen = generation_kwargs(num_beams=args.num_beams, length_penalty=args.length_penalty,
                            no_repeat_ngram_size=args.no_repeat_ngram_size,
                            repetition_penalty=args.repetition_penalty, max_new_tokens=args.max_new_tokens,
                            do_sample=args.do_sample, temperature=args.temperature, top_p=args.top_p)
    out = Path(args.out) if args.out else None
    if out is not None and out.is_dir():
        print(f"error: {out}: --out: expected a JSONL file, got a folder", file=sys.stderr)
        return 2
    keep_freed_memory()  # batched generation on CPU page-faults less (lslm.cpu_memory)
    common = {"batch_size": args.batch_size, "prompt": args.prompt, "device": args.device,
              "progress": not args.no_progress}
    try:
        if args.data:
            rows = translate_split(args.model, args.data, args.split, **common, **gen)
        else:
            rows = translate_files(args.model, args.inputs, fps=args.source_fps, fmt=args.format,
                                   convert=convert_overrides(args), **common, **gen)
    except LslmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed = [r for r in rows if "error" in r]
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(out, rows)
    else:
        for r in rows:
            if "error" not in r:
                print(f"{r['id']}\t{r['prediction']}")
    for r in failed:
        print(f"skipped {r['id']}: {r['error']}", file=sys.stderr)
    summary = f"translated {len(rows) - len(failed)} clips, skipped {len(failed)}"
    print(f"{summary}; wrote {out}" if out else summary, file=sys.stdout if out else sys.stderr)
    return 0 if len(failed) < len(rows) else 1
