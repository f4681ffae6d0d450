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

from ..eval.beyond import shown_items
from .bootstrap import PairedEstimate, Statistic, estimates_from_totals
from .user_lists import UserLists


def covered_items_of(runs: Sequence[np.ndarray]) -> Statistic:
    """The statistic (:func:`.bootstrap.resampled`) giving, per replicate, the distinct items
    in the lists of the users it drew, one column per run's ``(U, K)`` lists."""
    layouts = [_holders_by_item(lists) for lists in runs]

    def count(times: np.ndarray) -> np.ndarray:
        drawn = _bit_rows(times > 0)
        return np.stack([_shown_items(drawn, holders, starts, len(times))
                         for holders, starts in layouts], axis=1)
    return count


def _shown_items(drawn: np.ndarray, holders: np.ndarray, starts: np.ndarray,
                 replicates: int) -> np.ndarray:
    """Per replicate, how many items the users it drew show: an item's bits are the OR of
    its holders' bits (:func:`_bit_rows`, :func:`_holders_by_item`)."""
    bits = np.bitwise_or.reduceat(drawn[holders], starts, axis=0)  # (items, words)
    return np.unpackbits(bits.view(np.uint8), axis=1, count=replicates).sum(axis=0,
                                                                            dtype=np.int32)


def coverage_estimates(lists: Mapping[Hashable, UserLists],
                       comparisons: Sequence[tuple[Sequence[Hashable], Sequence[Hashable]]],
                       drawn: Mapping[Hashable, np.ndarray]) -> list[PairedEstimate]:
    """Per comparison, given as the keys in ``lists`` of the model's and the baseline's runs
    of its paired seeds, the coverage of the model against the baseline pooled over those
    seeds; ``drawn`` holds each run's :func:`covered_items_of` over the replicates."""

    def pooled(keys: Sequence[Hashable]) -> tuple[int, np.ndarray]:
        """The distinct items of the sample and of each replicate, summed over the seeds."""
        return (sum(shown_items(lists[key].lists) for key in keys),
                sum(drawn[key] for key in keys))

    model = [pooled(keys) for keys, _ in comparisons]
    baseline = [pooled(keys) for _, keys in comparisons]
    count = np.array([len(keys) * lists[keys[0]].num_items for keys, _ in comparisons],
                     dtype=float)
    return estimates_from_totals(np.array([total for total, _ in model]),
                                 np.array([total for total, _ in baseline]),
                                 np.stack([replicates for _, replicates in model], axis=1),
                                 np.stack([replicates for _, replicates in baseline], axis=1),
                                 count)


def _bit_rows(drawn: np.ndarray) -> np.ndarray:
    """``(users, words)`` 64-bit words whose bits say which replicates (rows of ``drawn``)
    drew each user, 8 replicates a byte in :func:`numpy.packbits` order (first replicate in
    the high bit): one OR of words joins 64 replicates. Packed by shifts along the replicates
    and transposed once packed, eight times fewer bytes than ``drawn`` holds."""
    replicates, users = drawn.shape
    words = -(-replicates // 64)
    padded = np.zeros((words * 64, users), dtype=np.uint8)
    padded[:replicates] = drawn
    octets = padded.reshape(words * 8, 8, users)
    packed = octets[:, 0] << 7
    for bit in range(1, 8):
        packed |= octets[:, bit] << (7 - bit)
    return np.ascontiguousarray(packed.T).view(np.uint64)


def _holders_by_item(lists: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The users holding each list entry, ordered by item, and where each item's run of
    entries starts: an item is shown by a replicate when any of its holders was drawn."""
    items = lists.ravel()
    order = np.argsort(items, kind="stable")
    holders = np.repeat(np.arange(lists.shape[0]), lists.shape[1])[order]
    starts = np.flatnonzero(np.r_[True, np.diff(items[order]) != 0])
    return holders, starts
