"""Where a web-app translation request spends its time: conversion and encoding, generation, and the
animation at several frame limits (the app's --render-frames), on one model and clip, in one run.

    python benchmarks/app_latency.py --model runs/demo/lslm/final --clip runs/demo/corpus/motion/test_00000.npz

Each part is timed `--repeat` times after one warm-up call; the medians are printed with the render's
share of the whole request. docs/app.md has the figures.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def median_seconds(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--clip", required=True)
    p.add_argument("--frames", default="30,60,120", help="animation frame limits to time")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)

    from lslm.app.backend import AppModels
    from lslm.app.ui import AppSettings, _render
    from lslm.tokenizer.codes import features_codes
    from lslm.data.convert import file_features
    from lslm.model.translate import generation_kwargs

    models = AppModels.load(args.model)
    tokenizer = models.translator.motion_tokenizer
    features = file_features(args.clip, tokenizer.convert_options())
    codes = features_codes(features, tokenizer, args.clip)
    result = models.translate(args.clip)
    convert = median_seconds(lambda: features_codes(file_features(args.clip, tokenizer.convert_options()), tokenizer),
                             args.repeat)
    generate = median_seconds(lambda: models.translator.generate(codes=codes, **generation_kwargs()), args.repeat)
    print(f"clip: {len(features) + 1} frames, {len(codes)} codes; model {args.model}")
    print(f"convert + encode   {convert:7.3f} s")
    print(f"generate (greedy)  {generate:7.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for limit in map(int, args.frames.split(",")):
            settings = AppSettings(work_dir=tmp, max_render_frames=limit)
            render = median_seconds(lambda s=settings: _render(result.joints, result.fps, Path(tmp) / "a.gif", s),
                                    args.repeat)
            share = render / (convert + generate + render)
            print(f"render ≤{limit:4d} frames {render:7.3f} s   ({share:.0%} of the request)")


if __name__ == "__main__":
    main()
