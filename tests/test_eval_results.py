"""Run metrics as a tidy table: loading, mean ± std over seeds, ratios and Markdown."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from llmemb_utils.eval.results import (
    format_cells,
    load_results,
    markdown_table,
    protocol_name,
    protocol_table,
    ratio_to_id,
    report_runs,
    summarize,
    users_per_bin,
)
from llmemb_utils.io import write_json

GROUPS = ("item_tail", "item_head", "user_short", "user_long")


def write_run(folder: Path, backbone: str, encoder: str, seed: int, ndcg: float,
              sampled: float | None = None) -> Path:
    """A run folder with metrics.json (and metrics_sampled.json) holding ``ndcg`` everywhere
    except the tail group (ndcg / 2) and an empty popularity bin."""
    def document(value: float, candidates: str) -> dict:
        section = {"HR@10": 2 * value, "NDCG@10": value}
        groups = {g: section for g in GROUPS} | {"item_tail": {"HR@10": value,
                                                                "NDCG@10": value / 2}}
        groups["item_pop_bins"] = {"<5": {"HR@10": None, "NDCG@10": None}, ">=40": section}
        return {"protocol": {"candidates": candidates, "exclude_history": True,
                             "num_negatives": 100 if candidates == "sampled" else None},
                "overall": section, "groups": groups,
                "counts": {"users": 10, "item_tail": 4, "item_head": 6, "user_short": 8,
                           "user_long": 2, "item_pop_bins": {"<5": 0, ">=40": 10}},
                "inputs": {"encoder": {"name": encoder}},
                "config": {"seed": seed, "srs": {"backbone": backbone}}}
    write_json(folder / "metrics.json", document(ndcg, "full"))
    if sampled is not None:
        write_json(folder / "metrics_sampled.json", document(sampled, "sampled"))
    return folder


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    return [write_run(tmp_path / "a", "sasrec", "id", 42, 0.04, 0.4),
            write_run(tmp_path / "b", "sasrec", "id", 43, 0.02, 0.2),
            write_run(tmp_path / "c", "sasrec", "llmemb", 42, 0.03, 0.45)]


def test_protocol_names() -> None:
    assert protocol_name({"candidates": "full", "exclude_history": True}) == "full"
    assert protocol_name({"candidates": "full", "exclude_history": False}) == \
        "full, with history"
    assert protocol_name({"candidates": "sampled", "exclude_history": True}) == "sampled"


def test_load_results_has_one_row_per_run_protocol_group_and_metric(runs) -> None:
    results = load_results(runs)
    # 2 metrics x (overall + 4 groups + 2 bins) x (3 full + 3 sampled files)
    assert len(results) == 2 * 7 * 6
    row = results[(results["encoder"] == "llmemb") & (results["protocol"] == "full")
                  & (results["group"] == "item_tail") & (results["metric"] == "NDCG@10")]
    assert row[["backbone", "seed", "value", "users"]].values.tolist() == \
        [["sasrec", 42, 0.015, 4]]
    bins = results[results["group"] == "item_pop_bins"]
    assert set(bins["bin"]) == {"<5", ">=40"} and results["bin"].isna().sum() == 2 * 5 * 6


def test_load_results_names_an_unfinished_run(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty: no metrics"):
        load_results([tmp_path / "empty"])


def test_summarize_takes_mean_sample_std_and_drops_empty_groups(runs) -> None:
    summary = summarize(load_results(runs))
    assert users_per_bin(summary, "item_pop_bins") == {">=40": 10}  # <5 has no test user
    summary = summary.set_index(["encoder", "protocol", "group", "bin", "metric"])
    ids = summary.loc[("id", "full", "overall", None, "NDCG@10")]
    assert (ids["mean"], ids["std"], ids["seeds"], ids["users"]) == \
        (pytest.approx(0.03), pytest.approx(0.0141421356), 2, 10)
    assert summary.loc[("llmemb", "full", "overall", None, "NDCG@10"), "std"] == 0.0
    assert ("id", "full", "item_pop_bins", "<5", "NDCG@10") not in summary.index


def test_format_cells_and_markdown(runs) -> None:
    summary = summarize(load_results(runs))
    cells = format_cells(summary[summary["protocol"] == "full"], groups=("overall", "item_tail"),
                         metrics=("NDCG@10",))
    assert list(cells.columns) == [("overall", "NDCG@10"), ("item_tail", "NDCG@10")]
    assert cells.loc[("sasrec", "id", "full", 2)].tolist() == ["0.0300 ± 0.0141",
                                                                "0.0150 ± 0.0071"]
    lines = markdown_table(cells).splitlines()
    assert lines[0] == "| model, protocol (seeds) | overall NDCG@10 | item_tail NDCG@10 |"
    assert lines[2] == "| id-sasrec, full (2) | 0.0300 ± 0.0141 | 0.0150 ± 0.0071 |"


def test_ratio_to_id_divides_by_the_same_backbones_id_mean(runs) -> None:
    ratios = ratio_to_id(summarize(load_results(runs)), "overall")
    assert ratios.to_dict() == {("sasrec", "llmemb"): pytest.approx(1.0)}
    sampled = ratio_to_id(summarize(load_results(runs)), "overall", protocol="sampled")
    assert sampled.to_dict() == {("sasrec", "llmemb"): pytest.approx(1.5)}
    assert isinstance(ratios, pd.Series)


def test_ratio_to_an_id_mean_of_zero_is_inf_without_warnings(tmp_path: Path) -> None:
    import warnings

    runs = [write_run(tmp_path / "a", "sasrec", "id", 42, 0.0),
            write_run(tmp_path / "b", "sasrec", "llmemb", 42, 0.01)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ratios = ratio_to_id(summarize(load_results(runs)), "item_tail")
    assert ratios.to_dict() == {("sasrec", "llmemb"): float("inf")}


def test_protocol_table_ratios_and_ranks_under_both_protocols(tmp_path: Path) -> None:
    runs = [write_run(tmp_path / "a", "sasrec", "id", 42, 0.04, sampled=0.40),
            write_run(tmp_path / "b", "gru4rec", "id", 42, 0.02, sampled=0.50)]
    table = protocol_table(summarize(load_results(runs)))
    assert table.index.tolist() == [("sasrec", "id"), ("gru4rec", "id")]  # best full first
    assert table["sampled / full"].tolist() == pytest.approx([10.0, 25.0])
    assert table["rank (full)"].tolist() == [1, 2]
    assert table["rank (sampled)"].tolist() == [2, 1]  # the sampled protocol reorders them


def test_report_runs_has_one_row_per_encoder_backbone_and_protocol(runs) -> None:
    lines = report_runs(runs).splitlines()
    assert lines[0].startswith("| model, protocol (seeds) | overall HR@10 | overall NDCG@10 | "
                               "item_tail HR@10")
    rows = [line.split(" | ")[:3] for line in lines[2:]]
    assert rows == [["| id-sasrec, full (2)", "0.0600 ± 0.0283", "0.0300 ± 0.0141"],
                    ["| id-sasrec, sampled (2)", "0.6000 ± 0.2828", "0.3000 ± 0.1414"],
                    ["| llmemb-sasrec, full (1)", "0.0600 ± 0.0000", "0.0300 ± 0.0000"],
                    ["| llmemb-sasrec, sampled (1)", "0.9000 ± 0.0000", "0.4500 ± 0.0000"]]
