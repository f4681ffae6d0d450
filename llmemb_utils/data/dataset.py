"""The prepared-dataset folder: what ``llmemb prepare`` writes and every later stage reads.

Layout (docs/design.md §4.3)::

    interactions.parquet  user_id, item_id (1..N), timestamp[, rating], per-user chronological
    items.parquet         item_id, raw_item, has_attributes
    users.parquet         user_id, raw_user
    prompts.jsonl         {"item_id", "raw_item", "prompt", "has_attributes"} for ids 1..N
    stats.json            counts, quantiles, thresholds
    manifest.json         config, seed, source checksums, package version, file hashes

Id 0 is padding. Each user's sequence is split leave-one-out: all but the last two items
train, the second to last validates, the last tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import MANIFEST, fingerprint, read_json
from .thresholds import Thresholds

FILES = ("interactions.parquet", "items.parquet", "users.parquet", "prompts.jsonl", "stats.json")
KIND = "prepared-dataset"


@dataclass(frozen=True)
class PreparedDataset:
    """A prepared dataset folder, loaded read-only."""

    path: Path
    sequences: tuple[np.ndarray, ...]  # full chronological item ids of user u at index u - 1
    num_items: int
    thresholds: Thresholds
    stats: dict[str, Any] = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)

    @classmethod
    def load(cls, path: str | Path) -> PreparedDataset:
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"{path}: prepared dataset folder not found "
                                    "(run `llmemb prepare` first)")
        missing = [name for name in (*FILES, MANIFEST) if not (path / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{path}: not a complete prepared dataset, missing {missing}")
        manifest = read_json(path / MANIFEST)
        if manifest.get("kind") != KIND:
            raise ValueError(f"{path / MANIFEST}: kind is {manifest.get('kind')!r}, "
                             f"expected {KIND!r}")
        stats = read_json(path / "stats.json")
        frame = pd.read_parquet(path / "interactions.parquet", columns=["user_id", "item_id"])
        users = frame["user_id"].to_numpy()
        if len(users) and (np.any(np.diff(users) < 0) or users[0] != 1):
            raise ValueError(f"{path / 'interactions.parquet'}: rows must be grouped by user_id "
                             "1..U in order")
        bounds = np.flatnonzero(np.diff(users)) + 1
        items = frame["item_id"].to_numpy(dtype=np.int64)
        sequences = tuple(np.split(items, bounds))
        if len(sequences) != users[-1]:
            raise ValueError(f"{path / 'interactions.parquet'}: user ids are not consecutive")
        short = [u + 1 for u, s in enumerate(sequences) if len(s) < 3]
        if short:
            raise ValueError(f"{path}: users {short[:5]} have fewer than 3 interactions")
        thresholds = stats["thresholds"]
        return cls(
            path=path,
            sequences=sequences,
            num_items=int(stats["filtered"]["items"]),
            thresholds=Thresholds(int(thresholds["item_head_min"]),
                                  int(thresholds["user_long_min"])),
            stats=stats,
            manifest=manifest,
        )

    @property
    def num_users(self) -> int:
        return len(self.sequences)

    @cached_property
    def train_sequences(self) -> tuple[np.ndarray, ...]:
        """Training items of each user: everything but the last two."""
        return tuple(s[:-2] for s in self.sequences)

    @cached_property
    def valid_targets(self) -> np.ndarray:
        return np.array([s[-2] for s in self.sequences], dtype=np.int64)

    @cached_property
    def test_targets(self) -> np.ndarray:
        return np.array([s[-1] for s in self.sequences], dtype=np.int64)

    def history(self, split: str) -> tuple[np.ndarray, ...]:
        """Model input for evaluating ``split`` ("valid": train items; "test": train + valid)."""
        if split == "valid":
            return self.train_sequences
        if split == "test":
            return tuple(s[:-1] for s in self.sequences)
        raise ValueError(f"split must be 'valid' or 'test', got {split!r}")

    def targets(self, split: str) -> np.ndarray:
        if split == "valid":
            return self.valid_targets
        if split == "test":
            return self.test_targets
        raise ValueError(f"split must be 'valid' or 'test', got {split!r}")

    @cached_property
    def item_popularity(self) -> np.ndarray:
        """Training interactions per item id (index 0 = padding, always 0)."""
        counts = np.zeros(self.num_items + 1, dtype=np.int64)
        for sequence in self.train_sequences:
            np.add.at(counts, sequence, 1)
        return counts

    @cached_property
    def train_lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.train_sequences], dtype=np.int64)

    @property
    def fixed_item_head_min(self) -> int | None:
        """The second, fixed head threshold of the data config (None: not set)."""
        return self.manifest["config"]["thresholds"].get("fixed_item_head_min")  # absent: None

    def is_head_item(self, item_ids: np.ndarray) -> np.ndarray:
        return self.item_popularity[np.asarray(item_ids)] >= self.thresholds.item_head_min

    def is_long_user(self, user_index: np.ndarray | None = None) -> np.ndarray:
        lengths = self.train_lengths if user_index is None else self.train_lengths[user_index]
        return lengths >= self.thresholds.user_long_min

    @cached_property
    def prompt_records(self) -> tuple[dict[str, Any], ...]:
        path = self.path / "prompts.jsonl"
        with open(path, encoding="utf-8") as handle:
            records = tuple(json.loads(line) for line in handle if line.strip())
        ids = [r["item_id"] for r in records]
        if ids != list(range(1, self.num_items + 1)):
            raise ValueError(f"{path}: expected one prompt per item id 1..{self.num_items}")
        return records

    @property
    def prompts(self) -> list[str]:
        """Item prompts; index i - 1 holds item id i."""
        return [r["prompt"] for r in self.prompt_records]

    @property
    def fingerprint(self) -> str:
        """Content hash of the data files; later stages record it to detect mismatches."""
        return fingerprint(self.manifest)
