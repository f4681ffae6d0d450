"""Item encoders: the only place where item vectors come from.

A backbone never sees item ids' meaning, only the vectors an encoder returns; the same encoder
scores candidates, so input and output item vectors are tied. The RAT stage
(:mod:`llmemb_utils.rat`) adds an encoder (frozen LLM table + adapter) and its alignment loss
through :func:`register_encoder` and :meth:`ItemEncoder.auxiliary_losses`, without touching
backbones or the trainer; this layer never imports its plug-ins, they register themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..config import ExperimentConfig
from ..data.dataset import PreparedDataset


class ItemEncoder(nn.Module):
    """Maps item ids 1..N (0 = padding) to ``dim``-dimensional vectors."""

    def __init__(self, num_items: int, dim: int) -> None:
        super().__init__()
        self.num_items = num_items
        self.dim = dim

    def forward(self, item_ids: torch.Tensor) -> torch.Tensor:
        """Vectors of ``item_ids`` (any shape) -> shape ``(*item_ids.shape, dim)``."""
        raise NotImplementedError

    def all_items(self) -> torch.Tensor:
        """The ``(N + 1, dim)`` table of every item, row ``i`` for id ``i`` (row 0: padding)."""
        return self(torch.arange(self.num_items + 1, device=self.device))

    def auxiliary_losses(self, target_items: torch.Tensor) -> dict[str, torch.Tensor]:
        """Extra named losses on a batch's distinct target ids, added to the recommendation
        loss by the trainer (none for a plain ID table)."""
        return {}

    def parameter_groups(self) -> list[dict[str, Any]]:
        """Optimiser groups for parameters that train at their own learning rate (each a
        ``torch.optim`` group with ``params`` and ``lr``); the rest use ``srs.learning_rate``."""
        return []

    def describe(self) -> dict[str, Any]:
        """What identifies this encoder in a run's manifest (checked on resume)."""
        return {"name": type(self).__name__}

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device


class IDEncoder(ItemEncoder):
    """A trainable embedding per item id, Xavier-normal initialised, padding row zero."""

    def __init__(self, num_items: int, dim: int) -> None:
        super().__init__(num_items, dim)
        self.table = nn.Embedding(num_items + 1, dim, padding_idx=0)
        nn.init.xavier_normal_(self.table.weight)
        with torch.no_grad():
            self.table.weight[0].zero_()

    def forward(self, item_ids: torch.Tensor) -> torch.Tensor:
        return self.table(item_ids)

    def all_items(self) -> torch.Tensor:
        return self.table.weight

    def describe(self) -> dict[str, Any]:
        return {"name": "id"}


EncoderFactory = Callable[[PreparedDataset, ExperimentConfig], ItemEncoder]
ENCODERS: dict[str, EncoderFactory] = {}


def register_encoder(name: str) -> Callable[[EncoderFactory], EncoderFactory]:
    """Make an encoder available as ``llmemb train --encoder NAME``."""
    def add(factory: EncoderFactory) -> EncoderFactory:
        ENCODERS[name] = factory
        return factory
    return add


@register_encoder("id")
def _id_encoder(dataset: PreparedDataset, config: ExperimentConfig) -> ItemEncoder:
    return IDEncoder(dataset.num_items, config.srs.hidden)


def build_encoder(name: str, dataset: PreparedDataset, config: ExperimentConfig) -> ItemEncoder:
    """The encoder registered as ``name``: ``id`` here, the others by the packages that define
    them when they are imported (the command line and :mod:`llmemb_utils.pipeline` import
    them all)."""
    if name not in ENCODERS:
        raise ValueError(f"unknown item encoder {name!r}; registered: {sorted(ENCODERS)} "
                         "(an encoder registers when its package is imported)")
    return ENCODERS[name](dataset, config)
