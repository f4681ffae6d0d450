"""Pool token states into one vector per sequence, in float32 (docs/method.md §3.4, §6.5).

Half-precision sums over hundreds of tokens overflow; pooling therefore always upcasts.
A row without any real token pools to zeros rather than NaN.
"""

from __future__ import annotations

import typing

import torch

from ..config import Pooling

POOLINGS = typing.get_args(Pooling)


def pool(hidden: torch.Tensor, mask: torch.Tensor, method: str = "mean") -> torch.Tensor:
    """``hidden`` (B, T, H) and ``mask`` (B, T, True on real tokens) -> (B, H) float32.

    ``mean``: average over real tokens; ``last``: the last real token (right padding).
    """
    hidden = hidden.float()
    mask = mask.to(hidden.device, torch.bool)
    counts = mask.sum(dim=1)
    if method == "mean":
        summed = (hidden * mask.unsqueeze(-1)).sum(dim=1)
        return summed / counts.clamp(min=1).unsqueeze(-1)
    if method == "last":
        last = (counts - 1).clamp(min=0)
        picked = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
        return picked * (counts > 0).unsqueeze(-1)
    raise ValueError(f"unknown pooling {method!r}; choose one of {POOLINGS}")
