"""Every run's test metrics as one tidy table, for the long-tail report (notebook 05).

:func:`load_results` reads the ``metrics*.json`` files of run folders into one row per run,
protocol, group and metric; :func:`summarize` takes the mean, sample standard deviation and
number of seeds of each cell; :func:`format_cells` renders ``mean ± std`` strings and
:func:`report_runs` the whole Markdown table (``llmemb report``, ``llmemb study``), which
:func:`write_report` also writes to a file.
A row's group is ``overall``, one of the four long-tail groups, or a binned analysis
(``item_pop_bins``, ``item_pop_quintiles``, ``user_length_bins``) with the bin's label in
``bin`` (``<5``, ``>=40`` ...; missing for the other groups), with the number of test users in
each.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.buckets import bin_lower_bound
from ..io import read_json

REPORT_GROUPS = ("overall", "item_tail", "item_head", "user_short", "user_long")
REPORT_METRICS = ("HR@10", "NDCG@10")
METRICS_GLOB = "metrics*.json"
KEYS = ("backbone", "encoder", "protocol")
BINNED = ("item_pop_bins", "item_pop_quintiles", "user_length_bins")
WITH_HISTORY = "full, with history"


def protocol_name(protocol: Mapping) -> str:
    """``full`` (the user's earlier items excluded), ``full, with history`` or ``sampled``
    (100 negatives)."""
    if protocol["candidates"] != "full":
        return protocol["candidates"]
    return "full" if protocol["exclude_history"] else WITH_HISTORY


def load_results(run_folders: Iterable[str | os.PathLike],
                 metrics: Sequence[str] = REPORT_METRICS) -> pd.DataFrame:
    """Columns backbone, encoder (``id``, ``llmemb``, ``llmemb-<ablation>``), seed, protocol,
    group, bin, metric, value and users (the group's test users); one row per combination."""
    rows = []
    for folder in run_folders:
        paths = sorted(Path(folder).glob(METRICS_GLOB))
        if not paths:
            raise FileNotFoundError(f"{folder}: no metrics*.json (is the run finished?)")
        for path in paths:
            document = read_json(path)
            run = {"backbone": document["config"]["srs"]["backbone"],
                   "encoder": document["inputs"]["encoder"]["name"],
                   "seed": document["config"]["seed"],
                   "protocol": protocol_name(document["protocol"])}
            for group, label, section, users in _sections(document):
                rows.extend({**run, "group": group, "bin": label, "metric": metric,
                             "value": section[metric], "users": users} for metric in metrics)
    return pd.DataFrame(rows)


def _sections(document: Mapping) -> Iterable[tuple[str, str | None, Mapping, int]]:
    """(group, bin label or None, metrics, test users) of every group of a metrics file."""
    counts = document["counts"]
    yield "overall", None, document["overall"], counts["users"]
    for group, section in document["groups"].items():
        if group in BINNED:
            for label, values in section.items():
                yield group, label, values, counts[group][label]
        else:
            yield group, None, section, counts[group]


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample std (0 for one seed), seed count and test users per backbone, encoder,
    protocol, group, bin and metric. Empty groups (no test user) are dropped."""
    present = results.dropna(subset=["value"])
    summary = present.groupby([*KEYS, "group", "bin", "metric"], sort=False, dropna=False).agg(
        mean=("value", "mean"), std=("value", lambda v: v.std(ddof=1) if len(v) > 1 else 0.0),
        seeds=("value", "count"), users=("users", "first"))
    return summary.reset_index()


def mean_std(mean: float, std: float, seeds: int, digits: int = 4) -> str:
    """``mean ± std``, whatever the number of seeds."""
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def format_cells(summary: pd.DataFrame, groups: Sequence[str] = REPORT_GROUPS,
                 metrics: Sequence[str] = REPORT_METRICS, digits: int = 4,
                 cell: Callable[[float, float, int, int], str] = mean_std) -> pd.DataFrame:
    """One row per backbone, encoder and protocol (with its seed count), one column per group
    and metric, in the given order, each cell ``cell(mean, std, seeds, digits)``."""
    chosen = summary[summary["group"].isin(groups) & summary["bin"].isna()
                     & summary["metric"].isin(metrics)].copy()
    chosen["cell"] = [cell(m, s, n, digits) for m, s, n in
                      zip(chosen["mean"], chosen["std"], chosen["seeds"], strict=True)]
    table = chosen.pivot_table(index=[*KEYS, "seeds"], columns=["group", "metric"],
                               values="cell", aggfunc="first", sort=False)
    columns = [(g, m) for g in groups for m in metrics if (g, m) in table.columns]
    return table[columns]


def ratio_to_id(summary: pd.DataFrame, group: str, metric: str = "NDCG@10",
                protocol: str = "full") -> pd.Series:
    """Mean of every non-ID encoder divided by the ID encoder's mean on the same backbone."""
    cells = summary[(summary["group"] == group) & (summary["metric"] == metric)
                    & (summary["protocol"] == protocol)].set_index(["backbone", "encoder"])["mean"]
    with np.errstate(divide="ignore", invalid="ignore"):  # an ID mean of 0 gives inf
        ratios = {(backbone, encoder): np.float64(value) / cells[(backbone, "id")]
                  for (backbone, encoder), value in cells.items()
                  if encoder != "id" and (backbone, "id") in cells.index}
    return pd.Series(ratios, name=f"{group} {metric} / ID", dtype=float)


def protocol_table(summary: pd.DataFrame, metric: str = "NDCG@10",
                   group: str = "overall") -> pd.DataFrame:
    """Each model's mean under full ranking and the sampled protocol, their ratio and its rank
    under each (1 = best), best under full ranking first."""
    rows = summary[(summary["metric"] == metric) & (summary["group"] == group)]
    table = rows.pivot_table(index=["backbone", "encoder"], columns="protocol", values="mean")
    table = table[["full", "sampled"]].dropna().sort_values("full", ascending=False)
    table.columns.name = "protocol"
    table["sampled / full"] = table["sampled"] / table["full"]
    for protocol in ("full", "sampled"):
        table[f"rank ({protocol})"] = table[protocol].rank(ascending=False).astype(int)
    return table


def users_per_bin(summary: pd.DataFrame, group: str) -> dict[str, int]:
    """Test users in each bin of the binned analysis ``group``, the least popular bin first."""
    rows = summary[summary["group"] == group].drop_duplicates("bin")
    users = dict(zip(rows["bin"], rows["users"], strict=True))
    return {label: int(users[label]) for label in sorted(users, key=bin_lower_bound)}


def markdown_table(cells: pd.DataFrame) -> str:
    """A :func:`format_cells` table as Markdown, one row per ``encoder-backbone, protocol``."""
    header = [f"{group} {metric}" for group, metric in cells.columns]
    lines = ["| model, protocol (seeds) | " + " | ".join(header) + " |",
             "|---" * (len(header) + 1) + "|"]
    for (backbone, encoder, protocol, seeds), row in cells.iterrows():
        values = " | ".join("" if isinstance(v, float) else v for v in row)
        lines.append(f"| {encoder}-{backbone}, {protocol} ({seeds}) | {values} |")
    return "\n".join(lines)


def report_runs(run_folders: Iterable[str | os.PathLike]) -> str:
    """The Markdown table of mean ± std over seeds, one row per encoder, backbone and
    protocol, from the ``metrics*.json`` files of the given run folders."""
    return markdown_table(format_cells(summarize(load_results(run_folders))))


def write_report(run_folders: Iterable[str | os.PathLike], *paths: str | os.PathLike) -> str:
    """:func:`report_runs`, also written to each of ``paths`` (``make demo`` prints the
    study's from its run folder)."""
    table = report_runs(run_folders)
    for path in paths:
        Path(path).write_text(table + "\n", encoding="utf-8")
    return table
