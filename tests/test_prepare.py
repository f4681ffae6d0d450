"""The prepared-dataset folder: files, splits, stats, atomicity, reuse and the CLI."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from llmemb_utils.cli import main
from llmemb_utils.config import DataConfig, ThresholdConfig, load_config
from llmemb_utils.data import prepare as prepare_module
from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.data.prepare import prepare, prepare_from_raw
from llmemb_utils.data.schema import RawData

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "ml100k_smollm2.yaml"


@pytest.fixture
def raw():
    """Three users; item 'd' is only ever a test target, item 'e' only a validation one."""
    rows = [("u1", "a", 1), ("u1", "b", 2), ("u1", "c", 3), ("u1", "d", 4),
            ("u2", "a", 1), ("u2", "b", 2), ("u2", "e", 3), ("u2", "a", 4),
            ("u3", "b", 1), ("u3", "a", 2), ("u3", "c", 3)]
    frame = pd.DataFrame(rows, columns=["user", "item", "timestamp"])
    items = pd.DataFrame({"item": ["a", "b", "c"], "title": ["A", "B", "C"]})
    return RawData(frame, items, "fixture")


def config(**changes):
    return DataConfig(user_core=1, item_core=1, domain="generic",
                      thresholds=ThresholdConfig(rule="fixed", item_head_min=2,
                                                 user_long_min=2), **changes)


def test_folder_contents_and_splits(raw, tmp_path):
    dataset = prepare_from_raw(raw, config(), tmp_path / "data")
    assert sorted(p.name for p in dataset.path.iterdir()) == [
        "interactions.parquet", "items.parquet", "manifest.json", "prompts.jsonl",
        "stats.json", "users.parquet"]
    # ids: a=1, b=2, c=3, d=4, e=5 (first met along u1's then u2's sequence)
    assert [s.tolist() for s in dataset.sequences] == [[1, 2, 3, 4], [1, 2, 5, 1], [2, 1, 3]]
    assert [s.tolist() for s in dataset.train_sequences] == [[1, 2], [1, 2], [2]]
    assert dataset.valid_targets.tolist() == [3, 5, 1]
    assert dataset.test_targets.tolist() == [4, 1, 3]
    assert [h.tolist() for h in dataset.history("test")] == [[1, 2, 3], [1, 2, 5], [2, 1]]
    # popularity counts training interactions only: d and e are never trained on
    assert dataset.item_popularity.tolist() == [0, 2, 3, 0, 0, 0]
    assert dataset.is_head_item(np.array([1, 2, 3])).tolist() == [True, True, False]
    assert dataset.is_long_user().tolist() == [True, True, False]
    assert dataset.prompts[0] == "The item has the following attributes: \n title is A"
    assert dataset.prompts[3].endswith("attributes are unknown")


def test_stats_by_hand(raw, tmp_path):
    stats = prepare_from_raw(raw, config(), tmp_path / "data").stats
    assert stats["raw"] == {"users": 3, "items": 5, "interactions": 11}
    assert stats["filtered"] == {"users": 3, "items": 5, "interactions": 11,
                                 "density": round(11 / 15, 6)}
    assert stats["sequence_length"]["q50"] == 4.0 and stats["sequence_length"]["q00"] == 3.0
    assert stats["item_popularity"]["items_without_training_interactions"] == 3
    assert stats["item_popularity"]["bins"] == {"<5": 5, "5-9": 0, "10-19": 0, "20-39": 0,
                                                ">=40": 0}
    assert stats["thresholds"] == {"rule": "fixed", "item_head_min": 2, "user_long_min": 2,
                                   "head_items": 2, "tail_items": 3, "long_users": 2,
                                   "short_users": 1, "tail_test_targets": 2}
    assert stats["items_without_attributes"] == 2


def test_manifest_records_config_sources_and_hashes(raw, tmp_path):
    dataset = prepare_from_raw(raw, config(), tmp_path / "data", seed=7)
    manifest = dataset.manifest
    assert manifest["kind"] == "prepared-dataset" and manifest["seed"] == 7
    assert manifest["config"]["user_core"] == 1
    assert set(manifest["files"]) == {"interactions.parquet", "items.parquet", "users.parquet",
                                      "prompts.jsonl", "stats.json"}
    again = prepare_from_raw(raw, config(), tmp_path / "again", seed=7)
    assert again.fingerprint == dataset.fingerprint


def test_a_crash_leaves_the_previous_folder(raw, tmp_path, monkeypatch):
    out = tmp_path / "data"
    prepare_from_raw(raw, config(), out)
    before = (out / "stats.json").read_bytes()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(prepare_module, "write_json", explode)
    with pytest.raises(OSError, match="disk full"):
        prepare_from_raw(raw, config(dedupe=True), out)
    assert (out / "stats.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_incomplete_folder_is_refused(raw, tmp_path):
    dataset = prepare_from_raw(raw, config(), tmp_path / "data")
    (dataset.path / "prompts.jsonl").unlink()
    with pytest.raises(FileNotFoundError, match=r"not a complete prepared dataset, "
                                                r"missing \['prompts.jsonl'\]"):
        PreparedDataset.load(dataset.path)


def test_foreign_folder_is_refused(raw, tmp_path):
    dataset = prepare_from_raw(raw, config(), tmp_path / "data")
    manifest = json.loads((dataset.path / "manifest.json").read_text())
    manifest["kind"] = "srs-run"
    (dataset.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="kind is 'srs-run', expected 'prepared-dataset'"):
        PreparedDataset.load(dataset.path)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMEMB_CACHE", str(tmp_path / "cache"))


def test_default_dataset_counts_and_reuse(cache, tmp_path, capsys):
    data = load_config(CONFIG).data
    dataset = prepare(data, tmp_path / "ml")
    assert dataset.stats["raw"] == {"users": 943, "items": 1682, "interactions": 100_000}
    assert (dataset.num_users, dataset.num_items) == (943, 1682)
    assert dataset.thresholds.item_head_min == 98  # 20 % most popular, training counts
    assert dataset.stats["thresholds"]["tail_test_targets"] == 415
    toy_story = dataset.prompts[_toy_story(dataset) - 1]
    assert toy_story.endswith("title is Toy Story; year is 1995; "
                              "genres is Animation, Children's, Comedy")
    capsys.readouterr()
    prepare(data, tmp_path / "ml")
    assert "up to date" in capsys.readouterr().out


def _toy_story(dataset):
    items = pd.read_parquet(dataset.path / "items.parquet")
    return int(items.loc[items["raw_item"] == "1", "item_id"].iloc[0])


def test_cli_prepare_prints_summary(cache, tmp_path, capsys):
    assert main(["prepare", "--config", str(CONFIG), "--out", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "users" in out and "943" in out and "100,000" in out


def test_cli_needs_a_source(capsys):
    assert main(["prepare", "--format", "generic"]) == 2
    assert "give --config, or --format and --source" in capsys.readouterr().err


def test_cli_prepares_the_movielens_latest_layout_with_tags(tmp_path, capsys):
    raw = tmp_path / "ml-latest-small"
    raw.mkdir()
    (raw / "movies.csv").write_text(
        'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n'
        '2,"Usual Suspects, The (1995)",Crime|Thriller\n3,Heat (1995),Action\n')
    ratings = ["userId,movieId,rating,timestamp"]
    for user in (1, 2, 3):
        ratings += [f"{user},{movie},4.0,{1000 * user + movie}" for movie in (1, 2, 3)]
    (raw / "ratings.csv").write_text("\n".join(ratings) + "\n")
    (raw / "tags.csv").write_text("userId,movieId,tag,timestamp\n1,2,twist ending,5\n"
                                  "2,2,twist ending,6\n2,2,crime,7\n")
    out = tmp_path / "prepared"
    assert main(["prepare", "--format", "movielens", "--source", str(raw), "--out", str(out),
                 "--user-core", "1", "--item-core", "1"]) == 0
    dataset = PreparedDataset.load(out)
    assert dataset.stats["raw"] == {"users": 3, "items": 3, "interactions": 9}
    suspects = next(p for p in dataset.prompts if "Usual Suspects" in p)
    assert suspects == ("The movie has the following attributes: \n title is The Usual Suspects; "
                        "year is 1995; genres is Crime, Thriller; tags is twist ending, crime")
