"""SCFT losses against values computed by hand on 2 x 2 tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from llmemb_utils.llm.losses import ContrastiveLoss, infonce_loss, soft_target_loss


def soft_target_by_hand() -> float:
    """The soft-target loss of x = (e1, e2), y = (e1, e1 + e2), t = 2, derived by hand.

    Logits Z = X Y^T / t = [[1, 1], [0, 1]] / 2 = [[.5, .5], [0, .5]].
    X X^T + Y Y^T = I + [[1, 1], [1, 2]] = [[2, 1], [1, 3]]; times t / 2 = 1 it stays
    [[2, 1], [1, 3]], whose row softmax is T = [[a, 1 - a], [1 - b, b]] with
    a = e / (1 + e) and b = e^2 / (1 + e^2).
    With L = log(1 + e^.5), log-softmax of [.5, .5] is [-log 2, -log 2] and of [0, .5] (or
    [.5, 0]) is [-L, .5 - L] (or [.5 - L, -L]). Cross-entropies -sum_j T_ij log p_ij:
      forward (rows of Z, rows of T):   log 2,           L - b / 2
      backward (rows of Z^T, of T^T):   L (1 + a - b) - a / 2,   (1 - a + b) log 2
    (T^T's rows need not sum to 1). The loss is the mean of the four over 2 rows x 2 sides:
      [(2 - a + b) log 2 + (2 + a - b) L - (a + b) / 2] / 4 = 0.62161362...
    """
    a = math.e / (1 + math.e)
    b = math.e ** 2 / (1 + math.e ** 2)
    big_l = math.log(1 + math.exp(0.5))
    return ((2 - a + b) * math.log(2) + (2 + a - b) * big_l - (a + b) / 2) / 4


def test_soft_target_matches_hand_computation():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    loss = soft_target_loss(x, y, torch.tensor(2.0))
    assert soft_target_by_hand() == pytest.approx(0.6216136, abs=1e-7)
    assert loss.item() == pytest.approx(soft_target_by_hand(), abs=1e-6)


def test_soft_target_reduces_to_log_two_for_identical_rows():
    x = torch.ones(2, 3)
    assert soft_target_loss(x, x, torch.tensor(3.0)).item() == pytest.approx(math.log(2), abs=1e-6)


def test_infonce_matches_hand_computation():
    # cosine logits = identity / 1: each row's CE = -log(e / (e + 1)) = log(1 + e^-1)
    x = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    loss = infonce_loss(x, x.clone(), temperature=1.0)
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)


def test_contrastive_loss_splits_views_and_learns_temperature():
    pooled = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    loss_fn = ContrastiveLoss("soft-target", temperature=2.0)
    loss = loss_fn(pooled)
    assert loss.item() == pytest.approx(soft_target_by_hand(), abs=1e-6)
    loss.backward()
    assert loss_fn.temperature.grad is not None
    assert not ContrastiveLoss("infonce", 0.05).temperature.requires_grad


def soft_target_brute_force(x: np.ndarray, y: np.ndarray, t: float) -> float:
    """The soft-target loss by its definition, one entry at a time in float64: logits
    z_ij = x_i . y_j / t, targets T_i = softmax_j(t (x_i . x_j + y_i . y_j) / 2), and per row
    the mean of CE(softmax_j z_ij, T_ij) and CE(softmax_j z_ji, T_ji)."""
    rows = range(len(x))

    def log_softmax(values: list[float], j: int) -> float:
        top = max(values)
        return values[j] - top - math.log(sum(math.exp(v - top) for v in values))

    z = [[float(np.dot(x[i], y[j])) / t for j in rows] for i in rows]
    s = [[t * float(np.dot(x[i], x[j]) + np.dot(y[i], y[j])) / 2 for j in rows] for i in rows]
    targets = [[math.exp(log_softmax(s[i], j)) for j in rows] for i in rows]
    total = 0.0
    for i in rows:
        forward = -sum(targets[i][j] * log_softmax(z[i], j) for j in rows)
        backward = -sum(targets[j][i] * log_softmax([z[k][i] for k in rows], j) for j in rows)
        total += (forward + backward) / 2
    return total / len(x)


@pytest.mark.parametrize(("offset", "dtype", "tolerance"), [
    (0.0, torch.float32, 1e-5),
    (0.0, torch.float16, 1e-5),
    # every row near 40 (1, ..., 1): x_i . y_j ~ 64 x 1600, beyond float16's 65504, so the
    # loss must be computed in float32 (whose rounding of such products is ~1e-2 in 1e5)
    (40.0, torch.float16, 1e-4),
])
def test_soft_target_matches_a_brute_force_loop(offset: float, dtype: torch.dtype,
                                                tolerance: float):
    noise = np.random.default_rng(7).normal(size=(6, 64)) * 0.5
    pooled = torch.from_numpy(noise + offset).to(dtype)
    loss = ContrastiveLoss("soft-target", temperature=3.0)(pooled).item()
    values = pooled.double().numpy()  # the values the loss saw, float16 rounding included
    expected = soft_target_brute_force(values[:3], values[3:], 3.0)
    assert expected > 0.1  # not a degenerate case where every softmax is one-hot
    assert loss == pytest.approx(expected, rel=tolerance)


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown SCFT loss 'clip'"):
        ContrastiveLoss("clip")
    with pytest.raises(ValueError, match="pairs of views, got 3 rows"):
        ContrastiveLoss()(torch.ones(3, 2))
