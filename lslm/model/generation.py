"""Generation settings of translation (torch-free, so that command lines can show them without loading a model)."""
from __future__ import annotations

from typing import Any

# The paper does not state its decoding. Greedy is deterministic, batch-invariant and what MotionGPT
# reports m2t with; the other options are neutral until set (docs/translation.md).
DEFAULT_GENERATION = {"num_beams": 1, "do_sample": False, "length_penalty": 1.0, "no_repeat_ngram_size": 0,
                      "repetition_penalty": 1.0, "max_new_tokens": 64}


# Clips per batch. On 2 CPU cores 64 translates 3-19 % faster than 32 (docs/benchmarks.md); on a GPU,
# where one step's cost is reading the weights, larger batches gain more. Beam search makes
# num_beams rows of each clip.
DEFAULT_BATCH_SIZE = 64

HELD_OUT = "held-out"  # prompt value: the instruction phrasings held out of training


def generation_kwargs(**overrides: Any) -> dict:
    """DEFAULT_GENERATION updated with the given options (None values are ignored)."""
    return {**DEFAULT_GENERATION, **{k: v for k, v in overrides.items() if v is not None}}
