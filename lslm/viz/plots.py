"""Training figures: loss curves from a run's `metrics.jsonl`, and how often each code is used."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _figure(width: float = 6.0, height: float = 3.2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(width, height), dpi=100)


def _save(plt, fig, out_path: str | Path) -> Path:
    fig.tight_layout()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path)
    plt.close(fig)
    return out_path


def plot_curves(rows: list[dict], keys: list[str], out_path: str | Path, title: str = "") -> Path:
    """Plot `keys` against `step` for every split found in `rows` (metrics.jsonl rows); log y-axis."""
    plt, fig, ax = _figure()
    for split in sorted({r.get("split", "train") for r in rows}):
        for key in keys:
            points = [(r["step"], r[key]) for r in rows if r.get("split", "train") == split and key in r]
            if points:
                steps, values = zip(*points)
                ax.plot(steps, values, label=f"{split} {key}", lw=1.2)
    ax.set_xlabel("step")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(plt, fig, out_path)


def plot_code_usage(codes: np.typing.ArrayLike, codebook_size: int, out_path: str | Path,
                    title: str = "") -> Path:
    """Bar chart of code frequencies, most used first; padding (−1) ignored."""
    codes = np.asarray(codes).reshape(-1)
    counts = np.bincount(codes[codes >= 0], minlength=codebook_size)
    freq = np.sort(counts)[::-1] / max(counts.sum(), 1)
    plt, fig, ax = _figure()
    ax.bar(np.arange(codebook_size), freq, width=1.0)
    used = int((counts > 0).sum())
    ax.set_xlabel(f"code rank ({used} of {codebook_size} used)")
    ax.set_ylabel("frequency")
    ax.set_title(title)
    return _save(plt, fig, out_path)
