"""The hyperparameters of the text–motion evaluator (lslm.eval.evaluator), torch-free so that a recipe's
configuration can name them without loading the model code."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lslm.checks import strict_from_dict
from lslm.errors import ConfigError


@dataclass
class EvaluatorConfig:
    """Hyperparameters of the text–motion evaluator.

    feature_dim: size of one frame's features (623 for 52 joints).
    motion_width: channels of the motion encoder; stages: stride-2 convolutions (T → T / 2**stages).
    word_dim / text_width: word embedding size and GRU hidden size (per direction).
    embed_dim: size of the shared embedding (what FID is computed on).
    dropout: on the motion input and the pooled features during training.
    temperature: InfoNCE softmax temperature on cosine similarities.
    """

    feature_dim: int = 623
    motion_width: int = 256
    stages: int = 2
    word_dim: int = 128
    text_width: int = 128
    embed_dim: int = 256
    dropout: float = 0.1
    temperature: float = 0.1

    def __post_init__(self) -> None:
        for name in ("feature_dim", "motion_width", "stages", "word_dim", "text_width", "embed_dim"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"EvaluatorConfig.{name}: expected a positive integer, got {value!r}")
        if not 0.0 <= self.dropout < 1.0 or not self.temperature > 0:
            raise ConfigError(f"EvaluatorConfig: expected 0 <= dropout < 1 and temperature > 0, "
                              f"got {self.dropout!r}, {self.temperature!r}")

    @property
    def min_frames(self) -> int:
        """Shortest clip the motion encoder accepts (one position after the strided stages)."""
        return 2 ** self.stages

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluatorConfig:
        """The config `to_dict` wrote; unknown keys are a ConfigError."""
        return strict_from_dict(cls, data, "EvaluatorConfig")
