"""SCFT's worth per recipe: the records' SCFT cost, the gain table, its view and figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmemb_utils import plots
from llmemb_utils.evidence.render import scft_gain_view
from llmemb_utils.evidence.scft_cost import scft_record
from llmemb_utils.evidence.scft_gain import chosen_recipe, raw_table_validation, scft_gain


def _record(model: str, layers: int, steps: int, recipe: str | None = None,
            cost: float | None = None, validation: float | None = None,
            seed: int = 42) -> dict[str, Any]:
    return {"model": model, "seed": seed,
            "settings": {"rat": {"scft_recipe": recipe} if recipe else {},
                         "scft": {"lora_layers": layers, "steps": steps}},
            "scft": None if cost is None else {"cpu_seconds": cost},
            **({} if validation is None else {"validation": {"NDCG@10": validation}})}


def _row(model: str, group: str, ratio: float, low: float, high: float, baseline="llmemb-no-scft",
         metric="NDCG@10", protocol="full") -> dict[str, Any]:
    return {"backbone": "sasrec", "model": model, "baseline": baseline, "group": group,
            "metric": metric, "protocol": protocol, "ratio": ratio, "ratio_ci95": [low, high],
            "excludes_no_difference": low > 1 or high < 1, "seeds": [42]}


class Records:
    """An experiment folder's two readers, without the files."""

    folder = Path("results/gain")

    def __init__(self, records: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
        self._records = {("sasrec", r["model"], r["seed"]): (Path(r["model"]), r)
                         for r in records}
        self._rows = rows

    def records(self) -> dict:
        return self._records

    def comparisons(self) -> list[dict[str, Any]]:
        return self._rows


@pytest.fixture
def experiment() -> Records:
    records = [_record("llmemb", 2, 200, cost=576.0, validation=0.08),
               _record("llmemb-scft-l4-s800", 4, 800, "scft-l4-s800", 2400.4, 0.10),
               _record("llmemb-scft-l4-s200", 4, 200, "scft-l4-s200", validation=0.09),
               _record("llmemb-id-plus-llm", 2, 200, validation=0.2),
               _record("llmemb-no-scft", 2, 200, validation=0.07),
               _record("llmemb-no-scft", 2, 200, validation=0.09, seed=43)]
    rows = [_row("llmemb", "overall", 1.10, 1.02, 1.20), _row("llmemb", "item_tail", 0.9, 0.7, 1.1),
            _row("llmemb", "item_head", 1.2, 1.1, 1.3),
            _row("llmemb-scft-l4-s800", "overall", 1.30, 1.10, 1.50),
            _row("llmemb-scft-l4-s800", "item_tail", 1.5, 1.2, 1.9),
            _row("llmemb-scft-l4-s200", "overall", 0.95, 0.85, 1.05),
            _row("llmemb-id-plus-llm", "overall", 2.0, 1.5, 2.5),  # not an SCFT recipe
            _row("llmemb", "overall", 0.7, 0.6, 0.8, baseline="id"),
            _row("llmemb", "overall", 1.5, 1.4, 1.6, metric="HR@10"),
            _row("llmemb", "overall", 1.4, 1.3, 1.5, protocol="sampled")]
    return Records(records, rows)


def test_the_gain_table_holds_each_recipe_against_the_raw_table_only(experiment) -> None:
    gain = scft_gain(experiment)
    assert gain[["model", "group", "lora_layers", "steps", "ratio"]].values.tolist() == [
        ["llmemb", "item_tail", 2, 200, 0.9], ["llmemb-scft-l4-s800", "item_tail", 4, 800, 1.5],
        ["llmemb", "overall", 2, 200, 1.10], ["llmemb-scft-l4-s200", "overall", 4, 200, 0.95],
        ["llmemb-scft-l4-s800", "overall", 4, 800, 1.30]]
    assert gain["scft_cpu_seconds"].tolist()[:2] == [576.0, 2400.4]
    assert gain["excludes_no_difference"].tolist() == [False, True, True, False, True]


def test_without_the_raw_table_ablation_there_is_no_gain_to_show() -> None:
    with pytest.raises(ValueError, match=r"results/gain: no sasrec comparison against the raw "
                                         r"table \(llmemb-no-scft\)"):
        scft_gain(Records([_record("llmemb", 2, 200, validation=0.1)],
                          [_row("llmemb", "overall", 1, 1, 1, baseline="id")]))


def test_the_view_prints_each_recipe_once_with_both_groups(experiment) -> None:
    lines = scft_gain_view(experiment, {}).splitlines()
    assert lines[2:5] == [
        "| LLMEmb | 2 | 200 | 576 | 0.0800 | 1.10x [1.02, 1.20] * | 0.90x [0.70, 1.10] |",
        "| LLMEmb scft-l4-s800 | 4 | 800 | 2400 | 0.1000 | 1.30x [1.10, 1.50] * "
        "| 1.50x [1.20, 1.90] * |",
        "| LLMEmb scft-l4-s200 | 4 | 200 | n/a | 0.0900 | 0.95x [0.85, 1.05] |  |"]
    assert "1 seed(s)" in lines[-1]
    assert "(RAT on the raw table: 0.0800)" in lines[-1]  # the mean of its two seeds
    assert lines[-1].endswith("(1000 CPU s): LLMEmb (2 layers, 200 steps).")


def test_the_recipe_is_chosen_on_validation_within_the_cpu_budget(experiment) -> None:
    gain = scft_gain(experiment)
    # 4 x 800 validates best but costs 2400 CPU s; 4 x 200 has no recorded cost
    assert chosen_recipe(gain).model == "llmemb"
    assert chosen_recipe(gain, cpu_seconds_budget=3000).model == "llmemb-scft-l4-s800"
    with pytest.raises(ValueError, match="at most 100 CPU seconds"):
        chosen_recipe(gain, cpu_seconds_budget=100)


def test_a_recipe_without_validation_scores_is_refused_by_name() -> None:
    records = Records([_record("llmemb", 2, 200, cost=5.0, validation=0.1),
                       _record("llmemb", 2, 200, cost=5.0, seed=43)],
                      [_row("llmemb", "overall", 1.1, 1.0, 1.2)])
    with pytest.raises(ValueError, match=r"llmemb/run.json: no validation scores"):
        scft_gain(records)


def test_without_a_raw_table_run_there_is_no_raw_validation() -> None:
    records = Records([_record("llmemb", 2, 200, cost=5.0, validation=0.1)], [])
    assert raw_table_validation(records) is None


def test_the_figure_draws_one_line_per_layer_count_at_the_recorded_ratios(experiment) -> None:
    fig = plots.scft_gain_figure(scft_gain(experiment))
    overall, tail = fig.axes
    lines = {bars.get_label(): bars.lines[0].get_ydata().tolist()
             for bars in overall.containers}
    assert lines == {"top 2 layers": [1.10], "top 4 layers": [0.95, 1.30]}
    assert [t.get_text() for t in overall.get_xticklabels()] == ["200 steps", "800 steps"]
    assert [bars.lines[0].get_ydata().tolist() for bars in tail.containers] == [[0.9], [1.5]]


def test_a_record_keeps_the_recipe_and_cost_of_the_scft_run_behind_its_table(
        tmp_path: Path) -> None:
    scft = tmp_path / "scft-l4"
    (scft / "adapter").mkdir(parents=True)
    (scft / "summary.json").write_text(json.dumps({"seconds": 100.04, "cpu_seconds": 190.06}))
    (scft / "manifest.json").write_text(json.dumps(
        {"config": {"scft": {"lora_layers": 4, "steps": 800}}}))

    def metrics(lora: str | None) -> dict[str, Any]:
        table = {"manifest": {"config": {"lora": lora}}}
        return {"inputs": {"encoder": {"llm_table": table}}}

    assert scft_record(metrics(str(scft / "adapter"))) == {
        "lora_layers": 4, "steps": 800, "seconds": 100.0, "cpu_seconds": 190.1}
    assert scft_record(metrics(None)) is None  # the raw table
    assert scft_record(metrics(str(tmp_path / "elsewhere" / "adapter"))) is None
    assert scft_record({"inputs": {"encoder": {"name": "id"}}}) is None
