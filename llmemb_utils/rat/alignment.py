"""Collaborative alignment (docs/method.md §4.4): pull the adapted item vectors towards a
collaborative teacher's, the item table of an ID-SASRec.

Two forms over the rows of ``student`` and ``teacher`` (one row per item):

- ``official``, the paper code's: the soft-target contrastive loss of SCFT
  (:func:`..llm.losses.soft_target_loss`) with the teacher as first view, the student as
  second and a fixed temperature tau = 2: logits X Yᵀ / tau, soft targets
  softmax(tau (X Xᵀ + Y Yᵀ) / 2). It works on raw dot products, so small teacher vectors
  keep it near chance (docs/method.md §4.4).
- ``cosine``: symmetric InfoNCE on cosine similarities (:func:`..llm.losses.infonce_loss`),
  blind to the vectors' scale.

The official code aligns every target position of a batch, duplicates included (up to batch x
max_length rows, an O(rows²) matrix); the kit aligns each distinct target item once, which
costs O(distinct²) and gives every item one vote whatever its popularity.
"""

from __future__ import annotations

import typing

import torch

from ..config import AlignForm
from ..llm.losses import infonce_loss, soft_target_loss

ALIGN_FORMS = typing.get_args(AlignForm)


def alignment_loss(student: torch.Tensor, teacher: torch.Tensor, form: AlignForm = "official",
                   tau: float = 2.0) -> torch.Tensor:
    """Alignment of ``student`` (M, d) to ``teacher`` (M, d) vectors of the same M items."""
    if form == "cosine":
        return infonce_loss(teacher, student, tau)
    return soft_target_loss(teacher, student, torch.tensor(tau))
