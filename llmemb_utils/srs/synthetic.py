"""Synthetic interaction data for fast tests and benchmarks, in the raw schema.

``successor_data``: every user walks consecutive items (next = current + 1, wrapping), a rule
any sequential model can learn. ``long_tail_data``: Zipf-like item popularity and short,
skewed sequence lengths, at any scale (e.g. the paper's Amazon Beauty: 52k users, 57k items,
~400k interactions); it has no sequential signal and serves speed and memory measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import DataConfig, SourceConfig, ThresholdConfig
from ..data.dataset import PreparedDataset
from ..data.prepare import prepare_from_raw
from ..data.schema import RawData


def raw_from_sequences(sequences: Sequence[Sequence[int]], num_items: int) -> RawData:
    """RawData with users ``u<k>``, items ``i<id>`` and increasing timestamps per user."""
    users = np.repeat(np.arange(len(sequences)), [len(s) for s in sequences])
    items = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences])
    interactions = pd.DataFrame({
        "user": [f"u{u}" for u in users],
        "item": [f"i{i}" for i in items],
        "timestamp": np.arange(len(items), dtype=np.int64),
    })
    catalogue = pd.DataFrame({"item": [f"i{i}" for i in range(num_items)],
                              "title": [f"item {i}" for i in range(num_items)]})
    return RawData(interactions, catalogue, source="synthetic")


def successor_data(num_users: int, num_items: int, length: int, seed: int = 0) -> RawData:
    """Users start at a random item and continue with item + 1 (mod ``num_items``)."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, num_items, num_users)
    return raw_from_sequences([(start + np.arange(length)) % num_items for start in starts],
                              num_items)


def long_tail_data(num_users: int, num_items: int, num_interactions: int, seed: int = 0,
                   exponent: float = 1.0, min_length: int = 3) -> RawData:
    """Item popularity ~ 1 / (rank + 10) ** exponent; lengths ``min_length`` + geometric, so
    the total is about ``num_interactions``."""
    rng = np.random.default_rng(seed)
    extra = max(num_interactions / num_users - min_length, 1e-6)
    lengths = min_length + rng.geometric(1.0 / (1.0 + extra), num_users) - 1
    weights = 1.0 / (np.arange(num_items) + 10.0) ** exponent
    items = rng.choice(num_items, size=int(lengths.sum()), p=weights / weights.sum())
    return raw_from_sequences(np.split(items, np.cumsum(lengths)[:-1]), num_items)


def prepare_synthetic(raw: RawData, out: str | Path, item_head_min: int = 5,
                      user_long_min: int = 10, seed: int = 42) -> PreparedDataset:
    """Prepare ``raw`` with no frequency filter and fixed group thresholds."""
    config = DataConfig(source=SourceConfig(format="generic", asset=None), domain="generic",
                        user_core=1, item_core=1,
                        thresholds=ThresholdConfig(rule="fixed", item_head_min=item_head_min,
                                                   user_long_min=user_long_min))
    return prepare_from_raw(raw, config, out, seed=seed)
