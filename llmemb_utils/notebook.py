"""Set-up shared by the numbered notebooks: quiet, seeded, reproducible, same on CLI and Colab."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .layout import fast_mode, repo_root

__all__ = ["NotebookContext", "fast_mode", "quietly", "repo_root", "seed_everything", "setup"]


@dataclass(frozen=True)
class NotebookContext:
    seed: int
    device: str
    fast: bool

    def __str__(self) -> str:
        mode = "fast (CI slice)" if self.fast else "full"
        return f"device={self.device}  seed={self.seed}  mode={mode}"


def setup(seed: int = 42, quiet: bool | None = None) -> NotebookContext:
    """Seed every RNG, silence library chatter when under test, and report the device.

    ``quiet`` defaults to True under test (``LLMEMB_FAST`` or ``TQDM_DISABLE`` set) so that
    strict nbval sees only deterministic output.
    """
    if quiet is None:
        quiet = fast_mode() or os.environ.get("TQDM_DISABLE") == "1"
    if quiet:
        os.environ["TQDM_DISABLE"] = "1"
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        warnings.filterwarnings("ignore")
        for name in ("transformers", "peft", "accelerate", "bitsandbytes", "matplotlib"):
            logging.getLogger(name).setLevel(logging.ERROR)
    import torch

    seed_everything(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return NotebookContext(seed=seed, device=device, fast=fast_mode())


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Hide the progress and log lines of the stages run inside the block (their own notebooks
    show them), so that a notebook's printed output is the same on every run."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):
        yield


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
