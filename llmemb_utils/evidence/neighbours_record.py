"""The neighbourhoods (:mod:`.neighbours`) of an experiment's item tables, kept beside the
records as ``neighbours.json`` so that documents render them instead of quoting them.
Measured with ``llmemb report --neighbours results/<experiment>`` on the machine that holds
the tables.

Tables measured: every LLM table a recorded LLMEmb run read (its ``metrics.json`` names the
file and its checksum), the raw LLM table of the experiment's layout when it is there, and the
item vectors (``item_table.npy``) of each seed-42 SASRec run. The raw table is looked for in
the experiment's layout (``RunLayout``), then beside the tables the runs read. A table that is
not on the machine, or is not the file the records name, is listed under ``missing`` with the
reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ExperimentConfig
from ..data.dataset import PreparedDataset
from ..geometry import uniformity
from ..io import read_json, write_json
from ..layout import RunLayout, from_root
from ..llm.item_table import embeddings_kind, load_llm_table
from ..srs.checkpoints import ITEM_TABLE
from .neighbours import K, attribute_class, neighbourhoods
from .records import HEADLINE_METRICS, NEIGHBOURS, RUNS, Experiment

LLM_TABLE, ITEM_VECTORS = "LLM table", "item vectors"
DEFAULT_ATTRIBUTES = {"movielens": "genres"}  # other domains: categories
MEASURED_RUNS = ("sasrec", 42)  # backbone and seed of the runs whose item vectors are measured


@dataclass(frozen=True)
class LLMTableFile:
    """An LLM table a run read (``sha256`` as its records name it) or the layout's raw one."""

    name: str
    path: Path
    embeddings: str  # scft | raw
    sha256: str | None = None
    kind = LLM_TABLE
    model = backbone = None

    def read(self, dataset: PreparedDataset) -> np.ndarray:
        """Its rows, or the reason it cannot be measured."""
        table = load_llm_table(self.path, dataset, self.embeddings)
        if self.sha256 is not None and table.reference["sha256"] != self.sha256:
            raise ValueError(f"{self.path}: not the file the runs read (its checksum differs "
                             "from the one their metrics.json records)")
        return table.vectors


@dataclass(frozen=True)
class RunItemVectors:
    """The best model's scoring vectors of a recorded run, in its run folder."""

    name: str
    model: str
    backbone: str
    run: Path
    uniformity: float  # as its record names it (run.json ``item_table_uniformity``)
    kind = ITEM_VECTORS

    @property
    def path(self) -> Path:
        return self.run / ITEM_TABLE

    def read(self, dataset: PreparedDataset) -> np.ndarray:
        """Its item rows, or the reason it cannot be measured: a run trained again since it
        was recorded has other vectors, which its overall uniformity tells."""
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: not found (the run folder of "
                                    f"{self.name})")
        rows = _item_rows(np.load(self.path), dataset.num_items, self.path)
        found = uniformity(rows)
        if not np.isclose(found, self.uniformity, rtol=1e-9, atol=0.0):
            raise ValueError(f"{self.path}: not the vectors recorded for {self.name} (overall "
                             f"uniformity {found:.6f}, its run.json records "
                             f"{self.uniformity:.6f})")
        return rows


def measure_neighbours(folder: str | Path, command: str, attribute: str | None = None,
                       extra_tables: Sequence[str | Path] = ()) -> Path:
    """Write ``folder/neighbours.json``: per table found (module docstring), and per LLM table
    of ``extra_tables`` (another generator's, say, of the same dataset), the measures of
    :func:`.neighbours.neighbourhoods` on tail and head items, with attribute classes read
    from ``attribute`` of the prompts (default: ``genres`` for MovieLens, else
    ``categories``)."""
    experiment = Experiment(Path(folder))
    dataset = recorded_dataset(experiment)
    attribute = attribute or DEFAULT_ATTRIBUTES.get(dataset.manifest["config"]["domain"],
                                                    "categories")
    classes = [attribute_class(prompt, attribute) for prompt in dataset.prompts]
    if all(label is None for label in classes):
        raise ValueError(f"{dataset.path / 'prompts.jsonl'}: no prompt has the attribute "
                         f"{attribute!r} (--attribute names it)")
    is_head = dataset.is_head_item(np.arange(1, dataset.num_items + 1))
    measured, missing = [], []
    for table in [*_tables(experiment), *map(_extra_table, extra_tables)]:
        described = {"name": table.name, "kind": table.kind, "path": str(table.path),
                     "model": table.model, "backbone": table.backbone}
        try:
            measured.append({**described, **neighbourhoods(table.read(dataset), is_head,
                                                           classes)})
        except (FileNotFoundError, ValueError) as reason:
            missing.append({**described, "reason": str(reason)})
    out = experiment.folder / NEIGHBOURS
    write_json(out, {"command": command, "attribute": attribute, "k": K, "tables": measured,
                     "missing": missing})
    return out


def recorded_dataset(experiment: Experiment) -> PreparedDataset:
    """The one prepared dataset the recorded runs were trained on."""
    if not experiment.records():
        raise FileNotFoundError(f"{experiment.folder / RUNS}: no run is recorded there; write "
                                "the records with `llmemb report --write`")
    data = {(inputs["path"], inputs["fingerprint"]) for inputs in (
        read_json(folder / HEADLINE_METRICS)["inputs"]["data"]
        for folder, _ in experiment.records().values())}
    if len(data) != 1:
        raise ValueError(f"{experiment.folder}: the runs were trained on {len(data)} datasets; "
                         "the neighbourhoods compare the tables of one dataset")
    path, recorded = data.pop()
    dataset = PreparedDataset.load(path)
    if dataset.fingerprint != recorded:
        raise ValueError(f"{dataset.path}: dataset fingerprint {dataset.fingerprint} differs "
                         f"from the one the runs of {experiment.folder} were trained on "
                         f"({recorded})")
    return dataset


def llm_tables(experiment: Experiment) -> list[LLMTableFile]:
    """The LLM tables the records name, then the raw table, each once."""
    return [table for table in _tables(experiment) if isinstance(table, LLMTableFile)]


def _tables(experiment: Experiment) -> list[LLMTableFile | RunItemVectors]:
    """The LLM tables the records name, the raw table, then the measured runs' item vectors;
    each table once."""
    tables: dict[str, LLMTableFile] = {}
    runs, configs = [], []
    for (backbone, model, seed), (folder, record) in experiment.records().items():
        encoder = read_json(folder / HEADLINE_METRICS)["inputs"]["encoder"]
        if encoder.get("llm_table"):
            path = Path(encoder["llm_table"]["path"])
            tables.setdefault(path.name, LLMTableFile(path.name, path,
                                                      encoder["rat"]["embeddings"],
                                                      encoder["llm_table"]["sha256"]))
            configs.append(record["settings"])
        if (backbone, seed) == MEASURED_RUNS:
            runs.append(RunItemVectors(folder.name, model, backbone,
                                       from_root(record["source"]),
                                       record["item_table_uniformity"]["overall"]))
    raw = _raw_table([RunLayout(ExperimentConfig(name=config["name"],
                                                 artifacts=config["artifacts"]))
                      for config in configs], [table.path for table in tables.values()])
    if raw is not None:
        tables.setdefault(raw.name, LLMTableFile(raw.name, raw, "raw"))
    return [*tables.values(), *runs]


def _extra_table(path: str | Path) -> LLMTableFile:
    """An LLM table named by its generator and file, e.g. ``all-minilm-l6-v2/raw.npy``."""
    path = Path(path)
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        raise FileNotFoundError(f"{sidecar}: the manifest of {path} is missing (write the table "
                                "with `llmemb embed`)")
    manifest = read_json(sidecar)
    return LLMTableFile(f"{manifest['config']['model']}/{path.name}", path,
                        embeddings_kind(manifest))


def _raw_table(layouts: list[RunLayout], read: list[Path]) -> Path | None:
    """Where the raw LLM table is: in the experiment's layout or beside the tables the runs
    read (the layout of the machine that trained them), the first found, else the layout's
    (None without an LLM table)."""
    candidates = list(dict.fromkeys(layout.llm_table("raw") for layout in layouts))
    if not candidates:
        return None
    candidates += [path.with_name(candidates[0].name) for path in read]
    return next((path for path in candidates if path.is_file()), candidates[0])


def _item_rows(vectors: np.ndarray, num_items: int, path: Path) -> np.ndarray:
    """Rows of item ids 1..N: all of them, or all but a leading padding row."""
    if vectors.ndim == 2 and len(vectors) in (num_items, num_items + 1):
        return vectors[len(vectors) - num_items:]
    raise ValueError(f"{path}: shape {vectors.shape}, expected ({num_items} items, width), "
                     "with or without a padding row 0")


def summary(record: dict[str, Any]) -> str:
    """What ``llmemb report --neighbours`` prints: the tables measured and those skipped."""
    names = [table["name"] for table in record["tables"]]
    lines = [f"measured {len(names)} table(s)" + (f": {', '.join(names)}" if names else "")]
    lines += [f"skipped {table['name']}: {table['reason']}" for table in record["missing"]]
    return "\n".join(lines)
