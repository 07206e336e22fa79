"""Metrics to `metrics.jsonl` (one JSON object per line) and, optionally, TensorBoard.

Rows look like `{"step": 100, "split": "train", "loss": 0.41, "lr": 0.0002}`. Only rank 0 writes.
On resume from step S the rows after S (written by the interrupted run after its last checkpoint) are
dropped, so a resumed run's file is the same as an uninterrupted one's.
"""
from __future__ import annotations

import json
from pathlib import Path


class MetricsLogger:
    """Append metric rows to `<run_dir>/metrics.jsonl`; mirror them to TensorBoard when asked."""

    def __init__(self, run_dir: str | Path, enabled: bool = True, tensorboard: bool = False,
                 resume_step: int | None = None):
        self.path = Path(run_dir) / "metrics.jsonl"
        self.enabled = enabled
        self._writer = None
        if not enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume_step is None:
            self.path.write_text("", encoding="utf-8")
        elif self.path.exists():
            kept = [row for row in read_metrics(self.path) if row["step"] <= resume_step]
            self.path.write_text("".join(json.dumps(row) + "\n" for row in kept), encoding="utf-8")
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter
            self._writer = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"), purge_step=resume_step)

    def log(self, step: int, split: str, metrics: dict[str, float]) -> None:
        """Write one row; TensorBoard gets each value as scalar `split/name`."""
        if not self.enabled:
            return
        row = {"step": step, "split": split, **{k: v if isinstance(v, int) else float(v) for k, v in metrics.items()}}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        if self._writer is not None:
            for name, value in metrics.items():
                self._writer.add_scalar(f"{split}/{name}", float(value), step)

    def close(self) -> None:
        """Flush and close the TensorBoard writer, when there is one."""
        if self._writer is not None:
            self._writer.close()


def read_metrics(path: str | Path, split: str | None = None) -> list[dict]:
    """The rows of a `metrics.jsonl`, optionally only one split's."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if split is None or row["split"] == split]
