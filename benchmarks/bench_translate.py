"""Batched translation vs one clip at a time: clips/s, identical greedy outputs (asserted).

    python benchmarks/bench_translate.py [--clips 256] [--batch-size 64] [--new-tokens 16]
                                         [--hidden 128] [--layers 4] [--repeat 3] [--device cpu]
                                         [--default-malloc]
    python benchmarks/bench_translate.py --model OUT/lslm/final --data OUT/data [--split test]

Random model (default): bench_splice's random-weight LSLM (codebook 1024 × 512; nothing downloaded) at
the shape of the demo's base LM (Llama hidden 128, intermediate 352, 4 layers, 4 heads), the default
translation instruction in the chat template, 256 random clips of 16–80 codes (2–11 s at 30 fps), and
min_new_tokens = max_new_tokens so every clip decodes the same number of steps either way.
Trained model (--model, --data): the model's own prompt and the split's cached codes, decoding with
translate's defaults until each clip's end of sentence, as `tools/translate.py` does.

Three ways, each `--repeat` times interleaved, best time counted, all through
`lslm.model.translate.translate_codes`: one clip at a time; batches with the prompt computed in every
row (plain left padding, the naive batch); batches that compute the shared prompt text once (lslm).
Prints clips/s and the ratios; the goal is ≥ 8× over one at a time.
All three run with `lslm.cpu_memory.keep_freed_memory()`, as tools/translate.py does;
`--default-malloc` measures with glibc's default settings instead.
"""
from __future__ import annotations

import argparse
import resource
import time
from contextlib import contextmanager

import torch
from bench_splice import tiny_lslm

from lslm.cpu_memory import keep_freed_memory
from lslm.model import MOTION_PLACEHOLDER, TemplateSet
from lslm.model.translate import DEFAULT_BATCH_SIZE, DEFAULT_GENERATION, translate_codes


def random_setup(args):
    model, _ = tiny_lslm(args.hidden, args.layers)
    model.config.prompt = TemplateSet.load("instruct").default("m2t").input
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(16, 81, (args.clips,), generator=g).tolist()
    codes = [torch.randint(0, model.config.codebook_size, (n,), generator=g) for n in lengths]
    gen = {**DEFAULT_GENERATION, "max_new_tokens": args.new_tokens, "min_new_tokens": args.new_tokens}
    shape = f"random Llama hidden {args.hidden}, {args.layers} layers; {args.new_tokens} new tokens each"
    return model, codes, gen, shape


def trained_setup(args):
    from pathlib import Path

    from lslm.tokenizer.codes import split_codes
    from lslm.model import LSLM

    model = LSLM.from_pretrained(args.model, device="cpu")
    rows, codes, _ = split_codes(args.data, args.split, Path(args.model) / "tokenizer", model.motion_tokenizer,
                                 progress=False)
    codes = [codes[r["id"]].codes for r in rows if r["id"] in codes][: args.clips]
    return model, codes, dict(DEFAULT_GENERATION), f"{args.model} on {args.data} {args.split}; until end of sentence"


@contextmanager
def prompt_in_every_row(model):
    """The naive batch: no shared prefix, the prompt is computed in every row."""
    shared = model._shared_prefix_length
    model._shared_prefix_length = lambda rows: 0
    try:
        yield
    finally:
        model._shared_prefix_length = shared


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="default: translate's")
    p.add_argument("--new-tokens", type=int, default=16)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--model", help="a trained model folder (OUT/lslm/final) instead of the random model")
    p.add_argument("--data", help="with --model: the prepared dataset whose split is translated")
    p.add_argument("--split", default="test")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--default-malloc", action="store_true", help="leave glibc malloc's settings alone")
    args = p.parse_args()
    if bool(args.model) != bool(args.data):
        p.error("--model and --data go together")
    malloc = "unchanged" if args.default_malloc or not keep_freed_memory() else "keeps freed memory"

    model, codes, gen, shape = (trained_setup if args.model else random_setup)(args)
    model.to(args.device).eval()
    translate_codes(model, codes[:4], batch_size=4, progress=False, **gen)  # warm-up

    faults = {}  # way → minor page faults of its last pass

    def timed(way: str, batch_size: int) -> tuple[list[str], float]:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start, start_faults = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        out = translate_codes(model, codes, batch_size=batch_size, progress=False, **gen)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        faults[way] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start_faults
        return out, time.perf_counter() - start

    best = {"single": float("inf"), "naive": float("inf"), "shared": float("inf")}
    outputs = {}
    for _ in range(args.repeat):
        outputs["shared"], t = timed("shared", args.batch_size)
        best["shared"] = min(best["shared"], t)
        with prompt_in_every_row(model):
            outputs["naive"], t = timed("naive", args.batch_size)
        best["naive"] = min(best["naive"], t)
        outputs["single"], t = timed("single", 1)
        best["single"] = min(best["single"], t)
    single = outputs["single"]
    for way in ("naive", "shared"):
        assert outputs[way] == single, [i for i, (a, b) in enumerate(zip(outputs[way], single)) if a != b]
    assert len(set(single)) > 1
    n = len(codes)
    prompt = model.config.prompt or MOTION_PLACEHOLDER  # what LSLM.generate uses
    rows = [model.encoder.encode(prompt, c.tolist(), is_prompt=True) for c in codes[:2]]
    print(f"{n} clips of {min(map(len, codes))}-{max(map(len, codes))} codes, greedy; {shape}; {args.device}, "
          f"torch threads {torch.get_num_threads()}, malloc {malloc}; prompt: {len(rows[0]) - len(codes[0])} "
          f"text tokens, {model._shared_prefix_length(rows)} before the motion")
    for way, label in (("single", "one at a time"), ("naive", f"batch {args.batch_size} prompt in every row"),
                       ("shared", f"batch {args.batch_size} shared prompt")):
        print(f"{label:<30}: {n / best[way]:8.2f} clips/s ({best[way]:.2f} s), {faults[way]:7d} page faults")
    print(f"speed-up over one at a time: {best['single'] / best['shared']:.1f}x (goal >= 8x); "
          f"shared prompt over prompt in every row: {best['naive'] / best['shared']:.2f}x; outputs identical: True")


if __name__ == "__main__":
    main()
