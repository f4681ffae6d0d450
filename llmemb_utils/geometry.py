"""Uniformity and alignment of embeddings (Wang and Isola, ICML 2020).

On L2-normalised vectors:

- uniformity ``log mean_{i<j} exp(-t ||x_i - x_j||^2)`` over distinct pairs (t = 2): 0 when all
  vectors coincide, -4 for isotropic vectors in high dimension, -8 at best (antipodal pairs);
  lower is more uniform.
- alignment ``mean_i ||x_i - y_i||^alpha`` over positive pairs (alpha = 2): 0 when every pair
  coincides, 4 at worst.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

EXACT_LIMIT = 4096  # above this many vectors, "auto" streams over row blocks


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, in float64; all-zero rows are rejected."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-D array of vectors, got shape {vectors.shape}")
    if not np.isfinite(vectors).all():
        raise ValueError("vectors contain NaN or infinite values")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError(f"{int((norms == 0).sum())} vector(s) have zero norm")
    return vectors / norms


def uniformity(vectors: np.ndarray, t: float = 2.0, method: str = "auto",
               chunk_size: int = 1024, max_points: int | None = None, seed: int = 0) -> float:
    """Uniformity of ``vectors`` over distinct pairs.

    ``method``: "exact" (one N x N matrix), "chunked" (row blocks of ``chunk_size``, memory
    O(chunk_size x N)) or "auto". ``max_points`` evaluates a seeded random subsample instead.
    """
    points = normalize(vectors)
    if max_points is not None and len(points) > max_points:
        points = points[np.random.default_rng(seed).choice(len(points), max_points,
                                                            replace=False)]
    n = len(points)
    if n < 2:
        raise ValueError("uniformity needs at least two vectors")
    if method == "auto":
        method = "exact" if n <= EXACT_LIMIT else "chunked"
    if method == "exact":
        total = _pair_kernel_sum(points, points, t, offset=0)
    elif method == "chunked":
        total = sum(_pair_kernel_sum(points[start:start + chunk_size], points, t, offset=start)
                    for start in range(0, n, chunk_size))
    else:
        raise ValueError(f"method must be 'auto', 'exact' or 'chunked', got {method!r}")
    return float(np.log(total / (n * (n - 1) / 2)))


def _pair_kernel_sum(block: np.ndarray, points: np.ndarray, t: float, offset: int) -> float:
    """Sum of exp(-t d^2) over pairs (offset + a, b) with b > offset + a."""
    squared = np.clip(2.0 - 2.0 * block @ points.T, 0.0, 4.0)
    rows = np.arange(len(block))[:, None] + offset
    upper = np.arange(len(points))[None, :] > rows
    return float(np.exp(-t * squared[upper]).sum())


def alignment(x: np.ndarray, y: np.ndarray, alpha: float = 2.0) -> float:
    """Mean ``||x_i - y_i||^alpha`` of normalised positive pairs (row i of x with row i of y)."""
    x, y = normalize(x), normalize(y)
    if x.shape != y.shape:
        raise ValueError(f"positive pairs need equal shapes, got {x.shape} and {y.shape}")
    return float((np.linalg.norm(x - y, axis=1) ** alpha).mean())


def by_group(vectors: np.ndarray, groups: Mapping[str, np.ndarray], t: float = 2.0,
             **options: object) -> dict[str, float]:
    """Uniformity of ``vectors`` overall and within each boolean row mask of ``groups``."""
    values = {"overall": uniformity(vectors, t, **options)}
    for name, mask in groups.items():
        values[name] = uniformity(np.asarray(vectors)[np.asarray(mask, dtype=bool)], t, **options)
    return values


def project_to_circle(vectors: np.ndarray, method: str = "svd", seed: int = 0) -> np.ndarray:
    """2-D view of normalised vectors on the unit circle, for plots only.

    "svd": the two leading singular directions of the *uncentred* unit vectors, so vectors
    crowded in a narrow cone stay on a narrow arc (deterministic, fast). "tsne": the DirectAU
    figure style (spreads clusters out; seeded). The 2-D points are normalised again.
    """
    points = normalize(vectors)
    if method == "svd":
        _, _, directions = np.linalg.svd(points, full_matrices=False)
        flat = points @ directions[:2].T
    elif method == "tsne":
        from sklearn.manifold import TSNE

        flat = TSNE(n_components=2, init="pca", random_state=seed,
                    perplexity=min(30.0, len(points) - 1)).fit_transform(points)
    else:
        raise ValueError(f"method must be 'svd' or 'tsne', got {method!r}")
    return normalize(flat)
