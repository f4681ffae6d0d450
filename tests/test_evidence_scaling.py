"""evidence/scaling.py: the log-log fit recovers exact power laws, and estimates say which
sizes were measured and which extrapolated."""

from __future__ import annotations

import pytest

from llmemb_utils.evidence.scaling import PowerLaw, estimates, fit_power_law


def test_an_exact_power_law_is_recovered():
    # 3 * n ** 1.5 at n = 4, 16, 64: 3 * 8, 3 * 64, 3 * 512
    fit = fit_power_law([4, 16, 64], [24, 192, 1536])
    assert fit.exponent == pytest.approx(1.5)
    assert fit.coefficient == pytest.approx(3.0)
    assert fit(256) == pytest.approx(3 * 4096)


def test_a_linear_cost_has_slope_one():
    fit = fit_power_law([1_000, 10_000, 100_000], [0.5, 5.0, 50.0])
    assert fit.exponent == pytest.approx(1.0)
    assert fit.coefficient == pytest.approx(0.0005)


def test_scattered_points_get_the_least_squares_line():
    # log2 sizes 0, 1, 2 and log2 costs 0, 2, 3: slope cov / var = 3 / 2, intercept
    # mean(y) - slope * mean(x) = 5/3 - 3/2 = 1/6 (in log2), so coefficient 2 ** (1/6)
    fit = fit_power_law([1, 2, 4], [1, 4, 8])
    assert fit.exponent == pytest.approx(1.5)
    assert fit.coefficient == pytest.approx(2 ** (1 / 6))


@pytest.mark.parametrize(("items", "costs", "message"), [
    ([10, 10], [1.0, 2.0], "two distinct sizes"),
    ([10, 20], [1.0, 0.0], "must be positive"),
    ([10, 20, 40], [1.0, 2.0], "3 sizes for 2 costs"),
])
def test_unfittable_data_is_refused(items, costs, message):
    with pytest.raises(ValueError, match=message):
        fit_power_law(items, costs)


def test_estimates_label_measured_and_extrapolated_sizes():
    fit = PowerLaw(exponent=2.0, coefficient=0.001)
    rows = estimates({1_000: 900.0, 4_000: 17_000.0}, fit, [1_000, 10_000, 100_000])
    assert rows == [
        {"items": 1_000, "value": 900.0, "label": "measured"},  # the measurement, not the fit
        {"items": 10_000, "value": pytest.approx(1e5), "label": "extrapolated"},
        {"items": 100_000, "value": pytest.approx(1e7), "label": "extrapolated"},
    ]
