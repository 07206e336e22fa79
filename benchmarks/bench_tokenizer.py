"""Tokenizer benchmarks with the paper's model size (width 512, code_dim 512, 1024 codes).

    python benchmarks/bench_tokenizer.py                       # encode throughput only
    python benchmarks/bench_tokenizer.py --default-malloc      # encode with glibc's default malloc settings
    python benchmarks/bench_tokenizer.py --t2m-gpt /tmp/T2M-GPT   # + training step vs T2M-GPT's VQ-VAE
    LSLM_T2M_GPT_DIR=/tmp/T2M-GPT python benchmarks/bench_tokenizer.py

1. `Tokenizer.encode` throughput (frames/s, inference mode, default thread count): a batch of clips
   of one length, and a batch of mixed lengths (each clip is encoded at its own length).
   Goal: ≥ 20,000 frames/s on 2 CPU cores. Runs with `lslm.cpu_memory.keep_freed_memory()`, as
   tools/encode_dataset.py does, unless `--default-malloc`.
2. One training step (forward, loss, backward, AdamW) of our VQVAE + vqvae_loss against T2M-GPT's own
   HumanVQVAE ("ema_reset" quantizer) + ReConsLoss with the same sizes (623-dim input, down_t 2, width
   512, 1024 codes, loss weights commit 0.02 / velocity 0.5), steps interleaved so both see the same
   machine load. Prints T2M-GPT time / our time (goal ≥ 1.0). Needs a T2M-GPT checkout (Apache-2.0,
   github.com/Mael-zys/T2M-GPT); skipped without one. Nothing of it is copied here: it is imported.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch

from lslm.cpu_memory import keep_freed_memory
from lslm.motion import Normalizer, default_rest_skeleton
from lslm.tokenizer import VQVAE, Tokenizer, TokenizerConfig, vqvae_loss

D = 623


def bench_encode(clips: int, frames: int, repeats: int, malloc: str) -> None:
    torch.manual_seed(0)
    model = VQVAE(TokenizerConfig())
    model(torch.randn(8, 64, D))                                    # initialise the codebook from data
    tok = Tokenizer(model, Normalizer(torch.zeros(D), torch.ones(D)), default_rest_skeleton(), fps=30.0)
    x = torch.randn(clips, frames, D)
    mixed = torch.randint(frames // 4, frames + 1, (clips,), generator=torch.Generator().manual_seed(0))
    print(f"encode: {clips} clips x {frames} frames, {torch.get_num_threads()} threads, inference mode, "
          f"malloc {malloc}")
    for name, lengths in (("equal lengths", None), ("mixed lengths", mixed)):
        tok.encode(x, lengths=lengths)                              # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            tok.encode(x, lengths=lengths)
            times.append(time.perf_counter() - start)
        n = clips * frames if lengths is None else int(lengths.sum())
        best, median = min(times), statistics.median(times)
        print(f"  {name:14s} {n / median:9,.0f} frames/s (median of {repeats}; best {n / best:,.0f})")


@contextlib.contextmanager
def _cuda_calls_stay_on_cpu():
    """T2M-GPT's quantizer registers its codebook with `.cuda()`; make that a no-op on a CPU machine."""
    original = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    try:
        yield
    finally:
        torch.Tensor.cuda = original


def _t2m_gpt_model(checkout: Path, cfg: TokenizerConfig):
    sys.path.insert(0, str(checkout))
    from models.encdec import Decoder, Encoder
    from models.vqvae import HumanVQVAE
    from utils.losses import ReConsLoss

    args = SimpleNamespace(dataname="t2m", quantizer="ema_reset", mu=cfg.ema_decay)
    sizes = {"down_t": cfg.down_t, "stride_t": cfg.stride_t, "width": cfg.width, "depth": cfg.depth,
                 "dilation_growth_rate": cfg.dilation_growth_rate, "activation": cfg.activation}
    with _cuda_calls_stay_on_cpu():
        net = HumanVQVAE(args, nb_code=cfg.codebook_size, code_dim=cfg.code_dim,
                         output_emb_width=cfg.code_dim, **sizes)
    # HumanVQVAE hard-codes 263/251 input channels: give it T2M-GPT's own Encoder/Decoder for 623
    net.vqvae.encoder = Encoder(D, cfg.code_dim, **sizes)
    net.vqvae.decoder = Decoder(D, cfg.code_dim, **sizes)
    return net, ReConsLoss(cfg.recon_loss, cfg.num_joints)


def bench_train_step(checkout: Path, batch: int, frames: int, steps: int) -> None:
    cfg = TokenizerConfig()
    torch.manual_seed(0)
    ours = VQVAE(cfg).train()
    theirs, their_loss = _t2m_gpt_model(checkout, cfg)
    theirs.train()
    n_ours = sum(p.numel() for p in ours.parameters())
    n_theirs = sum(p.numel() for p in theirs.parameters())
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=2e-4)
    opt_theirs = torch.optim.AdamW(theirs.parameters(), lr=2e-4)
    x = torch.randn(batch, frames, D)

    def step_ours() -> None:
        loss = vqvae_loss(x, ours(x), cfg)["total"]
        opt_ours.zero_grad()
        loss.backward()
        opt_ours.step()

    def step_theirs() -> None:
        recon, commit, _ = theirs(x)
        loss = their_loss(recon, x) + 0.02 * commit + 0.5 * their_loss.forward_vel(recon, x)
        opt_theirs.zero_grad()
        loss.backward()
        opt_theirs.step()

    print(f"training step: batch {batch} x {frames} frames x {D}, width {cfg.width}, "
          f"{cfg.codebook_size} codes; parameters ours {n_ours:,} / T2M-GPT {n_theirs:,}")
    times: dict[str, list[float]] = {"ours": [], "T2M-GPT": []}
    step_ours(), step_theirs()                                      # warm-up (and codebook init)
    for _ in range(steps):
        for name, step in (("ours", step_ours), ("T2M-GPT", step_theirs)):
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, t in median.items():
        print(f"  {name:8s} {1000 * t:8.1f} ms/step (median of {steps})")
    print(f"  ratio T2M-GPT / ours = {median['T2M-GPT'] / median['ours']:.3f} (goal >= 1.0)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--t2m-gpt", type=Path, default=os.environ.get("LSLM_T2M_GPT_DIR"),
                        help="T2M-GPT checkout for the training-step comparison (or LSLM_T2M_GPT_DIR)")
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--frames", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--default-malloc", action="store_true", help="leave glibc malloc's settings alone")
    args = parser.parse_args(argv)

    malloc = "unchanged" if args.default_malloc or not keep_freed_memory() else "keeps freed memory"
    bench_encode(args.clips, args.frames, args.repeats, malloc)
    if args.t2m_gpt is None or not (Path(args.t2m_gpt) / "models" / "vqvae.py").is_file():
        print("training step vs T2M-GPT: skipped (pass --t2m-gpt DIR or set LSLM_T2M_GPT_DIR)")
        return
    bench_train_step(Path(args.t2m_gpt), args.batch, args.window, args.steps)


if __name__ == "__main__":
    main()
