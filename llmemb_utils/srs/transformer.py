"""The self-attention stack shared by SASRec and Bert4Rec (docs/method.md §4.3).

Input: item vectors scaled by sqrt(hidden) plus a learned position counted from the right (the
most recent item is always ``max_length``, the one before ``max_length - 1``, ...; 0 for
padding), dropout, padding zeroed. Each block: LayerNorm on the query ->
multi-head attention (query normed, key/value not) -> residual on the normed query ->
LayerNorm -> point-wise feed-forward with residual; padding zeroed after every block; a final
LayerNorm.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class FeedForward(nn.Module):
    """Two position-wise linear maps with ReLU and dropout, plus a residual."""

    def __init__(self, hidden: int, dropout: float) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(hidden, hidden), nn.Dropout(dropout), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


class Block(nn.Module):
    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(hidden, eps=1e-8)
        self.attention = nn.MultiheadAttention(hidden, heads, dropout=dropout, batch_first=True)
        self.feed_forward_norm = nn.LayerNorm(hidden, eps=1e-8)
        self.feed_forward = FeedForward(hidden, dropout)

    def forward(self, x: torch.Tensor, blocked: torch.Tensor | None) -> torch.Tensor:
        query = self.attention_norm(x)
        attended, _ = self.attention(query, x, x, attn_mask=blocked, need_weights=False)
        return self.feed_forward(self.feed_forward_norm(query + attended))


class TransformerStack(nn.Module):
    """Position embedding + ``blocks`` attention blocks + final LayerNorm."""

    def __init__(self, hidden: int, blocks: int, heads: int, dropout: float,
                 max_length: int) -> None:
        super().__init__()
        self.heads = heads
        self.max_length = max_length
        self.scale = math.sqrt(hidden)
        self.positions = nn.Embedding(max_length + 1, hidden, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(hidden, heads, dropout) for _ in range(blocks))
        self.final_norm = nn.LayerNorm(hidden, eps=1e-8)

    def forward(self, vectors: torch.Tensor, valid: torch.Tensor,
                blocked: torch.Tensor | None) -> torch.Tensor:
        """``vectors`` (B, L, d), ``valid`` (B, L) real positions, ``blocked`` (B, L, L) True
        where a query may not attend to a key, or None for full attention."""
        width = valid.shape[1]
        slots = torch.arange(self.max_length - width + 1, self.max_length + 1,
                             device=valid.device)
        positions = slots * valid
        keep = valid.unsqueeze(-1).to(vectors.dtype)
        x = self.dropout(vectors * self.scale + self.positions(positions)) * keep
        if blocked is not None:
            blocked = blocked.repeat_interleave(self.heads, dim=0)
        for block in self.blocks:
            x = block(x, blocked) * keep
        return self.final_norm(x)


def attention_mask(valid: torch.Tensor, causal: bool) -> torch.Tensor:
    """(B, L, L) True where attention is blocked: padding keys, and later keys if ``causal``.

    Every position may attend to itself, so padded query rows are never fully blocked (a fully
    blocked row yields NaN, docs/design.md §9.1); their outputs are zeroed afterwards.
    """
    length = valid.shape[1]
    blocked = ~valid.unsqueeze(1).expand(-1, length, -1)
    if causal:
        later = torch.ones(length, length, dtype=torch.bool, device=valid.device).triu(1)
        blocked = blocked | later
    itself = torch.eye(length, dtype=torch.bool, device=valid.device)
    return blocked & ~itself
