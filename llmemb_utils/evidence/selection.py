"""Choosing between models honestly: by the validation score of the epoch each run chose,
never by test (docs/method.md §4.7)."""

from __future__ import annotations

import pandas as pd

from .records import Experiment


def validation_ranking(experiment: Experiment, metric: str = "NDCG@10") -> pd.DataFrame:
    """One row per (backbone, model): mean validation ``metric`` over its seeds at each run's
    chosen epoch, best first; records written before runs kept their validation are refused."""
    rows = []
    for (backbone, model, seed), (folder, record) in experiment.records().items():
        if "validation" not in record:
            raise ValueError(f"{folder}/run.json: no validation scores; rewrite the records "
                             "with `llmemb report --write`")
        rows.append({"backbone": backbone, "model": model, "seed": seed,
                     "validation": record["validation"][metric]})
    table = (pd.DataFrame(rows).groupby(["backbone", "model"])
             .agg(validation=("validation", "mean"), seeds=("seed", "size")).reset_index())
    return table.sort_values("validation", ascending=False, kind="stable").reset_index(drop=True)


def chosen_variant(experiment: Experiment, metric: str = "NDCG@10") -> str:
    """The variant (a model trained from ``study.variants``, not an ablation) with the best
    mean validation ``metric``."""
    variants = {record["model"] for _, record in experiment.records().values()
                if record["settings"]["rat"].get("variant")}
    if not variants:
        raise ValueError(f"{experiment.folder}: no variant among the recorded runs")
    ranking = validation_ranking(experiment, metric)
    return str(ranking.loc[ranking["model"].isin(variants), "model"].iloc[0])
