"""Reading an LLM item table that ``llmemb embed`` wrote: a ``.npy`` (row i - 1 = item id i)
with its JSON sidecar manifest, checked against the dataset before use. RAT reads the table
it adapts through here, and the evaluation its fixed diversity ruler (the raw table)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dataset import PreparedDataset
from ..io import fingerprint, read_json, sha256_file

EMBEDDINGS_KIND = "item-embeddings"


@dataclass(frozen=True)
class LLMTable:
    vectors: np.ndarray  # (N, H), row i - 1 = item id i
    kind: str  # scft | raw
    reference: dict[str, Any]  # path, checksum and manifest, recorded by runs


def embeddings_kind(manifest: dict) -> str:
    """``scft`` for a table embedded through a LoRA adapter, ``raw`` for the LLM as is."""
    return "scft" if manifest["config"].get("lora") else "raw"


def load_llm_table(path: str | Path, dataset: PreparedDataset, expect: str) -> LLMTable:
    """The table at ``path``, refused unless its sidecar manifest names this dataset, its
    checksum matches and it holds ``expect`` (scft | raw) embeddings: ``scft`` tables come
    from a LoRA adapter, ``raw`` ones from the LLM as is."""
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
    kind = embeddings_kind(manifest)
    if kind != expect:
        raise ValueError(f"{path} holds {kind} embeddings, but rat.embeddings is {expect!r}")
    vectors = np.load(path)
    if vectors.ndim != 2 or len(vectors) != dataset.num_items:
        raise ValueError(f"{path}: shape {vectors.shape}, expected ({dataset.num_items}, H)")
    return LLMTable(vectors, kind, {"path": str(path.resolve()), "sha256": checksum,
                                    "manifest": manifest})
