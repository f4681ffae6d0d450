"""The ``<Name>.inter.json`` + ``<Name>.item.json`` sequence layout, on hand-made files and on
the Amazon "Industrial and Scientific" copy beside the kit when it is there."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from llmemb_utils.config import DataConfig, SourceConfig, ThresholdConfig, load_config
from llmemb_utils.data.loaders import load_raw
from llmemb_utils.data.prepare import prepare
from llmemb_utils.data.schema import DataFormatError
from llmemb_utils.layout import from_root

SCIENTIFIC = from_root("../shared/data/amazon-scientific")
SCIENTIFIC_CONFIG = "configs/scientific_smollm2.yaml"


def source(path: Path, **fields) -> SourceConfig:
    return SourceConfig(format="sequences-json", asset=None, path=str(path), **fields)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """Two users, three items; item 2 has an empty brand and HTML in its text."""
    write(tmp_path, "Shop.inter.json", json.dumps({"u1": [2, 0, 1], "u2": [1, 2, 0, 1]}))
    write(tmp_path, "Shop.item.json", json.dumps({
        "0": {"title": "Tape", "description": "", "brand": "Acme", "categories": "Tools"},
        "1": {"title": "Glue", "description": "Dries in\n  5 min", "brand": "Acme",
              "categories": "Tools,Adhesives"},
        "2": {"title": "Nuts &amp; Bolts", "description": "M3&nbsp;steel", "brand": " ",
              "categories": "Fasteners"},
    }))
    return tmp_path


def test_list_order_is_time_order_and_text_is_decoded(shop):
    raw = load_raw(source(shop))

    assert raw.interactions[["user", "item", "timestamp"]].to_dict("list") == {
        "user": ["u1"] * 3 + ["u2"] * 4,
        "item": ["2", "0", "1", "1", "2", "0", "1"],
        "timestamp": [0, 1, 2, 0, 1, 2, 3]}
    nuts = raw.items.set_index("item").loc["2"]
    assert nuts["title"] == "Nuts & Bolts"
    assert nuts["description"] == "M3\xa0steel"
    assert pd.isna(nuts["brand"])  # blank after stripping: left out of the prompt
    assert sorted(Path(p).name for p in raw.files) == ["Shop.inter.json", "Shop.item.json"]


def test_prepare_builds_prompts_without_empty_fields(shop, tmp_path):
    config = DataConfig(source=source(shop), domain="amazon", min_rating=None, user_core=1,
                        item_core=1)
    dataset = prepare(config, tmp_path / "prepared")

    prompts = [json.loads(line) for line in
               (tmp_path / "prepared" / "prompts.jsonl").read_text().splitlines()]
    by_raw = {p["raw_item"]: p["prompt"] for p in prompts}
    assert by_raw["2"] == ("The item has the following attributes: \n title is Nuts & Bolts; "
                           "description is M3 steel; categories is Fasteners")
    assert by_raw["0"].endswith("title is Tape; brand is Acme; categories is Tools")
    assert "description is Dries in 5 min;" in by_raw["1"]
    # ids follow first appearance along the sequences: raw 2 -> 1, 0 -> 2, 1 -> 3
    assert [list(s) for s in dataset.sequences] == [[1, 2, 3], [3, 1, 2, 3]]


def test_a_folder_path_or_the_sequence_file_both_work(shop):
    assert load_raw(source(shop / "Shop.inter.json")).counts() == load_raw(source(shop)).counts()


@pytest.mark.parametrize(("inter", "item", "message"), [
    (None, "{}", "no sequence file"),
    ('{"u1": [0]}', None, "Shop.item.json: file not found"),
    ("[[0, 1]]", "{}", "Shop.inter.json: expected a JSON object at the top level, got list"),
    ('{"u1": 0}', "{}", "Shop.inter.json: user 'u1': expected a list of item ids, got int"),
    ('{"u1": [0, {"id": 1}]}', '{"0": {}}', "user 'u1': item {'id': 1} is not an item id"),
    ('{"u1": [0, 7]}', '{"0": {"title": "Tape"}}',
     "Shop.item.json: item '7' (in user 'u1''s sequence in Shop.inter.json) has no entry"),
    ('{"u1": [0], "u1": [0]}', '{"0": {}}', "Shop.inter.json: key 'u1' appears twice"),
    ('{"u1": [0]}', '{"0": {"title": "a", "title": "b"}}', "Shop.item.json: key 'title' "
                                                           "appears twice"),
    ('{"u1": [0]}', '{"0": "Tape"}', "Shop.item.json: item '0': expected an object of "
                                     "attributes, got str"),
    ('{"u1": [0,]}', "{}", "Shop.inter.json:1:11: not valid JSON"),
    ('{"u1": []}', "{}", "Shop.inter.json: no interactions"),
])
def test_bad_input_names_the_file_and_the_user_or_item(tmp_path, inter, item, message):
    if inter is not None:
        write(tmp_path, "Shop.inter.json", inter)
    if item is not None:
        write(tmp_path, "Shop.item.json", item)

    with pytest.raises(DataFormatError) as error:
        load_raw(source(tmp_path))
    assert message in str(error.value)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(DataFormatError, match=r"nowhere: not found \(expected <Name>.inter"):
        load_raw(source(tmp_path / "nowhere"))


def test_checksums_are_verified_when_given(shop):
    digest = hashlib.sha256((shop / "Shop.item.json").read_bytes()).hexdigest()
    load_raw(source(shop, sha256={"Shop.item.json": digest}))  # the right copy passes

    wrong = "0" * 64
    with pytest.raises(DataFormatError, match=f"Shop.item.json: SHA-256 is {digest}, expected "
                                              f"{wrong}"):
        load_raw(source(shop, sha256={"Shop.item.json": wrong}))
    with pytest.raises(DataFormatError, match="names 'Other.json', but the source read"):
        load_raw(source(shop, sha256={"Other.json": wrong}))


def test_fixed_split_groups_count_training_interactions_only(tmp_path):
    # Item a: 3 training interactions (u1, u2, u3), plus 2 as u4's/u5's validation or test
    # target: by all interactions it would have 5 and be head under a threshold of 4.
    sequences = {"u1": ["a", "b", "c", "d"], "u2": ["a", "c", "b", "d"],
                 "u3": ["a", "d", "c", "b"], "u4": ["b", "c", "a", "a2"],
                 "u5": ["b", "d", "c", "a"]}
    items = sorted({i for s in sequences.values() for i in s})
    write(tmp_path, "T.inter.json", json.dumps(sequences))
    write(tmp_path, "T.item.json", json.dumps({i: {"title": i} for i in items}))
    config = DataConfig(source=source(tmp_path), domain="amazon", min_rating=None, user_core=1,
                        item_core=1, thresholds=ThresholdConfig(fixed_item_head_min=4))
    dataset = prepare(config, tmp_path / "prepared")

    from llmemb_utils.data.buckets import group_masks

    # Training (all but the last two): u1 a b, u2 a c, u3 a d, u4 b c, u5 b d
    # -> a 3, b 3, c 2, d 2: no item reaches 4, so every test target is fixed-tail.
    masks = group_masks(dataset, dataset.test_targets)
    assert masks["item_tail_fixed"].tolist() == [True] * 5
    assert not masks["item_head_fixed"].any()


@pytest.mark.skipif(not SCIENTIFIC.is_dir(), reason="the Amazon-Scientific copy is not here")
def test_the_scientific_copy_has_its_published_counts():
    config = load_config(from_root(SCIENTIFIC_CONFIG), **{"data.source.path": str(SCIENTIFIC)})
    raw = load_raw(config.data.source)  # also verifies the config's checksums

    assert raw.counts() == {"users": 8317, "items": 4344, "interactions": 58492}
    lengths = raw.interactions.groupby("user").size().to_numpy()
    assert (np.median(lengths), lengths.min(), lengths.max()) == (6, 5, 78)
    assert not raw.items["title"].str.contains("&amp;", regex=False).any()
