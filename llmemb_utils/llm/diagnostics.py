"""Checks that SCFT embeddings are fit for the next stage: uniformity and view retrieval."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..geometry import alignment, normalize, uniformity
from .views import fixed_views


def view_retrieval_accuracy(first: np.ndarray, second: np.ndarray) -> float:
    """Top-1 accuracy of retrieving each item's other view among all items' views (cosine),
    averaged over both directions."""
    similarity = normalize(first) @ normalize(second).T
    truth = np.arange(len(similarity))
    hits = (similarity.argmax(1) == truth).mean() + (similarity.argmax(0) == truth).mean()
    return float(hits / 2)


def embedding_report(embed: Callable[[Sequence[str]], np.ndarray], prompts: Sequence[str],
                     drop_ratio: float = 0.4, seed: int = 42) -> dict[str, float]:
    """Uniformity (t = 2) of the full-prompt embeddings, after centring as PCA does, and the
    alignment (centred) and view-retrieval accuracy of two seeded attribute-drop views per
    item.

    ``embed`` maps prompts to an (N, H) array, e.g. a partial of :func:`embed_items`.
    """
    full = np.asarray(embed(prompts))
    pairs = fixed_views(prompts, drop_ratio, seed + 1)  # not the training views
    first = np.asarray(embed([a for a, _ in pairs]))
    second = np.asarray(embed([b for _, b in pairs]))
    centre = full.mean(0)
    return {"uniformity_raw": uniformity(full),
            "uniformity_centred": uniformity(full - centre),
            "view_alignment": alignment(first - centre, second - centre),
            "view_retrieval_top1": view_retrieval_accuracy(first, second)}


def nearest_neighbours(vectors: np.ndarray, items: Sequence[int], k: int = 3) -> np.ndarray:
    """Row indices of the ``k`` nearest other rows (cosine after centring) of each of ``items``."""
    centred = normalize(vectors - vectors.mean(0))
    similarity = centred[list(items)] @ centred.T
    similarity[np.arange(len(items)), list(items)] = -np.inf
    return np.argsort(-similarity, axis=1)[:, :k]
