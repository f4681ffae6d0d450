"""The paired bootstrap of coverage, a catalogue-level measure.

Coverage is not a mean over users, so the ratio-of-means bootstrap does not apply as it
stands; the unit resampled stays the user. A replicate draws as many users as there are, with
replacement (the very draws :func:`.bootstrap.resample_counts` gives every other comparison
on that many users), and counts the distinct items in the lists of the users it drew, for
every seed of both models. A comparison pooled over seeds compares the totals of those
counts, so its ratio is the ratio of the mean coverages over the seeds and its difference
the difference of those means.

Resampling users with replacement leaves out about a third of them in each replicate, so a
replicate's coverage is lower than the sample's: the interval of each model's coverage is
shifted down, but the ratio and difference compare both models on the same drawn users.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from .bootstrap import PairedEstimate, estimates_from_totals, resample_counts
from .user_lists import UserLists


def covered_items(lists: np.ndarray) -> int:
    """How many distinct items the ``(U, K)`` lists show."""
    return len(np.unique(lists))


def resampled_covered_items(runs: Sequence[np.ndarray], replicates: int,
                            seed: int) -> np.ndarray:
    """``(replicates, len(runs))``: per replicate, the distinct items in the lists of the users
    it drew, for each run's ``(U, K)`` lists (all on the same ``U`` users)."""
    users = {lists.shape[0] for lists in runs}
    if len(users) != 1:
        raise ValueError(f"the runs' lists hold different numbers of users: {sorted(users)}")
    layouts = [_holders_by_item(lists) for lists in runs]
    chunks = []
    for times in resample_counts(users.pop(), replicates, seed):
        drawn = _bit_rows(times > 0)
        counts = [np.unpackbits(np.bitwise_or.reduceat(drawn[holders], starts, axis=0)
                                .view(np.uint8), axis=1, count=len(times)).sum(axis=0)
                  for holders, starts in layouts]  # an item's bit: a drawn user shows it
        chunks.append(np.stack(counts, axis=1))
    return np.concatenate(chunks)


def _bit_rows(drawn: np.ndarray) -> np.ndarray:
    """``(users, words)`` 64-bit words whose bits, in :func:`numpy.packbits` order, say which
    replicates (rows of ``drawn``) drew each user: one OR of words joins 64 replicates."""
    packed = np.packbits(drawn.T, axis=1)
    words = np.zeros((packed.shape[0], -(-packed.shape[1] // 8) * 8), dtype=np.uint8)
    words[:, :packed.shape[1]] = packed
    return words.view(np.uint64)


def _holders_by_item(lists: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The users holding each list entry, ordered by item, and where each item's run of
    entries starts: an item is shown by a replicate when any of its holders was drawn."""
    items = lists.ravel()
    order = np.argsort(items, kind="stable")
    holders = np.repeat(np.arange(lists.shape[0]), lists.shape[1])[order]
    starts = np.flatnonzero(np.r_[True, np.diff(items[order]) != 0])
    return holders, starts


def coverage_estimates(lists: Mapping[Hashable, UserLists],
                       comparisons: Sequence[tuple[Sequence[Hashable], Sequence[Hashable]]],
                       replicates: int, seed: int) -> list[PairedEstimate]:
    """Per comparison, given as the keys in ``lists`` of the model's and the baseline's runs
    of its paired seeds, the coverage of the model against the baseline pooled over those
    seeds; each run's replicates are counted once, however many comparisons it serves."""
    if not comparisons:
        return []
    runs = list(dict.fromkeys(key for pair in comparisons for side in pair for key in side))
    by_users: dict[int, list[Hashable]] = {}
    for key in runs:
        by_users.setdefault(len(lists[key].users), []).append(key)
    drawn: dict[Hashable, np.ndarray] = {}
    for keys in by_users.values():
        counts = resampled_covered_items([lists[key].lists for key in keys], replicates, seed)
        drawn.update(zip(keys, counts.T, strict=True))
    sample = {key: covered_items(lists[key].lists) for key in runs}

    def totals(side: int) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([sum(sample[key] for key in pair[side]) for pair in comparisons]),
                np.stack([sum(drawn[key] for key in pair[side]) for pair in comparisons],
                         axis=1))

    (model_total, drawn_model), (baseline_total, drawn_baseline) = totals(0), totals(1)
    count = np.array([len(model) * lists[model[0]].num_items for model, _ in comparisons],
                     dtype=float)
    return estimates_from_totals(model_total, baseline_total, drawn_model, drawn_baseline,
                                 count)
