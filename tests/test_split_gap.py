"""Validation against test: which users' held-out items are tied, and per-user scores that
reproduce a run's own metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llmemb_utils.config import load_config
from llmemb_utils.eval.split_gap import (
    held_out_popularity,
    per_user_ndcg,
    split_gap,
    tied_held_out_items,
)
from llmemb_utils.evidence.environment import environment
from llmemb_utils.evidence.records import write_experiment
from llmemb_utils.evidence.render import markdown
from llmemb_utils.evidence.split_gap_record import measure_split_gap
from llmemb_utils.io import read_json
from llmemb_utils.srs.run import train
from llmemb_utils.srs.synthetic import prepare_synthetic, raw_from_sequences, successor_data

pytestmark = pytest.mark.usefixtures("single_thread")


def test_tied_users_are_those_whose_last_two_items_share_a_timestamp(tmp_path: Path) -> None:
    raw = raw_from_sequences([[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]], num_items=8)
    stamps = raw.interactions["timestamp"].to_numpy().copy()
    stamps[[2, 3]] = 100  # user u0: validation and test item at the same second
    stamps[[9, 10, 11]] = 200  # user u2: the last three at one second
    raw.interactions["timestamp"] = stamps
    dataset = prepare_synthetic(raw, tmp_path / "data")
    assert tied_held_out_items(dataset).tolist() == [True, False, True]
    # training items 1 2 | 2 3 | 3 4: item 1 once, 2 twice, 3 twice, 4 once, 5 and 6 never
    popularity = held_out_popularity(dataset, tied_held_out_items(dataset))
    assert popularity.loc["tied held-out items (2)"].tolist() == [1.0, 0.5]  # 3, 5 / 4, 6
    assert popularity.loc["test item later (1)"].tolist() == [1.0, 0.0]  # 4 / 5


def test_per_user_scores_average_to_the_runs_own_metrics(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Enough items and epochs that the test split holds hits for the ratio's interval (no
    # resample without one), trained as from a commit (the views mark uncommitted runs).
    dataset = prepare_synthetic(successor_data(num_users=120, num_items=110, length=8),
                                tmp_path / "data")
    config = load_config(None, seed=3, **{"srs.hidden": 16, "srs.blocks": 1,
                                          "srs.max_length": 8, "srs.epochs": 4,
                                          "srs.budget": "demo"})
    committed = {**environment(), "kit_modified": False}
    monkeypatch.setattr("llmemb_utils.srs.run.environment", lambda: committed)
    run = tmp_path / "run"
    train(config, dataset, run, "id", device="cpu")
    test = per_user_ndcg(run, dataset, "test")
    assert test.shape == (120,)
    assert test.mean() == pytest.approx(read_json(run / "metrics.json")["overall"]["NDCG@10"],
                                        abs=1e-12)
    best = read_json(run / "metrics.json")["training"]["best_epoch"]
    logged = read_json(run / "train_log.json")[best - 1]["valid"]["NDCG@10"]
    assert per_user_ndcg(run, dataset, "valid").mean() == pytest.approx(logged, abs=1e-6)
    table = split_gap({"id": [run, run]}, dataset)  # no ties in successor data: a group is empty
    everyone = table.loc["id", "all users (120)"]
    assert everyone["test"] == pytest.approx(test.mean())
    assert everyone["validation / test"] == pytest.approx(everyone["validation"] / test.mean())
    assert everyone["low"] <= everyone["validation / test"] <= everyone["high"]
    assert np.isnan(table.loc["id", ("tied held-out items (0)", "test")])
    record = tmp_path / "results" / "tiny"
    write_experiment(record, [run], "test")
    measured = read_json(measure_split_gap(record, "test"))
    alone = split_gap({"id-sasrec": [run]}, dataset).loc["id-sasrec", "all users (120)"]
    assert measured["models"]["id-sasrec"]["all users (120)"] == pytest.approx(
        alone.to_dict())
    assert measured["models"]["id-sasrec"]["tied held-out items (0)"]["test"] is None
    rows = markdown("tiny/split_gap", tmp_path / "results").splitlines()
    assert rows[2] == (f"| id-sasrec | {alone['validation']:.4f} / {alone['test']:.4f} = "
                       f"{alone['validation / test']:.2f} [{alone['low']:.2f}, "
                       f"{alone['high']:.2f}] | {rows[2].split(' | ')[2]} | no users |")
    write_experiment(record, [run], "test")  # rewritten: the measurement stays
    assert (record / "split_gap.json").is_file()
