"""Long-tail groups of test cases: tail/head target items, short/long users, popularity bins.

Thresholds and popularity come from training interactions only (design.md §4), via the
prepared dataset.
"""

from __future__ import annotations

import numpy as np

from ..data.dataset import ITEM_POPULARITY_BINS, USER_LENGTH_BINS, PreparedDataset, bin_labels


def bin_masks(values: np.ndarray, edges: tuple[int, ...]) -> dict[str, np.ndarray]:
    """One boolean mask per bin ``<e0``, ``e0-(e1-1)``, ..., ``>=e_last``."""
    index = np.digitize(values, edges)
    return {label: index == b for b, label in enumerate(bin_labels(edges))}


def group_masks(dataset: PreparedDataset, targets: np.ndarray) -> dict[str, np.ndarray]:
    """Users whose target is a tail / head item, and short / long users."""
    head = dataset.is_head_item(targets)
    long = dataset.is_long_user()
    return {"item_tail": ~head, "item_head": head, "user_short": ~long, "user_long": long}


def binned_masks(dataset: PreparedDataset,
                 targets: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """The five-bin analyses of method-spec §D: target popularity and user training length."""
    return {
        "item_pop_bins": bin_masks(dataset.item_popularity[targets], ITEM_POPULARITY_BINS),
        "user_length_bins": bin_masks(dataset.train_lengths, USER_LENGTH_BINS),
    }
