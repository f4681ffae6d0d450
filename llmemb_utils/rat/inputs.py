"""The two inputs of RAT, checked against the dataset through their manifests
(:mod:`llmemb_utils.pipeline` builds them for notebooks):

- the **LLM item table**: a ``.npy`` written by ``llmemb embed`` (row i - 1 = item id i) with
  its JSON sidecar; ``scft`` tables come from a LoRA adapter, ``raw`` ones from the LLM as is;
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
from ..io import MANIFEST, fingerprint, read_json, sha256_file
from ..srs.checkpoints import ITEM_TABLE
from ..srs.run import RUN_KIND

EMBEDDINGS_KIND = "item-embeddings"
TEACHER_BACKBONE = "sasrec"


@dataclass(frozen=True)
class LLMTable:
    vectors: np.ndarray  # (N, H), row i - 1 = item id i
    kind: str  # scft | raw
    reference: dict[str, Any]  # path, checksum and manifest, recorded by runs


@dataclass(frozen=True)
class Teacher:
    table: np.ndarray  # (N + 1, d), row 0 padding
    reference: dict[str, Any]


def load_llm_table(path: str | Path, dataset: PreparedDataset, expect: str) -> LLMTable:
    """The table at ``path``, refused unless its sidecar manifest names this dataset, its
    checksum matches and it holds ``expect`` (scft | raw) embeddings."""
    path = Path(path)
    sidecar = path.with_suffix(".json")
    if not path.is_file() or not sidecar.is_file():
        raise FileNotFoundError(f"{path}: LLM item table or its {sidecar.name} manifest not "
                                "found (write them with `llmemb embed`)")
    manifest = read_json(sidecar)
    if manifest.get("kind") != EMBEDDINGS_KIND:
        raise ValueError(f"{sidecar}: kind is {manifest.get('kind')!r}, "
                         f"expected {EMBEDDINGS_KIND!r}")
    if fingerprint(manifest["inputs"]["data"]) != dataset.fingerprint:
        raise ValueError(f"{path} embeds the items of another dataset than {dataset.path}")
    checksum = sha256_file(path)
    if manifest["files"].get(path.name) != checksum:
        raise ValueError(f"{path} does not match the checksum in {sidecar} (renamed or edited?)")
    kind = "scft" if manifest["config"].get("lora") else "raw"
    if kind != expect:
        raise ValueError(f"{path} holds {kind} embeddings, but rat.embeddings is {expect!r}")
    vectors = np.load(path)
    if vectors.ndim != 2 or len(vectors) != dataset.num_items:
        raise ValueError(f"{path}: shape {vectors.shape}, expected ({dataset.num_items}, H)")
    return LLMTable(vectors, kind, {"path": str(path.resolve()), "sha256": checksum,
                                    "manifest": manifest})


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
