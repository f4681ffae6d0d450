"""Prompt templates, value cleaning and the attribute-drop augmentation."""

import random
import warnings

import numpy as np
import pandas as pd
import pytest

from llmemb_utils.data.prompts import (
    DOMAINS,
    attribute_drop_views,
    attributes_dropped,
    build_prompts,
    format_value,
    item_prompt,
)


def test_values_are_flattened_sanitised_and_cut():
    assert format_value("a;b\nc  d") == "a.b c d"
    assert format_value(["x", "y", None, ""]) == "x, y"
    assert format_value({"WiFi": "free", "Parking": None}) == "WiFi: free"
    assert format_value(np.array(["a", "b"])) == "a, b"
    assert format_value(np.int64(7)) == "7"
    assert format_value(5.0) == "5" and format_value(9.99) == "9.99"
    assert format_value("x" * 150, max_chars=100) == "x" * 100
    assert format_value("x" * 150, max_chars=None) == "x" * 150
    for missing in (None, float("nan"), "", [], "  "):
        assert format_value(missing) is None


def test_first_category_path_only_for_nested_lists():
    categories = [["Beauty", "Skin Care", "Face"], ["Beauty", "Makeup"]]
    assert format_value(categories, first_category_path=True) == "Beauty, Skin Care, Face"
    assert format_value(categories) == "Beauty, Skin Care, Face, Beauty, Makeup"
    assert format_value(["Beauty", "Face"], first_category_path=True) == "Beauty, Face"


def test_beauty_prompt_shape_and_excluded_fields():
    record = [("title", "Cream; 50ml"), ("imUrl", "http://img"), ("salesRank", {"Beauty": 3}),
              ("categories", [["Beauty", "Skin Care"]]), ("price", 9.99), ("brand", None)]
    assert item_prompt(record, DOMAINS["beauty"]) == (
        "The beauty item has the following attributes: \n"
        " title is Cream. 50ml; categories is Beauty, Skin Care; price is 9.99")


def test_yelp_drops_coordinates_and_joins_lists():
    record = [("name", "Cafe"), ("latitude", 33.4), ("longitude", -111.9),
              ("categories", ["Coffee", "Bakeries"]), ("open", True)]
    assert item_prompt(record, DOMAINS["yelp"], max_chars=None) == (
        "The point of interest has the following attributes: \n"
        " name is Cafe; categories is Coffee, Bakeries; open is True")


def test_items_without_metadata_say_so():
    prompts, known = build_prompts(
        ["m1", "m2"], pd.DataFrame({"item": ["m1"], "title": ["Heat"]}), "movielens")
    assert prompts == ["The movie has the following attributes: \n title is Heat",
                       "The movie has the following attributes: \n attributes are unknown"]
    assert known == [True, False]


PROMPT = "Instr: \n a is 1; b is 2; c is 3; d is 4; e is 5"


def test_views_drop_floor_ratio_and_keep_a_subset():
    pieces = set(PROMPT.split("\n")[1].split(";"))
    one, two = attribute_drop_views(PROMPT, 0.4, random.Random(0))
    for view in (one, two):
        head, body = view.split("\n")
        assert head == "Instr: "
        kept = body.split(";")
        assert len(kept) == 3  # 5 - floor(5 * 0.4)
        assert set(kept) <= pieces and len(set(kept)) == 3


def test_views_are_seeded():
    first = [attribute_drop_views(PROMPT, 0.4, random.Random(3)) for _ in range(2)]
    assert first[0] == first[1]
    different = {attribute_drop_views(PROMPT, 0.4, random.Random(s)) for s in range(20)}
    assert len(different) > 10


@pytest.mark.parametrize("n", [1, 2, 3])
def test_views_are_never_empty(n):
    prompt = "Instr: \n" + ";".join(f" k{i} is v" for i in range(n))
    for seed in range(10):
        for view in attribute_drop_views(prompt, 0.9, random.Random(seed)):
            assert view.split("\n")[1].strip()


def test_two_attributes_keep_both_at_ratio_04():
    prompt = "Instr: \n a is 1; b is 2"
    one, two = attribute_drop_views(prompt, 0.4, random.Random(1))
    assert sorted(one.split("\n")[1].split(";")) == [" a is 1", " b is 2"]


def test_bad_ratio():
    with pytest.raises(ValueError, match=r"drop_ratio must be in \[0, 1\), got 1.0"):
        attribute_drop_views(PROMPT, 1.0, random.Random(0))


@pytest.mark.parametrize(("attributes", "ratio", "dropped"), [
    (5, 0.4, 2), (4, 0.4, 1), (3, 0.4, 1), (2, 0.4, 0), (4, 0.2, 0), (5, 0.2, 1),
    (4, 0.6, 2), (2, 0.6, 1), (1, 0.9, 0), (4, 0.0, 0),
])
def test_each_view_drops_floor_n_times_ratio_but_keeps_one(attributes, ratio, dropped):
    prompt = "Instr: \n" + ";".join(f" k{i} is v" for i in range(attributes))
    assert attributes_dropped(prompt, ratio) == dropped  # floor(n * ratio), at most n - 1
    for view in attribute_drop_views(prompt, ratio, random.Random(0)):
        assert len(view.split("\n")[1].split(";")) == attributes - dropped
    assert attributes_dropped("no attribute line", ratio) == 0


def test_a_drop_ratio_that_drops_nothing_from_any_prompt_is_warned_about():
    from llmemb_utils.llm.views import warn_if_nothing_dropped

    prompts = ["Instr: \n a is 1; b is 2; c is 3; d is 4", "Instr: \n a is 1; b is 2"]
    with pytest.warns(UserWarning, match=r"drop_ratio 0.2 drops no attribute from any of the "
                                         r"2 prompts \(at most 4 attributes each"):
        warn_if_nothing_dropped(prompts, 0.2)  # floor(4 * 0.2) = floor(2 * 0.2) = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_nothing_dropped(prompts, 0.4)  # floor(4 * 0.4) = 1 for the first prompt
        warn_if_nothing_dropped(prompts, 0.0)  # no dropping asked for
