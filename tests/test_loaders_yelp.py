"""Yelp loaders on tiny fixtures in the 2013 challenge and current academic formats."""

from __future__ import annotations

import json
import re

import pytest

from llmemb_utils.config import SourceConfig
from llmemb_utils.data.loaders import load_raw
from llmemb_utils.data.schema import DataFormatError


def yelp(path, **fields) -> SourceConfig:
    return SourceConfig(format="yelp", asset=None, path=str(path), **fields)


def test_yelp_2013(tmp_path, write_lines):
    write_lines("yelp_training_set_review.json", [
        json.dumps({"votes": {"funny": 0}, "user_id": "u1", "review_id": "r1", "stars": 5,
                    "date": "2011-01-26", "text": "Great", "type": "review",
                    "business_id": "b1"}),
        json.dumps({"user_id": "u2", "business_id": "b2", "stars": 2, "date": "2011-01-27"}),
    ])
    write_lines("yelp_training_set_business.json", [json.dumps(
        {"business_id": "b1", "full_address": "1 Main St", "open": True,
         "categories": ["Food", "Bakeries"], "city": "Phoenix", "review_count": 3,
         "name": "Bread", "neighborhoods": [], "longitude": -112.1, "state": "AZ", "stars": 4.5,
         "latitude": 33.5, "type": "business"})])

    raw = load_raw(yelp(tmp_path))

    assert raw.source == "yelp-2013"
    assert raw.interactions.to_dict("list") == {
        "user": ["u1", "u2"], "item": ["b1", "b2"],
        "timestamp": [1296000000, 1296086400], "rating": [5.0, 2.0]}
    assert raw.items.to_dict("records") == [
        {"item": "b1", "full_address": "1 Main St", "open": True,
         "categories": ["Food", "Bakeries"], "city": "Phoenix", "review_count": 3,
         "name": "Bread", "neighborhoods": [], "longitude": -112.1, "state": "AZ", "stars": 4.5,
         "latitude": 33.5, "type": "business"}]


def test_yelp_academic(tmp_path, write_lines):
    write_lines("yelp_academic_dataset_review.json", [json.dumps(
        {"review_id": "r1", "user_id": "u1", "business_id": "b1", "stars": 4.0, "useful": 0,
         "text": "Fine", "date": "2018-07-07 22:09:11"})])
    write_lines("yelp_academic_dataset_business.json", [
        json.dumps({"business_id": "b1", "name": "Cafe", "is_open": 1,
                    "attributes": {"WiFi": "u'free'"}, "categories": "Coffee & Tea, Food",
                    "hours": {"Monday": "7:0-17:0"}}),
        json.dumps({"business_id": "b2", "name": "Shop", "categories": None, "hours": None}),
    ])

    raw = load_raw(yelp(tmp_path))

    assert raw.source == "yelp-academic"
    assert raw.interactions.to_dict("records") == [
        {"user": "u1", "item": "b1", "timestamp": 1531001351, "rating": 4.0}]
    assert list(raw.items.columns) == [
        "item", "name", "is_open", "attributes", "categories", "hours"]
    cafe, shop = raw.items.to_dict("records")
    assert cafe["categories"] == ["Coffee & Tea", "Food"]
    assert cafe["attributes"] == {"WiFi": "u'free'"} and cafe["hours"] == {"Monday": "7:0-17:0"}
    assert shop["categories"] is None and shop["hours"] is None


def test_yelp_folder_errors(tmp_path, write_lines):
    with pytest.raises(DataFormatError, match="Yelp folder not found"):
        load_raw(yelp(tmp_path / "nowhere"))
    write_lines("yelp_academic_dataset_review.json", ["{}"])
    with pytest.raises(DataFormatError, match=re.escape(
            "not a Yelp folder; expected one of: yelp_training_set_review.json + "
            "yelp_training_set_business.json (2013); yelp_academic_dataset_review.json + "
            "yelp_academic_dataset_business.json (academic); "
            "found ['yelp_academic_dataset_review.json']")):
        load_raw(yelp(tmp_path))


def test_yelp_bad_date_and_skip(tmp_path, write_lines):
    reviews = write_lines("yelp_training_set_review.json", [
        json.dumps({"user_id": "u1", "business_id": "b1", "stars": 5, "date": "2011-01-26"}),
        json.dumps({"user_id": "u2", "business_id": "b1", "stars": 5, "date": "26/01/2011"}),
    ])
    write_lines("yelp_training_set_business.json", ['{"business_id": "b1"}', '{"name": "x"}'])
    with pytest.raises(DataFormatError, match=re.escape(
            f"{reviews}:2: ValueError: Invalid isoformat string: '26/01/2011' (expected Yelp "
            "2013 reviews with user_id, business_id, stars, date")):
        load_raw(yelp(tmp_path))

    raw = load_raw(yelp(tmp_path, skip_malformed=True))
    assert raw.skipped_lines == 2  # the bad date, and the business without business_id
    assert raw.items["item"].tolist() == ["b1"]
