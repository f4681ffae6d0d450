"""Per-user rank counts of a run's test targets: what every metric and every paired statistic
is recomputed from, without the model or the dataset.

Each ``metrics*.json`` of a run has a ``ranks*.npz`` beside it (``metrics_sampled.json`` ->
``ranks_sampled.npz``), compressed, holding per test user:

``users``        user id (1..U)
``greater``      candidates scoring strictly above the user's target
``ties``         other candidates scoring exactly the target's score
``group_names``  the groups of ``metrics.json``; binned ones as ``<analysis>/<bin label>``
``group_masks``  booleans, one row per group: which users the group holds
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.buckets import binned_masks, group_masks
from ..data.dataset import PreparedDataset
from ..eval.metrics import KS, expected_metrics, mean_metrics
from ..io import read_npz, write_npz

KEYS = ("users", "greater", "ties", "group_names", "group_masks")


def companion_filename(metrics_filename: str, prefix: str) -> str:
    """The per-user file named ``prefix`` beside a metrics file: ``metrics_sampled.json``
    with ``ranks`` -> ``ranks_sampled.npz``."""
    stem = Path(metrics_filename).stem
    if not stem.startswith("metrics"):
        raise ValueError(f"{metrics_filename}: not a metrics*.json file name")
    return f"{prefix}{stem.removeprefix('metrics')}.npz"


def ranks_filename(metrics_filename: str) -> str:
    """The rank file beside a metrics file: ``metrics_sampled.json`` -> ``ranks_sampled.npz``."""
    return companion_filename(metrics_filename, "ranks")


def flat_groups(dataset: PreparedDataset, split: str) -> dict[str, np.ndarray]:
    """Every user group of the evaluation as one mask per name, binned ones as ``a/bin``."""
    targets = dataset.targets(split)
    groups = dict(group_masks(dataset, targets))
    for analysis, bins in binned_masks(dataset, targets).items():
        groups.update({f"{analysis}/{label}": mask for label, mask in bins.items()})
    return groups


@dataclass(frozen=True)
class UserRanks:
    """One run's rank counts under one protocol, with the group of every user."""

    users: np.ndarray
    greater: np.ndarray
    ties: np.ndarray
    groups: dict[str, np.ndarray]

    @classmethod
    def of_split(cls, counts: tuple[np.ndarray, np.ndarray], dataset: PreparedDataset,
                 split: str) -> UserRanks:
        """The counts of ``split``'s targets, user ``u`` at index ``u - 1``."""
        return cls(np.arange(1, dataset.num_users + 1, dtype=np.int32),
                   np.asarray(counts[0], dtype=np.int32), np.asarray(counts[1], dtype=np.int32),
                   flat_groups(dataset, split))

    def save(self, path: str | os.PathLike) -> None:
        """Write the compressed ``.npz`` atomically."""
        write_npz(path, {"users": self.users, "greater": self.greater, "ties": self.ties,
                         "group_names": np.array(list(self.groups), dtype=str),
                         "group_masks": np.stack(list(self.groups.values()))})

    @classmethod
    def load(cls, path: str | os.PathLike) -> UserRanks:
        arrays = read_npz(path, KEYS, "rank file")
        users = len(arrays["users"])
        masks = arrays["group_masks"]
        if (len(arrays["greater"]), len(arrays["ties"])) != (users, users) or \
                masks.shape != (len(arrays["group_names"]), users):
            raise ValueError(f"{path}: arrays disagree on the number of users ({users})")
        return cls(arrays["users"], arrays["greater"], arrays["ties"],
                   dict(zip(arrays["group_names"].tolist(), masks.astype(bool), strict=True)))

    def per_user(self, ks: tuple[int, ...] = KS) -> dict[str, np.ndarray]:
        """Expected HR/NDCG/MRR@K of every user."""
        return expected_metrics(self.greater, self.ties, ks=ks)

    def summary(self, ks: tuple[int, ...] = KS) -> dict[str, Any]:
        """The ``overall``, ``groups`` and ``counts`` sections of ``metrics.json``, recomputed."""
        per_user = self.per_user(ks)
        groups: dict[str, Any] = {}
        counts: dict[str, Any] = {"users": len(self.users)}
        for name, mask in self.groups.items():
            analysis, _, label = name.partition("/")
            if label:
                groups.setdefault(analysis, {})[label] = mean_metrics(per_user, mask)
                counts.setdefault(analysis, {})[label] = int(mask.sum())
            else:
                groups[name] = mean_metrics(per_user, mask)
                counts[name] = int(mask.sum())
        return {"overall": mean_metrics(per_user), "groups": groups, "counts": counts}
