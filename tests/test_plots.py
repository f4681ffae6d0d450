"""Figures: saved where asked, labelled with the numbers they show."""

import numpy as np

from llmemb_utils import plots


def test_save_figure_writes_png(tmp_path):
    fig = plots.popularity_curve(np.array([50, 10, 3, 1, 0]), head_min=10)
    path = plots.save_figure(fig, "pop", tmp_path)
    assert path == tmp_path / "pop.png" and path.read_bytes()[:4] == b"\x89PNG"
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["head (2 items, >= 10 interactions)", "tail (3 items)"]


def test_fast_mode_figures_never_land_in_figures(monkeypatch):
    monkeypatch.delenv(plots.FIGURES_ENV, raising=False)
    monkeypatch.setenv("LLMEMB_FAST", "1")
    assert plots.figures_dir().parts[-2:] == ("artifacts", "fast_figures")
    monkeypatch.setenv("LLMEMB_FAST", "0")
    assert plots.figures_dir().name == "figures"


def test_uniformity_figure_has_one_column_per_set():
    circle = np.stack([np.cos(np.linspace(0, 6, 50)), np.sin(np.linspace(0, 6, 50))], axis=1)
    head = np.arange(50) < 10
    fig = plots.uniformity_figure({"A": (circle, -3.21, head), "B": (circle, -1.5, head)})
    assert len(fig.axes) == 6
    assert [fig.axes[i].get_title() for i in (0, 1)] == ["A\nuniformity -3.21",
                                                         "B\nuniformity -1.50"]
