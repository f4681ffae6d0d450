"""Every figure of the kit, saved through :func:`save_figure` into ``figures/``.

Plot functions take data (arrays, dicts), return the matplotlib ``Figure`` and never compute
metrics themselves. The palette is colour-blind safe (Okabe-Ito).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

if not os.environ.get("DISPLAY") and "MPLBACKEND" not in os.environ:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000")
FIGURES_ENV = "LLMEMB_FIGURES"


def figures_dir() -> Path:
    """Where figures go: ``$LLMEMB_FIGURES`` or ``figures/`` at the kit's root."""
    default = Path(__file__).resolve().parent.parent / "figures"
    return Path(os.environ.get(FIGURES_ENV, default))


def save_figure(fig: plt.Figure, name: str, folder: str | Path | None = None) -> Path:
    """Save ``fig`` as ``<folder>/<name>.png`` (150 dpi, tight) and return the path."""
    folder = Path(folder) if folder is not None else figures_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=150, bbox_inches="tight", metadata={"Software": None})
    return path
