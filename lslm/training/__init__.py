"""Training infrastructure shared by the recipes: typed configs, checkpoints, distributed helpers, metrics.

The runnable recipes that use it are `lslm.recipes.*` (train_tokenizer, pretrain, instruct, ...), each with a
typed `run(config)` and a `main(argv)` that `tools/*.py` wrap. See docs/training.md.
"""
from __future__ import annotations

from lslm.lazy import lazy_exports

# name → the submodule defining it, imported on first use: a torch-free submodule (a config) stays torch-free
_EXPORTS = {
    "CheckpointManager": "lslm.training.checkpoint",
    "TrainingState": "lslm.training.checkpoint",
    "load_training_state": "lslm.training.checkpoint",
    "save_training_state": "lslm.training.checkpoint",
    "OptimConfig": "lslm.training.config",
    "TrainConfig": "lslm.training.config",
    "load_config": "lslm.training.config",
    "save_config": "lslm.training.config",
    "DistInfo": "lslm.training.distributed",
    "init_distributed": "lslm.training.distributed",
    "MetricsLogger": "lslm.training.logging",
    "read_metrics": "lslm.training.logging",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
