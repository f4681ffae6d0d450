"""Uniformity and alignment against values known in closed form."""

import numpy as np
import pytest

from llmemb_utils.geometry import alignment, by_group, project_to_circle, uniformity


def test_identical_vectors_give_zero():
    assert uniformity(np.ones((5, 3))) == pytest.approx(0.0, abs=1e-12)


def test_two_antipodal_points_give_minus_eight():
    assert uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(-8.0)


def test_brute_force_on_a_small_set():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 4))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    pairs = [np.exp(-2 * np.sum((unit[i] - unit[j]) ** 2)) for i in range(7)
             for j in range(i + 1, 7)]
    assert uniformity(x) == pytest.approx(np.log(np.mean(pairs)), abs=1e-12)


def test_isotropic_high_dimensional_vectors_give_about_minus_four():
    vectors = np.random.default_rng(1).normal(size=(1000, 512))
    assert uniformity(vectors) == pytest.approx(-4.0, abs=0.05)


def test_invariant_to_scaling_before_normalisation():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 8))
    scales = rng.uniform(0.01, 100, size=(50, 1))
    assert uniformity(x * scales) == pytest.approx(uniformity(x), abs=1e-12)


def test_chunked_equals_exact():
    x = np.random.default_rng(3).normal(size=(301, 16)) + 0.5
    assert uniformity(x, method="chunked", chunk_size=64) == pytest.approx(
        uniformity(x, method="exact"), abs=1e-6)


def test_subsample_is_seeded():
    x = np.random.default_rng(4).normal(size=(500, 8))
    one = uniformity(x, max_points=100, seed=5)
    assert one == uniformity(x, max_points=100, seed=5)
    assert one != uniformity(x, max_points=100, seed=6)


def test_alignment_bounds():
    x = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert alignment(x, 3 * x) == pytest.approx(0.0)
    assert alignment(x, -x) == pytest.approx(4.0)
    assert alignment(x, x[::-1]) == pytest.approx(2.0)  # orthogonal pairs: |x - y|^2 = 2


def test_groups_are_masks_of_rows():
    x = np.array([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    values = by_group(x, {"first two": np.array([True, True, False, False]),
                          "middle": np.array([False, True, True, False])})
    assert values["first two"] == pytest.approx(0.0, abs=1e-12)
    assert values["middle"] == pytest.approx(-8.0)


def test_circle_projection_keeps_a_narrow_cone_narrow():
    rng = np.random.default_rng(6)
    cone = np.array([10.0, 0, 0, 0]) + rng.normal(scale=0.5, size=(200, 4))
    points = project_to_circle(cone)
    assert np.allclose(np.linalg.norm(points, axis=1), 1.0)
    angles = np.arctan2(points[:, 1], points[:, 0])
    spread = np.abs(np.angle(np.exp(1j * (angles - np.angle(np.exp(1j * angles).mean())))))
    assert spread.max() < np.pi / 4


@pytest.mark.parametrize("bad, message", [
    (np.zeros((3, 2)), "3 vector\\(s\\) have zero norm"),
    (np.array([[np.nan, 1.0], [1.0, 0.0]]), "NaN or infinite"),
    (np.ones(3), "expected a 2-D array"),
])
def test_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        uniformity(bad)
