"""Item embeddings by model name, cached on disk by model, adapter, prompts and settings."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__, assets
from ..config import ExperimentConfig
from ..data.dataset import PreparedDataset
from ..io import make_manifest, read_json, sha256_file, write_json
from .extract import extract
from .item_table import EMBEDDINGS_KIND
from .lora import ADAPTER_INFO, adapter_checksum, load_adapter
from .models import default_device, load_model, precision
from .pca import reduce
from .processes import process_state


def cache_key(model: str, lora: str | Path | None, prompts: Sequence[str], pooling: str,
              dtype: str, max_tokens: int, load_in_4bit: str, device: str) -> str:
    """Hex key of one extraction: model name, adapter weights, prompts and settings, with the
    precision actually computed in on ``device`` (:func:`.models.precision`: 4-bit or not,
    the resolved dtype), since each changes the vectors."""
    prompts_digest = hashlib.sha256("\n\0".join(prompts).encode()).hexdigest()
    payload = {"model": model, "adapter": adapter_checksum(lora), "prompts": prompts_digest,
               "pooling": pooling, "precision": precision(dtype, load_in_4bit, device),
               "device": device, "max_tokens": max_tokens, "version": __version__}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def embed_items(prompts: Sequence[str], model: str, lora: str | Path | None = None,
                pooling: str = "mean", dtype: str = "auto", load_in_4bit: str = "auto",
                max_tokens: int = 1024, batch_size: int = 32, cache: bool = True,
                progress: bool = True) -> np.ndarray:
    """Embeddings (N, H) float32 of ``prompts`` by ``model`` (+ LoRA adapter), memory-mapped.

    Results live in ``<cache>/embeddings/<key>.npy`` and are reused when the same model,
    adapter weights, prompts and settings are asked for again.
    """
    key = cache_key(model, lora, prompts, pooling, dtype, max_tokens, load_in_4bit,
                    default_device())
    path = assets.cache_dir() / "embeddings" / f"{key}.npy"
    if cache and path.is_file():
        return np.load(path, mmap_mode="r")
    llm, tokenizer = load_model(model, dtype, load_in_4bit)
    if lora is not None:
        llm = load_adapter(llm, lora, model)
    partial = path.with_name(f"{key}.partial.npy")
    extract(llm, tokenizer, prompts, partial, pooling, batch_size, max_tokens, progress)
    state = process_state()
    if state.is_main_process:
        partial.replace(path)
    state.wait_for_everyone()
    return np.load(path, mmap_mode="r")


def check_pca_width(pca_dim: int | None, width: int, model: str) -> None:
    """Refuse a PCA wider than the model's embeddings, naming the field to change: a sentence
    encoder (all-MiniLM-L6-v2: 384) is narrower than the paper's 1536 components."""
    if pca_dim is not None and pca_dim > width:
        raise ValueError(f"embed.pca_dim is {pca_dim}, wider than the {width}-wide embeddings of "
                         f"llm.model {model!r}: set embed.pca_dim to at most {width}, or to none "
                         "to keep the model's width")


def save_item_embeddings(vectors: np.ndarray, out: str | Path, settings: dict[str, Any],
                         dataset: PreparedDataset, lora: str | Path | None = None,
                         seed: int = 42) -> Path:
    """Write the item table to ``out`` (.npy, row i-1 = item id i), PCA-reduced when
    ``settings["pca_dim"]`` is set, with a ``<out>.json`` manifest sidecar."""
    out = Path(out)
    if len(vectors) != dataset.num_items:
        raise ValueError(f"{len(vectors)} embeddings for {dataset.num_items} items of "
                         f"{dataset.path}")
    table = vectors
    explained = None
    if settings.get("pca_dim") is not None:
        check_pca_width(settings["pca_dim"], vectors.shape[1], settings["model"])
        reduced = reduce(vectors, settings["pca_dim"], seed)
        table, explained = reduced.vectors, reduced.explained_variance_ratio
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, np.asarray(table, dtype=np.float32))
    inputs: dict[str, Any] = {"data": dataset.manifest}
    if lora is not None:
        inputs["adapter"] = read_json(Path(lora) / ADAPTER_INFO)
    manifest = make_manifest(EMBEDDINGS_KIND, {**settings, "lora": str(lora) if lora else None},
                             seed, files={out.name: sha256_file(out)}, inputs=inputs)
    manifest["shape"] = list(table.shape)
    if explained is not None:
        manifest["explained_variance_ratio"] = explained.tolist()
    write_json(out.with_suffix(".json"), manifest)
    return out


def embedder(config: ExperimentConfig, adapter: str | Path | None = None,
             progress: bool = True) -> Callable[[Sequence[str]], np.ndarray]:
    """prompts -> (n, H) pooled LLM embeddings with the config's model (+ adapter), cached."""
    llm = config.llm
    return functools.partial(embed_items, model=llm.model, lora=adapter, pooling=llm.pooling,
                             dtype=llm.dtype, load_in_4bit=llm.load_in_4bit,
                             max_tokens=llm.max_tokens, batch_size=config.embed.batch_size,
                             progress=progress)


def table_settings(config: ExperimentConfig, adapter: str | Path | None) -> dict[str, Any]:
    """What an item table written from ``config`` (+ ``adapter``) holds, as its manifest
    records it: the model, the adapter and its weights' checksum, pooling, dtype and the
    precision it computes in here, length and PCA width."""
    llm = config.llm
    return {"model": llm.model, "lora": str(adapter) if adapter else None,
            "adapter_sha256": adapter_checksum(adapter), "pooling": llm.pooling,
            "dtype": llm.dtype, "precision": precision(llm.dtype, llm.load_in_4bit),
            "max_tokens": llm.max_tokens, "pca_dim": config.embed.pca_dim}


def same_table(recorded: dict[str, Any], settings: dict[str, Any]) -> bool:
    """Whether a table's recorded settings are ``settings``, wherever its adapter folder was
    (the adapter is identified by its checksum)."""
    def identity(values: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in values.items() if key != "lora"}

    return identity(recorded) == identity(settings)


def write_item_table(config: ExperimentConfig, dataset: PreparedDataset,
                     adapter: str | Path | None, out: str | Path,
                     progress: bool = True) -> Path:
    """Embed every item prompt of ``dataset`` with ``config``'s LLM settings (+ ``adapter``)
    and write the table (PCA-reduced to ``embed.pca_dim`` when set) with its manifest."""
    vectors = embedder(config, adapter, progress)(dataset.prompts)
    return save_item_embeddings(vectors, out, table_settings(config, adapter), dataset, adapter,
                                config.seed)
