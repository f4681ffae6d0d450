"""The study behind notebook 05 and ``llmemb study``: every backbone with an ID and an LLMEmb
item encoder over the configured seeds, and the LLMEmb ablations on SASRec, all trained with
the one ``srs`` budget of the config and reused when already finished.

Runs go through :mod:`.pipeline`, so they land in the folders notebooks 03 and 04 use and are
shared with them. Independent runs train in parallel worker processes, each with an equal
share of the CPU threads (on a 2-core CPU two 1-thread runs finish about 1.5x sooner than one
after the other with 2 threads). What the LLMEmb runs read, the LLM tables and their ID-SASRec
teachers, is built before them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .config import ExperimentConfig, RATConfig, StudyConfig
from .data.dataset import PreparedDataset

RESULTS_FILE = "results.md"
EPOCH_COST = {"bert4rec": 1.8, "sasrec": 1.0, "gru4rec": 0.8}  # measured, relative to SASRec


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of the study: a backbone, an item encoder, a seed and an optional ablation."""

    backbone: str
    encoder: str
    seed: int
    ablation: str | None = None

    def __str__(self) -> str:
        encoder = "ID" if self.encoder == "id" else "LLMEmb"
        ablation = f" ({self.ablation})" if self.ablation else ""
        return f"{encoder}-{self.backbone}{ablation}, seed {self.seed}"


def plan(study: StudyConfig) -> list[RunSpec]:
    """The runs of ``study``: ID runs first (the LLMEmb runs' teachers are the ID-SASRec runs
    of their seeds, added when the grid lacks them), then LLMEmb runs, then ablations."""
    from .srs.backbones import BACKBONES
    from .srs.llmemb import ABLATIONS

    unknown = sorted(set(study.seeds) - set(BACKBONES))
    if unknown:
        raise ValueError(f"study.seeds: unknown backbone(s) {unknown}; known: {sorted(BACKBONES)}")
    bad = sorted(set(study.ablations) - set(ABLATIONS))
    if bad:
        raise ValueError(f"study.ablations: unknown ablation(s) {bad}; known: {sorted(ABLATIONS)}")
    for backbone, seeds in study.seeds.items():
        if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            raise ValueError(f"study.seeds.{backbone}: expected a non-empty list of integer "
                             f"seeds, got {seeds!r}")
    grid = [(backbone, seed) for backbone, seeds in study.seeds.items() for seed in seeds]
    ablations = [RunSpec("sasrec", "llmemb", seed, ablation)
                 for ablation in study.ablations for seed in study.ablation_seeds]
    llmemb = [RunSpec(backbone, "llmemb", seed) for backbone, seed in grid] + ablations
    ids = [RunSpec(backbone, "id", seed) for backbone, seed in grid]
    teachers = [RunSpec("sasrec", "id", seed) for seed in dict.fromkeys(s.seed for s in llmemb)]
    return list(dict.fromkeys(ids + teachers + llmemb))


def grid_overrides(study: StudyConfig, seeds: list[int] | None = None,
                   ablations: list[str] | None = None,
                   backbones: list[str] | None = None) -> dict[str, Any]:
    """Dotted ``load_config`` overrides that change ``study``'s grid: the same ``seeds`` for
    every backbone, only ``backbones``, other ``ablations`` (``["all"]``: every one)."""
    from .srs.llmemb import ABLATIONS

    grid = {backbone: list(seeds or chosen) for backbone, chosen in study.seeds.items()
            if not backbones or backbone in backbones}
    if not grid:
        raise ValueError(f"--backbones {' '.join(backbones)}: none of them is in the "
                         f"config's study.seeds ({', '.join(study.seeds)})")
    overrides: dict[str, Any] = {"study.seeds": grid}
    if ablations is not None:
        overrides["study.ablations"] = sorted(ABLATIONS) if "all" in ablations else ablations
    return overrides


TableKey = tuple[str, int | None]  # the LLM table's kind and its SCFT seed (None: the config's)


def spec_config(config: ExperimentConfig, spec: RunSpec,
                tables: dict[TableKey, Path] | None = None) -> ExperimentConfig:
    """``config`` with the run's seed, backbone and ablation. An SCFT table comes from the
    config's own seed, or with ``study.scft_per_seed`` from an SCFT run on the run's seed;
    ``tables`` (:func:`table_key` -> file) pins the file."""
    from .srs.llmemb import effective_settings

    rat = dataclasses.replace(config.rat, ablation=spec.ablation)
    if (spec.encoder == "llmemb" and config.study.scft_per_seed and spec.seed != config.seed
            and effective_settings(rat).embeddings == "scft"):
        rat.scft_seed = spec.seed
    if tables and spec.encoder == "llmemb":
        rat.llm_emb = str(tables[table_key(rat)])
    return dataclasses.replace(
        config, seed=spec.seed, srs=dataclasses.replace(config.srs, backbone=spec.backbone),
        rat=rat)


def table_key(rat: RATConfig) -> TableKey:
    """The LLM table an LLMEmb run's settings read: its kind and SCFT seed."""
    from .srs.llmemb import effective_settings

    kind = effective_settings(rat).embeddings
    return kind, rat.scft_seed if kind == "scft" else None


def train_run(config: ExperimentConfig, data: PreparedDataset, spec: RunSpec,
              tables: dict[TableKey, Path] | None = None) -> Path:
    """The run folder of ``spec``, trained unless it is already finished."""
    from . import pipeline

    run_config = spec_config(config, spec, tables)
    if spec.encoder == "id":
        return pipeline.srs_run(run_config, data)
    return pipeline.rat_run(run_config, data, progress=False)


def default_workers() -> int:
    """Parallel runs: one per core up to four on a CPU, one on a GPU."""
    import torch

    return 1 if torch.cuda.is_available() else max(1, min(4, os.cpu_count() or 1))


def run_study(config: ExperimentConfig, data: PreparedDataset, workers: int | None = None,
              progress: bool = True) -> dict[RunSpec, Path]:
    """Train (or reuse) every run of ``config.study``; returns run folders in plan order."""
    from . import pipeline
    from .srs.llmemb import effective_settings

    specs = plan(config.study)
    rats = {spec: spec_config(config, spec).rat for spec in specs if spec.encoder == "llmemb"}
    settings = {spec: effective_settings(rat) for spec, rat in rats.items()}
    keys = sorted({table_key(rat) for rat in rats.values()}, key=str)
    tables = {(kind, seed): pipeline.llm_table_file(config, data, kind, progress, seed)
              for kind, seed in keys}  # each built once
    needs = {spec: {RunSpec("sasrec", "id", spec.seed)}
             if spec in settings and settings[spec].alpha > 0 else set() for spec in specs}
    folders: dict[RunSpec, Path] = {}
    train = functools.partial(_train_in_worker, config, data.path, tables)
    with tqdm(total=len(specs), desc="study runs", disable=not progress) as bar:
        for spec, folder in _schedule(train, specs, needs, workers or default_workers()):
            folders[spec] = folder
            bar.set_postfix_str(str(spec))
            bar.update()
    return {spec: folders[spec] for spec in specs}


def _schedule(train: Callable[[RunSpec], Path], specs: list[RunSpec],
              needs: dict[RunSpec, set[RunSpec]],
              workers: int) -> Iterator[tuple[RunSpec, Path]]:
    """Train ``specs`` with up to ``workers`` processes, each once the runs it needs are done:
    teachers first, then the longest runs, so that the workers finish close together."""
    if workers <= 1:
        yield from ((spec, train(spec)) for spec in specs)  # plan order respects ``needs``
        return
    import torch

    needed = set().union(*needs.values())
    order = sorted(specs, key=lambda s: (s not in needed, -EPOCH_COST.get(s.backbone, 1.0)))
    threads = max(1, torch.get_num_threads() // workers)
    context = multiprocessing.get_context("spawn")  # fork after OpenMP use can deadlock
    done: set[RunSpec] = set()
    earlier_children = set(multiprocessing.active_children())
    with _environment(TQDM_DISABLE="1"), ProcessPoolExecutor(  # workers inherit it
            workers, mp_context=context, initializer=torch.set_num_threads,
            initargs=(threads,)) as pool:
        running: dict[Future, RunSpec] = {}
        try:
            while order or running:
                for spec in [s for s in order if needs[s] <= done][:workers - len(running)]:
                    order.remove(spec)
                    running[pool.submit(train, spec)] = spec
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    spec = running.pop(future)
                    done.add(spec)
                    yield spec, future.result()
        except BaseException:  # an error, an interrupted notebook cell, a closed generator
            _stop_workers(pool, earlier_children)
            raise


def _stop_workers(pool: ProcessPoolExecutor, earlier_children: set) -> None:
    """Cancel what has not started and terminate the workers (rather than letting them finish
    their runs, which resume from their checkpoints next time)."""
    pool.shutdown(wait=False, cancel_futures=True)
    for process in set(multiprocessing.active_children()) - earlier_children:
        process.terminate()


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _train_in_worker(config: ExperimentConfig, data_path: Path,
                     tables: dict[TableKey, Path], spec: RunSpec) -> Path:
    return train_run(config, PreparedDataset.load(data_path), spec, tables)


def write_results_table(config: ExperimentConfig, folders: Iterable[Path]) -> tuple[str, Path]:
    """The Markdown table of every run (mean ± std over seeds, each protocol), also written to
    ``<run_dir>/results.md`` where ``make demo`` prints it from."""
    from .eval.results import report_runs
    from .notebook import run_dir

    table = report_runs(folders)
    path = run_dir(config) / RESULTS_FILE
    path.write_text(table + "\n", encoding="utf-8")
    return table, path
