"""The settings of the diagnostic readers, torch-free so that a recipe's configuration can name them:
the probe (lslm.eval.probe) and the translation ceiling (lslm.eval.ceiling)."""
from __future__ import annotations

from dataclasses import dataclass

SOURCES = ("features", "latents", "codes")


@dataclass(frozen=True)
class ProbeConfig:
    """The reader's size and its training (Adam, constant rate, random batches of train clips).
    context_frames: each output sees at least ± this many frames (the convolutions' kernel follows the
    vectors' rate, `lslm.eval.probe.kernel_size`)."""

    hidden: int = 64
    layers: int = 3
    context_frames: int = 24
    dropout: float = 0.1
    steps: int = 1000
    batch_size: int = 32
    lr: float = 2e-3
    seed: int = 0


@dataclass(frozen=True)
class CeilingConfig:
    """Training of the gloss reader; the defaults are the demo's instruction tuning (configs/lslm/synthetic.yaml):
    2500 steps of 16, LLM rate 1e-3, 100 warm-up steps, cosine.

    grammar_sentences: gloss → English pairs drawn from the synthetic grammar (never a sentence or gloss of
    another split) added to the train split's pairs, so that the LM cannot just memorise the training
    sentences (docs/diagnose.md: on the synthetic corpus it then memorises less but reads no better)."""

    steps: int = 2500
    batch_size: int = 16
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.0
    seed: int = 0
    grammar_sentences: int = 0
