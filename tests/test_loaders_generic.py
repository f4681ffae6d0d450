"""Generic CSV / Parquet / JSON-lines loader with a column mapping."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from llmemb_utils.config import SourceConfig
from llmemb_utils.data.loaders import load_raw
from llmemb_utils.data.schema import DataFormatError

MAPPING = {"user": "uid", "item": "iid", "timestamp": "when", "rating": "stars"}


def generic(path, **fields) -> SourceConfig:
    return SourceConfig(format="generic", asset=None, path=str(path), **fields)


def test_csv_with_mapping_dates_and_item_csv(tmp_path, write_lines):
    interactions = write_lines("events.csv", [
        "uid,iid,when,stars,extra", "u1,i1,2020-01-02 00:00:00,4.5,x",
        "007,i2,2020-01-02T01:00:00+01:00,3,y", "u1,i1,2020-01-03,1,z"])
    write_lines("items.csv", ["name,iid,color", "Lamp,i1,", '"Desk, oak",i2,brown'])

    raw = load_raw(generic(interactions, columns=MAPPING, item_file="items.csv"))

    assert raw.source == "generic"
    assert raw.interactions.to_dict("list") == {
        "user": ["u1", "007", "u1"], "item": ["i1", "i2", "i1"],
        "timestamp": [1577923200, 1577923200, 1578009600], "rating": [4.5, 3.0, 1.0]}
    records = raw.items.to_dict("records")
    assert list(raw.items.columns) == ["item", "name", "color"]
    assert records[0]["name"] == "Lamp" and pd.isna(records[0]["color"])
    assert records[1] == {"item": "i2", "name": "Desk, oak", "color": "brown"}
    assert len(raw.files) == 2


def test_parquet_with_lists_and_item_key(tmp_path):
    path = tmp_path / "events.parquet"
    pd.DataFrame({"user": [7, 8], "item": [1, 2], "timestamp": [1.6e9, 1600000001.9]}).to_parquet(
        path)
    pd.DataFrame({"sku": [2, 1], "title": ["Pen", "Ink"],
                  "tags": [["blue", "cheap"], []]}).to_parquet(tmp_path / "items.parquet")

    raw = load_raw(generic(path, columns={"item_key": "sku"}, item_file="items.parquet"))

    assert raw.interactions.to_dict("list") == {
        "user": ["7", "8"], "item": ["1", "2"], "timestamp": [1600000000, 1600000001]}
    assert raw.items["item"].tolist() == ["2", "1"]
    assert [list(tags) for tags in raw.items["tags"]] == [["blue", "cheap"], []]


def test_jsonl_gz_with_jsonl_items(tmp_path, write_lines):
    path = write_lines("events.jsonl.gz", [
        json.dumps({"user": 1, "item": "a", "timestamp": 5, "rating": 2}),
        json.dumps({"user": 2, "item": "b", "timestamp": 6, "rating": 4})])
    write_lines("items.jsonl", [json.dumps({"item": "a", "genres": ["x", "y"], "year": 1999})])

    raw = load_raw(generic(path, item_file="items.jsonl"))

    assert raw.interactions.to_dict("list") == {
        "user": ["1", "2"], "item": ["a", "b"], "timestamp": [5, 6], "rating": [2.0, 4.0]}
    assert raw.items.to_dict("records") == [{"item": "a", "genres": ["x", "y"], "year": 1999}]


def test_mapping_and_column_errors(tmp_path, write_lines):
    path = write_lines("events.csv", ["user,item,time", "u1,i1,1"])
    with pytest.raises(DataFormatError, match=r"unknown column mapping key\(s\) \['time'\]"):
        load_raw(generic(path, columns={"time": "time"}))
    with pytest.raises(DataFormatError, match=re.escape(
            f"{path}: missing column(s) ['timestamp']; found ['user', 'item', 'time'] "
            "(expected columns for ['user', 'item', 'timestamp']; set `columns`")):
        load_raw(generic(path))
    with pytest.raises(DataFormatError, match=re.escape(
            f"{path}: missing column(s) ['stars']")):
        load_raw(generic(path, columns={"timestamp": "time", "rating": "stars"}))
    write_lines("items.csv", ["id,name", "i1,x"])
    with pytest.raises(DataFormatError, match=re.escape(
            f"{tmp_path / 'items.csv'}: missing column(s) ['item']; found ['id', 'name'] "
            "(expected the item key column (set columns['item_key']))")):
        load_raw(generic(path, columns={"timestamp": "time"}, item_file="items.csv"))


def test_unsupported_and_missing_files(tmp_path, write_lines):
    path = write_lines("events.txt", ["user item timestamp"])
    with pytest.raises(DataFormatError, match=re.escape(
            f"{path}: unsupported file type; expected a table: .csv, .parquet or .jsonl")):
        load_raw(generic(path))
    with pytest.raises(DataFormatError, match=re.escape(
            f"{tmp_path / 'none.csv'}: file not found (expected a table")):
        load_raw(generic(tmp_path / "none.csv"))
    with pytest.raises(DataFormatError, match="neither `asset` nor `path`"):
        load_raw(SourceConfig(format="generic", asset=None))


def test_bad_values_name_the_line(tmp_path, write_lines):
    path = write_lines("events.csv", ["user,item,timestamp", "u1,i1,2020-01-01",
                                      "u1,i2,last week", "u2,i3,2020-01-05"])
    with pytest.raises(DataFormatError, match=re.escape(
            f"{path}:3: column 'timestamp': 'last week' is not a unix time in seconds or an "
            "ISO 8601 date-time")):
        load_raw(generic(path))
    raw = load_raw(generic(path, skip_malformed=True))
    assert raw.skipped_lines == 1
    assert raw.interactions["item"].tolist() == ["i1", "i3"]

    jsonl = write_lines("events.jsonl", ['{"user": "u", "item": "a", "timestamp": 1}', "",
                                         '{"user": "u", "timestamp": 2}', "[1, 2]"])
    with pytest.raises(DataFormatError, match=re.escape(
            f"{jsonl}:4: ValueError: expected an object, got list")):
        load_raw(generic(jsonl))
    raw = load_raw(generic(jsonl, skip_malformed=True))
    assert raw.skipped_lines == 2  # the list on line 4, the missing item on line 3
    jsonl.write_text('{"user": "u", "item": "a", "timestamp": 1}\n{"user": "u", "timestamp": 2}\n')
    with pytest.raises(DataFormatError, match=re.escape(
            f"{jsonl}:2: column 'item': missing value")):
        load_raw(generic(jsonl))


def test_csv_non_utf8_and_truncated_gzip(tmp_path, write_lines):
    path = write_lines("events.csv", ["user,item,timestamp", "u1,caf\xe9,1"], encoding="latin-1")
    with pytest.raises(DataFormatError, match=re.escape(
            f"{path}:2: not valid utf-8 text (invalid continuation byte at byte 6)")):
        load_raw(generic(path))
    gz = write_lines("events.csv.gz", ["user,item,timestamp"] + [f"u,i{n},{n}" for n in range(99)])
    gz.write_bytes(gz.read_bytes()[:-12])
    with pytest.raises(DataFormatError, match=re.escape(f"{gz}: truncated or corrupt gzip file")):
        load_raw(generic(gz))
