"""Dimension reduction of item embeddings (docs/method.md §3.7), deterministic.

The official notebook lets scikit-learn pick a randomized, unseeded solver
(docs/method.md §6.7); here the solver is exact (covariance eigendecomposition when items
outnumber dimensions, else full SVD) and signs are fixed by scikit-learn's ``svd_flip``, so a
rerun gives the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA


@dataclass(frozen=True)
class Reduced:
    vectors: np.ndarray  # (N, dim) float32, centred
    explained_variance_ratio: np.ndarray  # (dim,)


def reduce(embeddings: np.ndarray, dim: int | None = None, seed: int = 42) -> Reduced:
    """PCA of ``embeddings`` to ``dim`` components (None: keep the full width, centred)."""
    samples, features = embeddings.shape
    dim = min(samples, features) if dim is None else dim
    if not 1 <= dim <= min(samples, features):
        raise ValueError(f"pca dim must be between 1 and {min(samples, features)} for "
                         f"{samples} items x {features} features, got {dim}")
    solver = "covariance_eigh" if samples >= features else "full"
    pca = PCA(n_components=dim, svd_solver=solver, random_state=seed)
    vectors = pca.fit_transform(np.asarray(embeddings, dtype=np.float64))
    return Reduced(vectors.astype(np.float32), pca.explained_variance_ratio_)
