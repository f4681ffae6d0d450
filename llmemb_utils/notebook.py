"""Set-up shared by the numbered notebooks: quiet, seeded, reproducible, same on CLI and Colab."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import random
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import __version__
from .layout import fast_mode, repo_root
from .profiles import PROFILES, load_profile

__all__ = ["PROFILES", "NotebookContext", "fast_mode", "load_profile", "quietly", "repo_root",
           "seed_everything", "setup"]


def kit_commit() -> str:
    """The short git commit of the kit's checkout, or ``unknown`` outside a git clone."""
    try:
        done = subprocess.run(["git", "-C", str(repo_root()), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip()


def cpu_model() -> str:
    """The processor's name and core count, as results depend on both."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return f"{names[0] if names else platform.processor() or platform.machine()}, " \
           f"{os.cpu_count()} cores"


@dataclass(frozen=True)
class NotebookContext:
    """Where and how a notebook ran; printed first, so every output says what made it."""

    seed: int
    device: str
    fast: bool
    commit: str
    started: datetime
    cpu: str

    def __str__(self) -> str:
        mode = "fast (the CI slice)" if self.fast else "full (the whole dataset)"
        return "\n".join([
            f"kit     llmemb-utils {__version__}, commit {self.commit}",
            f"mode    {mode}",
            f"date    {self.started:%Y-%m-%d %H:%M} UTC",
            f"CPU     {self.cpu}",
            f"device  {self.device}, seed {self.seed}",
        ])


def setup(seed: int = 42, quiet: bool | None = None) -> NotebookContext:
    """Seed every RNG, silence library chatter when under test, and describe the run.

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
    return NotebookContext(seed=seed, device=device, fast=fast_mode(), commit=kit_commit(),
                           started=datetime.now(timezone.utc), cpu=cpu_model())


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
