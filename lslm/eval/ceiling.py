"""The translation ceiling: the same base LM taught gloss → English, read from the true gloss.

A perfect motion reader hands the LLM every sign; what it can still get wrong is what the gloss leaves
unsaid (the synthetic grammar picks "a" or "the", "is" or "was" ...) and what the LM cannot compose. So the
ceiling of motion → English is the score of the same base LM, trained for the same budget on gloss →
English pairs of the training split, translating the test split's true glosses. The prompt is the
base LM's chat format around GLOSS_PROMPT; training is `lslm.model.base_lm.fit_causal_lm` (AdamW,
warm-up, cosine; loss on the answer and its end token), decoding greedy.

    translator = train_gloss_translator("runs/demo/base_lm", [(gloss, text), ...], CeilingConfig())
    english = translate_glosses(translator, ["TOMORROW STORE I GO"])

`text_only_loss` is the other end: the untouched base LM's loss on the English as the answer to a chat
request that says nothing about it. A motion reader whose validation loss is not below it has learned
nothing from the motion.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from lslm.errors import InvalidInputError
from lslm.eval.reader_configs import CeilingConfig
from lslm.model.base_lm import CHAT_REQUESTS, GLOSS_PROMPT, chat_prompt_ids, fit_causal_lm


@dataclass
class GlossTranslator:
    """A causal LM and its tokenizer that answer GLOSS_PROMPT in their chat format."""

    model: object
    tokenizer: object

    def prompt_ids(self, gloss: str) -> list[int]:
        """Token ids of GLOSS_PROMPT for `gloss` in the model's chat format, ready for generation."""
        return chat_prompt_ids(self.tokenizer, GLOSS_PROMPT.format(gloss=gloss))


def train_gloss_translator(llm: str | Path, pairs: Sequence[tuple[str, str]], cfg: CeilingConfig = CeilingConfig(),
                           progress: bool = False) -> GlossTranslator:
    """The LM at `llm` (a Hugging Face folder or name with a chat template) trained on (gloss, English) pairs."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not pairs:
        raise InvalidInputError(None, "pairs", "at least one (gloss, English) pair", got=0)
    torch.manual_seed(cfg.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(llm))
    model = AutoModelForCausalLM.from_pretrained(str(llm), dtype=torch.float32)
    translator = GlossTranslator(model, tokenizer)
    items = []
    for gloss, text in pairs:
        prompt = translator.prompt_ids(gloss)
        answer = [*tokenizer(text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
        items.append((prompt + answer, len(prompt)))
    fit_causal_lm(model, items, tokenizer.pad_token_id, steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr,
                  warmup=cfg.warmup, rng=random.Random(cfg.seed), weight_decay=cfg.weight_decay, progress=progress,
                  desc="gloss → English")
    model.eval()
    return translator


@torch.no_grad()
def translate_glosses(translator: GlossTranslator, glosses: Sequence[str], batch_size: int = 64,
                      max_new_tokens: int = 64) -> list[str]:
    """Greedy English of each gloss string, in input order (batches left-padded)."""
    tok, model = translator.tokenizer, translator.model
    out: list[str] = [""] * len(glosses)
    order = sorted(range(len(glosses)), key=lambda i: len(glosses[i]))
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        rows = [translator.prompt_ids(glosses[i]) for i in chunk]
        width = max(map(len, rows))
        ids = torch.full((len(rows), width), tok.pad_token_id)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for b, r in enumerate(rows):
            ids[b, width - len(r):], mask[b, width - len(r):] = torch.tensor(r), 1
        new = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                             num_beams=1, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)[:, width:]
        for i, text in zip(chunk, tok.batch_decode(new, skip_special_tokens=True)):
            out[i] = text.strip()
    return out


@torch.no_grad()
def text_only_loss(llm: str | Path, texts: Sequence[str], request: str = CHAT_REQUESTS[0], batch_size: int = 64) -> float:
    """Mean answer-token loss (answer and its end token) of the LM at `llm` on each text as the answer to
    `request` in its chat format: what it predicts of the English knowing nothing about the clip."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(llm))
    model = AutoModelForCausalLM.from_pretrained(str(llm), dtype=torch.float32).eval()
    prompt = chat_prompt_ids(tokenizer, request)
    total, count = 0.0, 0
    for start in range(0, len(texts), batch_size):
        rows = [prompt + tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
                for t in texts[start:start + batch_size]]
        width = max(map(len, rows))
        ids = torch.full((len(rows), width), tokenizer.pad_token_id)
        labels = torch.full((len(rows), width), -100)
        for b, r in enumerate(rows):
            ids[b, :len(r)], labels[b, len(prompt):len(r)] = torch.tensor(r), torch.tensor(r[len(prompt):])
        logits = model(input_ids=ids, attention_mask=(labels != -100) | (torch.arange(width) < len(prompt))).logits
        losses = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), labels[:, 1:], reduction="sum")
        total, count = total + float(losses), count + int((labels[:, 1:] != -100).sum())
    return total / count
