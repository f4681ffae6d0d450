"""Evaluate user states against an item table on one split: the body of ``metrics.json``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data.buckets import binned_masks, group_masks
from ..data.dataset import PreparedDataset
from .metrics import KS, expected_metrics, mean_metrics
from .protocol import Protocol
from .ranking import full_rank_counts, full_top_k, sample_negatives, sampled_rank_counts


def rank_counts(user_states: torch.Tensor, item_table: torch.Tensor,
                dataset: PreparedDataset, split: str,
                protocol: Protocol) -> tuple[np.ndarray, np.ndarray]:
    """``(greater, ties)`` of every user's ``split`` target among its candidates under
    ``protocol``: all a user's metrics follow from these two counts."""
    targets = dataset.targets(split)
    if protocol.candidates == "full":
        history = dataset.history(split) if protocol.exclude_history else None
        return full_rank_counts(user_states, item_table, targets, history)
    negatives = sample_negatives(dataset.sequences, dataset.num_items,
                                 protocol.num_negatives, protocol.seed)
    return sampled_rank_counts(user_states, item_table, targets, negatives)


def top_k_lists(user_states: torch.Tensor, item_table: torch.Tensor, dataset: PreparedDataset,
                split: str, protocol: Protocol, k: int) -> np.ndarray:
    """(U, k) item ids every user is shown under the full ``protocol``: its ``k`` best-scored
    candidates, the same candidates its ``split`` target is ranked among."""
    if protocol.candidates != "full":
        raise ValueError(f"top-{k} lists are drawn from full ranking, not {protocol.name!r}")
    history = dataset.history(split) if protocol.exclude_history else None
    return full_top_k(user_states, item_table, dataset.targets(split), k, history)


def per_user_metrics(user_states: torch.Tensor, item_table: torch.Tensor,
                     dataset: PreparedDataset, split: str, protocol: Protocol,
                     ks: tuple[int, ...] = KS) -> dict[str, np.ndarray]:
    """Expected HR/NDCG/MRR@K of every user's ``split`` target under ``protocol``."""
    return expected_metrics(*rank_counts(user_states, item_table, dataset, split, protocol),
                            ks=ks)


def summarize(per_user: dict[str, np.ndarray], dataset: PreparedDataset, split: str,
              protocol: Protocol) -> dict[str, Any]:
    """Overall and per-group means with group sizes, in the layout of docs/design.md §4.7."""
    targets = dataset.targets(split)
    groups: dict[str, Any] = {}
    counts: dict[str, Any] = {"users": len(targets)}
    for name, mask in group_masks(dataset, targets).items():
        groups[name] = mean_metrics(per_user, mask)
        counts[name] = int(mask.sum())
    for name, bins in binned_masks(dataset, targets).items():
        groups[name] = {label: mean_metrics(per_user, mask) for label, mask in bins.items()}
        counts[name] = {label: int(mask.sum()) for label, mask in bins.items()}
    return {"protocol": protocol.to_dict(), "overall": mean_metrics(per_user),
            "groups": groups, "counts": counts}


def evaluate(user_states: torch.Tensor, item_table: torch.Tensor, dataset: PreparedDataset,
             split: str, protocol: Protocol) -> dict[str, Any]:
    """Metrics of ``split`` under ``protocol``, overall and per group."""
    per_user = per_user_metrics(user_states, item_table, dataset, split, protocol)
    return summarize(per_user, dataset, split, protocol)
