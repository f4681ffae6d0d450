"""Paired bootstrap over users of the difference and ratio of two models' mean metric.

Both models were evaluated on the same test users, once per seed. The unit resampled is the
user: a replicate draws as many users as there are, with replacement, and a drawn user brings
its values from every seed of both models, so each replicate keeps the pairing of the two
models (same users, same seeds) and the correlation of one user's values across seeds. The
interval is the 2.5 and 97.5 percentiles of the replicates.

An interval end computed from a finite number of replicates moves with the bootstrap seed.
Its Monte-Carlo error is the half-width of the distribution-free 95 % interval of that
percentile from the replicates' order statistics (the percentiles ``p ± 1.96 sqrt(p (1 - p) /
replicates)``); a difference counts as excluding 0 only when its interval does so by more
than that error, so no verdict rests on the draw of one seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

REPLICATES = 10_000
SEED = 0
CHUNK = 1000  # replicates drawn at once: bounds memory to CHUNK x users counts
LEVEL = 0.95
MC_Z = 1.96  # the Monte-Carlo error of an interval end is a 95 % half-width

Interval = tuple[float, float]
# A statistic of the replicates: a chunk of resample counts (one row per replicate, one column
# per user, :func:`resample_counts`) to one row of values per replicate.
Statistic = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class PairedEstimate:
    """Mean of ``model`` minus / over mean of ``baseline`` with 95 % bootstrap intervals and
    the Monte-Carlo error of each interval end.

    ``ratio`` is None when the baseline's mean is 0, ``ratio_ci95`` and its error also when
    any replicate's is (the ratio is then unbounded in part of the resamples)."""

    diff: float
    diff_ci95: Interval
    diff_mc_error: Interval
    ratio: float | None
    ratio_ci95: Interval | None
    ratio_mc_error: Interval | None

    @property
    def excludes_no_difference(self) -> bool:
        """The difference's interval lies above or below 0 by more than the Monte-Carlo
        error of its end nearest 0."""
        return excludes_zero(self.diff_ci95, self.diff_mc_error)


def excludes_zero(interval: Interval, mc_error: Interval) -> bool:
    """``interval`` lies entirely above or below 0, each end widened by its error."""
    (low, high), (low_error, high_error) = interval, mc_error
    return low - low_error > 0 or high + high_error < 0


def paired_bootstrap(model: np.ndarray, baseline: np.ndarray, replicates: int = REPLICATES,
                     seed: int = SEED) -> PairedEstimate:
    """``model`` and ``baseline``: per-user values, shape ``(seeds, users)``, row ``s`` of
    both from the runs of one seed and column ``u`` from one user. The same resample indices
    serve both models; the same ``seed`` gives the same intervals."""
    model, baseline = np.atleast_2d(model).astype(float), np.atleast_2d(baseline).astype(float)
    if model.shape != baseline.shape or model.shape[1] == 0:
        raise ValueError(f"paired values need equal, non-empty (seeds, users) shapes, got "
                         f"{model.shape} and {baseline.shape}")
    (estimate,) = paired_bootstraps(model.sum(axis=0)[:, None], baseline.sum(axis=0)[:, None],
                                    [model.shape[0]], replicates, seed)
    return estimate


def paired_bootstraps(model_sums: np.ndarray, baseline_sums: np.ndarray, seeds: list[int],
                      replicates: int = REPLICATES, seed: int = SEED) -> list[PairedEstimate]:
    """Many comparisons on one number of users at once, all from the same resamples (what
    :func:`paired_bootstrap` draws for that many users): column ``k`` of ``model_sums`` and
    ``baseline_sums`` (shape ``(users, comparisons)``) holds each user's values summed over
    the ``seeds[k]`` paired seeds of comparison ``k``."""
    totals = resampled_totals(np.hstack([model_sums, baseline_sums]), replicates, seed)
    return paired_estimates(model_sums, baseline_sums, seeds, totals)


def paired_estimates(model_sums: np.ndarray, baseline_sums: np.ndarray, seeds: list[int],
                     totals: np.ndarray) -> list[PairedEstimate]:
    """:func:`paired_bootstraps` from ``totals``, what :func:`totals_of` gives per replicate
    for the columns of ``model_sums`` followed by those of ``baseline_sums``."""
    drawn_model, drawn_baseline = np.hsplit(totals, 2)
    return estimates_from_totals(model_sums.sum(axis=0), baseline_sums.sum(axis=0),
                                 drawn_model, drawn_baseline,
                                 np.asarray(seeds, dtype=float) * model_sums.shape[0])


def estimates_from_totals(model_total: np.ndarray, baseline_total: np.ndarray,
                          drawn_model: np.ndarray, drawn_baseline: np.ndarray,
                          count: np.ndarray) -> list[PairedEstimate]:
    """Comparison ``k``'s estimate from the totals of the sample (``model_total[k]``,
    ``baseline_total[k]``) and of each replicate (column ``k`` of ``drawn_model`` and
    ``drawn_baseline``, one row per replicate), ``count[k]`` what turns a total into a mean:
    the ratio of the means is the ratio of the totals, their difference that of the totals
    over ``count``."""
    diffs = (drawn_model - drawn_baseline) / count
    diff_ends, diff_errors = _interval(diffs)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_ends, ratio_errors = _interval(drawn_model / drawn_baseline)
    bounded = np.all(drawn_baseline > 0, axis=0)
    estimates = []
    for k in range(len(count)):
        ratio = float(model_total[k] / baseline_total[k]) if baseline_total[k] > 0 else None
        has_interval = ratio is not None and bounded[k]
        estimates.append(PairedEstimate(
            float((model_total[k] - baseline_total[k]) / count[k]),
            _pair(diff_ends[:, k]), _pair(diff_errors[:, k]), ratio,
            _pair(ratio_ends[:, k]) if has_interval else None,
            _pair(ratio_errors[:, k]) if has_interval else None))
    return estimates


def resampled_totals(values: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """Per replicate (row), each column's total over ``len(values)`` users drawn with
    replacement (:func:`totals_of`)."""
    (totals,) = resampled(values.shape[0], replicates, seed, [totals_of(values)])
    return totals


def totals_of(values: np.ndarray) -> Statistic:
    """The statistic giving each column's total over a replicate's users: how many times
    the replicate drew each user, times the users' values (one row per user)."""
    return lambda counts: counts.astype(float) @ values


def resampled(users: int, replicates: int, seed: int,
              statistics: Sequence[Statistic]) -> list[np.ndarray]:
    """Each of ``statistics`` on every replicate of one pass over the draws of
    :func:`resample_counts`, so that many statistics cost one drawing."""
    found: list[list[np.ndarray]] = [[] for _ in statistics]
    for counts in resample_counts(users, replicates, seed):
        for rows, statistic in zip(found, statistics, strict=True):
            rows.append(statistic(counts))
    return [np.concatenate(rows) for rows in found]


def resample_counts(users: int, replicates: int, seed: int) -> Iterator[np.ndarray]:
    """The replicates of a bootstrap over ``users`` users, ``CHUNK`` at a time: row ``r`` of
    each chunk counts how many times replicate ``r`` drew each user. The same ``users``,
    ``replicates`` and ``seed`` give the same draws, whatever is computed from them."""
    rng = np.random.default_rng(seed)
    for start in range(0, replicates, CHUNK):
        rows = min(CHUNK, replicates - start)
        drawn = rng.integers(0, users, size=(rows, users))
        flat = (drawn + users * np.arange(rows)[:, None]).ravel()
        yield np.bincount(flat, minlength=rows * users).reshape(rows, users)


def _interval(replicates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the interval's two ends and the Monte-Carlo error of each."""
    tail = (1 - LEVEL) / 2
    ends, errors = [], []
    for p in (tail, 1 - tail):
        spread = MC_Z * np.sqrt(p * (1 - p) / len(replicates))
        low, end, high = np.quantile(replicates, [max(p - spread, 0.0), p,
                                                  min(p + spread, 1.0)], axis=0)
        ends.append(end)
        errors.append((high - low) / 2)
    return np.stack(ends), np.stack(errors)


def _pair(values: np.ndarray) -> Interval:
    return float(values[0]), float(values[1])
