from PIL import Image

from lslm.viz.plots import plot_code_usage, plot_curves


def test_code_usage_counts_ignore_padding(tmp_path, monkeypatch):
    labels = []
    import matplotlib.axes
    monkeypatch.setattr(matplotlib.axes.Axes, "set_xlabel",
                        lambda self, text, *a, **k: labels.append(text))
    out = plot_code_usage([[0, 0, 3, -1], [5, 3, -1, -1]], 8, tmp_path / "usage.png")
    assert labels == ["code rank (3 of 8 used)"]
    assert Image.open(out).size == (600, 320)


def test_curves_one_line_per_split_and_key(tmp_path, monkeypatch):
    rows = [{"step": s, "split": "train", "loss": 1 / s, "recon": 2 / s} for s in range(1, 5)]
    rows += [{"step": 4, "split": "val", "loss": 0.3}]
    import matplotlib.axes
    lines = []
    real_plot = matplotlib.axes.Axes.plot
    monkeypatch.setattr(matplotlib.axes.Axes, "plot",
                        lambda self, x, y, **k: lines.append((k["label"], list(x))) or real_plot(self, x, y, **k))
    plot_curves(rows, ["loss", "recon"], tmp_path / "c.png")
    assert lines == [("train loss", [1, 2, 3, 4]), ("train recon", [1, 2, 3, 4]), ("val loss", [4])]
    assert (tmp_path / "c.png").stat().st_size > 1000
