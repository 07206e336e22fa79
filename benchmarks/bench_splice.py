"""Train-step cost of the motion splice: an LSLM step on motion + text vs a text-only step, same length.

    python benchmarks/bench_splice.py [--hidden 256] [--layers 4] [--seq-len 128] [--codes 64] [--batch 16]
                                      [--repeats 10] [--device cpu]

One model for both: a random Llama (hidden 256, 4 layers, BPE vocabulary of ~1k trained in memory) with
the projector of a motion tokenizer whose codebook is the paper's size (1024 × 512). One AdamW over all
parameters (the projector's get no gradient, so no update, in the text-only step). A step is forward +
backward + optimizer step; the motion step splices `--codes` projected codebook vectors into each row of
`--seq-len` tokens (start, codes, end, text), the text-only step runs the LLM on `--seq-len` text tokens.
Prints the best of `--repeats` steps of each (interleaved) and the overhead; the goal is ≤ 5 %.
"""
from __future__ import annotations

import argparse
import random
import time

import torch

WORDS = ["i", "you", "we", "they", "go", "come", "see", "want", "learn", "sign", "language", "home", "school", "book", "library", "where", "what", "when", "morning", "evening", "tonight", "tomorrow", "friend", "family", "teacher", "student", "thank", "please", "hello", "good", "bad", "big", "small", "happy", "sad", "eat", "drink", "water", "coffee", "work", "play", "read", "write", "name", "my", "your", "our", "their", "is", "are", "was"]


def random_text_tokenizer(seed: int = 0):
    """(BPE tokenizer of ~1k tokens, its training sentences): random sentences of WORDS, trained in memory."""
    from lslm.model.base_lm import train_text_tokenizer

    rng = random.Random(seed)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(3, 12))) for _ in range(2000)]
    return train_text_tokenizer(texts, vocab_size=1024), texts


def random_motion_tokenizer(codebook_size: int = 1024, code_dim: int = 512, seed: int = 0):
    """A motion tokenizer with a random codebook (drawn from torch's global generator)."""
    import numpy as np

    from lslm.motion import Normalizer, default_rest_skeleton
    from lslm.tokenizer import VQVAE, Tokenizer, TokenizerConfig

    vq = VQVAE(TokenizerConfig(width=32, code_dim=code_dim, codebook_size=codebook_size, depth=1))
    with torch.no_grad():
        vq.quantizer.codebook.copy_(0.1 * torch.randn(codebook_size, code_dim))
    normalizer = Normalizer.fit(np.random.default_rng(seed).normal(size=(64, 623)), num_joints=52)
    return Tokenizer(vq, normalizer, default_rest_skeleton(), fps=30.0)


def tiny_lslm(hidden: int = 256, layers: int = 4, codebook_size: int = 1024, code_dim: int = 512, seed: int = 0):
    """A random-weight LSLM built in memory (nothing downloaded): BPE + Llama + a motion tokenizer."""
    from lslm.model import LSLM, LSLMConfig
    from lslm.model.base_lm import BaseLMConfig, build_base_lm

    text_tokenizer, texts = random_text_tokenizer(seed)
    torch.manual_seed(seed)
    llm = build_base_lm(text_tokenizer, BaseLMConfig(hidden_size=hidden, num_layers=layers, num_heads=4,
                                                     intermediate_size=hidden * 11 // 4))
    motion_tokenizer = random_motion_tokenizer(codebook_size, code_dim, seed)
    return LSLM(LSLMConfig(llm="random"), llm.eval(), text_tokenizer, motion_tokenizer), texts


def batches(model, texts: list[str], batch: int, seq_len: int, num_codes: int) -> tuple[dict, dict]:
    """(motion batch, text-only batch), both (batch, seq_len); labels on the text tokens."""
    g = torch.Generator().manual_seed(0)
    vocab = len(model.text_tokenizer)
    ids = model.text_tokenizer(" ".join(texts))["input_ids"]
    text_ids = torch.tensor(ids[: batch * seq_len]).reshape(batch, seq_len)  # (B, S) real text
    motion_ids = text_ids.clone()
    motion_ids[:, 1] = model.token_ids["start"]
    motion_ids[:, 2:2 + num_codes] = model.token_ids["placeholder"]
    motion_ids[:, 2 + num_codes] = model.token_ids["end"]
    labels = text_ids.clone()
    labels[:, : 3 + num_codes] = -100
    codes = torch.randint(0, model.config.codebook_size, (batch, num_codes), generator=g)
    mask = torch.ones_like(text_ids)
    assert int(text_ids.max()) < vocab
    return ({"input_ids": motion_ids, "attention_mask": mask, "codes": codes, "labels": labels},
            {"input_ids": text_ids, "attention_mask": mask, "labels": labels})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--codes", type=int, default=64, help="motion codes per row (a 8.5 s clip at 30 fps)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()

    model, texts = tiny_lslm(args.hidden, args.layers)
    model.to(args.device).train()
    model.set_trainable(projector=True, llm=True)
    motion, text = (
        {k: v.to(args.device) for k, v in b.items()}
        for b in batches(model, texts, args.batch, args.seq_len, args.codes))
    optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=1e-5)

    def step(batch: dict, spliced: bool) -> float:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        out = model(**batch) if spliced else model.llm(**batch)
        out.loss.backward()
        optimizer.step()
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    for _ in range(2):  # warm-up (allocations, AdamW state)
        step(motion, True), step(text, False)
    times = {"motion": [], "text": []}
    for _ in range(args.repeats):
        times["motion"].append(step(motion, True))
        times["text"].append(step(text, False))
    best_motion, best_text = min(times["motion"]), min(times["text"])
    n_llm = sum(q.numel() for q in model.llm_parameters())
    n_proj = sum(q.numel() for q in model.projector_parameters())
    print(f"Llama hidden {args.hidden}, {args.layers} layers ({n_llm / 1e6:.2f} M params), projector "
          f"{n_proj / 1e6:.2f} M; batch {args.batch} × {args.seq_len} tokens, {args.codes} codes per row; "
          f"{args.device}, torch threads {torch.get_num_threads()}, best of {args.repeats}")
    print(f"text-only step : {best_text * 1e3:8.1f} ms")
    print(f"motion step    : {best_motion * 1e3:8.1f} ms")
    overhead = 100 * (best_motion / best_text - 1)
    print(f"splice overhead: {overhead:+.1f} % (goal <= 5 %)")


if __name__ == "__main__":
    main()
