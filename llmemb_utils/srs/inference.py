"""User states for a list of histories, batched and in user order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .batches import history_batches
from .model import SequentialRecommender

INFERENCE_BATCH = 64


@torch.no_grad()
def user_states(model: SequentialRecommender, histories: Sequence[np.ndarray], max_length: int,
                device: torch.device | str, batch_size: int = INFERENCE_BATCH) -> torch.Tensor:
    """(U, d) states after each history, in eval mode.

    When padding each batch only to its longest row is exact, users are processed by
    increasing length to minimise padding, then put back in order.
    """
    backbone = model.backbone
    short_padding = backbone.exact_with_short_padding
    order = (np.argsort([len(h) for h in histories], kind="stable") if short_padding
             else np.arange(len(histories)))
    was_training = model.training
    model.eval()
    chunks = [model.user_states(inputs.to(device)) for inputs in history_batches(
        [histories[i] for i in order], max_length, batch_size,
        append_mask=backbone.appends_mask, pad_to_max_length=not short_padding)]
    model.train(was_training)
    in_order = torch.cat(chunks)
    states = torch.empty_like(in_order)
    states[torch.as_tensor(order, device=states.device)] = in_order
    return states
