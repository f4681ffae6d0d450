"""Beyond-accuracy metrics on a catalogue of 6 items and 3 users, every value worked out by
hand, and the top-K lists they are read from (history left out as full ranking does)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.data.thresholds import Thresholds
from llmemb_utils.eval.beyond import (
    beyond_accuracy,
    coverage,
    intra_list_diversity,
    novelty,
    tail_share,
)
from llmemb_utils.eval.evaluate import top_k_lists
from llmemb_utils.eval.protocol import Protocol
from llmemb_utils.eval.ranking import full_top_k
from llmemb_utils.llm.item_table import LLMTable

# Training interactions of items 1..6: 8, 4, 2, 1, 1, 0 (16 in all); with a head threshold of 3,
# items 1 and 2 are head, 3..6 tail. Each user's last two items are validation and test.
SEQUENCES = (np.array([1, 1, 1, 1, 2, 2, 3, 4, 5, 6]),
             np.array([1, 1, 1, 2, 3, 2, 1]),
             np.array([1, 2, 5, 3, 4]))
POPULARITY = np.array([0, 8, 4, 2, 1, 1, 0])
LISTS = np.array([[1, 2, 3], [1, 3, 4], [2, 1, 6]])
# Cosines: (1,2) 0, (1,3) 0.6, (2,3) 0.8, (1,4) -1, (3,4) -0.6, (2,6) -1, (1,6) 0.
RULER = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -3.0]])


def tiny_dataset() -> PreparedDataset:
    return PreparedDataset(path=Path("tiny"), sequences=SEQUENCES, num_items=6,
                           thresholds=Thresholds(item_head_min=3, user_long_min=5),
                           stats={}, manifest={})


def test_the_tiny_dataset_has_the_popularity_the_hand_values_use() -> None:
    np.testing.assert_array_equal(tiny_dataset().item_popularity, POPULARITY)


def test_coverage_counts_each_item_shown_once() -> None:
    assert coverage(LISTS, 6) == pytest.approx(5 / 6)  # items 1, 2, 3, 4, 6


def test_tail_share_averages_each_users_share() -> None:
    is_tail = POPULARITY < 3
    assert tail_share(LISTS, is_tail) == pytest.approx((1 / 3 + 2 / 3 + 1 / 3) / 3)


def test_intra_list_diversity_averages_pair_distances_per_user() -> None:
    per_user = [(1.0 + 0.4 + 0.2) / 3,  # 1 - cos over the pairs (1,2), (1,3), (2,3)
                (0.4 + 2.0 + 1.6) / 3,  # (1,3), (1,4), (3,4)
                (1.0 + 2.0 + 1.0) / 3]  # (2,1), (2,6), (1,6)
    assert intra_list_diversity(LISTS, RULER) == pytest.approx(np.mean(per_user))
    assert intra_list_diversity(LISTS, RULER) == pytest.approx(16 / 15)


def test_intra_list_diversity_refuses_a_zero_vector_and_single_items() -> None:
    with pytest.raises(ValueError, match="all-zero item vector"):
        intra_list_diversity(LISTS, np.vstack([RULER[:5], [[0.0, 0.0]]]))
    with pytest.raises(ValueError, match="at least 2 items"):
        intra_list_diversity(LISTS[:, :1], RULER)


def test_novelty_in_bits_with_an_unseen_item_counted_as_seen_once() -> None:
    # -log2 p: item 1 8/16 -> 1, item 2 4/16 -> 2, item 3 2/16 -> 3, item 4 1/16 -> 4,
    # item 6 never seen, counted once -> 4.
    bits = [[1, 2, 3], [1, 3, 4], [2, 1, 4]]
    assert novelty(LISTS, POPULARITY) == pytest.approx(np.mean(bits))
    assert novelty(LISTS, POPULARITY) == pytest.approx(21 / 9)


def test_section_holds_every_measure_with_k_and_its_ruler() -> None:
    ruler = LLMTable(RULER, "raw", {"path": "/tables/raw.npy", "sha256": "abc", "manifest": {}})
    section = beyond_accuracy(LISTS, tiny_dataset(), ruler)
    assert section["k"] == 3
    assert section["coverage@3"] == pytest.approx(5 / 6)
    assert section["tail_share@3"] == pytest.approx(4 / 9)
    assert section["novelty@3"] == pytest.approx(21 / 9)
    assert section["intra_list_diversity@3"] == pytest.approx(16 / 15)
    assert section["diversity_ruler"] == {"kind": "raw", "path": "/tables/raw.npy",
                                          "sha256": "abc"}
    assert section["tail"] == {"item_head_min": 3}
    assert "omitted" not in section


def test_section_without_a_ruler_says_why_diversity_is_missing() -> None:
    section = beyond_accuracy(LISTS, tiny_dataset(), None, "no raw table here")
    assert section["omitted"] == {"intra_list_diversity@3": "no raw table here"}
    assert "intra_list_diversity@3" not in section and "diversity_ruler" not in section


# Item scores for a one-dimensional user state of 1: items 1..6 score 5, 3, 3, 1, 4, 0.
SCORES = torch.tensor([[0.0], [5.0], [3.0], [3.0], [1.0], [4.0], [0.0]])


def test_top_k_takes_the_best_scores_and_breaks_a_tie_at_the_cut_by_item_id() -> None:
    states = torch.ones(1, 1)
    np.testing.assert_array_equal(full_top_k(states, SCORES, np.array([4]), k=2), [[1, 5]])
    # Items 2 and 3 tie for the third place: the lower id is shown.
    np.testing.assert_array_equal(full_top_k(states, SCORES, np.array([4]), k=3), [[1, 5, 2]])
    four = full_top_k(states, SCORES, np.array([4]), k=4)
    assert four[0, :2].tolist() == [1, 5] and sorted(four[0, 2:]) == [2, 3]


def test_top_k_leaves_out_earlier_items_but_never_the_target() -> None:
    states = torch.ones(2, 1)
    histories = (np.array([1, 2]), np.array([1, 5]))
    lists = full_top_k(states, SCORES, np.array([3, 1]), k=3, histories=histories)
    np.testing.assert_array_equal(lists[0], [5, 3, 4])
    np.testing.assert_array_equal(np.sort(lists[1]), [1, 2, 3])  # 2 and 3 tie inside the list


def test_top_k_refuses_a_user_with_too_few_candidates() -> None:
    with pytest.raises(ValueError, match="user index 1 has fewer than 3 candidates"):
        full_top_k(torch.ones(2, 1), SCORES, np.array([1, 1]), k=3,
                   histories=(np.array([2]), np.array([2, 3, 4, 5, 6])))
    with pytest.raises(ValueError, match="the catalogue has 6"):
        full_top_k(torch.ones(1, 1), SCORES, np.array([1]), k=7)


def test_lists_of_a_split_leave_out_its_history_as_the_full_protocol_says() -> None:
    # Test histories: user 1 has seen 1..5 (target 6); user 2 has seen 1, 2, 3 (target 1, kept);
    # user 3 has seen 1, 2, 3, 5 (target 4).
    dataset, states = tiny_dataset(), torch.ones(3, 1)
    excluded = top_k_lists(states, SCORES, dataset, "test", Protocol("full"), k=1)
    np.testing.assert_array_equal(excluded, [[6], [1], [4]])
    shown = top_k_lists(states, SCORES, dataset, "test", Protocol("full", exclude_history=False),
                        k=1)
    np.testing.assert_array_equal(shown, [[1], [1], [1]])
    with pytest.raises(ValueError, match="drawn from full ranking, not 'sampled'"):
        top_k_lists(states, SCORES, dataset, "test", Protocol.named("sampled"), k=1)
