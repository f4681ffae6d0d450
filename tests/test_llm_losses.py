"""SCFT losses against values computed by hand on 2 x 2 tensors."""

from __future__ import annotations

import math

import pytest
import torch

from llmemb_utils.llm.losses import ContrastiveLoss, infonce_loss, soft_target_loss


def test_soft_target_matches_hand_computation():
    # x = e1, e2; y = e1, e1 + e2; t = 2. By hand: Z = [[.5, .5], [0, .5]],
    # T = softmax rows of t (XX^T + YY^T) / 2 = [[2, 1], [1, 2]] -> [[a, 1-a], [1-a, a]],
    # a = e / (1 + e); loss = mean_i (CE(softmax Z_i, T_i) + CE(softmax Z^T_i, T^T_i)) / 2.
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    loss = soft_target_loss(x, y, torch.tensor(2.0))
    assert loss.item() == pytest.approx(0.6216136234899958, abs=1e-6)


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
    assert loss.item() == pytest.approx(0.6216136234899958, abs=1e-6)
    loss.backward()
    assert loss_fn.temperature.grad is not None
    assert not ContrastiveLoss("infonce", 0.05).temperature.requires_grad


def test_half_precision_inputs_stay_finite():
    pooled = torch.full((4, 64), 30.0, dtype=torch.float16)
    assert torch.isfinite(ContrastiveLoss()(pooled))


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown SCFT loss 'clip'"):
        ContrastiveLoss("clip")
    with pytest.raises(ValueError, match="pairs of views, got 3 rows"):
        ContrastiveLoss()(torch.ones(3, 2))
