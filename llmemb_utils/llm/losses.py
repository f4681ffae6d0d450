"""SCFT contrastive losses over the pooled embeddings of two views (docs/method.md §3.5).

``soft-target`` is the official loss: raw dot-product logits divided by a learnable temperature
(initialised at 3), soft targets from the views' self-similarities, symmetric. ``infonce`` is
plain symmetric InfoNCE on cosine similarities with a fixed temperature.
"""

from __future__ import annotations

import typing

import torch
import torch.nn.functional as F
from torch import nn

from ..config import SCFTLoss

LOSSES = typing.get_args(SCFTLoss)


def soft_target_logits(x: torch.Tensor, y: torch.Tensor, temperature: torch.Tensor,
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """The official loss's logits Z = X Y^T / t and row-wise soft targets
    T = softmax(t (X X^T + Y Y^T) / 2), in fp32."""
    x, y, t = x.float(), y.float(), temperature.float()
    return x @ y.T / t, F.softmax(t * (x @ x.T + y @ y.T) / 2, dim=-1)


def cosine_logits(x: torch.Tensor, y: torch.Tensor, temperature: float) -> torch.Tensor:
    """Cosine similarities of the rows of ``x`` and ``y`` over ``temperature``, in fp32."""
    return F.normalize(x.float(), dim=-1) @ F.normalize(y.float(), dim=-1).T / temperature


def soft_target_loss(x: torch.Tensor, y: torch.Tensor, temperature: torch.Tensor) -> torch.Tensor:
    """Official SCFT loss for views ``x``, ``y`` (B, H), computed in fp32.

    logits Z = X Y^T / t; targets T = softmax(t (X X^T + Y Y^T) / 2) row-wise;
    loss = mean over rows of [CE(softmax(Z), T) + CE(softmax(Z^T), T^T)] / 2.
    """
    logits, targets = soft_target_logits(x, y, temperature)
    forward = -(targets * F.log_softmax(logits, dim=-1)).sum(-1)
    backward = -(targets.T * F.log_softmax(logits.T, dim=-1)).sum(-1)
    return ((forward + backward) / 2).mean()


def infonce_loss(x: torch.Tensor, y: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE on cosine similarity: view i of one side must pick view i of the other."""
    logits = cosine_logits(x, y, temperature)
    labels = torch.arange(x.shape[0], device=x.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


class ContrastiveLoss(nn.Module):
    """One of :data:`LOSSES`; the soft-target form owns a trainable temperature parameter."""

    def __init__(self, form: str = "soft-target", temperature: float = 3.0) -> None:
        super().__init__()
        if form not in LOSSES:
            raise ValueError(f"unknown SCFT loss {form!r}; choose one of {LOSSES}")
        self.form = form
        self.temperature = nn.Parameter(torch.tensor(float(temperature)),
                                        requires_grad=form == "soft-target")

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """``pooled`` stacks the B first views then the B second views, as the official collator."""
        if pooled.shape[0] % 2:
            raise ValueError(f"SCFT batch must hold pairs of views, got {pooled.shape[0]} rows")
        x, y = pooled.chunk(2)
        if self.form == "soft-target":
            return soft_target_loss(x, y, self.temperature)
        return infonce_loss(x, y, float(self.temperature))
