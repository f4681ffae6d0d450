"""The beyond-accuracy measures that runs recorded (:mod:`.beyond`), beside their accuracy,
one row per model: what a model shows its users next to whether it hits the held-out item.

Runs evaluated before the kit measured them have no ``beyond_accuracy`` section in their
``metrics.json``; they are named, not silently dropped, so a reader knows which models the
table leaves out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..io import read_json
from .beyond import TOP_K

FULL_RANKING = "metrics.json"  # the beyond-accuracy measures read full-ranking top-K lists
ACCURACY = (f"HR@{TOP_K}", f"NDCG@{TOP_K}")
COVERAGE = f"coverage@{TOP_K}"
MEASURES = (COVERAGE, f"tail_share@{TOP_K}", f"intra_list_diversity@{TOP_K}",
            f"novelty@{TOP_K}")


@dataclass(frozen=True)
class BeyondAccuracy:
    """Per model, the mean over seeds of its overall accuracy and of each recorded measure; a
    measure that one of the model's runs did not record is missing (NaN) for the model rather
    than averaged over fewer seeds, and one that no run recorded is left out. ``without``
    names the runs that recorded no measure; ``omitted`` maps a measure to the runs that left
    it out, and ``reasons`` to why (the first run's words)."""

    table: pd.DataFrame
    without: list[str] = field(default_factory=list)
    omitted: dict[str, list[str]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


def beyond_accuracy_table(run_folders: Iterable[str | os.PathLike]) -> BeyondAccuracy:
    """Read each run's full-ranking ``metrics.json``; a missing file is an error naming it."""
    rows, without, omitted, reasons = [], [], {}, {}
    for folder in map(Path, run_folders):
        path = folder / FULL_RANKING
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no full-ranking metrics (is the run finished?)")
        document = read_json(path)
        section = document.get("beyond_accuracy")
        if section is None:
            without.append(folder.name)
            continue
        for measure, reason in section.get("omitted", {}).items():
            omitted.setdefault(measure, []).append(folder.name)
            reasons.setdefault(measure, reason)
        rows.append({"backbone": document["config"]["srs"]["backbone"],
                     "model": document["inputs"]["encoder"]["name"],
                     **{metric: document["overall"][metric] for metric in ACCURACY},
                     **{measure: section.get(measure) for measure in MEASURES}})
    columns = ["backbone", "model", *ACCURACY, *MEASURES]
    runs = pd.DataFrame(rows, columns=columns).astype({m: float for m in (*ACCURACY, *MEASURES)})
    grouped = runs.groupby(["backbone", "model"], sort=False)
    every_seed = grouped.count().eq(grouped.size(), axis=0)  # recorded by each of its runs
    table = grouped.mean().where(every_seed).dropna(axis=1, how="all")
    table.insert(0, "seeds", grouped.size())
    return BeyondAccuracy(table, without, omitted, reasons)
