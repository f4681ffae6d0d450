"""The answers a notebook states, as sentences printed from records: each paired verdict with
its interval (a tie wherever the interval allows no difference), and how far a set of runs
was trained, so that an undertrained comparison is never read as the answer."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..io import read_json
from .comparisons import RunKey, ratio_text, verdict
from .provenance import NOTE, compares_modified, marked
from .records import HEADLINE_METRICS
from .render import COMPARED_GROUPS, backbone_order

DEMO = "demo"  # srs.budget of a run trained to a fixed, short cap


def verdict_lines(rows: Iterable[Mapping[str, Any]], model: str, baseline: str = "id",
                  groups: Sequence[str] = COMPARED_GROUPS, protocol: str = "full",
                  metric: str = "NDCG@10", modified: frozenset[RunKey] = frozenset()
                  ) -> list[str]:
    """One line per backbone and group of the comparisons ``model`` vs ``baseline``, SASRec
    first, groups in the order given; none found is an error naming the comparison. A line
    over a run of ``modified`` (:func:`.provenance.modified_runs`) is marked, and the mark's
    note follows the lines."""
    chosen = [row for row in rows
              if (row["model"], row["baseline"], row["protocol"], row["metric"])
              == (model, baseline, protocol, metric) and row["group"] in groups]
    if not chosen:
        raise ValueError(f"no comparison {model} vs {baseline} ({metric}, {protocol} ranking) "
                         f"in the groups {list(groups)}")
    chosen.sort(key=lambda row: (backbone_order(row["backbone"]), groups.index(row["group"])))
    lines = [f"{row['backbone']}, {marked(model, compares_modified(modified, row))} vs "
             f"{baseline} (seeds {', '.join(map(str, row['seeds']))}), {row['group']}: "
             f"{ratio_text(row)}: {verdict(row)}" for row in chosen]
    return lines + [NOTE] if any(compares_modified(modified, row) for row in chosen) else lines


def training_note(run_folders: Iterable[str | os.PathLike]) -> str:
    """Whether every run trained until validation stopped improving; else how many stopped
    at their epoch cap first: under the demo budget they are undertrained (their comparison
    is a demo, not an answer), under a convergence budget the cap came within the patience."""
    training = [read_json(Path(folder) / HEADLINE_METRICS)["training"] for folder in run_folders]
    if not training:
        raise ValueError("no runs to describe")
    capped = [run for run in training if not run["converged"]]
    if not capped:
        return f"converged: each of the {len(training)} runs trained until validation " \
               "stopped improving"
    caps = "/".join(str(cap) for cap in sorted({run["cap"] for run in capped}))
    budgets = sorted({str(run["budget"]) for run in capped})
    stopped = (f"{len(capped)} of {len(training)} runs stopped at their {caps}-epoch cap before "
               f"validation stopped improving (srs.budget: {', '.join(budgets)})")
    if DEMO in budgets:
        return f"undertrained: {stopped}"
    return stopped if len(capped) == len(training) else f"{stopped}; the others converged"
