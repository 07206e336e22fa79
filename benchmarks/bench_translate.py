"""Batched translation vs one clip at a time: clips/s of both, identical greedy outputs (asserted).

    python benchmarks/bench_translate.py [--clips 256] [--batch-size 32] [--new-tokens 16]
                                         [--hidden 128] [--layers 4] [--repeat 3] [--device cpu]

The model is bench_splice's random-weight LSLM (codebook 1024 × 512; nothing downloaded) with, by default,
the shape of the demo's base LM (Llama hidden 128, intermediate 352, 4 layers, 4 heads). Clips are random code sequences of 16–80 codes (2–11 s at 30 fps). Both paths run
`lslm.model.translate.translate_codes` (what tools/translate.py does), greedy, with min_new_tokens =
max_new_tokens so every clip costs the same number of decoding steps whichever way it is run; each way
runs `--repeat` times, interleaved, and the best time counts. Prints clips/s both ways and the ratio;
the goal is ≥ 8×.
"""
from __future__ import annotations

import argparse
import time

import torch
from bench_splice import tiny_lslm

from lslm.model.translate import DEFAULT_GENERATION, translate_codes


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--new-tokens", type=int, default=16)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()

    model, _ = tiny_lslm(args.hidden, args.layers)
    model.to(args.device).eval()
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(16, 81, (args.clips,), generator=g).tolist()
    codes = [torch.randint(0, model.config.codebook_size, (n,), generator=g) for n in lengths]
    gen = {**DEFAULT_GENERATION, "max_new_tokens": args.new_tokens, "min_new_tokens": args.new_tokens}
    translate_codes(model, codes[:4], batch_size=4, progress=False, **gen)  # warm-up

    def timed(batch_size: int) -> tuple[list[str], float]:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = translate_codes(model, codes, batch_size=batch_size, progress=False, **gen)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        return out, time.perf_counter() - start

    t_batched = t_single = float("inf")
    for _ in range(args.repeat):
        batched, t = timed(args.batch_size)
        t_batched = min(t_batched, t)
        single, t = timed(1)
        t_single = min(t_single, t)
    assert batched == single, [i for i, (a, b) in enumerate(zip(batched, single)) if a != b]
    assert len(set(single)) > 1
    print(f"{args.clips} clips of 16-80 codes, {args.new_tokens} new tokens each, greedy; Llama hidden "
          f"{args.hidden}, {args.layers} layers; {args.device}, torch threads {torch.get_num_threads()}")
    print(f"one at a time : {args.clips / t_single:8.2f} clips/s ({t_single:.1f} s)")
    print(f"batch {args.batch_size:<7} : {args.clips / t_batched:8.2f} clips/s ({t_batched:.1f} s)")
    print(f"speed-up      : {t_single / t_batched:.1f}x (goal >= 8x); outputs identical: {batched == single}")


if __name__ == "__main__":
    main()
