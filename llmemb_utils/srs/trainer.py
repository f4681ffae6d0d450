"""Training loop: seeded epochs, validation NDCG@10 each epoch, early stopping, best and last
checkpoints, resume after interruption, and a JSON log per epoch."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..config import ExperimentConfig, SRSConfig
from ..data.dataset import PreparedDataset
from ..eval.evaluate import per_user_metrics
from ..eval.protocol import Protocol
from ..io import kit_relative, write_json
from .batches import TrainingBatches
from .checkpoints import BEST, LAST, LOG, check_same_run, load_checkpoint, save_checkpoint
from .early_stopping import EarlyStopping
from .inference import user_states
from .model import SequentialRecommender

SELECTION_METRIC = "NDCG@10"


class UnconvergedWarning(UserWarning):
    """Training reached its epoch cap before early stopping could end it."""


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite."""


class Trainer:
    """Trains ``model`` on ``dataset``'s training sequences, writing into ``out``.

    ``identity`` describes the run (config, encoder, data); a checkpoint in ``out`` is resumed
    only if it was written with the same identity.
    """

    def __init__(self, model: SequentialRecommender, dataset: PreparedDataset,
                 config: ExperimentConfig, out: str | Path, identity: dict[str, Any],
                 device: torch.device | str = "cpu") -> None:
        srs = config.srs
        self.model = model.to(device)
        self.dataset = dataset
        self.config = config
        self.out = Path(out)
        self.identity = identity
        self.device = device
        self.batches = training_batches(model, dataset, srs)
        own_rate = model.encoder.parameter_groups()
        grouped = {id(p) for group in own_rate for p in group["params"]}
        trainable = [p for p in model.parameters() if p.requires_grad and id(p) not in grouped]
        self.optimizer = torch.optim.Adam([{"params": trainable}, *own_rate],
                                          lr=srs.learning_rate, weight_decay=srs.weight_decay)
        self.stopper = EarlyStopping(srs.patience, srs.early_stop_window)
        self.rng = np.random.default_rng(config.seed)
        self.log: list[dict[str, Any]] = []
        self.stopped_early = False

    @property
    def epoch(self) -> int:
        return len(self.log)

    def resume(self) -> bool:
        """Continue from ``out``'s last checkpoint if there is one; True if resumed."""
        path = self.out / LAST
        if not path.is_file():
            return False
        state = load_checkpoint(path, self.device)
        check_same_run(state["identity"], self.identity, path)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        # A resumed run may be given more patience: same scores, later stop, same best epoch.
        self.stopper = EarlyStopping.from_state({**state["stopper"],
                                                 "patience": self.config.srs.patience})
        self.rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"].cpu())
        if torch.cuda.is_available() and state.get("cuda_rng"):
            torch.cuda.set_rng_state_all([rng.cpu() for rng in state["cuda_rng"]])
        self.log = state["log"]
        self.stopped_early = self.stopper.should_stop
        return True

    def fit(self) -> list[dict[str, Any]]:
        """Train until early stopping or ``srs.epochs``; returns the per-epoch log."""
        while not self.stopped_early and self.epoch < self.config.srs.epochs:
            started, cpu_started = time.perf_counter(), time.process_time()
            losses = self.train_epoch(self.epoch + 1)
            trained = time.perf_counter()
            valid = self.validate()
            improved = self.stopper.update(valid[SELECTION_METRIC])
            if improved:
                save_checkpoint(self.out / BEST, {"identity": self.identity,
                                                  "epoch": self.epoch + 1,
                                                  "model": self.model.state_dict()})
            self.log.append({
                "epoch": self.epoch + 1, "losses": losses, "valid": valid,
                f"smoothed_{SELECTION_METRIC}": self.stopper.smoothed(),
                "best_epoch": self.stopper.best_epoch,
                "train_seconds": round(trained - started, 3),
                "valid_seconds": round(time.perf_counter() - trained, 3),
                "cpu_seconds": round(time.process_time() - cpu_started, 3),  # all threads
            })
            self.stopped_early = self.stopper.should_stop
            self._save_state()
            write_json(self.out / LOG, self.log)
        return self.log

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over the training batches; returns the mean of each named loss."""
        self.model.train()
        totals: dict[str, float] = {}
        batches = tqdm(self.batches.epoch(self.rng), total=len(self.batches),
                       desc=f"epoch {epoch}", leave=False)
        for number, batch in enumerate(batches, start=1):
            losses = self.model(batch.to(self.device))
            loss = sum(losses.values())
            if not torch.isfinite(loss):
                parts = ", ".join(f"{name}={value.item():.4g}" for name, value in losses.items())
                raise TrainingDivergedError(f"loss is {loss.item()} at epoch {epoch}, batch "
                                            f"{number} ({parts}); lower srs.learning_rate or "
                                            "check the item encoder's inputs")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            for name, value in losses.items():
                totals[name] = totals.get(name, 0.0) + value.item()
        return {name: total / len(self.batches) for name, total in totals.items()}

    def validate(self) -> dict[str, float]:
        """Full-ranking HR@10 and NDCG@10 on the validation targets, under the protocol of
        the test's headline (``srs.exclude_history``)."""
        states = user_states(self.model, self.dataset.history("valid"),
                             self.config.srs.max_length, self.device)
        protocol = Protocol("full", exclude_history=self.config.srs.exclude_history)
        metrics = per_user_metrics(states, self.model.item_table().detach(), self.dataset,
                                   "valid", protocol, ks=(10,))
        return {name: float(metrics[name].mean()) for name in ("HR@10", SELECTION_METRIC)}

    def _save_state(self) -> None:
        save_checkpoint(self.out / LAST, {
            "identity": self.identity,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "stopper": self.stopper.state_dict(),
            "numpy_rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "log": self.log,
        })


def training_batches(model: SequentialRecommender, dataset: PreparedDataset,
                     srs: SRSConfig) -> TrainingBatches:
    """The training batches of ``model``'s objective on ``dataset``, as ``srs`` sizes them."""
    return TrainingBatches(dataset.train_sequences, dataset.num_items, model.backbone.objective,
                           srs.max_length, srs.batch_size, srs.mask_prob,
                           pad_to_max_length=not model.backbone.exact_with_short_padding)


def convergence(log: list[dict[str, Any]], srs: SRSConfig) -> dict[str, Any]:
    """How a run's training ended, from its per-epoch log: stopped by the patience rule
    (``converged``) or by the epoch cap within its patience."""
    scores = [entry["valid"][SELECTION_METRIC] for entry in log]
    stopper = EarlyStopping.replay(scores, srs.patience, srs.early_stop_window)
    return {"rule": f"trailing mean of validation {SELECTION_METRIC}",
            "window": srs.early_stop_window, "patience": srs.patience, "cap": srs.epochs,
            "budget": srs.budget, "epochs_run": len(scores), "best_epoch": stopper.best_epoch,
            "converged": stopper.should_stop}


def warn_if_unconverged(summary: dict[str, Any], run: str | Path) -> None:
    """Say so when a run meant to converge hit its cap before its patience ran out: its
    numbers come from a model that may still be improving. A demo budget is short by
    declaration, and its metrics files record how each run ended, so it does not warn."""
    if summary["converged"] or summary["budget"] == "demo":
        return
    warnings.warn(f"{kit_relative(run)}: stopped at the srs.epochs cap of {summary['cap']} "
                  f"epochs within its patience, before early stopping on validation "
                  f"{SELECTION_METRIC} could end it (best epoch {summary['best_epoch']}, "
                  f"patience {summary['patience']}); raise srs.epochs to train to convergence",
                  UnconvergedWarning, stacklevel=2)
