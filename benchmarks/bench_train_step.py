"""LSLM training step at the paper's model size: tokens/s and peak memory under DeepSpeed ZeRO-2 (bf16 on GPU).

    torchrun --standalone --nproc_per_node 1 benchmarks/bench_train_step.py [--shape llama3.2-3b]
        [--scheme joint] [--batch 16] [--seq-len 128] [--codes 64] [--steps 10]
        [--deepspeed configs/deepspeed/zero2.json] [--precision auto] [--gradient-checkpointing]
    python benchmarks/bench_train_step.py                   # without CUDA: --shape demo, one process

`--shape` defaults to llama3.2-3b with CUDA and to demo without (a 3B step on 2 CPU cores takes minutes).

The LLM has random weights and the shape of the paper's base model (`--shape llama3.2-3b` or
`qwen2.5-3b`: layers, widths, heads, vocabulary and tied embeddings of the public configs; nothing is
downloaded), or the demo's base LM (`demo`). The motion tokenizer has the paper's codebook (1024 × 512),
the projector is the paper's. The step is the recipe's own: `lslm.recipes.pretrain.build_engine`
(deepspeed.initialize with the filled JSON, AdamW with the projector's and the LLM's learning rates) on
the parameters `--scheme` trains (mlp: the projector; joint: both). Each process takes `--batch` rows of
`--seq-len` tokens, `--codes` of them motion codes spliced in; a text-only batch of the same length runs
through the same engine. Prints the median step of each, tokens/s over all processes, peak memory
(GPU: `torch.cuda.max_memory_allocated`; CPU: the process's maximum RSS) and the splice overhead
(motion step over text-only step; bench_splice measures it without DeepSpeed).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

import torch
from bench_splice import batches, random_motion_tokenizer, random_text_tokenizer

from lslm.model import LSLM, LSLMConfig
from lslm.training.distributed import destroy_distributed, init_distributed
from lslm.recipes.pretrain import SCHEMES, LSLMRunConfig, LSLMTrainConfig, build_engine, prepare_model
from lslm.training.engine import resolve_precision

# The public configs' fields that set a step's cost (rope scaling and token ids do not).
SHAPES = {
    "llama3.2-3b": ("llama", {"hidden_size": 3072, "intermediate_size": 8192, "num_hidden_layers": 28,
                              "num_attention_heads": 24, "num_key_value_heads": 8, "head_dim": 128,
                              "vocab_size": 128256, "tie_word_embeddings": True, "rope_theta": 500000.0,
                              "rms_norm_eps": 1e-5}),
    "qwen2.5-3b": ("qwen2", {"hidden_size": 2048, "intermediate_size": 11008, "num_hidden_layers": 36,
                             "num_attention_heads": 16, "num_key_value_heads": 2, "vocab_size": 151936,
                             "tie_word_embeddings": True, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6}),
    "demo": ("llama", {"hidden_size": 128, "intermediate_size": 352, "num_hidden_layers": 4, "num_attention_heads": 4,
                       "num_key_value_heads": 4, "vocab_size": 1024, "tie_word_embeddings": True}),
}


def random_llm(shape: str, dtype: torch.dtype, device: torch.device):
    """A causal LM of `shape` with random weights, built directly on `device` in `dtype`."""
    from transformers import AutoConfig, AutoModelForCausalLM

    model_type, fields = SHAPES[shape]
    config = AutoConfig.for_model(model_type, **fields)
    with torch.device(device):
        return AutoModelForCausalLM.from_config(config, dtype=dtype)


def standalone_environment() -> None:
    """The variables torchrun sets, for a one-process run started with plain `python`."""
    for key, value in (("RANK", "0"), ("LOCAL_RANK", "0"), ("WORLD_SIZE", "1"), ("MASTER_ADDR", "127.0.0.1"),
                       ("MASTER_PORT", "29511")):
        os.environ.setdefault(key, value)


def peak_memory_gib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", choices=sorted(SHAPES), default="llama3.2-3b" if torch.cuda.is_available() else "demo")
    p.add_argument("--scheme", choices=("mlp", "joint"), default="joint")
    p.add_argument("--batch", type=int, default=16, help="rows per process (the paper: 16 per GPU)")
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--codes", type=int, default=64, help="motion codes per row (a 8.5 s clip at 30 fps)")
    p.add_argument("--steps", type=int, default=10, help="timed steps of each kind, after 2 warm-up steps")
    p.add_argument("--deepspeed", default="configs/deepspeed/zero2.json", help="'none': plain PyTorch")
    p.add_argument("--precision", default="auto", help="auto (bf16 on CUDA, fp32 on CPU) | bf16 | fp32")
    p.add_argument("--gradient-checkpointing", action="store_true")
    args = p.parse_args()
    standalone_environment()

    info = init_distributed()
    precision = resolve_precision(args.precision, info.device)
    cfg = LSLMRunConfig(output_dir="unused", scheme=args.scheme, train=LSLMTrainConfig(
        batch_size=args.batch * info.world_size, micro_batch_size=args.batch, precision=precision,
        deepspeed=None if args.deepspeed == "none" else args.deepspeed,
        gradient_checkpointing=args.gradient_checkpointing))
    text_tokenizer, texts = random_text_tokenizer()
    torch.manual_seed(0)  # the same weights in every process
    llm = random_llm(args.shape, torch.bfloat16 if precision == "bf16" else torch.float32, info.device)
    motion_tokenizer = random_motion_tokenizer()
    model = LSLM(LSLMConfig(llm=f"random {args.shape}"), llm, text_tokenizer, motion_tokenizer)
    model = prepare_model(model, cfg, SCHEMES["pretrain"][args.scheme][0], info.device)
    engine = build_engine(cfg, model, info, step=0)
    motion, text = ({k: v.to(info.device) for k, v in b.items()}
                    for b in batches(model, texts, args.batch, args.seq_len, args.codes))

    def step(batch: dict) -> float:
        if info.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        engine.backward(engine(**batch).loss)
        engine.step()
        if info.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    for _ in range(2):  # warm-up: allocations, optimizer state, kernels
        step(motion), step(text)
    times = {"motion": [], "text": []}
    for _ in range(args.steps):  # interleaved
        times["motion"].append(step(motion))
        times["text"].append(step(text))
    peak = peak_memory_gib(info.device)
    if info.is_main:
        median = {k: statistics.median(v) for k, v in times.items()}
        tokens = args.batch * args.seq_len * info.world_size
        n_llm = sum(q.numel() for q in model.llm_parameters())
        trained = sum(q.numel() for q in model.parameters() if q.requires_grad)
        device = torch.cuda.get_device_name(info.device) if info.device.type == "cuda" else "cpu"
        print(f"{args.shape}: {n_llm / 1e6:,.1f} M LLM parameters, {trained / 1e6:,.1f} M trained (scheme "
              f"{args.scheme}); {info.world_size} × {device}; {precision}; {args.deepspeed}; batch {args.batch} "
              f"per process × {args.seq_len} tokens ({args.codes} codes); gradient checkpointing "
              f"{'on' if args.gradient_checkpointing else 'off'}; median of {args.steps}")
        for kind in ("motion", "text"):
            print(f"{kind + ' step':<12}: {median[kind] * 1e3:9.1f} ms, {tokens / median[kind]:10.0f} tokens/s")
        print(f"peak memory : {peak:.2f} GiB ({'torch.cuda.max_memory_allocated' if info.device.type == 'cuda' else 'max RSS'}, rank 0)")
        print(f"splice overhead: {100 * (median['motion'] / median['text'] - 1):+.1f} %")
    destroy_distributed()


if __name__ == "__main__":
    main()
