"""How recognisable each LLM table behind an experiment's runs keeps an item when part of its
prompt is dropped, kept beside the records as ``views.json`` so that documents render it.
Measured with ``llmemb report --views results/<experiment>`` on the machine that holds the
tables and their LoRA adapters.

Each table's model (with its adapter) embeds two views of every item that each drop
``HELD_OUT_DROP`` of the item's attributes, drawn with another seed than any SCFT run's
(:func:`..llm.diagnostics.embedding_report`): the paper's drop ratio for every table, so that
tables tuned with other ratios, or not tuned, are measured with one ruler. View retrieval is
the share of views whose nearest view among all items' other views is the same item's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..io import read_json, write_json
from ..llm.diagnostics import embedding_report
from ..llm.embed import embed_items
from ..llm.lora import ADAPTER_WEIGHTS, adapter_checksum
from ..llm.models import precision
from .neighbours_record import LLMTableFile, llm_tables, recorded_dataset
from .records import HELD_OUT_VIEWS, Experiment

HELD_OUT_DROP = 0.4  # the paper's attribute-drop ratio
VIEW_SEED = 42  # embedding_report draws the views with this seed + 1; SCFT's fixed views use 42


def measure_views(folder: str | Path, command: str, items: int | None = None) -> Path:
    """Write ``folder/views.json``: for each LLM table the records name and the raw table,
    the measures of :func:`embedding_report` on the first ``items`` items (all by default);
    a table that cannot be measured here is listed under ``missing`` with the reason."""
    experiment = Experiment(Path(folder))
    dataset = recorded_dataset(experiment)
    prompts = dataset.prompts[:items]
    measured, missing = [], []
    for table in llm_tables(experiment):
        described = {"name": table.name, "path": str(table.path),
                     "embeddings": table.embeddings}
        try:
            table.read(dataset)  # the file the runs read, or the reason it is not
            report = embedding_report(table_embedder(table), prompts, HELD_OUT_DROP, VIEW_SEED)
            measured.append({**described, **report})
        except (FileNotFoundError, ValueError) as reason:
            missing.append({**described, "reason": str(reason)})
    out = experiment.folder / HELD_OUT_VIEWS
    write_json(out, {"command": command, "items": len(prompts), "drop_ratio": HELD_OUT_DROP,
                     "view_seed": VIEW_SEED + 1, "tables": measured, "missing": missing})
    return out


def table_embedder(table: LLMTableFile) -> Callable[[Sequence[str]], np.ndarray]:
    """Prompts -> embeddings by the model and adapter that wrote ``table``, as its manifest
    records them; refused when the adapter's weights are not the ones recorded, or when this
    machine would compute in another precision than the table was written in."""
    sidecar = table.path.with_suffix(".json")
    if not sidecar.is_file():
        raise FileNotFoundError(f"{sidecar}: the manifest of {table.path.name} is missing")
    written = read_json(sidecar)["config"]
    lora = written["lora"]
    if lora is not None and not (Path(lora) / ADAPTER_WEIGHTS).is_file():
        raise FileNotFoundError(f"{lora}: the LoRA adapter {table.path.name} was written with "
                                "is not on this machine")
    if adapter_checksum(lora) != written["adapter_sha256"]:
        raise ValueError(f"{lora}: not the adapter {table.path.name} was written with (its "
                         "weights' checksum differs from the table's manifest)")
    here = precision(written["dtype"], "auto")
    if here != written["precision"]:
        raise ValueError(f"{table.path}: written in {written['precision']}, this machine "
                         f"computes in {here}")
    return functools.partial(embed_items, model=written["model"], lora=lora,
                             pooling=written["pooling"], dtype=written["dtype"],
                             max_tokens=written["max_tokens"], progress=False)
