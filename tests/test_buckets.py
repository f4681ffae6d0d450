"""Popularity and length buckets on hand-built popularity, long-tail groups on a hand-made
dataset, and the metrics layout of docs/design.md §4.7."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llmemb_utils.config import DataConfig, SourceConfig, ThresholdConfig
from llmemb_utils.data.buckets import (
    bin_counts,
    bin_labels,
    bin_lower_bound,
    bin_masks,
    group_masks,
    quantile_edges,
)
from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.data.prepare import prepare_from_raw
from llmemb_utils.data.schema import RawData
from llmemb_utils.data.thresholds import Thresholds, thresholds
from llmemb_utils.eval.evaluate import summarize
from llmemb_utils.eval.protocol import Protocol
from llmemb_utils.srs.synthetic import prepare_synthetic, raw_from_sequences

# Raw items 0..6. Training parts (all but the last two items): u0 [0 1 2 3], u1 [0 1 2],
# u2 [0 1], so training popularity is 0:3, 1:3, 2:2, 3:1, others 0.
SEQUENCES = [[0, 1, 2, 3, 4, 0], [0, 1, 2, 3, 5], [0, 1, 4, 6]]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> PreparedDataset:
    folder: Path = tmp_path_factory.mktemp("groups") / "data"
    return prepare_synthetic(raw_from_sequences(SEQUENCES, 7), folder,
                             item_head_min=3, user_long_min=3)


# Raw items 0..6 where an item's training popularity and its popularity over all
# interactions disagree, so that counting validation and test items would show. Training parts
# (all but the last two): u0 [0 1 2 3], u1 [0 1 2], u2 [0 1], u3 [1 2 3]:
#   training popularity  0:3 1:4 2:3 3:2 4:0 5:0 6:0   (over all interactions: 0:4 1:4 2:3
#   3:2 4:2 5:3 6:2); training lengths 4 3 2 3 (over all: 6 5 4 5).
LEAK_SEQUENCES = [[0, 1, 2, 3, 4, 5], [0, 1, 2, 5, 6], [0, 1, 5, 4], [1, 2, 3, 6, 0]]


@pytest.fixture(scope="module")
def leak_raw() -> RawData:
    return raw_from_sequences(LEAK_SEQUENCES, 7)


def test_groups_follow_training_popularity_and_length(leak_raw: RawData,
                                                      tmp_path: Path) -> None:
    dataset = prepare_synthetic(leak_raw, tmp_path / "data", item_head_min=3, user_long_min=3)
    test = dataset.targets("test")  # raw items 5, 6, 4, 0
    assert dataset.item_popularity[test].tolist() == [0, 0, 0, 3]  # over all: 3, 2, 2, 4
    masks = group_masks(dataset, test)
    assert masks["item_head"].tolist() == [False, False, False, True]  # over all: u0 head too
    assert masks["item_tail"].tolist() == [True, True, True, False]
    assert masks["user_long"].tolist() == [True, True, False, True]  # over all: every user
    assert masks["user_short"].tolist() == [False, False, True, False]
    valid = group_masks(dataset, dataset.targets("valid"))  # raw items 4, 5, 5, 6: none trains
    assert valid["item_head"].tolist() == [False, False, False, False]  # over all: 5 is head


def test_pareto_thresholds_count_training_interactions_only(leak_raw: RawData,
                                                            tmp_path: Path) -> None:
    config = DataConfig(source=SourceConfig(format="generic", asset=None), domain="generic",
                        user_core=1, item_core=1,
                        thresholds=ThresholdConfig(rule="pareto", head_fraction=0.2))
    dataset = prepare_from_raw(leak_raw, config, tmp_path / "data")
    # ceil(0.2 * 7 items) = 2nd largest training count of 4 3 3 2 0 0 0 -> 3 (over all: 4);
    # ceil(0.2 * 4 users) = 1st largest training length of 4 3 2 3 -> 4 (over all: 6)
    assert dataset.thresholds == Thresholds(item_head_min=3, user_long_min=4)
    assert dataset.stats["item_popularity"]["items_without_training_interactions"] == 3


def test_bins_cover_the_edges_of_method_spec() -> None:
    values = np.array([0, 4, 5, 9, 10, 19, 20, 39, 40, 100])
    masks = bin_masks(values, (5, 10, 20, 40))
    assert {label: values[m].tolist() for label, m in masks.items()} == {
        "<5": [0, 4], "5-9": [5, 9], "10-19": [10, 19], "20-39": [20, 39], ">=40": [40, 100]}


def test_summary_has_overall_groups_counts_and_protocol(dataset: PreparedDataset) -> None:
    per_user = {"HR@10": np.array([1.0, 0.0, 0.5]), "NDCG@10": np.array([1.0, 0.0, 0.25])}
    summary = summarize(per_user, dataset, "test", Protocol("full"))
    assert set(summary) == {"protocol", "overall", "groups", "counts"}
    assert summary["protocol"] == {"candidates": "full", "num_negatives": None,
                                   "exclude_history": True, "ties": "expected",
                                   "split": "leave-one-out", "seed": 0}
    assert summary["overall"] == {"HR@10": 0.5, "NDCG@10": pytest.approx(1.25 / 3)}
    assert summary["groups"]["item_tail"] == {"HR@10": 0.25, "NDCG@10": 0.125}
    assert summary["groups"]["user_long"] == {"HR@10": 0.5, "NDCG@10": 0.5}
    assert summary["groups"]["item_pop_bins"]["<5"]["HR@10"] == 0.5
    assert summary["groups"]["item_pop_bins"][">=40"] == {"HR@10": None, "NDCG@10": None}
    assert summary["counts"] == {
        "users": 3, "item_tail": 2, "item_head": 1, "user_short": 1, "user_long": 2,
        "item_pop_bins": {"<5": 3, "5-9": 0, "10-19": 0, "20-39": 0, ">=40": 0},
        "item_pop_quintiles": {"<3": 2, ">=3": 1},  # target popularity 3, 0, 0
        "user_length_bins": {"<5": 3, "5-9": 0, "10-14": 0, "15-19": 0, ">=20": 0}}


@pytest.mark.parametrize(("values", "edges"), [
    (np.arange(1, 101), (21, 41, 61, 81)),  # 20 values per bin
    (np.array([0] * 50 + list(range(1, 51))), (11, 31)),  # the ties at 0 fill three bins
])
def test_quantile_edges_make_equal_non_empty_bins(values: np.ndarray, edges: tuple) -> None:
    assert quantile_edges(values) == edges
    sizes = [int(mask.sum()) for mask in bin_masks(values, edges).values()]
    assert sum(sizes) == len(values) and all(sizes)


def test_quantile_edges_of_one_repeated_value_give_one_bin() -> None:
    assert quantile_edges(np.array([7, 7, 7])) == (8,)  # "<8" holds all, ">=8" none


def test_buckets_of_a_hand_built_popularity() -> None:
    # Ten items with these training counts; twelve users with these training lengths.
    popularity = np.array([50, 41, 40, 22, 12, 9, 5, 4, 1, 0])
    lengths = np.array([30, 21, 20, 19, 15, 14, 10, 9, 5, 4, 3, 3])
    # pareto 0.2: the 2 most popular items (>= 41) and the 3 longest users (>= 20) are head
    assert thresholds(popularity, lengths, ThresholdConfig()) == Thresholds(41, 20)
    assert bin_labels((5, 10, 20, 40)) == ["<5", "5-9", "10-19", "20-39", ">=40"]
    assert bin_counts(popularity, (5, 10, 20, 40)) == {
        "<5": 3, "5-9": 2, "10-19": 1, "20-39": 1, ">=40": 3}
    assert bin_counts(lengths, (5, 10, 15, 20)) == {
        "<5": 3, "5-9": 2, "10-14": 2, "15-19": 2, ">=20": 3}
    # sorted counts 0 1 4 5 9 12 22 40 41 50: cuts at ranks 2, 4, 6, 8 -> 4, 9, 22, 41
    edges = quantile_edges(popularity)
    assert edges == (4, 9, 22, 41)
    assert bin_counts(popularity, edges) == {"<4": 2, "4-8": 2, "9-21": 2, "22-40": 2, ">=41": 2}
    labels = bin_labels(edges)
    assert sorted(reversed(labels), key=bin_lower_bound) == labels
