"""Training the study: every run of the plan through :mod:`llmemb_utils.pipeline`, so that runs
land in the folders notebooks 03 and 04 use and are shared with them, and are reused when
already finished. What the LLMEmb runs read, the LLM tables and their ID-SASRec teachers, is
built before them."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from tqdm.auto import tqdm

from ..config import ExperimentConfig
from ..data.dataset import PreparedDataset
from .plan import RunSpec, TableKey, plan, spec_config, table_key
from .scheduling import default_workers, schedule

# CPU seconds per epoch relative to SASRec's, measured (Caser on the Scientific catalogue)
EPOCH_COST = {"bert4rec": 1.8, "sasrec": 1.0, "gru4rec": 0.8, "caser": 0.7}


def train_run(config: ExperimentConfig, data: PreparedDataset, spec: RunSpec,
              tables: dict[TableKey, Path] | None = None) -> Path:
    """The run folder of ``spec``, trained unless it is already finished."""
    from .. import pipeline

    run_config = spec_config(config, spec, tables)
    if spec.encoder == "id":
        return pipeline.srs_run(run_config, data)
    return pipeline.rat_run(run_config, data, progress=False)


def run_study(config: ExperimentConfig, data: PreparedDataset, workers: int | None = None,
              progress: bool = True) -> dict[RunSpec, Path]:
    """Train (or reuse) every run of ``config.study``; returns run folders in plan order."""
    from .. import pipeline
    from ..rat import effective_settings

    specs = plan(config.study)
    configs = {spec: spec_config(config, spec) for spec in specs if spec.encoder == "llmemb"}
    settings = {spec: effective_settings(run.rat) for spec, run in configs.items()}
    sources = {table_key(run.rat): dataclasses.replace(config, scft=run.scft)
               for run in configs.values()}  # the SCFT settings each table is trained with
    tables = {(kind, seed, recipe): pipeline.llm_table_file(
                  sources[kind, seed, recipe], data, kind, progress, seed, recipe)
              for kind, seed, recipe in sorted(sources, key=str)}  # each built once
    needs = {spec: {RunSpec("sasrec", "id", spec.seed)}
             if spec in settings and settings[spec].alpha > 0 else set() for spec in specs}
    folders: dict[RunSpec, Path] = {}
    train = functools.partial(_train_in_worker, config, data.path, tables)
    with tqdm(total=len(specs), desc="study runs", disable=not progress) as bar:
        for spec, folder in schedule(train, specs, needs, workers or default_workers(),
                                     _epoch_cost):
            folders[spec] = folder
            bar.set_postfix_str(str(spec))
            bar.update()
    return {spec: folders[spec] for spec in specs}


def _epoch_cost(spec: RunSpec) -> float:
    return EPOCH_COST.get(spec.backbone, 1.0)


def _train_in_worker(config: ExperimentConfig, data_path: Path,
                     tables: dict[TableKey, Path], spec: RunSpec) -> Path:
    return train_run(config, PreparedDataset.load(data_path), spec, tables)
