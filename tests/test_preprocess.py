"""Filtering, chronological order, id mapping and thresholds on hand-made interactions."""

import numpy as np
import pandas as pd
import pytest

from llmemb_utils.config import DataConfig, ThresholdConfig
from llmemb_utils.data.preprocess import EmptyDatasetError, build_sequences
from llmemb_utils.data.schema import RawData
from llmemb_utils.data.thresholds import Thresholds, thresholds


def raw_data(rows, ratings=None):
    frame = pd.DataFrame(rows, columns=["user", "item", "timestamp"])
    if ratings is not None:
        frame["rating"] = ratings
    return RawData(frame, pd.DataFrame({"item": sorted(frame["item"].unique())}), "fixture")


def loose(**changes):
    return DataConfig(**{"user_core": 1, "item_core": 1, "min_sequence_length": 1, **changes})


def test_chronological_order_stable_ties_and_first_seen_ids():
    raw = raw_data([("u2", "i3", 5), ("u1", "i1", 9), ("u1", "i2", 3), ("u2", "i1", 5),
                    ("u1", "i3", 3)])
    result = build_sequences(raw, loose())
    assert result.raw_users == ["u2", "u1"]  # users in first-seen order
    assert result.raw_items == ["i3", "i1", "i2"]  # items as first met along the sequences
    frame = result.interactions
    assert frame["user_id"].tolist() == [1, 1, 2, 2, 2]
    # u2: i3, i1 tie at t=5 -> file order; u1: i2, i3 tie at t=3 -> file order, then i1 at t=9
    assert frame["item_id"].tolist() == [1, 2, 3, 1, 2]
    assert frame["timestamp"].tolist() == [5, 5, 3, 3, 9]


CORE_ROWS = [("a", "x", 1), ("a", "y", 2), ("b", "x", 1), ("b", "y", 2), ("c", "x", 1),
             ("c", "w", 2)]


def test_one_pass_filter_counts_raw_interactions_once():
    result = build_sequences(raw_data(CORE_ROWS), loose(user_core=2, item_core=2))
    # w (1 interaction) goes; c keeps its x although c is now below user_core
    assert len(result.interactions) == 5
    assert result.dropped["frequency"] == 1


def test_kcore_filter_iterates_until_stable():
    result = build_sequences(raw_data(CORE_ROWS),
                             loose(user_core=2, item_core=2, filter="kcore"))
    assert result.raw_users == ["a", "b"]
    assert len(result.interactions) == 4


def test_rating_filter_dedupe_and_short_users():
    rows = [("a", "x", 1), ("a", "x", 2), ("a", "y", 3), ("b", "x", 1), ("b", "y", 2),
            ("b", "z", 3), ("c", "z", 4)]
    raw = raw_data(rows, ratings=[5, 5, 4, 0, 3, 3, 5])
    result = build_sequences(raw, DataConfig(user_core=1, item_core=1, dedupe=True,
                                             min_sequence_length=2))
    assert result.dropped == {"rating": 1, "duplicates": 1, "frequency": 0, "short_users": 1}
    assert result.raw_users == ["a", "b"]
    assert result.interactions["rating"].tolist() == [5, 4, 3, 3]


def test_everything_filtered_away_names_the_filter():
    raw = raw_data([("a", "x", 1), ("b", "y", 2)])
    with pytest.raises(EmptyDatasetError, match="removed by the short_users filter; relax "
                                                "data.min_sequence_length"):
        build_sequences(raw, DataConfig(user_core=1, item_core=1))


def test_date_range_keeps_the_window():
    day = 86_400
    start = int(pd.Timestamp("2010-01-01", tz="UTC").timestamp())
    raw = raw_data([("a", "x", start - day), ("a", "y", start), ("a", "z", start + day)])
    result = build_sequences(raw, loose(date_range=("2010-01-01", "2010-01-02")))
    assert result.raw_items == ["y", "z"]


def test_pareto_thresholds_include_ties_at_the_boundary():
    popularity = np.array([10, 5, 5, 3, 1])
    lengths = np.array([7, 3, 3, 1, 1, 1, 1, 1, 1, 1])
    rule = ThresholdConfig(rule="pareto", head_fraction=0.4)
    assert thresholds(popularity, lengths, rule) == Thresholds(item_head_min=5, user_long_min=1)
    rule = ThresholdConfig(rule="pareto", head_fraction=0.2)
    assert thresholds(popularity, lengths, rule) == Thresholds(item_head_min=10, user_long_min=3)


def test_fixed_thresholds_need_both_values():
    assert thresholds(np.ones(3), np.ones(3), ThresholdConfig(
        rule="fixed", item_head_min=13, user_long_min=12)) == Thresholds(13, 12)
    with pytest.raises(ValueError, match="'fixed' needs item_head_min and user_long_min"):
        thresholds(np.ones(3), np.ones(3), ThresholdConfig(rule="fixed", item_head_min=3))


def test_max_users_keeps_the_first_users_of_the_file():
    rows = [("u2", "x", 1), ("u1", "x", 2), ("u3", "y", 3), ("u1", "y", 4)]
    result = build_sequences(raw_data(rows), loose(max_users=2))
    assert result.raw_users == ["u2", "u1"] and result.dropped["max_users"] == 1
