"""Recommendation losses on the states at positions that have a target (docs/method.md §4.3)."""

from __future__ import annotations

import typing

import torch
import torch.nn.functional as F

from ..config import SRSLoss


def sampled_bce(states: torch.Tensor, positives: torch.Tensor,
                negatives: torch.Tensor) -> torch.Tensor:
    """The paper's loss: BCE on the positive's dot product (label 1) plus BCE on one sampled
    negative's (label 0), each averaged over targets. All inputs are (T, d)."""
    positive_logits = (states * positives).sum(dim=-1)
    negative_logits = (states * negatives).sum(dim=-1)
    return (F.binary_cross_entropy_with_logits(positive_logits, torch.ones_like(positive_logits))
            + F.binary_cross_entropy_with_logits(negative_logits,
                                                 torch.zeros_like(negative_logits)))


def full_softmax_ce(states: torch.Tensor, item_table: torch.Tensor,
                    targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over all items 1..N; ``item_table`` is (N + 1, d) with row 0 padding."""
    return F.cross_entropy(states @ item_table[1:].T, targets - 1)


LOSSES = typing.get_args(SRSLoss)
