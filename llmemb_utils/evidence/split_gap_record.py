"""The validation-test gap of an experiment's recorded runs (:mod:`..eval.split_gap`), kept
beside the records as ``split_gap.json`` so that documents render it instead of quoting it.
Measured with ``llmemb report --split-gap results/<experiment>`` where the runs' folders are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data.dataset import PreparedDataset
from ..io import read_json, write_json
from ..layout import repo_root
from .records import HEADLINE_METRICS, SPLIT_GAP, Experiment


def measure_split_gap(folder: str | Path, command: str) -> Path:
    """Write ``folder/split_gap.json``: per model (its recorded runs over seeds) validation and
    test NDCG@10 of the best models for all users, tied users and users whose test item comes
    later, with the paired interval of validation / test, and the held-out targets' median
    training popularity."""
    from ..eval.split_gap import held_out_popularity, split_gap, tied_held_out_items

    experiment = Experiment(Path(folder))
    models: dict[str, list[Path]] = {}
    data: set[str] = set()
    for (backbone, model, _), (record_folder, record) in experiment.records().items():
        models.setdefault(f"{model}-{backbone}", []).append(_source(record, record_folder))
        data.add(read_json(record_folder / HEADLINE_METRICS)["inputs"]["data"]["path"])
    if len(data) != 1:
        raise ValueError(f"{folder}: the runs were trained on {len(data)} datasets; the "
                         "split gap compares runs of one dataset")
    dataset = PreparedDataset.load(data.pop())
    gap = split_gap(models, dataset)
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for name, row in gap.iterrows():
        for (group, key), value in row.items():
            table.setdefault(str(name), {}).setdefault(group, {})[key] = (
                None if value != value else float(value))  # NaN: no users, or a zero test
    popularity = held_out_popularity(dataset, tied_held_out_items(dataset))
    out = experiment.folder / SPLIT_GAP
    write_json(out, {"command": command, "metric": "NDCG@10", "models": table,
                     "median_training_interactions": popularity.T.to_dict()})
    return out


def _source(record: dict[str, Any], record_folder: Path) -> Path:
    source = Path(record["source"])
    source = source if source.is_absolute() else repo_root() / source
    if not (source / "best.pt").is_file():
        raise FileNotFoundError(f"{record_folder / 'run.json'}: its run folder {source} is not "
                                "here (the split gap re-scores each run's best model)")
    return source
