"""LSLMConfig: what builds an LSLM, saved as lslm_config.json next to the weights."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from lslm.checks import strict_from_dict
from lslm.errors import ConfigError

MODES = ("projector", "vocab")
PROJECTOR_NORMS = ("none", "embedding")
DTYPES = ("float32", "bfloat16", "float16", "auto")


@dataclass
class LoraSettings:
    """LoRA on the LLM (peft). rslora scales by alpha / sqrt(r) instead of alpha / r."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    rslora: bool = False
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])

    def __post_init__(self) -> None:
        _check(self, "r", _is_int(self.r) and self.r >= 1, "a positive integer", "LSLMConfig.lora")
        _check(self, "alpha", _is_number(self.alpha) and self.alpha > 0, "a positive number", "LSLMConfig.lora")
        _check(self, "dropout", _is_number(self.dropout) and 0 <= self.dropout < 1, "a number in [0, 1)",
               "LSLMConfig.lora")
        _check(self, "rslora", isinstance(self.rslora, bool), "true or false", "LSLMConfig.lora")
        _check(self, "target_modules", isinstance(self.target_modules, (list, tuple)) and bool(self.target_modules)
               and all(isinstance(m, str) and m for m in self.target_modules), "a non-empty list of module names",
               "LSLMConfig.lora")


@dataclass
class LSLMConfig:
    """An LLM by Hugging Face name or path, how motion enters it, and optional LoRA.

    llm: name or path of any `AutoModelForCausalLM` (the paper: meta-llama/Llama-3.2-3B-Instruct,
        Qwen/Qwen2.5-3B-Instruct); with LoRA it is also the base the saved adapter refers to.
    mode: "projector" (the paper: codebook vectors → MLP → embeddings at placeholder tokens) or
        "vocab" (MotionGPT baseline: each code is a new vocabulary token `<motion_id_k>`).
    projector_act: activation between the projector's two linear layers.
    projector_norm: "none" (the paper) or "embedding": every projected code is rescaled to the mean L2
        norm of the LLM's word embeddings, so that motion enters the residual stream at the scale of words
        (unscaled, the demo's projected codes are ~26× that norm; docs/results.md, "Levers").
    dtype: dtype the LLM is loaded in.
    chat_template: wrap prompts in the text tokenizer's chat template (instruct LLMs).
    prompt: default prompt of `LSLM.generate`; None is the pretraining template "<Motion_Placeholder>".
    codebook_size, code_dim: the motion tokenizer's, filled in when the model is built; a checkpoint
        whose tokenizer disagrees is refused.
    """

    llm: str = "meta-llama/Llama-3.2-3B-Instruct"
    mode: str = "projector"
    projector_act: str = "gelu"
    projector_norm: str = "none"
    dtype: str = "float32"
    chat_template: bool = False
    prompt: str | None = None
    lora: LoraSettings | None = None
    codebook_size: int | None = None
    code_dim: int | None = None

    def __post_init__(self) -> None:
        from transformers.activations import ACT2FN

        from lslm.model.tokens import MOTION_PLACEHOLDER

        _check(self, "llm", isinstance(self.llm, str) and bool(self.llm), "a model name or path")
        _check(self, "mode", isinstance(self.mode, str) and self.mode in MODES, f"one of {MODES}")
        _check(self, "projector_act", isinstance(self.projector_act, str) and self.projector_act in ACT2FN,
               "a transformers activation name (gelu, relu, silu, ...)")
        _check(self, "projector_norm", isinstance(self.projector_norm, str) and self.projector_norm in PROJECTOR_NORMS, f"one of {PROJECTOR_NORMS}")
        _check(self, "dtype", isinstance(self.dtype, str) and self.dtype in DTYPES, f"one of {DTYPES}")
        _check(self, "chat_template", isinstance(self.chat_template, bool), "true or false")
        _check(self, "prompt", self.prompt is None or (isinstance(self.prompt, str) and
                                                       self.prompt.count(MOTION_PLACEHOLDER) == 1),
               f"null or a text holding one {MOTION_PLACEHOLDER}")
        for name in ("codebook_size", "code_dim"):
            value = getattr(self, name)
            _check(self, name, value is None or (_is_int(value) and value >= 1), "null or a positive integer")
        if isinstance(self.lora, dict):
            self.lora = strict_from_dict(LoraSettings, self.lora, "LSLMConfig.lora")
        _check(self, "lora", self.lora is None or isinstance(self.lora, LoraSettings),
               "null or an object of LoRA settings")

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (what `from_dict` reads back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LSLMConfig:
        """Build from a plain dict (lslm_config.json or an OmegaConf node); unknown keys are errors."""
        return strict_from_dict(cls, data, "LSLMConfig")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(config: Any, name: str, ok: bool, expected: str, where: str = "LSLMConfig") -> None:
    if not ok:
        got = repr(getattr(config, name))
        raise ConfigError(f"{where}.{name}: expected {expected}, got {got if len(got) <= 80 else got[:77] + '...'}")
