"""SASRec, Bert4Rec, GRU4Rec and Caser over item vectors (docs/method.md §4.3).

A backbone maps ``vectors`` (B, L, d), already zero at padding, and the input ``ids``
(0 = padding, :data:`MASK_TOKEN` = Bert4Rec's mask) to one state per position. Inputs are
left-padded, so the last column holds the state that scores the next item. ``objective``
names the training targets (see :mod:`.batches`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
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


class Caser(Backbone):
    """Convolutional sequence embedding (Tang & Wang, WSDM 2018) at every position: the
    ``window`` latest item vectors up to and including the position, as a ``window`` x d
    image, go through horizontal filters of heights 1..``window`` (``horizontal`` each, ReLU,
    max-pooled over time) and ``vertical`` vertical filters (weighted sums of the rows); the
    two are concatenated and, after dropout, a fully connected layer with ReLU maps them to
    the hidden size. The state scores items against the encoder's vectors, like every
    backbone here, and there is no user embedding (the kit's recommenders read sequences
    only).

    Training uses the kit's next-item objective (every position predicts the item after it,
    ``srs.loss``), not the original loss on the next T items with sampled negatives. Earlier
    positions see zero vectors where the sequence has not started, exactly as padding does.
    """

    objective = "next"
    window = 5  # L, the latest items one state reads
    horizontal = 16  # n_h, filters per height
    vertical = 4  # n_v

    def __init__(self, config: SRSConfig) -> None:
        super().__init__()
        hidden = config.hidden
        self.horizontal_convs = nn.ModuleList(
            nn.Conv1d(hidden, self.horizontal, kernel_size=height)
            for height in range(1, self.window + 1))
        self.vertical_conv = nn.Conv1d(1, self.vertical, kernel_size=self.window)
        self.dropout = nn.Dropout(config.dropout)
        self.fully_connected = nn.Linear(self.window * self.horizontal + self.vertical * hidden,
                                         hidden)

    def forward(self, vectors: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = vectors.shape
        # (B, d, window - 1 + L): a position's window starts at the same index here.
        padded = F.pad(vectors.transpose(1, 2), (self.window - 1, 0))
        pooled = [F.max_pool1d(torch.relu(conv(padded)), self.window - height + 1, stride=1)
                  for height, conv in enumerate(self.horizontal_convs, start=1)]
        # The vertical filters slide over time in each of the d dimensions separately.
        rows = padded.reshape(batch * hidden, 1, -1)
        vertical = self.vertical_conv(rows).reshape(batch, hidden * self.vertical, length)
        features = torch.cat([*pooled, vertical], dim=1).transpose(1, 2)  # (B, L, features)
        return torch.relu(self.fully_connected(self.dropout(features)))


BACKBONES: dict[str, type[Backbone]] = {"sasrec": SASRec, "bert4rec": Bert4Rec,
                                         "gru4rec": GRU4Rec, "caser": Caser}


def build_backbone(config: SRSConfig) -> Backbone:
    """The backbone named by ``config.backbone``, Xavier-normal on every matrix parameter."""
    backbone = BACKBONES[config.backbone](config)
    for parameter in backbone.parameters():
        if parameter.dim() >= 2:
            nn.init.xavier_normal_(parameter)
    return backbone
