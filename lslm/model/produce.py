"""Sign production with a vocabulary-mode LSLM: English sentences → motion codes → features → joints.

    model = LSLM.from_pretrained("runs/production/final")              # LSLMConfig.mode == "vocab"
    codes = produce_codes(model, ["My friend likes the red car."])      # [(L,) long]
    features = codes_to_features(model.motion_tokenizer, codes)          # [(4L, 623) raw features or None]
    joints = features_to_joints(features[0])                             # (4L, 52, 3) metres, y up

Sentences go to `LSLM.generate_motion` in batches of similar length; greedy output is the same as
producing one sentence at a time. A sentence for which the model writes no motion token gets an empty
code tensor (and no features): the caller reports it.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from lslm.errors import ConfigError, InvalidInputError

if TYPE_CHECKING:
    from lslm.model.modeling import LSLM
    from lslm.tokenizer import Tokenizer

# Greedy, like translation: deterministic and batch-invariant. 256 new tokens bound a runaway answer
# (a 7 s clip at 30 fps is 52 codes).
DEFAULT_PRODUCTION = {"num_beams": 1, "do_sample": False, "max_new_tokens": 256, "repetition_penalty": 1.0}
DEFAULT_BATCH_SIZE = 32


def check_producer(model: LSLM) -> None:
    """A ConfigError unless `model` is a vocabulary-mode LSLM (only those can write motion)."""
    if getattr(model.config, "mode", None) != "vocab":
        raise ConfigError(f"sign production needs a vocabulary-mode LSLM (LSLMConfig.mode = 'vocab', trained "
                          f"with text → motion pairs); this model has mode={model.config.mode!r}: its projector "
                          "reads motion but cannot write it")


def check_sentences(texts: Sequence[str], source: str | None = None) -> list[str]:
    """The sentences, stripped; an empty or non-string one is an InvalidInputError naming its index."""
    if isinstance(texts, str):
        texts = [texts]
    out = []
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(source, f"sentence {i}", "a non-empty string", got=repr(text)[:60])
        out.append(text.strip())
    if not out:
        raise InvalidInputError(source, "sentences", "at least one sentence", got="none")
    return out


def produce_codes(model: LSLM, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
                  progress: bool = True, **gen_kwargs: Any) -> list[torch.Tensor]:
    """Motion codes (L,) long for each sentence, in input order (an empty tensor where the model wrote
    none). `gen_kwargs` override DEFAULT_PRODUCTION and go to `LSLM.generate_motion`."""
    from tqdm.auto import tqdm

    check_producer(model)
    texts = check_sentences(texts)
    if batch_size < 1:
        raise InvalidInputError(None, "batch_size", "at least 1", got=batch_size)
    gen = {**DEFAULT_PRODUCTION, **{k: v for k, v in gen_kwargs.items() if v is not None}}
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths: less padding
    out: list[torch.Tensor] = [torch.empty(0, dtype=torch.long)] * len(texts)
    with tqdm(total=len(texts), desc="produce", unit="sentence", disable=not progress) as bar:
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            for i, codes in zip(batch, model.generate_motion([texts[i] for i in batch], **gen)):
                out[i] = codes.cpu()
            bar.update(len(batch))
    return out


def codes_to_features(tokenizer: Tokenizer, codes: Sequence[torch.Tensor]) -> list[torch.Tensor | None]:
    """Raw features (4L, D) of each code sequence (None for an empty one), decoded one by one (each
    clip decodes exactly as alone; see `Tokenizer.decode`)."""
    return [tokenizer.decode(c).cpu() if len(c) else None for c in codes]


__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_PRODUCTION", "check_producer", "check_sentences", "codes_to_features",
           "produce_codes"]
