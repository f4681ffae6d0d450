"""Per-user top-K lists of a run's test users and the per-user beyond-accuracy values read
from them: what the ``beyond_accuracy`` section of ``metrics.json`` and its paired
comparisons are recomputed from, without the model or the dataset.

Each full-ranking ``metrics*.json`` of a run has a ``beyond*.npz`` beside it (``metrics.json``
-> ``beyond.npz``), compressed, holding:

``users``       user id (1..U), the users of ``ranks.npz``
``lists``       (U, K) item ids each user is shown, best first
``num_items``   the catalogue's size, coverage's denominator
one array per measure that is a mean over users (``tail_share@K``, ``novelty@K`` and, where
the run had a diversity ruler, ``intra_list_diversity@K``): each user's value
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.dataset import PreparedDataset
from ..eval.beyond import measure_means, per_user_measures
from ..io import read_npz, write_npz
from .ranks import companion_filename

SECTION = "beyond_accuracy"  # the section of metrics.json the file reproduces
KEYS = ("users", "lists", "num_items")


def lists_filename(metrics_filename: str) -> str:
    """The lists file beside a metrics file: ``metrics.json`` -> ``beyond.npz``."""
    return companion_filename(metrics_filename, "beyond")


@dataclass(frozen=True)
class UserLists:
    """One run's test top-K lists and per-user measures."""

    users: np.ndarray
    lists: np.ndarray
    num_items: int
    measures: dict[str, np.ndarray]

    @classmethod
    def of_lists(cls, lists: np.ndarray, dataset: PreparedDataset,
                 ruler: np.ndarray | None) -> UserLists:
        """The lists of the test users, user ``u`` at index ``u - 1``, measured with the
        diversity ``ruler`` when there is one."""
        return cls(np.arange(1, dataset.num_users + 1, dtype=np.int32),
                   np.asarray(lists, dtype=np.int32), dataset.num_items,
                   per_user_measures(lists, dataset, ruler))

    def save(self, path: str | os.PathLike) -> None:
        write_npz(path, {"users": self.users, "lists": self.lists,
                         "num_items": np.int64(self.num_items),
                         **{name: np.asarray(values, dtype=np.float64)
                            for name, values in self.measures.items()}})

    @classmethod
    def load(cls, path: str | os.PathLike) -> UserLists:
        data = read_npz(path, KEYS, "per-user lists file")
        users, lists, num_items = data["users"], data["lists"], int(data["num_items"])
        measures = {name: values for name, values in data.items() if name not in KEYS}
        if lists.ndim != 2 or len(lists) != len(users) or any(
                values.shape != users.shape for values in measures.values()):
            raise ValueError(f"{path}: arrays disagree on the number of users ({len(users)})")
        return cls(users, lists, num_items, measures)

    @property
    def k(self) -> int:
        """The length of every list."""
        return self.lists.shape[1]

    def summary(self) -> dict[str, float]:
        """The measures of ``metrics.json``'s ``beyond_accuracy`` section, recomputed."""
        return measure_means(self.lists, self.num_items, self.measures)


def section_measures(metrics: dict[str, Any]) -> dict[str, float]:
    """The measures a ``metrics.json`` records in its ``beyond_accuracy`` section (``name@K``
    entries), what :meth:`UserLists.summary` must give; none when it has no section."""
    return {name: value for name, value in metrics.get(SECTION, {}).items() if "@" in name}
