"""Reports over runs: mean and standard deviation of ``metrics.json`` files across seeds."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..io import read_json

REPORT_GROUPS = ("overall", "item_tail", "item_head", "user_short", "user_long")
REPORT_METRICS = ("HR@10", "NDCG@10")
METRICS_GLOB = "metrics*.json"


def _section(metrics: Mapping, group: str) -> Mapping:
    return metrics["overall"] if group == "overall" else metrics["groups"][group]


def aggregate_runs(paths: Iterable[str | os.PathLike], groups: Sequence[str] = REPORT_GROUPS,
                   metrics: Sequence[str] = REPORT_METRICS,
                   ) -> dict[str, tuple[float, float, int]]:
    """``{"group/metric": (mean, sample std, runs)}`` over several ``metrics.json`` files.

    The runs must share one protocol; the std is 0 for a single run.
    """
    documents = [read_json(path) for path in paths]
    if not documents:
        raise ValueError("no metrics files to aggregate")
    protocols = {(d["protocol"]["candidates"], d["protocol"]["num_negatives"],
                  d["protocol"]["exclude_history"]) for d in documents}
    if len(protocols) > 1:
        raise ValueError(f"cannot aggregate runs evaluated under different protocols: "
                         f"{sorted(protocols, key=str)}")
    table = {}
    for group in groups:
        for metric in metrics:
            values = np.array([_section(d, group)[metric] for d in documents], dtype=float)
            spread = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            table[f"{group}/{metric}"] = (float(values.mean()), spread, len(values))
    return table


def format_table(rows: Mapping[str, Mapping[str, tuple[float, float, int]]],
                 digits: int = 4) -> str:
    """A Markdown table, one row per label, cells ``mean ± std``."""
    columns = list(next(iter(rows.values())))
    lines = ["| run | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for label, cells in rows.items():
        values = [f"{cells[c][0]:.{digits}f} ± {cells[c][1]:.{digits}f}" for c in columns]
        lines.append(f"| {label} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def run_label(metrics: Mapping) -> str:
    """``<encoder>-<backbone>, <protocol>``, e.g. ``id-sasrec, full``."""
    encoder = metrics["inputs"]["encoder"]["name"]
    protocol = metrics["protocol"]["candidates"]
    if protocol == "full" and metrics["protocol"]["exclude_history"]:
        protocol = "full, history excluded"
    return f"{encoder}-{metrics['config']['srs']['backbone']}, {protocol}"


def report_runs(run_folders: Iterable[str | os.PathLike]) -> str:
    """A Markdown table of mean ± std over seeds, one row per encoder, backbone and protocol,
    from the ``metrics*.json`` files of the given run folders."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for folder in run_folders:
        for path in sorted(Path(folder).glob(METRICS_GLOB)):
            groups[run_label(read_json(path))].append(path)
    if not groups:
        raise ValueError("no metrics*.json files in the given run folders")
    rows = {f"{label} (n={len(paths)})": aggregate_runs(paths)
            for label, paths in sorted(groups.items())}
    return format_table(rows)
