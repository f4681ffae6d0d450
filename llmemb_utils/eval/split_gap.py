"""Validation against test under leave-one-out: where a model's validation NDCG@10 and its test
NDCG@10 part, split by how the two held-out items were ordered.

Leave-one-out holds out each user's last item for test and the one before for validation. When
both carry the same timestamp (MovieLens rates in batches), only file order says which is
which, and the two targets come from one distribution; when the test item is rated later, it
is a target of its own kind. Comparing validation and test on these two groups of users tells
a selection artefact or a leak (the gap would show on both groups) from a shift of the test
targets (it shows only where the test item comes later).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..data.dataset import PreparedDataset
from .evaluate import rank_counts
from .metrics import expected_metrics

METRIC = "NDCG@10"


def tied_held_out_items(dataset: PreparedDataset) -> np.ndarray:
    """Per user (in user order): whether the test item shares its timestamp with the
    validation item."""
    path = dataset.path / "interactions.parquet"
    frame = pd.read_parquet(path, columns=["user_id", "timestamp"])
    if frame["timestamp"].isna().any():
        raise ValueError(f"{path}: timestamps are missing, so held-out items cannot be ordered")
    stamps = frame.groupby("user_id", sort=True)["timestamp"]
    return (stamps.nth(-1).to_numpy() == stamps.nth(-2).to_numpy()).astype(bool)


def held_out_popularity(dataset: PreparedDataset, tied: np.ndarray) -> pd.DataFrame:
    """Median training interactions of the validation and test targets, per group of users."""
    counts = dataset.item_popularity
    rows = {}
    for group, users in _groups(tied).items():
        rows[group] = {split: float(np.median(counts[dataset.targets(split)][users]))
                       for split in ("valid", "test")}
    return pd.DataFrame(rows).T.rename(columns={"valid": "validation target",
                                                "test": "test target"})


def per_user_ndcg(run: str | Path, dataset: PreparedDataset, split: str) -> np.ndarray:
    """Per-user NDCG@10 of a finished run's best model on ``split``, full ranking as the run
    was evaluated (its ``srs.exclude_history``)."""
    from .. import rat  # noqa: F401  registers the ``llmemb`` encoder, to load LLMEmb runs
    from ..srs.inference import user_states
    from ..srs.run import candidate_protocol, load_trained

    model, config, dataset, _ = load_trained(run, dataset)
    protocol = candidate_protocol("full", dataset, config.srs.exclude_history)
    states = user_states(model, dataset.history(split), config.srs.max_length, "cpu")
    with torch.no_grad():
        counts = rank_counts(states, model.item_table(), dataset, split, protocol)
    return expected_metrics(*counts)[METRIC]


def split_gap(models: Mapping[str, Sequence[str | Path]], dataset: PreparedDataset,
              ) -> pd.DataFrame:
    """Per model (its runs over seeds, pooled): validation and test NDCG@10 of the best
    models for all users, for users whose held-out items are tied and for users whose test
    item comes later; validation / test with its paired 95 % bootstrap interval over users
    (``low``, ``high``), the same users scored on both splits."""
    from ..evidence.bootstrap import paired_bootstrap

    groups = _groups(tied_held_out_items(dataset))
    rows = {}
    for name, runs in models.items():
        scores = {split: np.stack([per_user_ndcg(run, dataset, split) for run in runs])
                  for split in ("valid", "test")}
        row: dict[tuple[str, str], float] = {}
        for group, users in groups.items():
            values = dict.fromkeys(("validation", "test", "validation / test", "low", "high"),
                                   np.nan)
            if users.any():
                valid, test = scores["valid"][:, users], scores["test"][:, users]
                estimate = paired_bootstrap(valid, test)
                values |= {"validation": valid.mean(), "test": test.mean()}
                if estimate.ratio is not None:
                    values["validation / test"] = estimate.ratio
                if estimate.ratio_ci95 is not None:
                    values["low"], values["high"] = estimate.ratio_ci95
            row |= {(group, key): value for key, value in values.items()}
        rows[name] = row
    frame = pd.DataFrame(rows).T
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame


def _groups(tied: np.ndarray) -> dict[str, np.ndarray]:
    return {f"all users ({tied.size})": np.ones_like(tied),
            f"tied held-out items ({tied.sum()})": tied,
            f"test item later ({(~tied).sum()})": ~tied}
