"""An experiment's committed run records, ``results/<experiment>/``::

    README.md                    the commands that wrote the folder
    comparisons.json             paired statistics of every comparison (:mod:`.comparisons`)
    runs/<model>-<backbone>-seed<seed>/
        run.json                 best epoch and its validation scores, epochs run, seconds,
                                 the uniformity of the item table, how its alignment loss
                                 behaved (LLMEmb runs that align), the recipe and cost of
                                 the SCFT run behind its table, settings and their hash,
                                 environment, the metrics file of each protocol
        metrics*.json            the run's test metrics, as the run wrote them
        ranks*.npz               the per-user rank counts behind each (:mod:`.ranks`)
        beyond*.npz              the top-K lists and per-user beyond-accuracy values behind
                                 each full-ranking one (:mod:`.user_lists`), where the run
                                 kept them

Records are written from finished run folders and only from them; a record whose rank file
or lists file does not reproduce its metrics file is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..eval.results import METRICS_GLOB, protocol_name
from ..io import atomic_directory, kit_relative, read_json, write_json
from ..srs.checkpoints import LOG
from .bootstrap import REPLICATES, SEED
from .comparisons import RunKey, compare_runs
from .ranks import UserRanks, ranks_filename
from .scft_cost import scft_record
from .table_geometry import item_table_uniformity
from .user_lists import SECTION, UserLists, lists_filename, section_measures

RUNS = "runs"
RUN_RECORD = "run.json"
COMPARISONS = "comparisons.json"
README = "README.md"
CPU_BAND = "cpu_band.json"  # benchmarks/demo_band.py
SPLIT_GAP = "split_gap.json"  # llmemb report --split-gap (.split_gap_record)
NEIGHBOURS = "neighbours.json"  # llmemb report --neighbours (.neighbours_record)
HELD_OUT_VIEWS = "views.json"  # llmemb report --views (.views_record)
DEMO_TIME = "demo_time.json"  # benchmarks/demo_time.py
MEASUREMENTS = (CPU_BAND, SPLIT_GAP, NEIGHBOURS, HELD_OUT_VIEWS, DEMO_TIME)
HEADLINE_METRICS = "metrics.json"
# Config keys that only name, locate or schedule a run, left out of its settings hash.
UNSETTLED = ("seed", "name", "artifacts", "study", "fast", "gpu")
INPUT_PATHS = ("llm_emb", "teacher")


def settings_hash(config: dict[str, Any]) -> str:
    """16 hex digits naming a run's settings: its config without the seed and without what
    only names, locates or schedules it, so every seed of one setting shares the hash."""
    settings = {k: v for k, v in config.items() if k not in UNSETTLED}
    if "rat" in settings:
        settings["rat"] = {k: v for k, v in settings["rat"].items() if k not in INPUT_PATHS}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def run_record(folder: Path) -> dict[str, Any]:
    """The ``run.json`` of a finished run folder (its metrics files are checked by
    :func:`write_experiment`)."""
    from ..rat.diagnostics import alignment_record

    metrics = read_json(folder / HEADLINE_METRICS)
    log = read_json(folder / LOG)
    config = metrics["config"]
    best, ran, cap = metrics["inputs"]["checkpoint"]["epoch"], len(log), config["srs"]["epochs"]
    cpu = [entry.get("cpu_seconds") for entry in log]
    return {
        "backbone": config["srs"]["backbone"],
        "model": metrics["inputs"]["encoder"]["name"],
        "seed": config["seed"],
        "source": kit_relative(folder),
        "metrics": {protocol_name(read_json(path)["protocol"]): path.name
                    for path in sorted(folder.glob(METRICS_GLOB))},
        "best_epoch": best,
        "validation": next(entry["valid"] for entry in log if entry["epoch"] == best),
        "validation_curve": [entry["valid"]["NDCG@10"] for entry in log],  # epoch 1, 2, ...
        "epochs_run": ran,
        "epoch_cap": cap,
        "cap_reached_while_improving": best == ran == cap,
        "wall_seconds": round(sum(e["train_seconds"] + e["valid_seconds"] for e in log), 3),
        "cpu_seconds": None if None in cpu else round(sum(cpu), 3),  # older runs lack it
        "item_table_uniformity": item_table_uniformity(folder, metrics),
        "alignment": alignment_record(folder, log, best),  # None without alignment
        "scft": scft_record(metrics),  # the SCFT run behind the table; None without one
        "settings": config,
        "settings_hash": settings_hash(config),
        "environment": metrics.get("environment"),
        # a run evaluated again after training: where it was trained (None otherwise)
        "training_environment": metrics.get("training_environment"),
    }


def record_name(record: dict[str, Any]) -> str:
    return f"{record['model']}-{record['backbone']}-seed{record['seed']}"


def write_experiment(destination: str | os.PathLike, run_folders: Iterable[str | os.PathLike],
                     command: str, replicates: int = REPLICATES, seed: int = SEED,
                     add: bool = False) -> Path:
    """Replace ``destination`` with the records of ``run_folders`` and their comparisons, or
    with ``add`` keep its records and add those of ``run_folders`` (runs whose folders are
    gone, say on another machine, stay recorded). Either way every comparison is computed
    again from the records' rank files; each is bootstrapped with its own ``seed``, so adding
    a model leaves the other comparisons as they were. Measurements written beside the runs
    by other tools (``MEASUREMENTS``) are kept."""
    destination = Path(destination)
    existing = Experiment(destination).run_folders() if add else []
    history = (destination / README).read_text(encoding="utf-8") if add else ""
    with atomic_directory(destination) as staging:
        for name in MEASUREMENTS:
            if (destination / name).is_file():
                shutil.copyfile(destination / name, staging / name)
        for folder in existing:
            shutil.copytree(folder, staging / RUNS / folder.name)
        sources: dict[str, Path] = {}
        for folder in map(Path, run_folders):
            record = run_record(folder)
            name = record_name(record)
            if name in sources:
                raise ValueError(f"{folder} and {sources[name]} are both {name}: an "
                                 "experiment holds one run per model, backbone and seed")
            if (staging / RUNS / name).exists():
                raise ValueError(f"{folder}: {destination / RUNS / name} is already recorded; "
                                 "`--write` records an experiment anew from its run folders")
            sources[name] = folder
            _copy_run(folder, staging / RUNS / name, record)
        write_json(staging / COMPARISONS, Experiment(staging).compared(replicates, seed))
        done = (f"The records of {len(sources)} run(s) added by" if add
                else "Run records written by")
        (staging / README).write_text(f"{history}{done} `{command}`.\n", encoding="utf-8")
    return destination


def compare_experiment(destination: str | os.PathLike, command: str,
                       replicates: int = REPLICATES, seed: int = SEED) -> Path:
    """Compute ``destination``'s comparisons again from its recorded rank files (after a
    change of the bootstrap), noting ``command`` in its ``README.md``."""
    experiment = Experiment(Path(destination))
    write_json(experiment.folder / COMPARISONS, experiment.compared(replicates, seed))
    with (experiment.folder / README).open("a", encoding="utf-8") as history:
        history.write(f"Comparisons computed again by `{command}`.\n")
    return experiment.folder / COMPARISONS


def _copy_run(folder: Path, target: Path, record: dict[str, Any]) -> None:
    """Copy each metrics file, its rank file and its top-K lists file where the run has one
    (runs evaluated before the kit kept them have none), after checking that they agree."""
    target.mkdir(parents=True)
    for name in record["metrics"].values():
        ranks = folder / ranks_filename(name)
        if not ranks.is_file():
            raise FileNotFoundError(f"{ranks}: missing; re-evaluate the run with `llmemb "
                                    f"evaluate --run {folder}` to write its per-user ranks")
        metrics = read_json(folder / name)
        recomputed = UserRanks.load(ranks).summary()
        if any(recomputed[key] != metrics[key] for key in recomputed):
            raise ValueError(f"{ranks} does not reproduce {folder / name}")
        lists = folder / lists_filename(name)
        if lists.is_file():
            if UserLists.load(lists).summary() != section_measures(metrics):
                raise ValueError(f"{lists} does not reproduce the {SECTION} of "
                                 f"{folder / name}")
            shutil.copyfile(lists, target / lists.name)
        shutil.copyfile(folder / name, target / name)
        shutil.copyfile(ranks, target / ranks.name)
    write_json(target / RUN_RECORD, record)


@dataclass(frozen=True)
class Experiment:
    """A ``results/<experiment>`` folder, read."""

    folder: Path

    def __post_init__(self) -> None:
        if not (self.folder / RUNS).is_dir():
            raise FileNotFoundError(f"{self.folder}: no run records ({RUNS}/ is missing); "
                                    "write them with `llmemb report --write`")

    def run_folders(self) -> list[Path]:
        return sorted(path.parent for path in (self.folder / RUNS).glob(f"*/{RUN_RECORD}"))

    def records(self) -> dict[RunKey, tuple[Path, dict[str, Any]]]:
        """Each run's folder and ``run.json`` by (backbone, model, seed)."""
        records = {}
        for folder in self.run_folders():
            record = read_json(folder / RUN_RECORD)
            records[record["backbone"], record["model"], record["seed"]] = folder, record
        return records

    def ranks(self) -> dict[RunKey, dict[str, UserRanks]]:
        """Each run's per-user ranks by protocol."""
        return {key: {protocol: UserRanks.load(folder / ranks_filename(name))
                      for protocol, name in record["metrics"].items()}
                for key, (folder, record) in self.records().items()}

    def user_lists(self) -> dict[RunKey, dict[str, UserLists]]:
        """Each run's top-K lists by protocol, for the runs and protocols that kept them."""
        return {key: {protocol: UserLists.load(folder / lists_filename(name))
                      for protocol, name in record["metrics"].items()
                      if (folder / lists_filename(name)).is_file()}
                for key, (folder, record) in self.records().items()}

    def compared(self, replicates: int = REPLICATES, seed: int = SEED) -> list[dict[str, Any]]:
        """The comparisons the records' rank and lists files give (:func:`.compare_runs`)."""
        return compare_runs(self.ranks(), replicates, seed, self.user_lists())

    def comparisons(self) -> list[dict[str, Any]]:
        return read_json(self.folder / COMPARISONS)

    def comparisons_under(self, protocol: str = "full", metric: str = "NDCG@10",
                          baselines: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The comparisons under one protocol and metric, against ``baselines`` only when
        given: what one table or figure shows."""
        wanted = None if baselines is None else set(baselines)
        return [row for row in self.comparisons()
                if (row["protocol"], row["metric"]) == (protocol, metric)
                and (wanted is None or row["baseline"] in wanted)]

    def measurement(self, name: str) -> dict[str, Any]:
        """A measurement kept beside the runs (one of ``MEASUREMENTS``)."""
        path = self.folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing; it is written by the tool that "
                                    "measures it (benchmarks/demo_band.py for cpu_band.json, "
                                    "llmemb report --split-gap for split_gap.json, llmemb "
                                    "report --neighbours for neighbours.json, llmemb "
                                    "report --views for views.json, "
                                    "benchmarks/demo_time.py for demo_time.json)")
        return read_json(path)
