"""Which recorded runs were trained from a working tree with uncommitted changes
(``kit_modified`` in their environment): the code behind them cannot be recovered, so every
generated table that shows one of them, alone or in a mean or comparison, marks its row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .comparisons import RunKey
from .records import Experiment

MARK = "†"
NOTE = (f"{MARK} trained from a working tree with uncommitted changes (on a row over seeds "
        "or a comparison: at least one of its runs); the code behind it cannot be recovered.")


def modified_runs(experiment: Experiment) -> frozenset[RunKey]:
    """The (backbone, model, seed) of every run whose record says ``kit_modified``."""
    return frozenset(key for key, (_, record) in experiment.records().items()
                     if is_modified(record))


def is_modified(record: Mapping[str, Any]) -> bool:
    """Whether the code that trained or evaluated the run was uncommitted."""
    return any((record.get(field) or {}).get("kit_modified")
               for field in ("environment", "training_environment"))


def any_modified(modified: frozenset[RunKey], backbone: str, models: Iterable[str],
                 seeds: Iterable[int] | None = None) -> bool:
    """Whether a run of ``models`` on ``backbone`` (of ``seeds``, default any) is modified."""
    names, chosen = set(models), None if seeds is None else set(seeds)
    return any(b == backbone and m in names and (chosen is None or s in chosen)
               for b, m, s in modified)


def compares_modified(modified: frozenset[RunKey], row: Mapping[str, Any]) -> bool:
    """Whether a run of either side of a comparison row, over its seeds, is modified."""
    return any_modified(modified, row["backbone"], (row["model"], row["baseline"]), row["seeds"])


def marked(label: str, modified: bool) -> str:
    return f"{label}{MARK}" if modified else label


def with_note(markdown: str) -> str:
    """``markdown`` with the note that explains the mark, where a row carries it."""
    return f"{markdown}\n\n{NOTE}" if MARK in markdown else markdown
