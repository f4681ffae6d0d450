"""Checkpoint files of a training run and the check that they belong to it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

BEST = "best.pt"  # model weights at the best validation epoch
LAST = "last.pt"  # everything needed to resume: model, optimizer, RNGs, early stopping, log
LOG = "train_log.json"
ITEM_TABLE = "item_table.npy"  # the best model's scoring vectors, row 0 the padding


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` through a temporary file, so an interruption never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        torch.save(state, temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    return torch.load(path, map_location=device, weights_only=True)


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def check_same_run(stored: dict[str, Any], current: dict[str, Any], where: Path) -> None:
    """Refuse a checkpoint written for another config, encoder or dataset."""
    old, new = _flatten(stored), _flatten(current)
    differing = sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))
    if differing:
        details = "; ".join(f"{k}: {old.get(k)!r} there, {new.get(k)!r} here"
                            for k in differing[:5])
        raise ValueError(f"{where} was written by a different run ({details}); "
                         "use another --out folder or delete it")
