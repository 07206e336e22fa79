"""Training infrastructure shared by the recipes: typed configs, checkpoints, distributed helpers, metrics.

Recipes (`lslm.training.vqvae`, the LSLM pretraining/instruction-tuning ones) are modules with a
`main(argv=None)`; `tools/*.py` wrap them. See docs/training.md.
"""
from lslm.training.checkpoint import (
    CheckpointManager,
    load_training_state,
    save_training_state,
    write_dir_atomic,
)
from lslm.training.config import OptimConfig, TrainConfig, load_config, save_config
from lslm.training.distributed import DistInfo, init_distributed
from lslm.training.logging import MetricsLogger, read_metrics

__all__ = [
    "CheckpointManager",
    "DistInfo",
    "MetricsLogger",
    "OptimConfig",
    "TrainConfig",
    "init_distributed",
    "load_config",
    "load_training_state",
    "read_metrics",
    "save_config",
    "save_training_state",
    "write_dir_atomic",
]
