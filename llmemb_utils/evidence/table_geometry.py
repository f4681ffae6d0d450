"""How much room a trained model leaves between its items: the uniformity
(:mod:`llmemb_utils.geometry`) of the vectors that score them, overall and within tail and
head items.

An LLM table is meant to spread the long tail; an adapter can undo that by crowding its outputs
into a few directions. The run's ``item_table.npy`` (its best model's scoring vectors) shows
which happened, and is cheap enough to measure for every record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.dataset import PreparedDataset
from ..geometry import uniformity
from ..srs.checkpoints import ITEM_TABLE

GROUPS = ("overall", "item_tail", "item_head")


def item_table_uniformity(run: Path, metrics: dict[str, Any]) -> dict[str, float | None]:
    """Uniformity of ``run``'s item vectors (padding row left out) overall, on tail items and
    on head items, with the head/tail split of the dataset named by its ``metrics`` file; None
    for a group of fewer than two items."""
    if not (run / ITEM_TABLE).is_file():
        raise FileNotFoundError(f"{run / ITEM_TABLE}: missing; a finished run writes its "
                                "best model's item vectors there (`llmemb train`)")
    table = np.load(run / ITEM_TABLE)[1:]
    data = metrics["inputs"]["data"]
    dataset = PreparedDataset.load(data["path"])
    if dataset.fingerprint != data["fingerprint"]:
        raise ValueError(f"{dataset.path}: dataset fingerprint {dataset.fingerprint} differs "
                         f"from the one {run} was trained on ({data['fingerprint']})")
    if len(table) != dataset.num_items:
        raise ValueError(f"{run / ITEM_TABLE}: {len(table)} item rows, the dataset has "
                         f"{dataset.num_items} items")
    head = dataset.is_head_item(np.arange(1, dataset.num_items + 1))
    masks = dict(zip(GROUPS, (np.ones_like(head), ~head, head), strict=True))
    return {name: uniformity(table[mask]) if mask.sum() >= 2 else None  # no pair: undefined
            for name, mask in masks.items()}


def uniformity_by_model(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The recorded ``item_table_uniformity`` of run records summarised over seeds: one row
    per backbone, model and group with ``mean``, ``std`` (ddof 1; 0 for a single run) and
    ``seeds``, leaving out records and groups where it is null (older records, one-item
    groups), so that models compare over the seeds they were measured on."""
    values: dict[tuple[str, str, str], list[float]] = {}
    for record in records:
        measured = record.get("item_table_uniformity") or {}
        for group in GROUPS:
            if measured.get(group) is not None:
                key = (record["backbone"], record["model"], group)
                values.setdefault(key, []).append(float(measured[group]))
    rows = [{"backbone": backbone, "model": model, "group": group,
             "mean": float(np.mean(found)),
             "std": float(np.std(found, ddof=1)) if len(found) > 1 else 0.0,
             "seeds": len(found)}
            for (backbone, model, group), found in values.items()]
    return pd.DataFrame(rows, columns=["backbone", "model", "group", "mean", "std", "seeds"])
