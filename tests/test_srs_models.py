"""Backbones, encoders, batches and losses on small hand-made tensors (eval mode unless
stated, so dropout does not hide differences)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llmemb_utils.config import SRSConfig
from llmemb_utils.srs.backbones import MASK_TOKEN, build_backbone
from llmemb_utils.srs.batches import Batch, Chunk, TrainingBatches, history_batches, left_pad
from llmemb_utils.srs.early_stopping import EarlyStopping
from llmemb_utils.srs.encoders import IDEncoder
from llmemb_utils.srs.losses import full_softmax_ce, sampled_bce
from llmemb_utils.srs.model import SequentialRecommender

NUM_ITEMS = 30


def model(backbone: str, paper_compat: bool = False) -> SequentialRecommender:
    torch.manual_seed(0)
    config = SRSConfig(backbone=backbone, hidden=16, max_length=12, paper_compat=paper_compat)
    return SequentialRecommender(IDEncoder(NUM_ITEMS, 16), build_backbone(config)).eval()


def inputs(*rows: list[int], width: int = 8) -> torch.Tensor:
    return torch.from_numpy(left_pad([np.array(r) for r in rows], width))


@pytest.mark.parametrize("backbone", ["sasrec", "gru4rec", "caser"])
def test_later_items_never_change_earlier_outputs(backbone: str) -> None:
    recommender = model(backbone)
    before = inputs([3, 4, 5, 6], [7, 8, 9, 10, 11, 12])
    after = before.clone()
    after[:, -1] = torch.tensor([20, 21])
    with torch.no_grad():
        states, changed = recommender.states(before), recommender.states(after)
    assert torch.isfinite(states).all()  # padded rows too (docs/design.md §9.1)
    torch.testing.assert_close(states[:, :-1], changed[:, :-1], rtol=0, atol=0)
    assert not torch.allclose(states[:, -1], changed[:, -1])


@pytest.mark.parametrize("backbone, paper_compat", [("sasrec", True), ("bert4rec", False)])
def test_bidirectional_attention_sees_later_items(backbone: str, paper_compat: bool) -> None:
    recommender = model(backbone, paper_compat)
    before = inputs([3, 4, 5, 6])
    after = inputs([3, 4, 5, 20])
    with torch.no_grad():
        assert not torch.allclose(recommender.states(before)[0, -2],
                                  recommender.states(after)[0, -2])


@pytest.mark.parametrize("backbone", ["sasrec", "bert4rec", "gru4rec", "caser"])
def test_extra_left_padding_changes_nothing(backbone: str) -> None:
    recommender = model(backbone)
    row = [3, 4, MASK_TOKEN] if backbone == "bert4rec" else [3, 4, 5]
    with torch.no_grad():
        short = recommender.user_states(inputs(row, width=3))
        long = recommender.user_states(inputs(row, width=10))
    torch.testing.assert_close(short, long, rtol=1e-5, atol=1e-6)


def test_caser_reads_only_its_window_of_latest_items() -> None:
    recommender = model("caser")
    window = recommender.backbone.window
    row = [3, 4, 5, 6, 7, 8, 9, 10]  # the last state reads the latest `window` items
    outside, inside = list(row), list(row)
    outside[-window - 1] = 20
    inside[-window] = 20
    with torch.no_grad():
        last = recommender.user_states(inputs(row))
        torch.testing.assert_close(recommender.user_states(inputs(outside)), last, rtol=0, atol=0)
        assert not torch.allclose(recommender.user_states(inputs(inside)), last)


def test_caser_states_are_hidden_wide_and_every_part_gets_a_gradient() -> None:
    recommender = model("caser").train()
    batch = inputs([3, 4, 5], [6, 7, 8, 9, 10, 11, 12, 13])
    states = recommender.states(batch)
    assert states.shape == (2, 8, 16) and torch.isfinite(states).all()
    targets = torch.tensor([[0, 0, 0, 0, 0, 4, 5, 6], [7, 8, 9, 10, 11, 12, 13, 14]])
    negatives = torch.where(targets > 0, 29, 0)
    recommender(Batch([Chunk(batch, targets, negatives)]))["rec"].backward()
    backbone = recommender.backbone
    for part in (*backbone.horizontal_convs, backbone.vertical_conv, backbone.fully_connected,
                 recommender.encoder.table):
        assert part.weight.grad is not None and part.weight.grad.abs().sum() > 0


def test_mask_token_uses_the_learned_mask_vector() -> None:
    recommender = model("bert4rec")
    with torch.no_grad():
        recommender.backbone.mask_vector.zero_()
        masked = recommender.states(inputs([3, MASK_TOKEN]))
        recommender.backbone.mask_vector.fill_(1.0)
        assert not torch.allclose(masked, recommender.states(inputs([3, MASK_TOKEN])))


def test_id_encoder_padding_row_is_zero_and_table_is_tied() -> None:
    encoder = IDEncoder(NUM_ITEMS, 8)
    assert encoder.all_items().shape == (NUM_ITEMS + 1, 8)
    assert torch.all(encoder.all_items()[0] == 0)
    torch.testing.assert_close(encoder(torch.tensor([5])), encoder.all_items()[5:6])


def test_chunked_batch_gives_the_same_loss_as_one_padded_batch() -> None:
    recommender = model("sasrec")
    rows = [np.array([3, 4]), np.array([5, 6, 7, 8, 9]), np.array([10, 11, 12])]
    targets = [r + 1 for r in rows]
    negatives = [np.full(len(r), 29) for r in rows]

    def chunk(indices: list[int], width: int) -> Chunk:
        return Chunk(*(torch.from_numpy(left_pad([part[i] for i in indices], width))
                       for part in (rows, targets, negatives)))

    with torch.no_grad():
        whole = recommender(Batch([chunk([0, 1, 2], 5)]))["rec"]
        chunked = recommender(Batch([chunk([0, 2], 3), chunk([1], 5)]))["rec"]
    torch.testing.assert_close(whole, chunked)


def test_sampled_bce_and_softmax_ce_on_hand_checked_values() -> None:
    states = torch.tensor([[1.0, 0.0]])
    table = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    expected_bce = np.log1p(np.exp(-2.0)) + np.log1p(np.exp(0.0))
    assert sampled_bce(states, table[[1]], table[[2]]).item() == pytest.approx(expected_bce)
    expected_ce = -2.0 + np.log(np.exp(2.0) + np.exp(0.0))
    assert full_softmax_ce(states, table, torch.tensor([1])).item() == pytest.approx(expected_ce)


def test_next_item_batches_shift_targets_and_avoid_seen_negatives() -> None:
    sequences = [np.array([1, 2, 3, 4]), np.array([5, 6]), np.array([7])]  # the last is too short
    batches = TrainingBatches(sequences, 8, "next", max_length=2, batch_size=4)
    (batch,) = list(batches.epoch(np.random.default_rng(0)))
    rows = {tuple(r) for c in batch.chunks for r in c.inputs.tolist()}
    assert rows == {(2, 3), (0, 5)}  # truncated to the latest two inputs
    for c in batch.chunks:
        for inp, target, negative in zip(c.inputs, c.targets, c.negatives, strict=True):
            user = 0 if inp[-1] == 3 else 1
            assert target.tolist() == ([3, 4] if user == 0 else [0, 6])
            has = target > 0
            assert not set(negative[has].tolist()) & set(sequences[user].tolist())
            assert torch.all(negative[~has] == 0)


def test_cloze_batches_add_a_row_that_masks_only_the_last_item() -> None:
    sequences = [np.array([1, 2, 3, 4])]
    batches = TrainingBatches(sequences, 30, "cloze", max_length=10, batch_size=4, mask_prob=0.0)
    rows = [(c.inputs[i].tolist(), c.targets[i].tolist())
            for b in batches.epoch(np.random.default_rng(0)) for c in b.chunks
            for i in range(len(c.inputs))]
    assert sorted(rows) == sorted([([1, 2, 3, 4], [0, 0, 0, 0]),
                                   ([1, 2, 3, MASK_TOKEN], [0, 0, 0, 4])])


def test_history_batches_append_the_mask_within_max_length() -> None:
    (batch,) = list(history_batches([np.array([1, 2, 3, 4]), np.array([5])], max_length=3,
                                    batch_size=8, append_mask=True))
    assert batch.tolist() == [[3, 4, MASK_TOKEN], [0, 5, MASK_TOKEN]]


def test_smoothed_early_stopping_ignores_a_single_lucky_epoch() -> None:
    scores = [0.1, 0.2, 0.9, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9]
    raw = EarlyStopping.replay(scores, patience=3)
    assert (raw.best_epoch, len(raw.scores)) == (3, 6)  # stopped on the spike
    smoothed = EarlyStopping.replay(scores, patience=3, window=3)
    assert smoothed.best_epoch == 10 and not smoothed.should_stop
    assert smoothed.smoothed() == pytest.approx(0.8)
