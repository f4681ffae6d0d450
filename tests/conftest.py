"""Shared test fixtures."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def write_lines(tmp_path: Path) -> Callable[..., Path]:
    """Write text lines to ``tmp_path / name`` (gzipped when the name ends in .gz)."""

    def write(name: str, lines: list[str], encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = "".join(f"{line}\n" for line in lines).encode(encoding)
        path.write_bytes(gzip.compress(payload) if name.endswith(".gz") else payload)
        return path

    return write


@pytest.fixture(scope="module")
def single_thread() -> Iterator[None]:
    """One PyTorch thread for tiny models (faster, and fair on a shared machine); restored."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def pca_by_svd() -> Callable[..., tuple]:
    """A reference PCA written out with numpy's SVD: ``(scores, explained variance ratios)``
    of the top ``dim`` components of the centred rows. A component's sign is arbitrary, so
    each score column takes the sign that matches the same column of ``like``."""

    def pca(vectors, dim: int, like=None) -> tuple:
        centred = np.asarray(vectors, dtype=np.float64) - np.mean(vectors, axis=0)
        left, singular, _ = np.linalg.svd(centred, full_matrices=False)
        scores = left[:, :dim] * singular[:dim]
        if like is not None:
            scores *= np.sign(np.sum(scores * np.asarray(like, dtype=np.float64), axis=0))
        return scores, (singular**2 / np.sum(singular**2))[:dim]

    return pca
