"""SASRec, Bert4Rec and GRU4Rec over item vectors (docs/method.md §4.3).

A backbone maps ``vectors`` (B, L, d), already zero at padding, and the input ``ids``
(0 = padding, :data:`MASK_TOKEN` = Bert4Rec's mask) to one state per position. Inputs are
left-padded, so the last column holds the state that scores the next item. ``objective``
names the training targets (see :mod:`.batches`).
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import SRSConfig
from .transformer import TransformerStack, attention_mask

PAD = 0
MASK_TOKEN = -1


class Backbone(nn.Module):
    objective: str  # next | last | cloze
    appends_mask = False  # inference appends a mask token after the history (Bert4Rec)
    exact_with_short_padding = True  # padding a batch only to its longest row changes nothing

    def forward(self, vectors: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class SASRec(Backbone):
    """Self-attentive next-item model: causal attention with a padding mask by default;
    ``paper_compat`` attends everywhere, as the official code does (docs/method.md §6.1)."""

    objective = "next"

    def __init__(self, config: SRSConfig) -> None:
        super().__init__()
        self.paper_compat = config.paper_compat
        self.exact_with_short_padding = not config.paper_compat
        self.stack = TransformerStack(config.hidden, config.blocks, config.heads,
                                      config.dropout, config.max_length)

    def forward(self, vectors: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        valid = ids != PAD
        blocked = None if self.paper_compat else attention_mask(valid, causal=True)
        return self.stack(vectors, valid, blocked)


class Bert4Rec(Backbone):
    """Bidirectional attention trained by Cloze masking; the mask token's input vector is a
    learned parameter, so encoders need no extra row."""

    objective = "cloze"
    appends_mask = True

    def __init__(self, config: SRSConfig) -> None:
        super().__init__()
        self.paper_compat = config.paper_compat
        self.exact_with_short_padding = not config.paper_compat
        self.mask_vector = nn.Parameter(torch.randn(config.hidden) * 0.01)
        self.stack = TransformerStack(config.hidden, config.blocks, config.heads,
                                      config.dropout, config.max_length)

    def forward(self, vectors: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        masked = (ids == MASK_TOKEN).unsqueeze(-1)
        vectors = torch.where(masked, self.mask_vector.to(vectors.dtype), vectors)
        valid = ids != PAD
        blocked = None if self.paper_compat else attention_mask(valid, causal=False)
        return self.stack(vectors, valid, blocked)


class GRU4Rec(Backbone):
    """A one-layer GRU without bias. Left padding is exact: zero inputs keep a bias-free GRU's
    zero state at zero."""

    objective = "last"

    def __init__(self, config: SRSConfig) -> None:
        super().__init__()
        self.gru = nn.GRU(config.hidden, config.hidden, num_layers=1, bias=False,
                          batch_first=True)

    def forward(self, vectors: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        return self.gru(vectors)[0]


BACKBONES: dict[str, type[Backbone]] = {"sasrec": SASRec, "bert4rec": Bert4Rec,
                                         "gru4rec": GRU4Rec}


def build_backbone(config: SRSConfig) -> Backbone:
    """The backbone named by ``config.backbone``, Xavier-normal on every matrix parameter."""
    backbone = BACKBONES[config.backbone](config)
    for parameter in backbone.parameters():
        if parameter.dim() >= 2:
            nn.init.xavier_normal_(parameter)
    return backbone
