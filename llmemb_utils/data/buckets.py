"""Popularity and length buckets: the head/tail and long/short groups of test cases (by the
dataset's :mod:`~llmemb_utils.data.thresholds`) and their binned analyses, all from training
interactions only (docs/method.md §5.4).

Besides the official code's fixed popularity bins (docs/method.md §5.4), which suit sparse data,
test targets are split into popularity quintiles: five bins of about equal size whatever the
dataset (on MovieLens-100k 81 % of test items fall in the fixed ``>=40``). A bin is named by
its label (``<5``, ``5-9``, ``>=40``), the key under its group in ``metrics.json``.
"""

from __future__ import annotations

import numpy as np

from .dataset import PreparedDataset

ITEM_POPULARITY_BINS = (5, 10, 20, 40)  # docs/method.md §5.4: <5, 5-9, 10-19, 20-39, >=40
USER_LENGTH_BINS = (5, 10, 15, 20)  # <5, 5-9, 10-14, 15-19, >=20
QUANTILE_BINS = 5


def bin_labels(edges: tuple[int, ...]) -> list[str]:
    """Labels of the bins ``<e0``, ``e0-(e1-1)``, ..., ``>=e_last``: (5, 10) -> <5, 5-9, >=10."""
    middle = [f"{lo}-{hi - 1}" for lo, hi in zip(edges, edges[1:], strict=False)]
    return [f"<{edges[0]}", *middle, f">={edges[-1]}"]


def bin_lower_bound(label: str) -> float:
    """The smallest value of a :func:`bin_labels` label, to sort bins: ``<5`` -> -inf."""
    if label.startswith("<"):
        return float("-inf")
    return float(label.removeprefix(">=").split("-")[0])


def bin_masks(values: np.ndarray, edges: tuple[int, ...]) -> dict[str, np.ndarray]:
    """One boolean mask per bin ``<e0``, ``e0-(e1-1)``, ..., ``>=e_last``."""
    index = np.digitize(values, edges)
    return {label: index == b for b, label in enumerate(bin_labels(edges))}


def bin_counts(values: np.ndarray, edges: tuple[int, ...]) -> dict[str, int]:
    """How many ``values`` fall in each bin of :func:`bin_masks`."""
    return {label: int(mask.sum()) for label, mask in bin_masks(values, edges).items()}


def quantile_edges(values: np.ndarray, bins: int = QUANTILE_BINS) -> tuple[int, ...]:
    """Edges that cut ``values`` into ``bins`` bins of about equal size for :func:`bin_masks`:
    the values at every ``1 / bins`` of the sorted values, so no bin is empty (fewer bins
    where ties make an edge repeat)."""
    ordered = np.sort(np.asarray(values))
    cuts = ordered[np.arange(1, bins) * len(ordered) // bins]
    edges = tuple(int(edge) for edge in np.unique(cuts) if edge > ordered[0])
    return edges or (int(ordered[-1]) + 1,)


def group_masks(dataset: PreparedDataset, targets: np.ndarray) -> dict[str, np.ndarray]:
    """Users whose target is a tail / head item, and short / long users; with
    ``data.thresholds.fixed_item_head_min`` also tail / head by that fixed training count."""
    head = dataset.is_head_item(targets)
    long = dataset.is_long_user()
    groups = {"item_tail": ~head, "item_head": head, "user_short": ~long, "user_long": long}
    fixed = dataset.fixed_item_head_min
    if fixed is not None:
        fixed_head = dataset.item_popularity[targets] >= fixed
        groups |= {"item_tail_fixed": ~fixed_head, "item_head_fixed": fixed_head}
    return groups


def binned_masks(dataset: PreparedDataset,
                 targets: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """The five-bin analyses of docs/method.md §5.4 (target popularity, user training length) and
    the target popularity quintiles: group -> bin label -> mask over users."""
    popularity = dataset.item_popularity[targets]
    return {
        "item_pop_bins": bin_masks(popularity, ITEM_POPULARITY_BINS),
        "item_pop_quintiles": bin_masks(popularity, quantile_edges(popularity)),
        "user_length_bins": bin_masks(dataset.train_lengths, USER_LENGTH_BINS),
    }
