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
from scipy import stats

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


def uniformity_gap(records: Iterable[Mapping[str, Any]], backbone: str, model: str,
                   baseline: str, group: str) -> dict[str, Any]:
    """``model``'s recorded uniformity on ``group`` minus ``baseline``'s, paired by seed (both
    trained on the same seed), with a Student-t 95 % interval over the seeds. Uniformity is a
    property of a whole table, not of users, so the seeds are its only replicates; below 0 the
    model spreads the group more. ``ci95`` is None for a single seed."""
    by_seed: dict[str, dict[int, float]] = {model: {}, baseline: {}}
    for record in records:
        value = (record.get("item_table_uniformity") or {}).get(group)
        if record["backbone"] == backbone and record["model"] in by_seed and value is not None:
            by_seed[record["model"]][record["seed"]] = value
    seeds = sorted(by_seed[model].keys() & by_seed[baseline].keys())
    if not seeds:
        raise ValueError(f"no seed with a recorded {group} uniformity for both {model} and "
                         f"{baseline} on {backbone}")
    gaps = np.array([by_seed[model][seed] - by_seed[baseline][seed] for seed in seeds])
    mean, ci95 = float(gaps.mean()), None
    if len(gaps) > 1:
        half = stats.t.ppf(0.975, len(gaps) - 1) * gaps.std(ddof=1) / np.sqrt(len(gaps))
        ci95 = (mean - float(half), mean + float(half))
    return {"backbone": backbone, "model": model, "baseline": baseline, "group": group,
            "seeds": seeds, "diff": mean, "ci95": ci95}
