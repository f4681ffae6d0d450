"""Where the kit keeps things: its root folder, fast mode, and the folders and files of a run.

Every stage writes under ``<artifacts>/<name>/`` of its config, a relative ``artifacts``
being anchored at the kit's root, so the CLI, the notebooks (started in ``notebooks/``) and
the demo all find the same files::

    data/                   the prepared dataset (``llmemb prepare``)
    scft/                   the SCFT checkpoint and LoRA adapter (``llmemb scft``)
    scft-seed<S>/           the SCFT run of seed S, when each study seed has its own
    embeddings/<kind>.npy   the LLM item tables RAT reads, scft or raw (``llmemb embed``)
    srs/<run>/              recommender runs (``llmemb train``), one folder per settings
    results.md              the study's Markdown table (``llmemb study``)

The committed run records of an experiment (``llmemb study``, ``llmemb report --write``) live
in the kit, not under ``artifacts``: ``results/<name>/`` (:func:`records_dir`).
"""

from __future__ import annotations

import os
from pathlib import Path

from .config import ExperimentConfig

FAST_ENV = "LLMEMB_FAST"
FIGURES_ENV = "LLMEMB_FIGURES"
RECORDS = "results"


def repo_root() -> Path:
    """The kit's root folder (the parent of ``llmemb_utils``)."""
    return Path(__file__).resolve().parent.parent


def fast_mode() -> bool:
    """Fast mode (``LLMEMB_FAST=1``): a slice of the data and few steps, for CI and smoke runs."""
    return os.environ.get(FAST_ENV, "0").lower() in ("1", "true", "yes")


def from_root(path: str | os.PathLike) -> Path:
    """``path`` itself when absolute, else the same path under the kit's root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else repo_root() / path


def records_dir(name: str) -> Path:
    """The committed records of experiment ``name``: ``results/<name>`` at the kit's root."""
    return repo_root() / RECORDS / name


def figures_dir() -> Path:
    """Where figures go: ``$LLMEMB_FIGURES``, else ``figures/`` at the kit's root, and in fast
    mode ``artifacts/fast_figures`` so that a CI run never overwrites the full run's figures."""
    default = from_root("artifacts/fast_figures" if fast_mode() else "figures")
    return Path(os.environ.get(FIGURES_ENV, default))


class RunLayout:
    """The folders and files of one experiment's run, named once for every stage."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.root = from_root(config.artifacts) / config.name

    def __repr__(self) -> str:
        return f"RunLayout({str(self.root)!r})"

    @property
    def data(self) -> Path:
        """The prepared dataset folder."""
        return self.root / "data"

    @property
    def scft(self) -> Path:
        """The SCFT output folder (checkpoint, history, ``adapter/``)."""
        return self.root / "scft"

    def scft_run(self, seed: int | None = None, recipe: str | None = None) -> Path:
        """The SCFT folder of the run with ``seed`` (``scft-seed<S>``; None: the experiment's
        own seed, :attr:`scft`), for studies that give each seed its own SCFT run, and with
        the SCFT settings of ``recipe`` (``scft-<recipe>[-seed<S>]``; None: the config's)."""
        return self.root / _scft_name(seed, recipe)

    @property
    def embeddings(self) -> Path:
        """The folder of the LLM item tables."""
        return self.root / "embeddings"

    def llm_table(self, kind: str, scft_seed: int | None = None,
                  scft_recipe: str | None = None) -> Path:
        """The LLM item table of ``kind`` (scft | raw), with its ``.json`` manifest beside;
        named like its SCFT run (:meth:`scft_run`), e.g. ``scft-seed<S>.npy``."""
        name = _scft_name(scft_seed, scft_recipe) if kind == "scft" else kind
        return self.embeddings / f"{name}.npy"

    @property
    def srs(self) -> Path:
        """The folder of the recommender runs."""
        return self.root / "srs"

    def srs_run(self, name: str) -> Path:
        """The recommender run folder called ``name``."""
        return self.srs / name

    @property
    def results(self) -> Path:
        """The study's Markdown results table."""
        return self.root / "results.md"


def _scft_name(seed: int | None, recipe: str | None) -> str:
    """``scft[-<recipe>][-seed<S>]``: the name of an SCFT run and of the table it gives."""
    return "-".join(["scft", *([recipe] if recipe else []),
                     *([f"seed{seed}"] if seed is not None else [])])
