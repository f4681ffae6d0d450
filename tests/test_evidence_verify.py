"""``llmemb report --verify``: every metrics file and comparison of a copy of committed records
recomputed from the rank files; a tampered metric, ratio, interval end, seed list or
bootstrap seed is refused with its file and field named, the untouched copy passes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llmemb_utils.cli import main
from llmemb_utils.eval.metrics import expected_metrics
from llmemb_utils.evidence.records import compare_experiment
from llmemb_utils.evidence.verify import verify_experiment
from llmemb_utils.io import read_json, write_json
from llmemb_utils.layout import repo_root

SOURCE = repo_root() / "results" / "ml100k_smollm2" / "runs"
RUNS = ("id-sasrec-seed42", "id-sasrec-seed43", "llmemb-sasrec-seed42", "llmemb-sasrec-seed43")
OVERALL = ("sasrec", "llmemb", "id", "full", "overall", "NDCG@10")


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    """Four committed SASRec runs (two seeds of ID and LLMEmb) and their comparisons, drawn
    with few replicates so that recomputing them is quick."""
    folder = tmp_path / "results" / "tiny"
    for name in RUNS:
        shutil.copytree(SOURCE / name, folder / "runs" / name)
    (folder / "README.md").write_text("Copied from the committed records.\n")
    compare_experiment(folder, "test", replicates=300)
    return folder


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    data = read_json(path)
    change(data)
    write_json(path, data)


def _overall_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return next(row for row in rows if tuple(row[key] for key in (
        "backbone", "model", "baseline", "protocol", "group", "metric")) == OVERALL)


def test_untouched_records_agree_with_their_rank_files(experiment: Path) -> None:
    assert verify_experiment(experiment) == []


def test_the_recorded_metrics_are_the_mean_of_what_the_ranks_give_user_by_user() -> None:
    """What verify recomputes, by hand: expected NDCG@10 of every user, averaged."""
    with np.load(SOURCE / RUNS[0] / "ranks.npz") as ranks:
        greater, ties = ranks["greater"], ranks["ties"]
    ndcg = [np.mean([1 / np.log2(rank + 2) if rank < 10 else 0.0
                     for rank in range(g, g + t + 1)]) for g, t in zip(greater, ties, strict=True)]
    recorded = read_json(SOURCE / RUNS[0] / "metrics.json")["overall"]["NDCG@10"]
    assert recorded == pytest.approx(np.mean(ndcg), rel=1e-12)
    assert expected_metrics(greater, ties, ks=(10,))["NDCG@10"].mean() == pytest.approx(
        np.mean(ndcg), rel=1e-12)


def test_a_tampered_metric_is_named_with_its_file_and_field(experiment: Path) -> None:
    metrics = experiment / "runs" / RUNS[2] / "metrics_sampled.json"
    recorded = read_json(metrics)["overall"]["NDCG@10"]
    _edit(metrics, lambda m: m["overall"].update({"NDCG@10": recorded + 0.001}))
    _edit(experiment / "runs" / RUNS[1] / "metrics.json",
          lambda m: m["counts"].update({"item_tail": m["counts"]["item_tail"] + 1}))
    tail = read_json(SOURCE / RUNS[1] / "metrics.json")["counts"]["item_tail"]
    assert sorted(verify_experiment(experiment)) == [
        f"{experiment / 'runs' / RUNS[1] / 'metrics.json'}: counts.item_tail recorded "
        f"{tail + 1}, ranks give {tail}",
        f"{metrics}: overall.NDCG@10 recorded {recorded + 0.001:.12g}, "
        f"ranks give {recorded:.12g}"]


@pytest.mark.parametrize(("field", "change"), [
    ("ratio", lambda row: row.update({"ratio": row["ratio"] * 1.001})),
    ("diff_ci95", lambda row: row["diff_ci95"].__setitem__(0, row["diff_ci95"][0] - 1e-5)),
    ("ratio_ci95_mc_error", lambda row: row["ratio_ci95_mc_error"].reverse()),
    ("excludes_no_difference",
     lambda row: row.update({"excludes_no_difference": not row["excludes_no_difference"]})),
])
def test_a_tampered_comparison_is_named_with_its_row_and_field(
        experiment: Path, field: str, change: Callable[[dict[str, Any]], None]) -> None:
    comparisons = experiment / "comparisons.json"
    _edit(comparisons, lambda rows: change(_overall_row(rows)))
    (problem,) = verify_experiment(experiment)
    assert problem.startswith(f"{comparisons}: sasrec llmemb vs id, full overall NDCG@10: "
                              f"{field} recorded ")


def test_a_seed_list_is_recomputed_from_the_runs_paired(experiment: Path) -> None:
    comparisons = experiment / "comparisons.json"
    _edit(comparisons, lambda rows: _overall_row(rows).update({"seeds": [42, 44]}))
    assert verify_experiment(experiment) == [
        f"{comparisons}: sasrec llmemb vs id, full overall NDCG@10: seeds recorded [42, 44], "
        "ranks give [42, 43]"]


def test_another_bootstrap_seed_gives_other_intervals_than_recorded(experiment: Path) -> None:
    comparisons = experiment / "comparisons.json"
    _edit(comparisons, lambda rows: _overall_row(rows).update({"bootstrap_seed": 1}))
    fields = {problem.split(": ")[-1].split(" recorded")[0]
              for problem in verify_experiment(experiment)}
    assert {"diff_ci95", "ratio_ci95"} <= fields
    assert "diff" not in fields and "ratio" not in fields  # point estimates draw nothing


def test_a_missing_or_invented_comparison_is_named(experiment: Path) -> None:
    comparisons = experiment / "comparisons.json"
    rows = read_json(comparisons)
    invented = {**rows[1], "baseline": "llmemb-no-scft"}
    write_json(comparisons, [row for row in rows if row is not _overall_row(rows)] + [invented])
    assert sorted(verify_experiment(experiment)) == sorted([
        f"{comparisons}: sasrec llmemb vs id, full overall NDCG@10: the rank files give it, "
        "comparisons.json lacks it",
        f"{comparisons}: sasrec llmemb vs llmemb-no-scft, {invented['protocol']} "
        f"{invented['group']} {invented['metric']}: recorded, but the rank files give no such "
        "comparison"])


def test_check_fails_on_a_tampered_record_and_verify_names_it(
        experiment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = experiment.parent.parent / "README.md"
    document.write_text("# Results\n\nNo block.\n")
    assert main(["report", "--check", str(document)]) == 0
    assert main(["report", "--verify", str(experiment)]) == 0
    _edit(experiment / "comparisons.json",
          lambda rows: _overall_row(rows).update({"diff": _overall_row(rows)["diff"] + 1e-4}))
    capsys.readouterr()
    assert main(["report", "--check", str(document)]) == 1
    assert "overall NDCG@10: diff recorded" in capsys.readouterr().err
    assert main(["report", "--verify", str(experiment)]) == 1

