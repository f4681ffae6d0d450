"""The LLM item table as RAT feeds it to the adapter (docs/method.md §4.2): reduced by a centred
PCA, optionally whitened and rescaled, with a zero padding row at id 0."""

from __future__ import annotations

import numpy as np
import torch

from ..llm.pca import reduce


def padded_table(vectors: np.ndarray) -> torch.Tensor:
    """(N + 1, H) float32: a zero padding row at id 0, then item id i at row i.

    The official code inserts its extra zero row before the last row instead, which zeroes
    the vector of item N (docs/method.md §6.2).
    """
    table = torch.as_tensor(np.asarray(vectors), dtype=torch.float32)
    return torch.cat([table.new_zeros(1, table.shape[1]), table])


def reduce_table(vectors: np.ndarray, dim: int | None, whiten: bool = False,
                 unit_norm: bool = False, seed: int = 42) -> np.ndarray:
    """Centred PCA of the LLM table to ``dim`` components (None: full width). Centring matters:
    mean-pooled LLM vectors share one dominant direction (docs/method.md §4.2). ``whiten`` scales
    each component to unit variance; ``unit_norm`` then rescales the table to mean row norm
    1, so that the adapter starts near the scale of an ID table (SmolLM2's centred rows have
    norm ~5) instead of saturating the logits."""
    reduced = reduce(vectors, dim, seed).vectors
    if whiten:
        spread = reduced.std(axis=0)
        reduced = reduced / np.where(spread > 0, spread, 1.0)
    if unit_norm:
        reduced = reduced / np.linalg.norm(reduced, axis=1).mean()
    return reduced
