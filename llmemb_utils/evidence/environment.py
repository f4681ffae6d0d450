"""What a run was computed on, recorded beside its metrics: the numbers of a CPU run depend on
the kit's code, the torch build, the thread count and the CPU's instruction set (bf16 kernels
differ between CPUs with and without ``avx512_bf16``)."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import Any

CPUINFO = Path("/proc/cpuinfo")
KIT_ROOT = Path(__file__).resolve().parents[2]


def environment() -> dict[str, Any]:
    """Kit commit (None outside a git checkout), torch version and threads, CPU model and
    whether it has ``avx512_bf16`` (None where ``/proc/cpuinfo`` is missing)."""
    import torch

    model, flags = cpu_info(CPUINFO)
    return {
        "kit_commit": _git("rev-parse", "HEAD"),
        "kit_modified": kit_modified(),  # uncommitted edits to the code behind the run
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "cpu": model or platform.processor() or None,
        "avx512_bf16": None if flags is None else "avx512_bf16" in flags,
        "python": platform.python_version(),
    }


def cpu_info(path: Path) -> tuple[str | None, set[str] | None]:
    """The first ``model name`` and ``flags`` of a ``/proc/cpuinfo``-style file."""
    if not path.is_file():
        return None, None
    fields: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags")
    return fields.get("model name"), None if flags is None else set(flags.split())


# What computes a run: the package and the configs it reads. Notebook outputs, figures, docs
# and records change while the notebooks run, and say nothing about the code.
CODE_PATHS = ("llmemb_utils", "configs", "pyproject.toml")


def kit_modified(root: Path = KIT_ROOT) -> bool | None:
    """Whether the checkout at ``root`` has uncommitted changes to ``CODE_PATHS``, new
    untracked files among them included; None outside a git checkout."""
    changes = _git("status", "--porcelain", "--", *CODE_PATHS, root=root)
    return None if changes is None else bool(changes)


def _git(*args: str, root: Path = KIT_ROOT) -> str | None:
    """Output of a git command in the kit's checkout; None for an installed copy."""
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()
