"""LSLMConfig: what builds an LSLM, saved as lslm_config.json next to the weights."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from lslm.errors import ConfigError

MODES = ("projector", "vocab")
DTYPES = ("float32", "bfloat16", "float16", "auto")


@dataclass
class LoraSettings:
    """LoRA on the LLM (peft). rslora scales by alpha / sqrt(r) instead of alpha / r."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    rslora: bool = False
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class LSLMConfig:
    """An LLM by Hugging Face name or path, how motion enters it, and optional LoRA.

    llm: name or path of any `AutoModelForCausalLM` (the paper: meta-llama/Llama-3.2-3B-Instruct,
        Qwen/Qwen2.5-3B-Instruct); with LoRA it is also the base the saved adapter refers to.
    mode: "projector" (the paper: codebook vectors → MLP → embeddings at placeholder tokens) or
        "vocab" (MotionGPT baseline: each code is a new vocabulary token `<motion_id_k>`).
    projector_act: activation between the projector's two linear layers.
    dtype: dtype the LLM is loaded in.
    chat_template: wrap prompts in the text tokenizer's chat template (instruct LLMs).
    prompt: default prompt of `LSLM.generate`; None is the pretraining template "<Motion_Placeholder>".
    codebook_size, code_dim: the motion tokenizer's, filled in when the model is built; a checkpoint
        whose tokenizer disagrees is refused.
    """

    llm: str = "meta-llama/Llama-3.2-3B-Instruct"
    mode: str = "projector"
    projector_act: str = "gelu"
    dtype: str = "float32"
    chat_template: bool = False
    prompt: str | None = None
    lora: LoraSettings | None = None
    codebook_size: int | None = None
    code_dim: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"LSLMConfig.mode: expected one of {MODES}, got {self.mode!r}")
        if self.dtype not in DTYPES:
            raise ConfigError(f"LSLMConfig.dtype: expected one of {DTYPES}, got {self.dtype!r}")
        if isinstance(self.lora, dict):
            self.lora = _from_dict(LoraSettings, self.lora, "LSLMConfig.lora")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LSLMConfig:
        """Build from a plain dict (lslm_config.json or an OmegaConf node); unknown keys are errors."""
        return _from_dict(cls, data, "LSLMConfig")


def _from_dict(cls, data: dict[str, Any], where: str):
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown}; known keys are {sorted(known)}")
    return cls(**dict(data))
