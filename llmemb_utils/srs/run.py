"""A training run folder, end to end: train (or resume), export the item table, evaluate.

Folder layout::

    manifest.json          kind, config, encoder, data fingerprint (what identifies the run)
    config.yaml            the full experiment config, reloadable with ``load_config``
    train_log.json         one record per epoch: losses, validation metrics, timings
                           (each metrics file sums it up under ``training``: epochs run, best
                           epoch, and whether the patience rule stopped it or the cap did)
    last.pt / best.pt      resume state / weights of the best validation epoch
    item_table.npy         (N + 1, d) item vectors of the best model, row 0 padding
    metrics.json           test metrics, full ranking as srs.exclude_history says
                           (docs/design.md §4.7), with what the top-10 lists show
                           (``beyond_accuracy``, :mod:`..eval.beyond`), and the environment
    metrics_sampled.json   test metrics, paper-compatible 100-negative protocol
    ranks.npz, ranks_sampled.npz   per-user rank counts behind each metrics file
    beyond.npz             per-user top-10 lists and beyond-accuracy values behind the
                           ``beyond_accuracy`` section (:mod:`..evidence.user_lists`)
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from ..config import ExperimentConfig, load_config
from ..data.dataset import PreparedDataset
from ..eval.beyond import TOP_K, beyond_accuracy
from ..eval.evaluate import rank_counts, summarize, top_k_lists
from ..eval.metrics import expected_metrics
from ..eval.protocol import Protocol
from ..evidence.environment import environment
from ..evidence.ranks import UserRanks, ranks_filename
from ..evidence.user_lists import UserLists, lists_filename
from ..io import MANIFEST, kit_relative, make_manifest, read_json, write_json
from ..layout import RunLayout
from ..llm.item_table import LLMTable, load_llm_table
from .backbones import build_backbone
from .checkpoints import BEST, ITEM_TABLE, LOG, check_same_run, load_checkpoint
from .encoders import build_encoder
from .inference import user_states
from .model import SequentialRecommender
from .trainer import Trainer, convergence, warn_if_unconverged

RUN_KIND = "srs-run"
CONFIG = "config.yaml"
PROTOCOLS = ("full", "sampled")
EXTENDABLE = ("epochs", "patience")  # may grow when resuming: the trajectory is the same


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def build_model(config: ExperimentConfig, dataset: PreparedDataset,
                encoder: str) -> SequentialRecommender:
    return SequentialRecommender(build_encoder(encoder, dataset, config),
                                 build_backbone(config.srs), config.srs.loss)


def run_identity(config: ExperimentConfig, model: SequentialRecommender,
                 dataset: PreparedDataset) -> dict[str, Any]:
    """What a checkpoint must match to be reused: model config, seed, encoder and data."""
    srs = {k: v for k, v in dataclasses.asdict(config.srs).items() if k not in EXTENDABLE}
    return {"srs": srs, "seed": config.seed, "encoder": model.encoder.describe(),
            "data": dataset.fingerprint, "num_items": dataset.num_items}


def candidate_protocol(name: str, dataset: PreparedDataset,
                       exclude_history: bool = True) -> Protocol:
    """The named protocol, its negatives seeded by the dataset so all runs share them."""
    return Protocol.named(name, seed=int(dataset.manifest.get("seed") or 0),
                          exclude_history=exclude_history)


def train(config: ExperimentConfig, dataset: PreparedDataset, out: str | Path,
          encoder: str = "id", device: str = "auto") -> dict[str, dict[str, Any]]:
    """Train (resuming ``out`` if it holds an interrupted run of the same identity), export
    the item table and write test metrics under both protocols; returns them by protocol."""
    out = Path(out)
    device = resolve_device(device)
    torch.manual_seed(config.seed)
    model = build_model(config, dataset, encoder)
    identity = run_identity(config, model, dataset)
    if (out / MANIFEST).is_file():
        check_same_run(read_json(out / MANIFEST)["identity"], identity, out / MANIFEST)
    manifest = make_manifest(RUN_KIND, config.to_dict(), seed=config.seed,
                             inputs={"data": _data_reference(dataset)})
    write_json(out / MANIFEST, {**manifest, "identity": identity, "encoder": encoder})
    (out / CONFIG).write_text(yaml.safe_dump(json.loads(json.dumps(config.to_dict()))),
                              encoding="utf-8")
    trainer = Trainer(model, dataset, config, out, identity, device)
    trainer.resume()
    warn_if_unconverged(convergence(trainer.fit(), config.srs), out)
    best_epoch = _load_best(model, out, identity, device)
    np.save(out / ITEM_TABLE, model.item_table().detach().cpu().numpy())
    history = config.srs.exclude_history
    return {name: _evaluate_and_write(model, dataset, config,
                                      candidate_protocol(name, dataset, history),
                                      out, best_epoch, device)
            for name in PROTOCOLS}


def evaluate_run(run: str | Path, protocol: str, data: str | Path | None = None,
                 exclude_history: bool | None = None, device: str = "auto") -> dict[str, Any]:
    """Re-evaluate a finished run's best checkpoint on the test split and write its metrics;
    full ranking leaves out the user's earlier items as ``exclude_history`` says (None: as
    the run's ``srs.exclude_history``)."""
    run = Path(run)
    torch_device = resolve_device(device)
    model, config, dataset, best_epoch = load_trained(run, data, torch_device)
    if exclude_history is None:
        exclude_history = config.srs.exclude_history
    chosen = candidate_protocol(protocol, dataset, exclude_history)
    return _evaluate_and_write(model, dataset, config, chosen, run, best_epoch,
                               torch_device)


def load_trained(run: str | Path, data: str | Path | PreparedDataset | None = None,
                 device: torch.device | str = "cpu",
                 ) -> tuple[SequentialRecommender, ExperimentConfig, PreparedDataset, int]:
    """A finished run's best model (eval mode), its config, its dataset (``data``, by default
    the one it was trained on, checked by fingerprint) and its best epoch."""
    run = Path(run)
    manifest = read_json(run / MANIFEST)
    if manifest.get("kind") != RUN_KIND:
        raise ValueError(f"{run / MANIFEST}: kind is {manifest.get('kind')!r}, "
                         f"expected {RUN_KIND!r}")
    config = load_config(run / CONFIG)
    dataset = data if isinstance(data, PreparedDataset) else PreparedDataset.load(
        data or manifest["inputs"]["data"]["path"])
    if dataset.fingerprint != manifest["identity"]["data"]:
        raise ValueError(f"{dataset.path}: dataset fingerprint {dataset.fingerprint} does not "
                         f"match the run's training data {manifest['identity']['data']}")
    device = torch.device(device)
    torch.manual_seed(config.seed)
    model = build_model(config, dataset, manifest["encoder"]).to(device)
    best_epoch = _load_best(model, run, run_identity(config, model, dataset), device)
    return model.eval(), config, dataset, best_epoch


def _data_reference(dataset: PreparedDataset) -> dict[str, Any]:
    return {"path": str(dataset.path.resolve()), "fingerprint": dataset.fingerprint,
            "manifest": dataset.manifest}


def _load_best(model: SequentialRecommender, run: Path, identity: dict[str, Any],
               device: torch.device) -> int:
    state = load_checkpoint(run / BEST, device)
    check_same_run(state["identity"], identity, run / BEST)
    model.load_state_dict(state["model"])
    return int(state["epoch"])


def _evaluate_and_write(model: SequentialRecommender, dataset: PreparedDataset,
                        config: ExperimentConfig, protocol: Protocol, out: Path,
                        best_epoch: int, device: torch.device) -> dict[str, Any]:
    name = metrics_filename(protocol, config.srs.exclude_history)
    states = user_states(model, dataset.history("test"), config.srs.max_length, device)
    with torch.no_grad():
        table = model.item_table()
        counts = rank_counts(states, table, dataset, "test", protocol)
        metrics = summarize(expected_metrics(*counts), dataset, "test", protocol)
        if protocol.candidates == "full":  # what users are shown: their top-K lists
            lists = top_k_lists(states, table, dataset, "test", protocol, TOP_K)
            ruler, why_no_ruler = diversity_ruler(config, dataset)
            metrics["beyond_accuracy"] = beyond_accuracy(lists, dataset, ruler, why_no_ruler)
            UserLists.of_lists(lists, dataset, None if ruler is None else ruler.vectors).save(
                out / lists_filename(name))
    metrics["config"] = config.to_dict()
    metrics["training"] = convergence(read_json(out / LOG), config.srs)
    metrics["inputs"] = {"data": _data_reference(dataset), "encoder": model.encoder.describe(),
                         "checkpoint": {"path": str((out / BEST).resolve()), "epoch": best_epoch}}
    metrics["environment"] = environment()
    trained_in = training_environment(out / name)
    if trained_in is not None:  # a re-evaluation: the code that trained the run stays known
        metrics["training_environment"] = trained_in
    UserRanks.of_split(counts, dataset, "test").save(out / ranks_filename(name))
    write_json(out / name, metrics)
    return metrics


def training_environment(metrics_file: Path) -> dict[str, Any] | None:
    """Where the run behind ``metrics_file`` was trained, when the file already exists (the run
    is being evaluated again): its ``training_environment``, else the environment it was
    written in at the end of training."""
    if not metrics_file.is_file():
        return None
    earlier = read_json(metrics_file)
    return earlier.get("training_environment") or earlier.get("environment")


def diversity_ruler(config: ExperimentConfig,
                    dataset: PreparedDataset) -> tuple[LLMTable | None, str | None]:
    """The experiment's raw LLM item table (``RunLayout.llm_table("raw")``), the one ruler of
    intra-list diversity for every model whatever its encoder; ``(None, why)`` when there is
    no usable one."""
    path = RunLayout(config).llm_table("raw")
    try:
        return load_llm_table(path, dataset, "raw"), None
    except FileNotFoundError:
        return None, (f"no raw LLM item table at {kit_relative(path)} to measure it with "
                      "(`llmemb embed` without --lora writes it)")
    except ValueError as error:
        return None, f"the raw LLM item table is not usable: {error}"


def metrics_filename(protocol: Protocol, headline_excludes_history: bool = True) -> str:
    """``metrics.json`` for the run's headline full ranking (history excluded or not, as
    ``srs.exclude_history`` says), a suffixed name for the others; every file records its
    protocol."""
    if protocol.name == "sampled":
        return "metrics_sampled.json"
    if protocol.exclude_history == headline_excludes_history:
        return "metrics.json"
    return ("metrics_full_exclude_history.json" if protocol.exclude_history
            else "metrics_full_with_history.json")
