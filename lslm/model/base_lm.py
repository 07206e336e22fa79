"""A small language model that already knows a corpus' English, trained from scratch.

The paper aligns sign motion to Llama-3.2-3B, which knows English before it ever sees a sign. No real LLM
can be downloaded in CI or on a laptop without a GPU, so the synthetic pipeline stands one in: a BPE
tokenizer trained with `tokenizers` and a small Llama-architecture model trained on the corpus' English
training sentences, saved as an ordinary Hugging Face directory. Everything downstream loads it by path
exactly as it would load `meta-llama/Llama-3.2-3B-Instruct`.

    metrics = train_base_lm(sentences, "runs/base_lm", BaseLMConfig(steps=600), gloss_pairs=[(gloss, text)])

The command line (a prepared dataset's training sentences, optionally more from the synthetic grammar)
is `lslm.recipes.train_base_lm`. `gloss_pairs` teach it GLOSS_PROMPT (gloss → English): an instruct LLM
reads English words in sign order ("TOMORROW STORE I GO") without ever seeing a sign, and this gives the
stand-in the same skill.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import json
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from lslm.training.schedule import lr_factor

if TYPE_CHECKING:
    from transformers import LlamaForCausalLM, PreTrainedModel, PreTrainedTokenizerBase, PreTrainedTokenizerFast


SPECIAL_TOKENS = {"bos_token": "<|bos|>", "eos_token": "<|eos|>", "pad_token": "<|pad|>", "unk_token": "<|unk|>"}
# A plain-text chat format, as instruct LLMs have one: "<|bos|>user: …\nassistant:\n" then the answer.
CHAT_TEMPLATE = ("{{ bos_token }}{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n"
                 "{% endfor %}{% if add_generation_prompt %}assistant:\n{% endif %}")
# Generic requests the model learns to answer with a sentence of the corpus, so that it knows the chat
# format before alignment (Llama-3.2-Instruct knows its own).
CHAT_REQUESTS = ("Say a sentence.", "Write one English sentence.", "Tell me something.", "Answer in English.")
GLOSS_PROMPT = "Translate the glosses to English: {gloss}"  # --gloss-task, and lslm.eval.ceiling


@dataclass
class BaseLMConfig:
    vocab_size: int = 1024
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 352
    max_positions: int = 1024
    steps: int = 600
    batch_size: int = 32
    lr: float = 3e-3
    warmup: int = 50
    seed: int = 0
    grammar_sentences: int = 0  # extra sentences from the synthetic grammar (never a val/test sentence)
    gloss_task: bool = False  # also train gloss → English (GLOSS_PROMPT) on every sentence with a gloss


def train_text_tokenizer(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE trained in memory, wrapped as a `PreTrainedTokenizerFast` that puts BOS before a text
    (as Llama's does) and has CHAT_TEMPLATE."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS.values()),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator([*texts, *CHAT_REQUESTS, "user: assistant:"], trainer)
    bos = SPECIAL_TOKENS["bos_token"]
    bpe.post_processor = processors.TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, bpe.token_to_id(bos))])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, **SPECIAL_TOKENS)
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_base_lm(tokenizer: PreTrainedTokenizerBase, cfg: BaseLMConfig) -> LlamaForCausalLM:
    """A randomly initialised Llama-architecture causal LM sized by `cfg`."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers, num_attention_heads=cfg.num_heads,
        max_position_embeddings=cfg.max_positions, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config)


def fit_causal_lm(model: PreTrainedModel, items: list[tuple[list[int], int]], pad_id: int, *, steps: int, batch_size: int,
                  lr: float, warmup: int, rng: random.Random, weight_decay: float = 0.01, progress: bool = True,
                  desc: str = "train") -> list[float]:
    """Train a causal LM on token sequences; item = (ids, start): the loss covers ids[start:].

    AdamW, linear warm-up over `warmup` steps then cosine to 0 at `steps`, gradient norm clipped at 1;
    each step a random batch (drawn with `rng`) padded to its longest sequence. Returns the step losses.
    """
    import torch
    from tqdm import tqdm

    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(warmup, "cosine", steps))
    model.train()
    losses: list[float] = []
    bar = tqdm(range(steps), desc=desc, disable=not progress)
    for _ in bar:
        batch = rng.sample(items, min(batch_size, len(items)))
        width = max(len(seq) for seq, _ in batch)
        ids = torch.full((len(batch), width), pad_id)
        labels = torch.full((len(batch), width), -100)
        for i, (seq, start) in enumerate(batch):
            ids[i, : len(seq)] = torch.tensor(seq)
            labels[i, start: len(seq)] = torch.tensor(seq[start:])
        mask = (torch.arange(width)[None] < torch.tensor([len(seq) for seq, _ in batch])[:, None]).long()
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    return losses


def chat_prompt_ids(tokenizer: PreTrainedTokenizerBase, request: str) -> list[int]:
    """Token ids of one user request in the chat format, up to the start of the answer."""
    chat = tokenizer.apply_chat_template([{"role": "user", "content": request}], tokenize=False,
                                         add_generation_prompt=True)
    return tokenizer(chat, add_special_tokens=False)["input_ids"]


def train_base_lm(texts: list[str], out_dir: str | Path, cfg: BaseLMConfig | None = None,
                  progress: bool = True, gloss_pairs: Sequence[tuple[str, str]] = ()) -> dict:
    """Train tokenizer + LM on `texts` (one sentence each) and, as chat answers to GLOSS_PROMPT, on
    (gloss, English) `gloss_pairs`; save both to `out_dir` (HF format).

    Returns {"final_loss", "perplexity", "steps", "sentences", "gloss_pairs"}.
    """
    import torch

    cfg = cfg or BaseLMConfig()
    if not texts:
        raise ValueError("train_base_lm: no training sentences")
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    tokenizer = train_text_tokenizer([*texts, *(g for g, _ in gloss_pairs)], cfg.vocab_size)
    model = build_base_lm(tokenizer, cfg)

    # Each sentence is <bos> text <eos>, and once more as the answer to a chat request (loss on the answer);
    # batches are padded to their longest sequence.
    encoded = []
    for i, text in enumerate(texts):
        answer = [*tokenizer(text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
        prompt = chat_prompt_ids(tokenizer, CHAT_REQUESTS[i % len(CHAT_REQUESTS)])
        encoded += [([tokenizer.bos_token_id, *answer], 1), (prompt + answer, len(prompt))]
    for gloss, text in gloss_pairs:
        answer = [*tokenizer(text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
        prompt = chat_prompt_ids(tokenizer, GLOSS_PROMPT.format(gloss=gloss))
        encoded.append((prompt + answer, len(prompt)))
    losses = fit_causal_lm(model, encoded, tokenizer.pad_token_id, steps=cfg.steps, batch_size=cfg.batch_size,
                           lr=cfg.lr, warmup=cfg.warmup, rng=rng, progress=progress, desc="base LM")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    tail = losses[-20:]
    metrics = {"final_loss": sum(tail) / len(tail), "perplexity": math.exp(sum(tail) / len(tail)),
               "steps": cfg.steps, "sentences": len(texts), "gloss_pairs": len(gloss_pairs)}
    (out_dir / "base_lm.json").write_text(json.dumps({"config": asdict(cfg), "metrics": metrics}, indent=2))
    return metrics
