"""HR, NDCG and MRR at K from tie-aware expected ranks.

With one relevant item per user, a ranking is summarised by two counts: ``greater`` (other
candidates scoring strictly above the target) and ``ties`` (other candidates scoring exactly
the same). Under a uniformly random order of the tied candidates the target's 0-based rank is
uniform on ``{greater, ..., greater + ties}``; every metric here is its exact expectation over
that order, so a model that scores all candidates alike gets HR@K = K / #candidates.
"""

from __future__ import annotations

import numpy as np

KS = (5, 10, 20)


def _cumulative(gain: np.ndarray) -> np.ndarray:
    """``out[j]`` = sum of ``gain[r]`` for ranks ``r < j``."""
    return np.concatenate([[0.0], np.cumsum(gain)])


def expected_metrics(greater: np.ndarray, ties: np.ndarray,
                     ks: tuple[int, ...] = KS) -> dict[str, np.ndarray]:
    """Per-user expected ``HR@K``, ``NDCG@K`` and ``MRR@K`` for every K in ``ks``."""
    greater = np.asarray(greater, dtype=np.int64)
    orders = np.asarray(ties, dtype=np.int64) + 1  # equally likely ranks
    if np.any(greater < 0) or np.any(orders < 1):
        raise ValueError("rank counts must be non-negative")
    ranks = np.arange(max(ks))
    dcg = _cumulative(1.0 / np.log2(ranks + 2.0))
    reciprocal = _cumulative(1.0 / (ranks + 1.0))
    metrics: dict[str, np.ndarray] = {}
    for k in ks:
        first, stop = np.minimum(greater, k), np.minimum(greater + orders, k)
        metrics[f"HR@{k}"] = (stop - first) / orders
        metrics[f"NDCG@{k}"] = (dcg[stop] - dcg[first]) / orders
        metrics[f"MRR@{k}"] = (reciprocal[stop] - reciprocal[first]) / orders
    return metrics


def mean_metrics(per_user: dict[str, np.ndarray],
                 mask: np.ndarray | None = None) -> dict[str, float | None]:
    """Average each per-user metric over the users in ``mask`` (None when the group is empty)."""
    selected = {name: values if mask is None else values[mask]
                for name, values in per_user.items()}
    return {name: float(values.mean()) if values.size else None
            for name, values in selected.items()}
