"""Verdicts, inline blocks, notebook run times, and ``llmemb report`` on several documents.

The records here are written by hand: a ``comparisons.json`` with chosen intervals and
notebooks with chosen metadata, so every expected line is known without the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmemb_utils.cli import main
from llmemb_utils.evidence.notebook_times import duration, runtimes_view
from llmemb_utils.evidence.render import markdown, rendered, verdict


def comparison(ratio: float | None, ratio_ci95: list[float] | None, diff_ci95: list[float],
               group: str = "overall", backbone: str = "sasrec",
               seeds: tuple[int, ...] = (42,)) -> dict:
    return {"backbone": backbone, "model": "llmemb", "baseline": "id", "protocol": "full",
            "group": group, "metric": "NDCG@10", "ratio": ratio, "ratio_ci95": ratio_ci95,
            "diff": 0.0, "diff_ci95": diff_ci95, "seeds": seeds,
            "excludes_no_difference": diff_ci95[0] > 0 or diff_ci95[1] < 0}


@pytest.fixture
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "results" / "exp"
    (folder / "runs").mkdir(parents=True)
    rows = [comparison(0.68, [0.58, 0.79], [-0.04, -0.02]),
            comparison(1.3, [0.61, 2.68], [-0.01, 0.02], group="item_tail"),
            comparison(1.07, [1.002, 1.18], [0.0001, 0.01], backbone="gru4rec",
                       seeds=(42, 43, 44))]
    (folder / "comparisons.json").write_text(json.dumps(rows))
    return tmp_path / "results"


@pytest.mark.parametrize(("ratio_ci95", "diff_ci95", "word"), [
    ([1.01, 1.2], [0.001, 0.02], "better"),
    ([0.5, 0.99], [-0.02, -0.001], "worse"),
    ([0.5, 1.0], [-0.02, 0.0], "tie"),  # an interval that reaches 1 contains it
    ([1.0, 1.4], [0.0, 0.02], "tie"),
    ([0.8, 1.3], [-0.01, 0.01], "tie"),
    (None, [0.001, 0.02], "better"),  # baseline mean 0: the difference decides
    (None, [-0.01, 0.02], "tie"),
])
def test_verdict_is_a_tie_whenever_the_interval_contains_no_difference(ratio_ci95, diff_ci95,
                                                                       word):
    assert verdict(comparison(None if ratio_ci95 is None else 1.0, ratio_ci95,
                              diff_ci95)) == word


def test_verdict_is_a_tie_when_the_interval_clears_0_by_less_than_its_monte_carlo_error():
    row = comparison(1.05, [1.001, 1.11], [0.0001, 0.01])
    row["excludes_no_difference"] = False  # as comparisons.json records it for such a row
    assert verdict(row) == "tie"


def test_verdict_view_picks_the_comparison_its_options_name(results: Path):
    assert markdown("exp/verdict", results) == "**worse**, 0.68x [0.58, 0.79], 1 seed"
    assert markdown("exp/verdict", results, group="item_tail") == (
        "**tie**, 1.30x [0.61, 2.68], 1 seed")
    assert markdown("exp/verdict", results, backbone="gru4rec") == (
        "**better**, 1.07x [1.00, 1.18], 3 seeds")
    with pytest.raises(ValueError, match="no comparison .*'baseline': 'llmemb'"):
        markdown("exp/verdict", results, baseline="llmemb")


def test_comparison_view_keeps_only_the_baselines_it_names(results: Path):
    rows = json.loads((results / "exp" / "comparisons.json").read_text())
    raw = dict(rows[0], model="llmemb-x", baseline="llmemb-no-scft", ratio=1.5,
               ratio_ci95=[1.2, 1.9], diff_ci95=[0.01, 0.03], excludes_no_difference=True)
    (results / "exp" / "comparisons.json").write_text(json.dumps([*rows, raw]))
    every = markdown("exp/comparison", results, groups="overall").splitlines()
    assert [line.split(" | ")[1] for line in every[2:5]] == [
        "llmemb vs id", "llmemb-x vs llmemb-no-scft", "llmemb vs id"]
    named = markdown("exp/comparison", results, groups="overall", baselines="llmemb-no-scft")
    assert named.splitlines()[2] == (
        "| sasrec | llmemb-x vs llmemb-no-scft | 42 | 1.50x [1.20, 1.90] * |")
    assert "llmemb vs id" not in named


def test_a_block_on_one_line_renders_inline_and_a_table_block_must_not(results: Path):
    text = "| overall | <!-- results:exp/verdict --> old <!-- /results:exp/verdict --> | x |\n"
    assert rendered(text, results, "doc.md") == (
        "| overall | <!-- results:exp/verdict --> **worse**, 0.68x [0.58, 0.79], 1 seed "
        "<!-- /results:exp/verdict --> | x |\n")
    block = "<!-- results:exp/comparison --><!-- /results:exp/comparison -->\n"
    with pytest.raises(ValueError, match="doc.md:1: results:exp/comparison gives several lines"):
        rendered(block, results, "doc.md")


def notebook(title_cell: str, seconds: int | None) -> str:
    metadata = {} if seconds is None else {"llmemb": {"mode": "full", "seconds": seconds}}
    return json.dumps({"cells": [{"cell_type": "code", "source": ["# not a heading\n"]},
                                 {"cell_type": "markdown", "source": [title_cell, "\nText."]}],
                       "metadata": metadata})


def test_runtimes_view_lists_titles_and_recorded_times_in_order(tmp_path: Path):
    (tmp_path / "02_b.ipynb").write_text(notebook("# 02 · Second: the long one", 572))
    (tmp_path / "01_a.ipynb").write_text(notebook("# 01 · First", 5))
    (tmp_path / "scratch.ipynb").write_text(notebook("# Not numbered", None))
    table = runtimes_view(tmp_path, {}).splitlines()
    assert table[2:4] == ["| `01_a.ipynb` | First | 5 s |",
                          "| `02_b.ipynb` | Second: the long one | 9 min 32 s |"]
    assert "(`make notebooks`), 9 min 37 s in all;" in table[-1]
    assert (duration(59), duration(60), duration(3601)) == ("59 s", "1 min 00 s", "60 min 01 s")


def test_a_notebook_without_a_recorded_run_is_named(tmp_path: Path):
    (tmp_path / "01_a.ipynb").write_text(notebook("# 01 · First", None))
    with pytest.raises(ValueError, match=r"01_a.ipynb: no full-mode run recorded"):
        runtimes_view(tmp_path, {})


def test_report_renders_and_checks_several_documents_reading_the_nearest_results(
        results: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    # The hand-written comparisons have no rank files behind them: --check's verification of
    # the records (tests/test_evidence_verify.py) would refuse them, so only documents count.
    monkeypatch.setattr("llmemb_utils.evidence.commands.verify", lambda folders: 0)
    root = results.parent
    (root / "notebooks").mkdir()
    (root / "notebooks" / "01_a.ipynb").write_text(notebook("# 01 · First", 5))
    readme, page = root / "README.md", root / "docs" / "results.md"
    page.parent.mkdir()
    readme.write_text("<!-- results:notebooks/runtimes -->\n<!-- /results:notebooks/runtimes -->\n")
    page.write_text("Tail: <!-- results:exp/verdict group=item_tail -->"
                    "<!-- /results:exp/verdict -->.\n")
    assert main(["report", "--render", str(readme), str(page)]) == 0
    assert "| `01_a.ipynb` | First | 5 s |" in readme.read_text()
    assert page.read_text() == ("Tail: <!-- results:exp/verdict group=item_tail --> **tie**, "
                                "1.30x [0.61, 2.68], 1 seed <!-- /results:exp/verdict -->.\n")
    assert main(["report", "--check", str(readme), str(page)]) == 0

    page.write_text(page.read_text().replace("**tie**", "**better**"))
    capsys.readouterr()
    assert main(["report", "--check", str(readme), str(page)]) == 1
    captured = capsys.readouterr()
    assert f"{readme}: no results block differs" in captured.out
    assert f"{page}:1: results:exp/verdict differs from the records" in captured.err


def test_scft_runs_view_lists_each_scft_run_once_with_its_cost(tmp_path: Path):
    runs = tmp_path / "results" / "exp" / "runs"
    scft = {"lora_layers": 2, "steps": 200, "seconds": 4856.5, "cpu_seconds": 4002.1}
    for name, model, seed, record_scft in [("id-sasrec-seed42", "id", 42, None),
                                           ("llmemb-sasrec-seed42", "llmemb", 42, scft),
                                           ("llmemb-sasrec-seed43", "llmemb", 43, scft)]:
        (runs / name).mkdir(parents=True)
        (runs / name / "run.json").write_text(json.dumps(
            {"backbone": "sasrec", "model": model, "seed": seed, "scft": record_scft}))
    assert markdown("exp/scft_runs", tmp_path / "results") == (
        "| LoRA layers | steps | wall s | CPU s |\n|---|---|---|---|\n| 2 | 200 | 4856 | 4002 |")


def test_curves_view_averages_each_epoch_over_the_seeds_that_reached_it(tmp_path: Path):
    runs = tmp_path / "results" / "exp" / "runs"
    curves = {("id", 42): [0.01] * 10, ("id", 43): [0.03] * 5,  # seed 43 stopped at epoch 5
              ("llmemb", 42): [0.02 * e for e in range(1, 21)]}
    for (model, seed), curve in curves.items():
        (runs / f"{model}-sasrec-seed{seed}").mkdir(parents=True)
        (runs / f"{model}-sasrec-seed{seed}" / "run.json").write_text(json.dumps(
            {"backbone": "sasrec", "model": model, "seed": seed, "validation_curve": curve}))
    (runs / "old-run").mkdir()  # a record written before curves were kept: left out
    (runs / "old-run" / "run.json").write_text(json.dumps(
        {"backbone": "sasrec", "model": "id-plus-llm", "seed": 42}))
    rows = markdown("exp/curves", tmp_path / "results").splitlines()
    assert rows[2] == ("| sasrec | ID (2) | 0.0200 | 0.0200 | 0.0100 (1) | stopped | stopped "
                       "| stopped | stopped |")
    assert rows[3] == ("| sasrec | LLMEmb (1) | 0.0200 | 0.1000 | 0.2000 | 0.4000 | stopped "
                       "| stopped | stopped |")
    assert len(rows) == 6  # header, rule, two models, blank, note


def test_beyond_view_averages_each_measure_its_seeds_all_recorded(tmp_path: Path):
    runs = tmp_path / "results" / "exp" / "runs"
    measured = {42: {"coverage@10": 0.5, "tail_share@10": 0.2, "intra_list_diversity@10": 0.7,
                     "novelty@10": 10.0},
                43: {"coverage@10": 0.7, "tail_share@10": 0.4, "novelty@10": 12.0,
                     "omitted": {"intra_list_diversity@10": "no raw table"}}}
    for seed, beyond in measured.items():
        (runs / f"id-sasrec-seed{seed}").mkdir(parents=True)
        (runs / f"id-sasrec-seed{seed}" / "run.json").write_text(json.dumps(
            {"backbone": "sasrec", "model": "id", "seed": seed}))
        (runs / f"id-sasrec-seed{seed}" / "metrics.json").write_text(json.dumps(
            {"config": {"srs": {"backbone": "sasrec"}}, "inputs": {"encoder": {"name": "id"}},
             "overall": {"HR@10": 0.1, "NDCG@10": 0.01 * (seed - 41)}, "beyond_accuracy": beyond}))
    (runs.parent / "comparisons.json").write_text("[]")
    lines = markdown("exp/beyond", tmp_path / "results").splitlines()
    # diversity: one seed could not measure it, so the model has none, and no model has it
    assert lines[0] == ("| backbone | model (seeds) | HR@10 | NDCG@10 | coverage@10 | "
                        "tail_share@10 | novelty@10 |")
    assert lines[2] == "| sasrec | ID (2) | 0.100 | 0.015 | 0.600 | 0.300 | 11.000 |"
    assert lines[-1].endswith("intra_list_diversity@10 left out by 1 run(s): no raw table.")


def _comparison(backbone: str, model: str, baseline: str, metric: str, ratio: float,
                low: float, high: float) -> dict:
    return {"backbone": backbone, "model": model, "baseline": baseline, "protocol": "full",
            "group": "overall", "metric": metric, "seeds": [42, 43], "users": 10,
            "ratio": ratio, "ratio_ci95": [low, high], "diff": ratio - 1.0,
            "diff_ci95": [low - 1.0, high - 1.0], "excludes_no_difference": low > 1.0}


def test_beyond_view_shows_the_paired_ratio_to_id_where_the_records_compare_the_measures(
        tmp_path: Path) -> None:
    runs = tmp_path / "results" / "exp" / "runs"
    for backbone in ("sasrec", "gru4rec"):
        for model in ("id", "llmemb"):
            run = runs / f"{model}-{backbone}-seed42"
            run.mkdir(parents=True)
            (run / "run.json").write_text(json.dumps(
                {"backbone": backbone, "model": model, "seed": 42}))
            (run / "metrics.json").write_text(json.dumps(
                {"config": {"srs": {"backbone": backbone}}, "inputs": {"encoder": {"name": model}},
                 "overall": {"HR@10": 0.1, "NDCG@10": 0.05},
                 "beyond_accuracy": {"coverage@10": 0.5, "tail_share@10": 0.2,
                                     "novelty@10": 10.0}}))
    rows = [_comparison("sasrec", "llmemb", "id", "HR@10", 0.9, 0.8, 1.01),
            _comparison("sasrec", "llmemb", "id", "coverage@10", 1.5, 1.2, 1.8),
            _comparison("sasrec", "llmemb", "id", "tail_share@10", 2.25, 2.0, 2.5),
            _comparison("sasrec", "llmemb", "llmemb-no-scft", "novelty@10", 1.1, 1.05, 1.2),
            _comparison("gru4rec", "llmemb", "id", "NDCG@10", 1.2, 1.1, 1.3)]  # accuracy only
    (runs.parent / "comparisons.json").write_text(json.dumps(rows))
    lines = markdown("exp/beyond", tmp_path / "results").splitlines()
    assert lines[0] == ("| backbone | model (seeds) | HR@10 | NDCG@10 | coverage@10 | "
                        "tail_share@10 | novelty@10 |")
    assert lines[2:7] == [
        "| sasrec | ID (1) | 0.100 | 0.050 | 0.500 | 0.200 | 10.000 |",
        "| sasrec | LLMEmb (1) | 0.100 | 0.050 | 0.500 | 0.200 | 10.000 |",
        "| sasrec | LLMEmb / ID (seeds 42, 43) | 0.90x [0.80, 1.01] |  | 1.50x | "
        "2.25x [2.00, 2.50] * |  |",  # coverage: the ratio alone
        "| gru4rec | ID (1) | 0.100 | 0.050 | 0.500 | 0.200 | 10.000 |",
        "| gru4rec | LLMEmb (1) | 0.100 | 0.050 | 0.500 | 0.200 | 10.000 |"]
    assert "Model / ID: ratio of the means over the seeds both have" in lines[-1]
    assert "coverage@10 shows the ratio alone" in lines[-1]
