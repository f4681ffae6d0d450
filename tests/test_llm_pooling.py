"""Pooling in fp32 with right padding, including rows without any real token."""

from __future__ import annotations

import pytest
import torch

from llmemb_utils.llm.pooling import pool
from llmemb_utils.llm.tokens import pad


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    hidden = torch.arange(2 * 3 * 2, dtype=torch.float32).reshape(2, 3, 2)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    return hidden, mask


def test_mean_ignores_padding(batch):
    hidden, mask = batch
    expected = torch.tensor([[1.0, 2.0], [8.0, 9.0]])
    assert torch.equal(pool(hidden, mask, "mean"), expected)


def test_last_takes_last_real_token(batch):
    hidden, mask = batch
    assert torch.equal(pool(hidden, mask, "last"), torch.tensor([[2.0, 3.0], [10.0, 11.0]]))


@pytest.mark.parametrize("method", ["mean", "last"])
def test_all_pad_row_pools_to_zeros(batch, method):
    hidden, mask = batch
    mask[0] = False
    pooled = pool(hidden, mask, method)
    assert torch.equal(pooled[0], torch.zeros(2))
    assert torch.isfinite(pooled).all()


def test_half_precision_sums_in_fp32():
    hidden = torch.full((1, 1000, 4), 60000.0, dtype=torch.float16)  # fp16 sum overflows
    pooled = pool(hidden, torch.ones(1, 1000, dtype=torch.bool))
    assert pooled.dtype == torch.float32
    assert torch.allclose(pooled, torch.full((1, 4), 60000.0))


def test_unknown_pooling(batch):
    with pytest.raises(ValueError, match="unknown pooling 'max'; choose one of"):
        pool(*batch, method="max")


def test_pad_right_pads_and_masks():
    ids, mask = pad([[5, 6, 7], [8]], pad_token=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert mask.tolist() == [[True, True, True], [True, False, False]]
