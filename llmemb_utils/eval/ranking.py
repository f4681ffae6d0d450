"""Rank counts of each user's target among its candidates, and each user's top-K list,
streamed over users.

Scores are dot products of user states with item vectors (``item_table`` row ``i`` is item
id ``i``; row 0 is padding and never a candidate). The rank functions return ``(greater,
ties)`` per user, the input of :func:`.metrics.expected_metrics`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

SCORE_BUDGET = 1 << 20  # scores held at once (4 MB of float32: cache-sized chunks are faster)


def _check_finite(scores: torch.Tensor, first_user: int) -> None:
    """Refuse NaN/inf scores: a comparison-based rank would silently count them
    (docs/design.md §9.1)."""
    suspect = ~torch.isfinite(scores.sum(dim=1))  # cheap screen: one pass, no boolean matrix
    if not suspect.any():
        return
    bad = torch.zeros_like(suspect)
    bad[suspect] = ~torch.isfinite(scores[suspect]).all(dim=1)  # a finite sum can overflow
    if bad.any():
        users = (torch.nonzero(bad).flatten() + first_user).tolist()
        raise ValueError(f"non-finite scores for {len(users)} user(s), first user indices "
                         f"{users[:5]}; the model produced NaN or inf")


def _counts(scores: torch.Tensor, target_scores: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    target_scores = target_scores.unsqueeze(1)
    greater = (scores > target_scores).sum(dim=1, dtype=torch.int32)
    ties = (scores == target_scores).sum(dim=1, dtype=torch.int32) - 1  # the target ties itself
    return greater.cpu().numpy(), ties.cpu().numpy()


def full_scores(user_states: torch.Tensor, item_table: torch.Tensor, targets: np.ndarray,
                histories: Sequence[np.ndarray] | None = None,
                ) -> Iterator[tuple[int, torch.Tensor]]:
    """Scores of all items 1..N (column ``i - 1`` = item ``i``) in chunks of users, each as
    ``(first user, scores)``.

    With ``histories``, the user's earlier items other than the target are removed from its
    candidates (set to -inf after the finiteness check).
    """
    num_items = item_table.shape[0] - 1
    items = item_table[1:].T
    step = max(1, SCORE_BUDGET // max(num_items, 1))
    for start in range(0, len(targets), step):
        stop = min(start + step, len(targets))
        with torch.no_grad():
            scores = user_states[start:stop] @ items
        _check_finite(scores, start)
        if histories is not None:
            seen_rows, seen_columns = _history_cells(histories[start:stop], targets[start:stop])
            scores[torch.as_tensor(seen_rows), torch.as_tensor(seen_columns)] = -torch.inf
        yield start, scores


def full_rank_counts(user_states: torch.Tensor, item_table: torch.Tensor, targets: np.ndarray,
                     histories: Sequence[np.ndarray] | None = None,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Rank each target among all items 1..N, without the user's earlier items when
    ``histories`` are given (:func:`full_scores`)."""
    greater, ties = [], []
    for start, scores in full_scores(user_states, item_table, targets, histories):
        columns = torch.as_tensor(targets[start:start + len(scores)] - 1, device=scores.device)
        rows = torch.arange(len(scores), device=scores.device)
        counts = _counts(scores, scores[rows, columns])  # a target is never removed
        greater.append(counts[0])
        ties.append(counts[1])
    return np.concatenate(greater), np.concatenate(ties)


def full_top_k(user_states: torch.Tensor, item_table: torch.Tensor, targets: np.ndarray,
               k: int, histories: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """(U, k) item ids of each user's ``k`` best-scored candidates, best first, among the
    candidates of :func:`full_rank_counts`. Candidates tied at the k-th score are taken by
    lowest item id, so the lists are the same on every device."""
    if item_table.shape[0] - 1 < k:
        raise ValueError(f"a top-{k} list needs at least {k} items; the catalogue has "
                         f"{item_table.shape[0] - 1}")
    lists = []
    for start, scores in full_scores(user_states, item_table, targets, histories):
        best = torch.topk(scores, k, dim=1)
        short = torch.nonzero(torch.isinf(best.values[:, -1])).flatten()
        if len(short):
            raise ValueError(f"user index {start + int(short[0])} has fewer than {k} "
                             f"candidates for a top-{k} list once its earlier items are left out")
        last = best.values[:, -1:]
        straddled = (scores == last).sum(dim=1) > (best.values == last).sum(dim=1)
        indices = best.indices
        if straddled.any():  # a full stable sort only where ties cross the cut
            rows = torch.nonzero(straddled).flatten()
            indices[rows] = torch.sort(scores[rows], dim=1, descending=True,
                                       stable=True).indices[:, :k]
        lists.append((indices + 1).cpu().numpy())
    return np.concatenate(lists) if lists else np.zeros((0, k), dtype=np.int64)


def _history_cells(histories: Sequence[np.ndarray], targets: np.ndarray,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(row, item column) of every history item that is not the row's target."""
    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    items = np.concatenate(histories) if len(histories) else np.zeros(0, dtype=np.int64)
    keep = items != targets[rows]
    return rows[keep], items[keep] - 1


def sample_negatives(sequences: Sequence[np.ndarray], num_items: int, num_negatives: int,
                     seed: int) -> np.ndarray:
    """``num_negatives`` distinct uniform negatives per user, none among the user's items.

    Deterministic in ``seed``: the same dataset and seed give the same candidates in every run.
    """
    rng = np.random.default_rng(seed)
    negatives = np.empty((len(sequences), num_negatives), dtype=np.int64)
    for user, sequence in enumerate(sequences):
        seen = np.unique(sequence)
        if num_items - len(seen) < num_negatives:
            raise ValueError(f"user index {user} has only {num_items - len(seen)} unseen items, "
                             f"fewer than the {num_negatives} negatives the protocol needs")
        # A uniformly ordered draw without replacement, minus the seen items, keeps enough.
        draw = rng.choice(num_items, size=min(num_items, num_negatives + len(seen)),
                          replace=False) + 1
        negatives[user] = draw[~np.isin(draw, seen)][:num_negatives]
    return negatives


def sampled_rank_counts(user_states: torch.Tensor, item_table: torch.Tensor,
                        targets: np.ndarray, negatives: np.ndarray,
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Rank each target among itself and its sampled negatives."""
    candidates = torch.as_tensor(np.concatenate([targets[:, None], negatives], axis=1),
                                 device=item_table.device)
    step = max(1, SCORE_BUDGET // (candidates.shape[1] * item_table.shape[1]))
    greater, ties = [], []
    for start in range(0, len(targets), step):
        with torch.no_grad():
            vectors = item_table[candidates[start:start + step]]
            scores = torch.einsum("ucd,ud->uc", vectors, user_states[start:start + step])
        _check_finite(scores, start)
        counts = _counts(scores, scores[:, 0])
        greater.append(counts[0])
        ties.append(counts[1])
    return np.concatenate(greater), np.concatenate(ties)
