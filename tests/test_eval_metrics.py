"""Tie-aware expected metrics against brute force, and the two ranking protocols."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.stats import hypergeom

from llmemb_utils.eval.metrics import expected_metrics, mean_metrics
from llmemb_utils.eval.ranking import (
    full_rank_counts,
    sample_negatives,
    sampled_rank_counts,
)


def brute_force(scores: np.ndarray, target: int, k: int) -> dict[str, float]:
    """Average each metric over every order of the candidates used to break ties."""
    totals = {"HR": 0.0, "NDCG": 0.0, "MRR": 0.0}
    orders = list(itertools.permutations(range(len(scores))))
    for order in orders:
        tiebreak = np.empty(len(scores))
        tiebreak[list(order)] = np.arange(len(scores))
        ranking = sorted(range(len(scores)), key=lambda i: (-scores[i], tiebreak[i]))
        rank = ranking.index(target)
        if rank < k:
            totals["HR"] += 1
            totals["NDCG"] += 1 / math.log2(rank + 2)
            totals["MRR"] += 1 / (rank + 1)
    return {name: value / len(orders) for name, value in totals.items()}


def counts(scores: np.ndarray, target: int) -> tuple[int, int]:
    return int((scores > scores[target]).sum()), int((scores == scores[target]).sum() - 1)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_expected_metrics_equal_brute_force_over_tie_orders(k: int) -> None:
    rng = np.random.default_rng(0)
    for _ in range(15):
        scores = rng.integers(0, 3, 6).astype(float)  # few values: many ties
        target = int(rng.integers(6))
        reference = brute_force(scores, target, k)
        greater, ties = counts(scores, target)
        metrics = expected_metrics(np.array([greater]), np.array([ties]), ks=(k,))
        for name, value in reference.items():
            assert metrics[f"{name}@{k}"][0] == pytest.approx(value, abs=1e-12)


def test_constant_scores_give_exactly_k_over_candidates() -> None:
    users, items = 7, 40
    states = torch.zeros(users, 4)
    table = torch.randn(items + 1, 4)
    targets = np.arange(1, users + 1)
    metrics = expected_metrics(*full_rank_counts(states, table, targets))
    for k in (5, 10, 20):
        assert np.all(metrics[f"HR@{k}"] == k / items)


def test_full_ranking_matches_sorting_without_ties() -> None:
    rng = np.random.default_rng(1)
    states, table = torch.randn(30, 8), torch.randn(51, 8)
    targets = rng.integers(1, 51, 30)
    greater, ties = full_rank_counts(states, table, targets)
    scores = (states @ table[1:].T).numpy()
    ranks = (-scores).argsort(axis=1).argsort(axis=1)[np.arange(30), targets - 1]
    assert np.array_equal(greater, ranks)
    assert np.all(ties == 0)


def test_excluding_history_removes_earlier_items_but_never_the_target() -> None:
    table = torch.eye(6)[:, :5]  # item i scores state[i - 1]
    states = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0]])
    targets = np.array([3])
    assert full_rank_counts(states, table, targets)[0][0] == 2
    history = [np.array([1, 3, 5])]
    assert full_rank_counts(states, table, targets, history)[0][0] == 1


def test_non_finite_scores_are_refused() -> None:
    states = torch.tensor([[1.0, 0.0], [float("nan"), 0.0]])
    with pytest.raises(ValueError, match=r"non-finite scores for 1 user\(s\), first user "
                                         r"indices \[1\]"):
        full_rank_counts(states, torch.randn(5, 2), np.array([1, 2]))


def test_sampled_negatives_are_fixed_distinct_and_unseen() -> None:
    sequences = [np.arange(1, 40), np.array([5, 6, 7])]
    first = sample_negatives(sequences, 200, 100, seed=3)
    assert np.array_equal(first, sample_negatives(sequences, 200, 100, seed=3))
    assert not np.array_equal(first, sample_negatives(sequences, 200, 100, seed=4))
    for row, sequence in zip(first, sequences, strict=True):
        assert len(set(row)) == 100 and not set(row) & set(sequence)
        assert row.min() >= 1 and row.max() <= 200
    with pytest.raises(ValueError, match="user index 0 has only 61 unseen items, fewer than "
                                         "the 100 negatives"):
        sample_negatives(sequences, 100, 100, seed=0)


def test_expected_sampled_hit_rate_follows_the_hypergeometric_law() -> None:
    """With R unseen items above the target, the number of them among 100 uniform negatives
    drawn from M unseen items is hypergeometric, so E[HR@K] = P(X < K)."""
    num_items, seen, above, users = 600, 5, 40, 3000
    table = torch.zeros(num_items + 1, 1)
    table[1:, 0] = -torch.arange(num_items, dtype=torch.float)  # item 1 scores highest
    # Every user saw items 1..5 (the test target is item 5 + above + 1); items 6..5+above
    # are the unseen items that outscore the target.
    target = seen + above + 1
    sequences = [np.append(np.arange(1, seen + 1), target)] * users
    negatives = sample_negatives(sequences, num_items, 100, seed=0)
    states = torch.ones(users, 1)
    ranks = sampled_rank_counts(states, table, np.full(users, target), negatives)
    metrics = mean_metrics(expected_metrics(*ranks))
    unseen = num_items - seen - 1
    for k in (5, 10, 20):
        expected = hypergeom(unseen, above, 100).cdf(k - 1)
        spread = math.sqrt(expected * (1 - expected) / users)
        assert abs(metrics[f"HR@{k}"] - expected) < 4 * spread + 1e-9


def test_mean_metrics_of_an_empty_group_is_none() -> None:
    per_user = {"HR@10": np.array([1.0, 0.0])}
    assert mean_metrics(per_user, np.array([False, False])) == {"HR@10": None}
    assert mean_metrics(per_user, np.array([True, False])) == {"HR@10": 1.0}
