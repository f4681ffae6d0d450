"""Paired bootstrap over users of the difference and ratio of two models' mean metric.

Both models were evaluated on the same test users, once per seed. The unit resampled is the
user: a replicate draws as many users as there are, with replacement, and a drawn user brings
its values from every seed of both models, so each replicate keeps the pairing of the two
models (same users, same seeds) and the correlation of one user's values across seeds. The
interval is the 2.5 and 97.5 percentiles of the replicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REPLICATES = 2000
SEED = 0
CHUNK = 250  # replicates drawn at once: bounds memory to CHUNK x users indices
LEVEL = 0.95


@dataclass(frozen=True)
class PairedEstimate:
    """Mean of ``model`` minus / over mean of ``baseline`` with 95 % bootstrap intervals.

    ``ratio`` is None when the baseline's mean is 0, ``ratio_ci95`` also when any replicate's
    is (the ratio is then unbounded in part of the resamples)."""

    diff: float
    diff_ci95: tuple[float, float]
    ratio: float | None
    ratio_ci95: tuple[float, float] | None

    @property
    def excludes_no_difference(self) -> bool:
        """The difference's interval lies entirely above or below 0."""
        low, high = self.diff_ci95
        return low > 0 or high < 0


def paired_bootstrap(model: np.ndarray, baseline: np.ndarray, replicates: int = REPLICATES,
                     seed: int = SEED) -> PairedEstimate:
    """``model`` and ``baseline``: per-user values, shape ``(seeds, users)``, row ``s`` of
    both from the runs of one seed and column ``u`` from one user. The same resample indices
    serve both models; the same ``seed`` gives the same intervals."""
    model, baseline = np.atleast_2d(model).astype(float), np.atleast_2d(baseline).astype(float)
    if model.shape != baseline.shape or model.shape[1] == 0:
        raise ValueError(f"paired values need equal, non-empty (seeds, users) shapes, got "
                         f"{model.shape} and {baseline.shape}")
    seeds, users = model.shape
    model_sums, baseline_sums = model.sum(axis=0), baseline.sum(axis=0)  # per user, over seeds
    rng = np.random.default_rng(seed)
    drawn_model, drawn_baseline = [], []
    for start in range(0, replicates, CHUNK):
        index = rng.integers(0, users, size=(min(CHUNK, replicates - start), users))
        drawn_model.append(model_sums[index].sum(axis=1))
        drawn_baseline.append(baseline_sums[index].sum(axis=1))
    totals = np.concatenate(drawn_model), np.concatenate(drawn_baseline)
    count = seeds * users
    diff = (model_sums.sum() - baseline_sums.sum()) / count
    diffs = (totals[0] - totals[1]) / count
    base = baseline_sums.sum()
    ratio = float(model_sums.sum() / base) if base > 0 else None
    ratio_ci = None
    if ratio is not None and np.all(totals[1] > 0):
        ratio_ci = _interval(totals[0] / totals[1])
    return PairedEstimate(float(diff), _interval(diffs), ratio, ratio_ci)


def _interval(values: np.ndarray) -> tuple[float, float]:
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)
