"""What SCFT is worth per recipe: the cost of the SCFT run behind an LLMEmb run's table (kept
in its record, :mod:`.scft_cost`) and the gain of RAT on that table over RAT on the LLM's raw
table (the ``no-scft`` ablation), read from an experiment's paired comparisons
(docs/method.md §4.7)."""

from __future__ import annotations

import pandas as pd

from .comparisons import LLMEMB, RAW_TABLE
from .records import Experiment
from .selection import validation_ranking

GAIN_GROUPS = ("overall", "item_tail")
DEMO_SCFT_CPU_SECONDS = 1000.0
"""What one SCFT run may cost (CPU seconds, every thread, trunk cache included) for `make demo`
to stay within its 20 minutes on 2 cores: the rest of the demo leaves SCFT about a third of it."""


def scft_gain(experiment: Experiment, backbone: str = "sasrec", metric: str = "NDCG@10",
              protocol: str = "full") -> pd.DataFrame:
    """One row per SCFT recipe (plain LLMEmb and every variant that changes SCFT) and group
    (overall, tail items): its LoRA layers and steps, the ratio of its ``metric`` to the
    raw-table run's with the paired 95 % interval, its SCFT run's CPU seconds, and its runs'
    mean validation ``metric`` at their chosen epochs (what a choice of recipe may read).
    LoRA layers None means every layer."""
    validation = _validation(experiment, backbone, metric)
    recipes = {}
    for (run_backbone, model, _), (_, record) in experiment.records().items():
        recipe = record["settings"]["rat"].get("scft_recipe")
        if run_backbone == backbone and (model == LLMEMB or recipe):
            scft = record["settings"]["scft"]
            cost = record.get("scft") or {}
            recipes[model] = {"model": model, "lora_layers": scft["lora_layers"],
                              "steps": scft["steps"], "scft_cpu_seconds": cost.get("cpu_seconds"),
                              "validation": validation[model]}
    rows = [{**recipes[row["model"]], "group": row["group"], "ratio": row["ratio"],
             "ratio_low": (row["ratio_ci95"] or [None])[0],
             "ratio_high": (row["ratio_ci95"] or [None, None])[1],
             "excludes_no_difference": row["excludes_no_difference"],
             "seeds": len(row["seeds"])}
            for row in experiment.comparisons()
            if row["model"] in recipes and row["group"] in GAIN_GROUPS
            and (row["backbone"], row["baseline"], row["metric"], row["protocol"])
            == (backbone, RAW_TABLE, metric, protocol)]
    if not rows:
        raise ValueError(f"{experiment.folder}: no {backbone} comparison against the raw table "
                         f"({RAW_TABLE}); the study needs the no-scft ablation beside LLMEmb")
    return (pd.DataFrame(rows).sort_values(["group", "lora_layers", "steps"], kind="stable",
                                           key=_every_layer_last).reset_index(drop=True))


def _every_layer_last(column: pd.Series) -> pd.Series:
    """Sort key: LoRA on every layer (None) after any number of top layers."""
    return column.fillna(float("inf")) if column.name == "lora_layers" else column


def raw_table_validation(experiment: Experiment, backbone: str = "sasrec",
                         metric: str = "NDCG@10") -> float | None:
    """Mean validation ``metric`` of RAT on the raw LLM table (the ``no-scft`` ablation): what
    an SCFT recipe has to beat on validation to be worth its CPU time; None without that run."""
    return _validation(experiment, backbone, metric).get(RAW_TABLE)


def _validation(experiment: Experiment, backbone: str, metric: str) -> dict[str, float]:
    """Each of ``backbone``'s models' mean validation ``metric`` over its seeds."""
    ranking = validation_ranking(experiment, metric)
    rows = ranking[ranking["backbone"] == backbone]
    return dict(zip(rows["model"], rows["validation"], strict=True))


def chosen_recipe(gain: pd.DataFrame,
                  cpu_seconds_budget: float = DEMO_SCFT_CPU_SECONDS) -> pd.Series:
    """The SCFT recipe with the best validation score among those whose SCFT run cost at most
    ``cpu_seconds_budget`` (a recipe whose cost was not recorded does not qualify); chosen on
    validation only, never on the test ratios beside it."""
    recipes = gain.drop_duplicates("model")
    affordable = recipes[recipes["scft_cpu_seconds"] <= cpu_seconds_budget]  # NaN: no cost
    if affordable.empty:
        raise ValueError(f"no SCFT recipe with a recorded cost of at most {cpu_seconds_budget:g} "
                         "CPU seconds")
    return affordable.loc[affordable["validation"].idxmax()]
