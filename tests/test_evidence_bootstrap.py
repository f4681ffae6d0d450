"""The paired bootstrap on hand-built cases: identical runs, a constant shift, a noisy shift,
reproducibility from its seed, and the point estimates and intervals by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from llmemb_utils.evidence.bootstrap import PairedEstimate, paired_bootstrap, paired_bootstraps


def test_identical_runs_give_a_zero_width_interval_at_no_difference() -> None:
    values = np.random.default_rng(1).random((3, 50))
    estimate = paired_bootstrap(values, values.copy(), replicates=500)
    assert (estimate.diff, estimate.diff_ci95) == (0.0, (0.0, 0.0))
    assert (estimate.ratio, estimate.ratio_ci95) == (1.0, (1.0, 1.0))
    assert not estimate.excludes_no_difference


def test_a_constant_shift_is_found_exactly() -> None:
    baseline = np.random.default_rng(2).random((2, 200))
    estimate = paired_bootstrap(baseline + 0.1, baseline, replicates=500)
    assert estimate.diff == pytest.approx(0.1, abs=1e-12)
    assert estimate.diff_ci95 == pytest.approx((0.1, 0.1), abs=1e-12)
    assert estimate.excludes_no_difference
    ratio = (baseline.mean() + 0.1) / baseline.mean()
    assert estimate.ratio == pytest.approx(ratio, rel=1e-12)
    low, high = estimate.ratio_ci95
    assert low < ratio < high  # the ratio of a shift varies with the users drawn


def test_a_noisy_shift_lies_inside_an_interval_that_excludes_zero() -> None:
    rng = np.random.default_rng(3)
    baseline = rng.random((3, 2000))
    model = baseline + 0.05 + rng.normal(0, 0.1, baseline.shape)
    low, high = paired_bootstrap(model, baseline).diff_ci95
    assert 0 < low < 0.05 < high < 0.1


def test_the_bootstrap_is_reproducible_from_its_seed() -> None:
    rng = np.random.default_rng(4)
    model, baseline = rng.random((2, 100)), rng.random((2, 100))
    first = paired_bootstrap(model, baseline, replicates=300, seed=7)
    assert paired_bootstrap(model, baseline, replicates=300, seed=7) == first
    assert paired_bootstrap(model, baseline, replicates=300, seed=8).diff_ci95 != \
        first.diff_ci95


def test_point_estimates_and_interval_by_brute_force() -> None:
    model = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])  # two seeds, three users
    baseline = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.0]])
    # Pooled means: model 3 / 6 = 0.5, baseline 1.5 / 6 = 0.25.
    estimate = paired_bootstrap(model, baseline, replicates=20000, seed=0)
    assert estimate.diff == pytest.approx(0.25)
    assert estimate.ratio == pytest.approx(2.0)
    # All 27 equally likely resamples of the three users; each of the extreme ones has
    # probability 1 / 27 > 2.5 %, so the interval's ends are the smallest and largest value.
    diffs = [(model[:, list(draw)].sum() - baseline[:, list(draw)].sum()) / 6
             for draw in itertools.product(range(3), repeat=3)]
    assert estimate.diff_ci95 == pytest.approx((min(diffs), max(diffs)))
    assert (min(diffs), max(diffs)) == pytest.approx((0.0, 0.5))  # first or third user thrice


def test_a_zero_baseline_has_no_ratio() -> None:
    estimate = paired_bootstrap(np.array([[0.0, 1.0]]), np.zeros((1, 2)), replicates=100)
    assert estimate.ratio is None and estimate.ratio_ci95 is None
    assert estimate.diff == 0.5


def test_unpaired_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match=r"equal, non-empty \(seeds, users\) shapes"):
        paired_bootstrap(np.zeros((2, 3)), np.zeros((1, 3)))


def test_the_monte_carlo_error_of_an_end_matches_its_spread_over_bootstrap_seeds() -> None:
    rng = np.random.default_rng(5)
    baseline = rng.random((2, 300))
    model = baseline + rng.normal(0.01, 0.2, baseline.shape)
    estimates = [paired_bootstrap(model, baseline, replicates=1000, seed=s) for s in range(60)]
    lows = np.array([e.diff_ci95[0] for e in estimates])
    errors = np.array([e.diff_mc_error[0] for e in estimates])
    # The error is a 95 % half-width: about 1.96 standard deviations of the end over seeds.
    assert 1.3 * lows.std() < errors.mean() < 2.8 * lows.std()


def test_an_interval_that_misses_zero_by_less_than_its_error_is_a_tie() -> None:
    def estimate(low: float, low_error: float) -> PairedEstimate:
        return PairedEstimate(0.01, (low, 0.02), (low_error, 0.001), None, None, None)

    assert not estimate(0.0001, 0.0002).excludes_no_difference
    assert estimate(0.0003, 0.0002).excludes_no_difference
    assert not estimate(-0.0001, 0.0).excludes_no_difference
    above = PairedEstimate(-0.01, (-0.02, -0.0005), (0.001, 0.0004), None, None, None)
    assert above.excludes_no_difference
    assert not PairedEstimate(-0.01, (-0.02, -0.0005), (0.001, 0.0006), None, None,
                              None).excludes_no_difference


def test_a_batch_of_comparisons_gets_what_each_gets_alone() -> None:
    rng = np.random.default_rng(6)
    model, baseline = rng.random((3, 2, 80)), rng.random((3, 2, 80))
    batch = paired_bootstraps(model.sum(axis=1).T, baseline.sum(axis=1).T, [2, 2, 2],
                              replicates=400, seed=9)
    for k, estimate in enumerate(batch):
        alone = paired_bootstrap(model[k], baseline[k], replicates=400, seed=9)
        assert estimate.diff == pytest.approx(alone.diff, rel=1e-12)
        assert estimate.diff_ci95 == pytest.approx(alone.diff_ci95, rel=1e-12)
        assert estimate.ratio_ci95 == pytest.approx(alone.ratio_ci95, rel=1e-12)
