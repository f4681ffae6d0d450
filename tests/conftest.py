"""Shared test fixtures."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

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
