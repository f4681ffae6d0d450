"""Amazon loaders on tiny fixtures written in the 2014, 2018 and 2023 raw formats."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from llmemb_utils.config import SourceConfig
from llmemb_utils.data.loaders import load_raw
from llmemb_utils.data.schema import DataFormatError

REVIEWS_2014 = [
    json.dumps({"reviewerID": "A1", "asin": "B01", "reviewerName": "Ann", "helpful": [0, 0],
                "reviewText": "Nice", "overall": 5.0, "summary": "Good",
                "unixReviewTime": 1391126400, "reviewTime": "01 31, 2014"}),
    json.dumps({"reviewerID": "A2", "asin": "B09", "overall": 2.0, "unixReviewTime": 1391000000}),
    json.dumps({"reviewerID": "A1", "asin": "B01", "overall": 4.0, "unixReviewTime": 1391126401}),
]
META_2014 = [
    "{'asin': 'B01', 'title': 'Lip Balm', 'price': 3.5, 'salesRank': {'Beauty': 100}, "
    "'categories': [['Beauty', 'Skin Care'], ['Beauty', 'Lips']], 'brand': \"Burt's Bees\"}",
    "{'asin': 'B02', 'categories': [['Beauty']], 'description': 'Soap'}",
]


def amazon(path, **fields) -> SourceConfig:
    return SourceConfig(format="amazon", asset=None, path=str(path), **fields)


def test_amazon_2014(tmp_path, write_lines):
    write_lines("reviews_Beauty.json.gz", REVIEWS_2014)
    write_lines("meta_Beauty.json.gz", META_2014)

    raw = load_raw(amazon(tmp_path))

    assert raw.source == "amazon-2014"
    assert raw.interactions.to_dict("list") == {
        "user": ["A1", "A2", "A1"], "item": ["B01", "B09", "B01"],
        "timestamp": [1391126400, 1391000000, 1391126401], "rating": [5.0, 2.0, 4.0]}
    assert list(raw.items.columns) == [
        "item", "title", "price", "salesRank", "categories", "brand", "description"]
    first, second = raw.items.to_dict("records")
    assert first == {"item": "B01", "title": "Lip Balm", "price": 3.5,
                     "salesRank": {"Beauty": 100},
                     "categories": [["Beauty", "Skin Care"], ["Beauty", "Lips"]],
                     "brand": "Burt's Bees", "description": first["description"]}
    assert second["categories"] == [["Beauty"]] and second["description"] == "Soap"
    assert set(raw.files) == {str(tmp_path / "reviews_Beauty.json.gz"),
                              str(tmp_path / "meta_Beauty.json.gz")}


def test_amazon_2014_renamed_like_the_official_code(tmp_path, write_lines):
    write_lines("beauty.json.gz", REVIEWS_2014)
    write_lines("meta_beauty.json.gz", META_2014)
    assert load_raw(amazon(tmp_path)).source == "amazon-2014"


def test_amazon_2014_meta_is_never_evaluated(tmp_path, write_lines):
    write_lines("reviews_Beauty.json.gz", REVIEWS_2014)
    meta = write_lines("meta_Beauty.json.gz", [META_2014[0], "__import__('os').getcwd()"])
    with pytest.raises(DataFormatError, match=re.escape(f"{meta}:2: ValueError: malformed node")):
        load_raw(amazon(tmp_path))


def test_amazon_2018(tmp_path, write_lines):
    reviews = write_lines("AMAZON_FASHION.json.gz", [json.dumps(
        {"overall": 5.0, "verified": True, "reviewTime": "10 20, 2014", "reviewerID": "U1",
         "asin": "B0002Z1JNK", "style": {"Size:": " Large"}, "unixReviewTime": 1413763200})])
    write_lines("meta_AMAZON_FASHION.json.gz", [json.dumps(
        {"title": "Shirt", "brand": "Acme", "feature": ["cotton", "blue"], "rank": "1 in Shirts",
         "also_buy": [], "details": None, "asin": "B0002Z1JNK", "price": ""})])

    raw = load_raw(amazon(tmp_path))

    assert raw.source == "amazon-2018"
    assert raw.interactions.to_dict("records") == [
        {"user": "U1", "item": "B0002Z1JNK", "timestamp": 1413763200, "rating": 5.0}]
    assert raw.items.to_dict("records") == [
        {"item": "B0002Z1JNK", "title": "Shirt", "brand": "Acme", "feature": ["cotton", "blue"],
         "rank": "1 in Shirts", "also_buy": [], "details": None, "price": ""}]
    assert load_raw(amazon(reviews)).files == raw.files  # a reviews file, its meta beside it


def test_amazon_2023_milliseconds_and_parent_asin(tmp_path, write_lines):
    write_lines("All_Beauty.jsonl", [
        json.dumps({"rating": 5.0, "title": "t", "asin": "B00YQ6X8EO", "parent_asin": "P1",
                    "user_id": "AGKH", "timestamp": 1588687728923, "verified_purchase": True}),
        json.dumps({"rating": 3.0, "asin": "B2", "parent_asin": "P2", "user_id": "AGKH",
                    "timestamp": 1588687729999}),
    ])
    write_lines("meta_All_Beauty.jsonl", [json.dumps(
        {"main_category": "All Beauty", "title": "Cream", "average_rating": 4.8,
         "features": ["soft"], "price": None, "details": {"Brand": "X"}, "parent_asin": "P1",
         "bought_together": None})])

    raw = load_raw(amazon(tmp_path))

    assert raw.source == "amazon-2023"
    assert raw.interactions.to_dict("list") == {
        "user": ["AGKH", "AGKH"], "item": ["P1", "P2"],
        "timestamp": [1588687728, 1588687729], "rating": [5.0, 3.0]}
    assert raw.items.to_dict("records") == [
        {"item": "P1", "main_category": "All Beauty", "title": "Cream", "average_rating": 4.8,
         "features": ["soft"], "price": None, "details": {"Brand": "X"},
         "bought_together": None}]


def test_amazon_files_named_explicitly(tmp_path, write_lines):
    write_lines("reviews_Beauty.json.gz", REVIEWS_2014)
    write_lines("reviews_Beauty_5.json.gz", REVIEWS_2014[:1])
    write_lines("meta_Beauty.json.gz", META_2014)
    write_lines("meta_Toys.json.gz", META_2014[1:])
    with pytest.raises(DataFormatError, match=r"several reviews files \['reviews_Beauty\.json\.gz',"
                                              r" 'reviews_Beauty_5\.json\.gz'\].*set `reviews`"):
        load_raw(amazon(tmp_path))

    raw = load_raw(amazon(tmp_path, reviews="reviews_Beauty_5.json.gz"))
    assert len(raw.interactions) == 1
    assert raw.items["item"].tolist() == ["B01", "B02"]  # meta_Beauty, matched by category


def test_amazon_missing_files(tmp_path, write_lines):
    with pytest.raises(DataFormatError, match="Amazon folder not found"):
        load_raw(amazon(tmp_path / "nowhere"))
    write_lines("reviews_Beauty.json.gz", REVIEWS_2014)
    with pytest.raises(DataFormatError, match=r"no meta file; expected reviews_<Category>\[_5\]"
                                              r"\.json\.gz \+ meta_<Category>\.json\.gz \(2014\)"):
        load_raw(amazon(tmp_path))
    with pytest.raises(DataFormatError, match=re.escape(
            f"{tmp_path / 'meta_X.json.gz'}: file not found (expected reviews_<Category>")):
        load_raw(amazon(tmp_path, meta="meta_X.json.gz"))


def test_amazon_wrong_version_override(tmp_path, write_lines):
    write_lines("reviews_Beauty.json.gz", REVIEWS_2014)
    meta = write_lines("meta_Beauty.json.gz", META_2014)
    with pytest.raises(DataFormatError, match=re.escape(
            f"{meta}:1: JSONDecodeError: Expecting property name enclosed in double quotes")):
        load_raw(amazon(tmp_path, version="2018"))
    with pytest.raises(DataFormatError, match="unknown Amazon version '2020'"):
        load_raw(amazon(tmp_path, version="2020"))


def test_amazon_malformed_and_missing_field(tmp_path, write_lines):
    reviews = write_lines("reviews_Beauty.json.gz",
                          [REVIEWS_2014[0], '{"reviewerID": "A3", "asin": "B01"', "",
                           json.dumps({"reviewerID": "A4", "asin": "B01", "overall": 1.0})])
    write_lines("meta_Beauty.json.gz", META_2014)
    with pytest.raises(DataFormatError, match=re.escape(f"{reviews}:2: JSONDecodeError: ")):
        load_raw(amazon(tmp_path))

    raw = load_raw(amazon(tmp_path, skip_malformed=True))
    assert raw.skipped_lines == 2
    assert raw.interactions["user"].tolist() == ["A1"]

    write_lines("reviews_Beauty.json.gz", [REVIEWS_2014[0], REVIEWS_2014[2][:-1] + ', "x": 1}',
                                           REVIEWS_2014[1].replace("unixReviewTime", "time")])
    with pytest.raises(DataFormatError, match=re.escape(
            f"{reviews}:3: missing field 'unixReviewTime' (expected Amazon 2014 reviews")):
        load_raw(amazon(tmp_path))


def test_amazon_truncated_gzip(tmp_path, write_lines):
    reviews = write_lines("reviews_Beauty.json.gz", REVIEWS_2014 * 50)
    reviews.write_bytes(reviews.read_bytes()[:-20])
    write_lines("meta_Beauty.json.gz", META_2014)
    with pytest.raises(DataFormatError, match=re.escape(
            f"{reviews}: truncated or corrupt gzip file (Compressed file ended before the "
            "end-of-stream marker was reached); download it again")):
        load_raw(amazon(tmp_path))


def test_amazon_non_utf8(tmp_path, write_lines):
    write_lines("reviews_Beauty.json.gz", REVIEWS_2014)
    meta = tmp_path / "meta_Beauty.json.gz"
    meta.write_bytes(gzip.compress(META_2014[0].encode() + b"\n{'asin': 'B\xe902'}\n"))
    with pytest.raises(DataFormatError, match=re.escape(
            f"{meta}:2: not valid utf-8 text (invalid continuation byte at byte 11)")):
        load_raw(amazon(tmp_path))
