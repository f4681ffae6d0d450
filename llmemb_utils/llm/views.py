"""The two attribute-drop views of each item and the order in which SCFT visits items."""

from __future__ import annotations

import random
import warnings
from collections.abc import Sequence

import numpy as np

from ..data.prompts import attribute_count, attribute_drop_views, attributes_dropped


def warn_if_nothing_dropped(prompts: Sequence[str], drop_ratio: float) -> None:
    """Warn when ``drop_ratio`` > 0 drops no attribute from any prompt: with few attributes
    per item, floor(n * ratio) is 0, and the two views of an item then differ only in their
    attributes' order and dropout, the same training as ``drop_ratio`` 0."""
    if drop_ratio > 0 and not any(attributes_dropped(p, drop_ratio) for p in prompts):
        most = max(map(attribute_count, prompts), default=0)
        warnings.warn(f"scft.drop_ratio {drop_ratio} drops no attribute from any of the "
                      f"{len(prompts)} prompts (at most {most} attributes each, and a view "
                      "drops floor(n * ratio) of n): its views differ only in order and "
                      "dropout, as with drop_ratio 0", stacklevel=2)


def fixed_views(prompts: Sequence[str], drop_ratio: float, seed: int) -> list[tuple[str, str]]:
    """One pair of views per item, drawn once per run as in the official code
    (docs/method.md §3.3), seeded."""
    rng = random.Random(seed)
    return [attribute_drop_views(prompt, drop_ratio, rng) for prompt in prompts]


def step_views(prompts: Sequence[str], items: Sequence[int], drop_ratio: float, seed: int,
               index: int) -> list[tuple[str, str]]:
    """Fresh views of ``items`` for micro-batch ``index`` (the resampling option), seeded by
    the index, which differs across micro-batches and processes (:func:`micro_batch_index`)."""
    rng = random.Random(f"{seed}/{index}")
    return [attribute_drop_views(prompts[i], drop_ratio, rng) for i in items]


def micro_batch_index(step: int, micro: int, accumulation: int, world: int, rank: int) -> int:
    """The global position of one micro-batch: optimiser steps hold ``accumulation`` rounds of
    ``world`` micro-batches, one per process."""
    return (step * accumulation + micro) * world + rank


def batch_items(num_items: int, batch_size: int, seed: int, index: int) -> np.ndarray:
    """Item indices of micro-batch ``index``: epochs of seeded permutations, last partial
    batch of each epoch dropped, so any batch can be recomputed from its index (resume, DDP)."""
    batch_size = min(batch_size, num_items)
    per_epoch = num_items // batch_size
    epoch, position = divmod(index, per_epoch)
    order = np.random.default_rng([seed, epoch]).permutation(num_items)
    return order[position * batch_size:(position + 1) * batch_size]
