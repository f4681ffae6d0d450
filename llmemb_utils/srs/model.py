"""A sequential recommender: an item encoder feeding a backbone, trained on named losses."""

from __future__ import annotations

import torch
from torch import nn

from .backbones import PAD, Backbone
from .batches import Batch
from .encoders import ItemEncoder
from .losses import full_softmax_ce, sampled_bce


class SequentialRecommender(nn.Module):
    """Scores item ``i`` for a user as ``state · encoder(i)``.

    :meth:`forward` returns a dict of named losses (``rec`` plus the encoder's auxiliary
    losses); the trainer optimises their sum and logs each.
    """

    def __init__(self, encoder: ItemEncoder, backbone: Backbone, loss: str = "bce") -> None:
        super().__init__()
        self.encoder = encoder
        self.backbone = backbone
        self.loss = loss

    def states(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, L, d) states of left-padded ``inputs`` (encoder vectors are zeroed at padding
        and at mask tokens, which the backbone fills in)."""
        real = (inputs > PAD).unsqueeze(-1)
        vectors = self.encoder(inputs.clamp(min=PAD)) * real
        return self.backbone(vectors, inputs)

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        states, targets, negatives = [], [], []
        for chunk in batch.chunks:
            has_target = chunk.targets != PAD
            states.append(self.states(chunk.inputs)[has_target])
            targets.append(chunk.targets[has_target])
            negatives.append(chunk.negatives[has_target])
        return self.losses(torch.cat(states), torch.cat(targets), torch.cat(negatives))

    def losses(self, states: torch.Tensor, targets: torch.Tensor,
               negatives: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named losses of (T, d) ``states`` predicting ``targets`` (T,) against one sampled
        negative each."""
        if self.loss == "bce":
            loss = sampled_bce(states, self.encoder(targets), self.encoder(negatives))
        else:
            loss = full_softmax_ce(states, self.encoder.all_items(), targets)
        return {"rec": loss, **self.encoder.auxiliary_losses(torch.unique(targets))}

    def user_states(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, d) state at the last position, which scores the next item."""
        return self.states(inputs)[:, -1]

    def item_table(self) -> torch.Tensor:
        """(N + 1, d) vectors used for scoring, row 0 padding."""
        return self.encoder.all_items()
