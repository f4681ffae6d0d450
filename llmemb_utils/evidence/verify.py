"""Every number of an experiment's records recomputed from its rank files: each run's
``metrics*.json`` from its ``ranks*.npz`` (and its ``beyond_accuracy`` section from its
``beyond*.npz`` where the run kept one), each row of ``comparisons.json`` from the runs'
rank and lists files with the bootstrap size and seed the row records. A hand edit, a stale
file or a change of the statistics that was not written back shows as the file and field that
differ.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..eval.results import METRICS_GLOB
from ..io import read_json
from .comparisons import compare_runs
from .ranks import UserRanks, ranks_filename
from .records import COMPARISONS, RUNS, Experiment
from .user_lists import SECTION, UserLists, lists_filename, section_measures

RELATIVE_TOLERANCE = 1e-9  # summation order (BLAS, CPU) moves the last bits, nothing more
ROW_KEY = ("backbone", "model", "baseline", "protocol", "group", "metric")
MISSING = object()


def experiments(results: Path) -> list[Path]:
    """Every experiment folder (one holding ``runs/``) of a records folder; none when it
    holds none or is missing."""
    return sorted(path.parent for path in results.glob(f"*/{RUNS}") if path.is_dir())


def verify_experiment(folder: Path) -> list[str]:
    """One line per recorded number the rank files do not give, naming file and field."""
    experiment = Experiment(folder)
    problems = [problem for run in experiment.run_folders() for problem in verify_run(run)]
    return problems + verify_comparisons(experiment)


def verify_run(run: Path) -> list[str]:
    """Each metrics file of a recorded run against the summary of its rank file, and its
    ``beyond_accuracy`` section against its lists file where the run kept one."""
    problems = []
    for path in sorted(run.glob(METRICS_GLOB)):
        computed = UserRanks.load(run / ranks_filename(path.name)).summary()
        recorded = read_json(path)
        found = differences({key: recorded.get(key, MISSING) for key in computed}, computed)
        lists = run / lists_filename(path.name)
        if lists.is_file():
            found += differences({SECTION: section_measures(recorded)},
                                 {SECTION: UserLists.load(lists).summary()}, source="lists")
        problems += [f"{path}: {field} {claim}" for field, claim in found]
    return problems


def verify_comparisons(experiment: Experiment) -> list[str]:
    """Each row of ``comparisons.json`` against the comparison the rank files give with the
    row's own bootstrap size and seed; a row missing or one too many is named too."""
    path = experiment.folder / COMPARISONS
    recorded = experiment.comparisons()
    ranks, lists = experiment.ranks(), experiment.user_lists()
    computed: dict[tuple[Any, Any], dict[tuple, dict[str, Any]]] = {}
    problems = []
    for row in recorded:
        what = _row_name(row)
        setting = row.get("replicates"), row.get("bootstrap_seed")
        if not all(isinstance(value, int) and value >= 0 for value in setting):
            problems.append(f"{path}: {what}: replicates and bootstrap_seed must be "
                            f"non-negative integers, recorded {setting}")
            continue
        if setting not in computed:
            computed[setting] = _keyed(compare_runs(ranks, *setting, lists))
        expected = computed[setting].get(_key(row))
        if expected is None:
            problems.append(f"{path}: {what}: recorded, but the rank files give no such "
                            "comparison")
            continue
        problems += [f"{path}: {what}: {field} {claim}"
                     for field, claim in differences(row, expected)]
    usual = [setting for setting, _ in Counter(
        (row.get("replicates"), row.get("bootstrap_seed")) for row in recorded).most_common()
        if setting in computed]
    given = computed[usual[0]] if usual else _keyed(compare_runs(ranks, lists=lists))
    present = _keyed(recorded)
    problems += [f"{path}: {_row_name(row)}: the rank files give it, comparisons.json lacks it"
                 for key, row in given.items() if key not in present]
    return problems


def differences(recorded: Any, computed: Any, field: str = "",
                source: str = "ranks") -> list[tuple[str, str]]:
    """(dotted field, what differs) for every leaf where ``recorded`` and ``computed`` part;
    numbers, and lists of numbers element by element, agree within ``RELATIVE_TOLERANCE``.
    ``source`` names the files ``computed`` comes from (``ranks``, or ``lists`` for the top-10
    lists file)."""
    if isinstance(recorded, dict) and isinstance(computed, dict):
        return [found for key in sorted(recorded.keys() | computed.keys(), key=str)
                for found in differences(recorded.get(key, MISSING), computed.get(key, MISSING),
                                         f"{field}.{key}" if field else str(key), source)]
    if _agree(recorded, computed):
        return []
    return [(field, f"recorded {_shown(recorded)}, {source} give {_shown(computed)}")]


def _agree(recorded: Any, computed: Any) -> bool:
    if _numbers([recorded]) and _numbers([computed]):
        return math.isclose(recorded, computed, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-15)
    if isinstance(recorded, list) and isinstance(computed, list):
        return len(recorded) == len(computed) and all(map(_agree, recorded, computed))
    return type(recorded) is type(computed) and recorded == computed


def _numbers(values: Iterable[Any]) -> bool:
    """Plain numbers only (a bool is a verdict, not a number)."""
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _shown(value: Any) -> str:
    if value is MISSING:
        return "nothing"
    if isinstance(value, float):
        return f"{value:.12g}"
    if isinstance(value, list) and _numbers(value):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return repr(value)


def _key(row: dict[str, Any]) -> tuple:
    return tuple(row.get(name) for name in ROW_KEY)


def _keyed(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    return {_key(row): row for row in rows}


def _row_name(row: dict[str, Any]) -> str:
    return (f"{row.get('backbone')} {row.get('model')} vs {row.get('baseline')}, "
            f"{row.get('protocol')} {row.get('group')} {row.get('metric')}")

