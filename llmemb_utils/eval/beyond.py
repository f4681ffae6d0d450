"""Beyond-accuracy metrics: what users are shown, not whether the held-out item is hit
(docs/method.md §5.5).

Every measure reads each user's top-K list under full ranking (:func:`.ranking.full_top_k`),
a ``(U, K)`` array of item ids:

- **coverage@K**: the share of the catalogue that appears in at least one list;
- **tail share@K**: the mean over users of the share of their list that are tail items (the
  dataset's head threshold on training popularity, as the long-tail groups use);
- **intra-list diversity@K**: the mean over users of the mean pairwise distance
  ``1 - cosine`` of their list's items, measured with one fixed ruler for every model (the
  raw LLM item table), never with the model's own item vectors;
- **novelty@K**: the mean over users and list positions of ``-log2 p_i``, ``p_i`` the item's
  share of all training interactions; an item with no training interaction counts as seen
  once (``p_i = 1 / #training interactions``), so its novelty is the largest, and finite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.dataset import PreparedDataset
from ..llm.item_table import LLMTable

TOP_K = 10  # the length of the lists every run is measured on
ZERO_POPULARITY = ("an item with no training interaction counts as seen once: "
                   "p = 1 / #training interactions")


def shown_items(lists: np.ndarray) -> int:
    """How many distinct items the lists show."""
    return len(np.unique(lists))


def coverage(lists: np.ndarray, num_items: int) -> float:
    """Share of the ``num_items`` catalogue items shown to at least one user."""
    return shown_items(lists) / num_items


def user_tail_shares(lists: np.ndarray, is_tail: np.ndarray) -> np.ndarray:
    """Each user's share of tail items in their list; ``is_tail[i]`` for item id ``i``."""
    return is_tail[lists].mean(axis=1)


def tail_share(lists: np.ndarray, is_tail: np.ndarray) -> float:
    """Mean over users of :func:`user_tail_shares`."""
    return float(user_tail_shares(lists, is_tail).mean())


def user_diversities(lists: np.ndarray, ruler: np.ndarray) -> np.ndarray:
    """Each user's mean ``1 - cosine`` over the pairs of their list's items, cosines taken
    between rows of ``ruler`` (row ``i - 1`` = item id ``i``)."""
    k = lists.shape[1]
    if k < 2:
        raise ValueError(f"intra-list diversity needs lists of at least 2 items, got {k}")
    norms = np.linalg.norm(ruler, axis=1, keepdims=True)
    if not np.all(norms > 0):
        raise ValueError("the diversity ruler has an all-zero item vector: its cosine is "
                         "undefined")
    unit = (ruler / norms)[lists - 1]  # (U, K, H)
    # For unit vectors, the cosines of all ordered pairs i != j sum to |sum of vectors|^2 - K.
    pair_cosines = (np.square(unit.sum(axis=1)).sum(axis=1) - k) / (k * (k - 1))
    return 1.0 - pair_cosines


def intra_list_diversity(lists: np.ndarray, ruler: np.ndarray) -> float:
    """Mean over users of :func:`user_diversities`."""
    return float(user_diversities(lists, ruler).mean())


def user_novelties(lists: np.ndarray, item_popularity: np.ndarray) -> np.ndarray:
    """Each user's mean over list positions of ``-log2 p_i``, ``p_i`` item ``i``'s training
    interactions over all training interactions (index 0 is padding), with the
    :data:`ZERO_POPULARITY` rule for items never seen in training."""
    shares = np.maximum(item_popularity, 1) / item_popularity.sum()
    return -np.log2(shares[lists]).mean(axis=1)


def novelty(lists: np.ndarray, item_popularity: np.ndarray) -> float:
    """Mean over users of :func:`user_novelties`."""
    return float(user_novelties(lists, item_popularity).mean())


def per_user_measures(lists: np.ndarray, dataset: PreparedDataset,
                      ruler: np.ndarray | None) -> dict[str, np.ndarray]:
    """Each user's value of every measure that is a mean over users (all but coverage), by
    the measure's name in the ``beyond_accuracy`` section; diversity only with a ``ruler``.
    In float64 whatever the ruler's precision: the section's means and those of the per-user
    file (which stores float64) are then taken over the same numbers."""
    k = lists.shape[1]
    measures = {
        f"tail_share@{k}": user_tail_shares(lists, ~dataset.is_head_item(np.arange(
            dataset.num_items + 1))),
        f"novelty@{k}": user_novelties(lists, dataset.item_popularity),
    }
    if ruler is not None:
        measures[f"intra_list_diversity@{k}"] = user_diversities(lists, ruler)
    return {name: values.astype(np.float64) for name, values in measures.items()}


def measure_means(lists: np.ndarray, num_items: int,
                  per_user: dict[str, np.ndarray]) -> dict[str, float]:
    """The section's values: coverage of the ``lists`` and the mean of each per-user
    measure, the one formula both the run and a check of its recorded per-user file use."""
    return {f"coverage@{lists.shape[1]}": coverage(lists, num_items),
            **{name: float(values.mean()) for name, values in per_user.items()}}


def beyond_accuracy(lists: np.ndarray, dataset: PreparedDataset,
                    ruler: LLMTable | None, why_no_ruler: str | None = None) -> dict[str, Any]:
    """The ``beyond_accuracy`` section of a full-ranking ``metrics.json`` for ``(U, K)``
    top-K ``lists``. Without a ``ruler`` the diversity is left out and ``why_no_ruler`` is
    recorded in its place."""
    k = lists.shape[1]
    per_user = per_user_measures(lists, dataset, None if ruler is None else ruler.vectors)
    section: dict[str, Any] = {
        "k": k,
        **measure_means(lists, dataset.num_items, per_user),
        "tail": {"item_head_min": dataset.thresholds.item_head_min},
        "novelty_zero_popularity": ZERO_POPULARITY,
    }
    if ruler is None:
        section["omitted"] = {f"intra_list_diversity@{k}": why_no_ruler}
        return section
    section["diversity_ruler"] = {"kind": ruler.kind, "path": ruler.reference["path"],
                                  "sha256": ruler.reference["sha256"]}
    return section
