"""Which items are head or tail and which users long or short: the thresholds, from training
interactions only (docs/method.md §5.4), that a prepared dataset stores and its analyses read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import ThresholdConfig


@dataclass(frozen=True)
class Thresholds:
    """Head items have >= ``item_head_min`` training interactions; long users have >=
    ``user_long_min`` training items. Everything else is tail / short."""

    item_head_min: int
    user_long_min: int


def thresholds(item_popularity: np.ndarray, train_lengths: np.ndarray,
               config: ThresholdConfig) -> Thresholds:
    """Head/long thresholds from training data only.

    ``pareto``: the ``head_fraction`` most popular items are head, so ``item_head_min`` is the
    training count of the item at that rank (ties at the boundary are all head); likewise the
    longest users. ``fixed``: the configured values (the paper's per-dataset numbers). The
    fraction's range is checked when the config loads.
    """
    if config.rule == "fixed":
        if config.item_head_min is None or config.user_long_min is None:
            raise ValueError("data.thresholds.rule 'fixed' needs item_head_min and user_long_min")
        return Thresholds(config.item_head_min, config.user_long_min)
    return Thresholds(_top_fraction_minimum(item_popularity, config.head_fraction),
                      _top_fraction_minimum(train_lengths, config.head_fraction))


def _top_fraction_minimum(values: np.ndarray, fraction: float) -> int:
    ordered = np.sort(values)[::-1]
    rank = max(1, int(np.ceil(fraction * len(ordered))))
    return int(max(ordered[rank - 1], 1))
