"""The beyond-accuracy table read from hand-written metrics.json files: means over seeds per
model, runs without the section named, omitted measures explained."""

from __future__ import annotations

import json
import math

import pytest

from llmemb_utils.eval.beyond_results import beyond_accuracy_table

REASON = "no raw LLM item table to measure it with"


def _run(folder, backbone, model, seed, ndcg, beyond=None):
    document = {"config": {"srs": {"backbone": backbone}, "seed": seed},
                "inputs": {"encoder": {"name": model}},
                "overall": {"HR@10": 2 * ndcg, "NDCG@10": ndcg}}
    if beyond is not None:
        document["beyond_accuracy"] = beyond
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps(document))
    return folder


def test_means_over_seeds_and_runs_without_the_section(tmp_path):
    runs = [
        _run(tmp_path / "id-42", "sasrec", "id", 42, 0.10,
             {"coverage@10": 0.2, "tail_share@10": 0.1, "novelty@10": 8.0, "k": 10,
              "omitted": {"intra_list_diversity@10": REASON}}),
        _run(tmp_path / "id-43", "sasrec", "id", 43, 0.20,
             {"coverage@10": 0.4, "tail_share@10": 0.3, "novelty@10": 9.0, "k": 10,
              "omitted": {"intra_list_diversity@10": REASON}}),
        _run(tmp_path / "llmemb-42", "sasrec", "llmemb", 42, 0.05,
             {"coverage@10": 0.9, "tail_share@10": 0.6, "novelty@10": 11.0, "k": 10,
              "omitted": {"intra_list_diversity@10": REASON}}),
        _run(tmp_path / "old-run", "sasrec", "llmemb-no-align", 42, 0.07)]
    result = beyond_accuracy_table(runs)
    table = result.table
    assert list(table.index) == [("sasrec", "id"), ("sasrec", "llmemb")]
    assert list(table.columns) == ["seeds", "HR@10", "NDCG@10", "coverage@10", "tail_share@10",
                                   "novelty@10"]  # diversity recorded by no run: left out
    assert table.loc[("sasrec", "id")].tolist() == pytest.approx([2, 0.3, 0.15, 0.3, 0.2, 8.5])
    assert table.loc[("sasrec", "llmemb")].tolist() == pytest.approx(
        [1, 0.1, 0.05, 0.9, 0.6, 11.0])
    assert result.without == ["old-run"]
    assert result.omitted == {"intra_list_diversity@10": ["id-42", "id-43", "llmemb-42"]}
    assert result.reasons == {"intra_list_diversity@10": REASON}


def test_a_measure_missing_from_one_seed_is_missing_for_the_model(tmp_path):
    runs = [_run(tmp_path / "a", "gru4rec", "id", 42, 0.1,
                 {"coverage@10": 0.5, "intra_list_diversity@10": 0.25}),
            _run(tmp_path / "b", "gru4rec", "llmemb", 42, 0.1, {"coverage@10": 0.7}),
            _run(tmp_path / "c", "gru4rec", "llmemb", 43, 0.1,
                 {"coverage@10": 0.9, "intra_list_diversity@10": 0.5})]
    table = beyond_accuracy_table(runs).table
    assert table.loc[("gru4rec", "id"), "intra_list_diversity@10"] == pytest.approx(0.25)
    assert math.isnan(table.loc[("gru4rec", "llmemb"), "intra_list_diversity@10"])  # not 0.5
    assert table.loc[("gru4rec", "llmemb"), "coverage@10"] == pytest.approx(0.8)


def test_an_unfinished_run_is_an_error_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty/metrics.json"):
        beyond_accuracy_table([tmp_path / "empty"])
