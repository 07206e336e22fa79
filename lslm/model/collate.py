"""(clip, template) pairs → padded LLM batches: input_ids, attention_mask, labels, codes.

A clip is the `CodedClip` of the codes cache (id, codes, text, gloss); the template says which task it
trains. A pair's prompt and answer are tokenised apart; `<Motion_Placeholder>` in either becomes
`<Motion_Start>`, one token per code, `<Motion_End>` — placeholders (projector mode: the projected
codebook vectors replace their embeddings) or `<motion_id_k>` tokens (vocab mode). Labels are −100
on the prompt and on padding, so the loss covers the answer (and its end-of-sequence token) only.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

import torch

from lslm.checks import check_numeric
from lslm.errors import InvalidInputError
from lslm.model.templates import Template
from lslm.model.tokens import MOTION_PLACEHOLDER
from lslm.tokenizer.codes import CodedClip

IGNORE_INDEX = -100
PRETRAIN_M2T = Template("m2t", MOTION_PLACEHOLDER, "<Caption_Placeholder>")


def codes_list(codes: torch.Tensor | Sequence[int], codebook_size: int) -> list[int]:
    """Validated codes of one clip as a list; trailing −1 padding is dropped."""
    c = check_numeric([] if isinstance(codes, (list, tuple)) and not codes else codes, None, "codes",
                      integer=not (isinstance(codes, (list, tuple)) and not codes))
    if c.ndim != 1:
        raise InvalidInputError(None, "codes", "one clip's codes: a sequence (L,) of integers", got=tuple(c.shape))
    c = torch.as_tensor(c, dtype=torch.long)
    valid = c >= 0
    n = int(valid.cumprod(0).sum())
    if int(valid.sum()) != n or (c >= codebook_size).any() or (c < -1).any() or n == 0:
        raise InvalidInputError(None, "codes", f"at least one code in [0, {codebook_size}) then only -1 padding",
                                got=c.tolist()[:16])
    return c[:n].tolist()


def corrupt_codes(codes: torch.Tensor, fraction: float, codebook_size: int, generator: torch.Generator) -> torch.Tensor:
    """codes (B, L), −1 padded → a copy in which each real code is replaced, with probability `fraction`, by a
    code drawn uniformly from [0, codebook_size) (T2M-GPT's input corruption, a regulariser for the reader);
    padding stays −1. Draws come from `generator` only, so a seeded generator gives the same batch again."""
    hit = (torch.rand(codes.shape, generator=generator) < fraction) & (codes >= 0)
    return torch.where(hit, torch.randint(codebook_size, codes.shape, generator=generator), codes)


class PromptEncoder:
    """Tokenises text holding `<Motion_Placeholder>` and expands the placeholder for one clip's codes."""

    def __init__(self, hf_tokenizer, token_ids: dict[str, int], mode: str, codebook_size: int,
                 chat_template: bool = False):
        self.tokenizer = hf_tokenizer
        self.ids = token_ids
        self.mode = mode
        self.codebook_size = codebook_size
        self.chat_template = chat_template

    def motion_ids(self, codes: list[int]) -> list[int]:
        """start, one token per code, end."""
        if self.mode == "vocab":
            body = [self.ids["code_offset"] + c for c in codes]
        else:
            body = [self.ids["placeholder"]] * len(codes)
        return [self.ids["start"], *body, self.ids["end"]]

    def encode(self, text: str, codes: list[int] | None, is_prompt: bool) -> list[int]:
        """Token ids of a prompt (chat template and BOS as the tokenizer does them) or of an answer."""
        if is_prompt and self.chat_template:
            text = self.tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                                      add_generation_prompt=True)
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        else:
            ids = self.tokenizer(text, add_special_tokens=is_prompt)["input_ids"]
        slots = [i for i, t in enumerate(ids) if t == self.ids["placeholder"]]
        if len(slots) != (0 if codes is None else 1):
            raise InvalidInputError(None, "prompt", f"{'one' if codes is not None else 'no'} "
                                    f"{MOTION_PLACEHOLDER} in {text!r}", got=f"{len(slots)}")
        if codes is None:
            return ids
        i = slots[0]
        return ids[:i] + self.motion_ids(codes) + ids[i + 1:]

    def encode_pair(self, clip: CodedClip, template: Template) -> tuple[list[int], list[int], list[int]]:
        """(input_ids, labels, codes) of one clip in one template."""
        codes = codes_list(clip.codes, self.codebook_size)
        prompt, answer = template.fill(clip.text, clip.gloss)
        motion_in_answer = MOTION_PLACEHOLDER in answer
        if motion_in_answer and self.mode != "vocab":
            raise InvalidInputError(None, "template", "motion in the prompt (motion output needs mode 'vocab')",
                                    got=template.output)
        prompt_ids = self.encode(prompt, None if motion_in_answer else codes, is_prompt=True)
        answer_ids = self.encode(answer, codes if motion_in_answer else None, is_prompt=False)
        answer_ids.append(self.tokenizer.eos_token_id)
        return prompt_ids + answer_ids, [IGNORE_INDEX] * len(prompt_ids) + answer_ids, codes


class MotionTextCollator:
    """Batches clips, each in its template (one template for all, or PRETRAIN_M2T when None), with dynamic
    padding (right padding: for training).

    Returns input_ids (B, S), attention_mask (B, S), labels (B, S) with −100 on prompt, motion and
    padding, and in projector mode codes (B, L_max) padded with −1.
    """

    def __init__(self, encoder: PromptEncoder, pad_to_multiple_of: int | None = None):
        self.encoder = encoder
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, clips: Sequence[CodedClip], templates: Template | Sequence[Template] | None = None
                 ) -> dict[str, torch.Tensor]:
        if not clips:
            raise InvalidInputError(None, "clips", "at least one CodedClip", got="none")
        if templates is None or isinstance(templates, Template):
            templates = [templates or PRETRAIN_M2T] * len(clips)
        if len(templates) != len(clips):
            raise InvalidInputError(None, "templates", f"one template or one per clip ({len(clips)})", got=len(templates))
        encoded = [self.encoder.encode_pair(c, t) for c, t in zip(clips, templates)]
        S = max(len(ids) for ids, _, _ in encoded)
        if self.pad_to_multiple_of:
            S = -(-S // self.pad_to_multiple_of) * self.pad_to_multiple_of
        L = max(len(c) for _, _, c in encoded)
        B = len(encoded)
        input_ids = torch.full((B, S), self.encoder.tokenizer.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros(B, S, dtype=torch.long)
        labels = torch.full((B, S), IGNORE_INDEX, dtype=torch.long)
        codes = torch.full((B, L), -1, dtype=torch.long)
        for b, (ids, lab, c) in enumerate(encoded):
            input_ids[b, : len(ids)] = torch.tensor(ids)
            attention_mask[b, : len(ids)] = 1
            labels[b, : len(lab)] = torch.tensor(lab)
            codes[b, : len(c)] = torch.tensor(c)
        batch = {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
        if self.encoder.mode == "projector":
            batch["codes"] = codes
        return batch


def length_grouped_batches(lengths: Sequence[int], batch_size: int, seed: int = 0,
                           mega_batch_mult: int = 50) -> list[list[int]]:
    """Indices in batches of similar length (less padding), random from epoch to epoch via `seed`.

    Shuffle, cut into mega-batches of mega_batch_mult × batch_size, sort each by length (longest
    first), cut into batches, shuffle the batches. Every index appears exactly once.
    """
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    mega = batch_size * mega_batch_mult
    batches = []
    for start in range(0, len(order), mega):
        chunk = sorted(order[start:start + mega], key=lambda i: -lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches
