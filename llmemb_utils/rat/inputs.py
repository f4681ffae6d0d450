"""The two inputs of RAT, checked against the dataset through their manifests
(:mod:`llmemb_utils.pipeline` builds them for notebooks):

- the **LLM item table**: a ``.npy`` written by ``llmemb embed`` (row i - 1 = item id i) with
  its JSON sidecar, read by :func:`llmemb_utils.llm.item_table.load_llm_table`;
- the **teacher**: a finished ``llmemb train`` run of an ID-SASRec on the same data. Its
  ``item_table.npy`` is the best validation epoch's, trained on the training split only
  (validation picks the epoch, the test split is never seen).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dataset import PreparedDataset
from ..io import MANIFEST, read_json, sha256_file
from ..srs.checkpoints import ITEM_TABLE
from ..srs.run import RUN_KIND

TEACHER_BACKBONE = "sasrec"


@dataclass(frozen=True)
class Teacher:
    table: np.ndarray  # (N + 1, d), row 0 padding
    reference: dict[str, Any]


def load_teacher(folder: str | Path, dataset: PreparedDataset, hidden: int) -> Teacher:
    """The item table of the finished ID-SASRec run in ``folder``, refused unless it was
    trained on ``dataset`` and is ``hidden`` wide."""
    folder = Path(folder)
    manifest = read_json(folder / MANIFEST)
    if manifest.get("kind") != RUN_KIND:
        raise ValueError(f"{folder}: not an `llmemb train` run (kind {manifest.get('kind')!r})")
    identity = manifest["identity"]
    if identity["data"] != dataset.fingerprint:
        raise ValueError(f"teacher {folder} was trained on other data (fingerprint "
                         f"{identity['data']}, this dataset {dataset.fingerprint})")
    trained = (manifest["encoder"], identity["srs"]["backbone"])
    if trained != ("id", TEACHER_BACKBONE):
        raise ValueError(f"teacher {folder} is an {trained[0]}-{trained[1]} run; the "
                         f"teacher must be an id-{TEACHER_BACKBONE} run")
    if not (folder / "metrics.json").is_file():
        raise ValueError(f"teacher {folder} has not finished training (no metrics.json)")
    table = np.load(folder / ITEM_TABLE)
    if table.shape != (dataset.num_items + 1, hidden):
        raise ValueError(f"teacher table {folder / ITEM_TABLE}: shape {table.shape}, expected "
                         f"({dataset.num_items + 1}, {hidden}) (srs.hidden)")
    return Teacher(table, {"path": str(folder.resolve()),
                           "sha256": sha256_file(folder / ITEM_TABLE),
                           "seed": manifest["seed"], "manifest": manifest})
