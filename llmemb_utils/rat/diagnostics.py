"""Why an alignment loss moves an LLMEmb encoder or not (docs/method.md §4.4).

On the batches the recommender trains on, with a trained run's encoder:

- the norms of the vectors the loss compares (adapted items and the teacher's);
- how far from uniform its softmaxes are: the spread of the logits within a row and, for the
  official form, the entropy of its soft targets against log M, the entropy of a uniform row
  over the M distinct target items of a batch. Targets that are uniform make the uniform
  prediction optimal: the loss then sits at log M and pulls nowhere;
- the size of its gradient (alpha included) on the encoder's trained parameters beside the
  recommendation loss's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..llm.losses import cosine_logits, soft_target_logits
from ..srs.batches import Batch
from ..srs.model import SequentialRecommender
from .alignment import alignment_loss
from .encoder import LLMEmbEncoder


@dataclass(frozen=True)
class AlignmentDiagnostics:
    """Means over batches; ``loss`` and ``chance`` leave alpha out."""

    form: str
    alpha: float
    tau: float
    items: float  # distinct target items per batch, the M of log M
    chance: float  # log M: the loss of logits (and, official form, targets) that are uniform
    loss: float
    target_entropy: float | None  # official form: entropy of the soft targets' rows
    logit_spread: float  # standard deviation of the logits within a row
    student_norm: float  # adapted item vectors
    teacher_norm: float
    gradient_ratio: float | None  # |grad of alpha x align| / |grad of rec| on the encoder's
    # trained parameters; None when it has none (a frozen table without adapter)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def alignment_diagnostics(model: SequentialRecommender,
                          batches: Iterable[Batch]) -> AlignmentDiagnostics:
    """Diagnostics of ``model``'s alignment loss over ``batches`` (training batches)."""
    encoder = model.encoder
    if not isinstance(encoder, LLMEmbEncoder) or encoder.teacher is None or encoder.alpha == 0:
        raise ValueError("alignment diagnostics need an LLMEmb encoder with a teacher and "
                         "rat.alpha > 0")
    trained = [p for p in encoder.parameters() if p.requires_grad]
    rows: list[dict[str, float]] = []
    model.train()
    for batch in batches:
        losses = model(batch)
        targets = torch.unique(torch.cat([chunk.targets.flatten() for chunk in batch.chunks]))
        targets = targets[targets > 0]
        student, teacher = encoder(targets), encoder.teacher[targets]
        ratio = None
        if trained:
            rec = _gradient_norm(losses["rec"], trained)
            align = _gradient_norm(losses["align"], trained)
            ratio = align / rec if rec > 0 else float("inf")
        with torch.no_grad():
            logits, entropy = _logits(student, teacher, encoder.align_form, encoder.tau)
            rows.append({
                "items": float(len(targets)), "chance": float(np.log(len(targets))),
                "loss": float(alignment_loss(student, teacher, encoder.align_form, encoder.tau)),
                "target_entropy": entropy,
                "logit_spread": float(logits.std(dim=-1).mean()),
                "student_norm": float(student.norm(dim=-1).mean()),
                "teacher_norm": float(teacher.norm(dim=-1).mean()),
                "gradient_ratio": ratio})
    if not rows:
        raise ValueError("alignment diagnostics need at least one batch")
    means = {key: float(np.mean([row[key] for row in rows])) if rows[0][key] is not None
             else None for key in rows[0]}
    return AlignmentDiagnostics(form=encoder.align_form, alpha=encoder.alpha, tau=encoder.tau,
                                **means)


def _logits(student: torch.Tensor, teacher: torch.Tensor, form: str,
            tau: float) -> tuple[torch.Tensor, float | None]:
    """The alignment's logits (teacher rows against student rows) and, for the official form,
    the mean entropy of its soft-target rows."""
    if form == "cosine":
        return cosine_logits(teacher, student, tau), None
    logits, targets = soft_target_logits(teacher, student, torch.tensor(tau))
    entropy = -(targets * targets.clamp_min(1e-30).log()).sum(-1).mean()
    return logits, float(entropy)


def _gradient_norm(loss: torch.Tensor, parameters: list[torch.Tensor]) -> float:
    grads = torch.autograd.grad(loss, parameters, retain_graph=True, allow_unused=True)
    return float(torch.sqrt(sum((g.float() ** 2).sum() for g in grads if g is not None)))


def run_alignment_diagnostics(run: str | Path, batches: int = 8,
                              seed: int = 0) -> AlignmentDiagnostics:
    """Diagnostics of a finished LLMEmb run's best model on ``batches`` training batches drawn
    with ``seed``, dropout masks too (the run itself is not changed)."""
    from ..srs.run import load_trained
    from ..srs.trainer import training_batches

    model, config, dataset, _ = load_trained(run)
    torch.manual_seed(seed)  # dropout is on, as in training: the same masks every time
    training = training_batches(model, dataset, config.srs)
    drawn = islice(training.epoch(np.random.default_rng(seed)), batches)
    return alignment_diagnostics(model, drawn)


def alignment_record(run: str | Path, log: list[dict[str, Any]],
                     best_epoch: int) -> dict[str, Any] | None:
    """What a run record keeps of its alignment: the diagnostics of its best model and the
    logged alignment loss (alpha left out) at its first, best and last epoch; None for a run
    that did not align."""
    if "align" not in log[0]["losses"]:
        return None
    measured = run_alignment_diagnostics(run).to_dict()
    by_epoch = {entry["epoch"]: entry["losses"]["align"] / measured["alpha"] for entry in log}
    return {**measured, "logged_loss": {"first": by_epoch[1], "best": by_epoch[best_epoch],
                                        "last": by_epoch[len(log)]}}
