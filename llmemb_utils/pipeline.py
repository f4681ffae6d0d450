"""Stage outputs on demand, for notebooks and the demo.

Each function returns one stage's artifact for an experiment config: it reuses what the run
folder (:class:`~llmemb_utils.layout.RunLayout`) already holds when that was produced from the
same config and inputs, and produces it otherwise. So every notebook can run on its own, and a
second demo run only reads caches.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from .config import ExperimentConfig, RATConfig
from .data.dataset import PreparedDataset
from .io import MANIFEST, read_json
from .layout import RunLayout


def dataset(config: ExperimentConfig) -> PreparedDataset:
    """The prepared dataset of ``config`` (notebook 01's output)."""
    from .data.prepare import prepare

    return prepare(config.data, RunLayout(config).data, seed=config.seed)


def scft_adapter(config: ExperimentConfig, data: PreparedDataset, progress: bool = True,
                 scft_seed: int | None = None, scft_recipe: str | None = None) -> Path:
    """The LoRA adapter of SCFT (notebook 02's output) with the config's seed, or with
    ``scft_seed`` in its own folder (``RunLayout.scft_run``, also named by ``scft_recipe``
    when ``config.scft`` holds a variant's SCFT settings); trained when missing or stale (a
    finished run of the same config and data is reused without loading the model)."""
    from .llm.scft import train_scft

    out = RunLayout(config).scft_run(scft_seed, scft_recipe)
    if scft_seed is not None:
        config = dataclasses.replace(config, seed=scft_seed)
    return train_scft(data.prompts, config, out, progress=progress,
                      inputs={"data": data.manifest}).adapter


def llm_vectors(config: ExperimentConfig, data: PreparedDataset, adapter: Path | None = None,
                progress: bool = True) -> np.ndarray:
    """The (N, H) pooled LLM embeddings of every item prompt, before PCA."""
    from .llm.embed import embedder

    return np.asarray(embedder(config, adapter, progress)(data.prompts))


def llm_table(config: ExperimentConfig, data: PreparedDataset, adapter: Path | None = None,
              progress: bool = True) -> np.ndarray:
    """The (N, d) PCA'd LLM item table, row i - 1 for item id i (raw LLM if no adapter)."""
    from .llm.embed import check_pca_width
    from .llm.pca import reduce

    vectors = llm_vectors(config, data, adapter, progress)
    check_pca_width(config.embed.pca_dim, vectors.shape[1], config.llm.model)
    return reduce(vectors, config.embed.pca_dim, config.seed).vectors


def llm_table_file(config: ExperimentConfig, data: PreparedDataset, kind: str = "scft",
                   progress: bool = True, scft_seed: int | None = None,
                   scft_recipe: str | None = None) -> Path:
    """The LLM item table file RAT reads (``RunLayout.llm_table(kind)`` and its manifest, as
    ``llmemb embed`` writes them): ``scft`` embeds with the SCFT adapter (of the SCFT run
    with ``scft_seed``, default the config's seed, and ``scft_recipe``), ``raw`` without.
    Rewritten when missing or made from other data, model settings, precision, PCA width or
    adapter weights; a table ``llmemb embed`` wrote there with the same settings is reused."""
    from .llm.embed import same_table, table_settings, write_item_table
    from .llm.item_table import load_llm_table

    adapter = (scft_adapter(config, data, progress, scft_seed, scft_recipe) if kind == "scft"
               else None)
    path = RunLayout(config).llm_table(kind, scft_seed, scft_recipe)
    try:
        recorded = load_llm_table(path, data, kind).reference["manifest"]["config"]
        if same_table(recorded, table_settings(config, adapter)):
            return path
    except (FileNotFoundError, ValueError):
        pass
    return write_item_table(config, data, adapter, path, progress)


def view_reports(config: ExperimentConfig, data: PreparedDataset, adapter: Path,
                 items: int | None = None) -> dict[str, dict[str, float]]:
    """Uniformity, view alignment and view retrieval of the first ``items`` items, for the
    raw LLM and the SCFT-adapted one (:func:`llmemb_utils.llm.diagnostics.embedding_report`)."""
    from .llm.diagnostics import embedding_report
    from .llm.embed import embedder

    prompts = data.prompts[:items]
    return {name: embedding_report(embedder(config, lora, progress=False), prompts,
                                   config.scft.drop_ratio, config.seed)
            for name, lora in (("raw LLM", None), ("SCFT LLM", adapter))}


def srs_run(config: ExperimentConfig, data: PreparedDataset, encoder: str = "id") -> Path:
    """A trained recommender run folder (metrics, item table); trained when missing.

    The folder is ``RunLayout.srs_run("<backbone>-<encoder>[-<ablation>]-seed<seed>-<hash>")``, the
    hash naming the run's settings; an interrupted run resumes.
    """
    from . import rat  # noqa: F401  registers the ``llmemb`` encoder
    from .srs.run import train

    out = _srs_folder(config, encoder)
    recorded = read_json(out / MANIFEST)["config"] if (out / "metrics.json").is_file() else None
    if recorded and _run_sections(recorded, encoder) == _run_sections(config.to_dict(), encoder):
        return out
    train(config, data, out, encoder)
    return out


def _run_sections(config: dict, encoder: str) -> dict:
    """What a finished run must match to be reused: its config without the sections that only
    choose runs (``study``) or hold overlays, and without ``rat`` for an ID run. Input files
    are compared by where they resolve to, so that a linked or moved artifacts folder reuses
    its runs instead of re-evaluating them."""
    ignored = {"study", "fast", "gpu"} | ({"rat"} if encoder == "id" else set())
    sections = {k: v for k, v in config.items() if k not in ignored}
    if "rat" in sections:
        sections["rat"] = {k: str(Path(v).resolve()) if k in ("llm_emb", "teacher") and v else v
                           for k, v in sections["rat"].items()}
    return sections


def rat_teacher(config: ExperimentConfig, data: PreparedDataset) -> Path:
    """The ID-SASRec run whose item table is RAT's alignment target, whatever backbone
    ``config`` trains (:func:`srs_run` with the SASRec backbone and default RAT settings)."""
    return srs_run(teacher_config(config), data)


def teacher_config(config: ExperimentConfig) -> ExperimentConfig:
    """The config of ``config``'s ID-SASRec teacher run."""
    return dataclasses.replace(config, srs=dataclasses.replace(config.srs, backbone="sasrec"),
                               rat=RATConfig())


def teacher_folder(config: ExperimentConfig) -> Path:
    """Where :func:`rat_teacher` finds (or trains) the teacher of ``config``."""
    return _srs_folder(teacher_config(config), "id")


def rat_run(config: ExperimentConfig, data: PreparedDataset, progress: bool = True) -> Path:
    """A trained LLMEmb run (notebook 04's output), its inputs built first when missing: the
    LLM table of kind ``rat.embeddings`` and, when ``rat.alpha`` > 0, the teacher."""
    from .rat import effective_settings

    rat = effective_settings(config.rat)
    table = config.rat.llm_emb or str(llm_table_file(config, data, rat.embeddings, progress,
                                                     rat.scft_seed, rat.scft_recipe))
    teacher = config.rat.teacher
    if teacher is None and rat.alpha > 0:
        teacher = str(rat_teacher(config, data))
    inputs = dataclasses.replace(config.rat, llm_emb=table, teacher=teacher)
    return srs_run(dataclasses.replace(config, rat=inputs), data, "llmemb")


def _srs_folder(config: ExperimentConfig, encoder: str) -> Path:
    """``<backbone>-<encoder>[-<ablation or variant>]-seed<seed>-<settings hash>``: runs of
    other settings (say another ``rat.alpha`` or ``srs.epochs``) get folders of their own
    instead of clashing."""
    named = config.rat.ablation or config.rat.variant
    suffix = f"-{named}" if encoder == "llmemb" and named else ""
    settings = {k: v for k, v in _run_sections(config.to_dict(), encoder).items()
                if k not in ("name", "artifacts", "seed")}
    if "rat" in settings:  # input files are checked through their manifests, not their paths
        settings["rat"] = {k: v for k, v in settings["rat"].items()
                           if k not in ("llm_emb", "teacher")}
    tag = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:6]
    return RunLayout(config).srs_run(f"{config.srs.backbone}-{encoder}{suffix}"
                                     f"-seed{config.seed}-{tag}")
