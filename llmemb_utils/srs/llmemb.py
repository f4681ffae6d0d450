"""The LLMEmb item encoder (method-spec §C.2, §C.4): a frozen, PCA'd LLM item table, a
trained adapter, and the collaborative alignment loss against an ID-SASRec teacher.

Registered as ``llmemb`` (``llmemb train --encoder llmemb --llm-emb FILE --teacher RUN``); its
settings are the config's ``rat`` section, where ``rat.ablation`` switches one part off.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..config import ExperimentConfig, RATConfig
from ..data.dataset import PreparedDataset
from .alignment import ALIGN_FORMS, alignment_loss
from .backbones import PAD
from .encoders import ItemEncoder, register_encoder
from .rat_inputs import LLMTable, Teacher, llm_table_path, load_llm_table, load_teacher

ABLATIONS: dict[str, dict[str, Any]] = {
    "no-scft": {"embeddings": "raw"},  # the LLM's embeddings without fine-tuning
    "no-align": {"alpha": 0.0},  # no collaborative alignment
    "trainable-table": {"freeze_table": False},  # the LLM table is trained too
    "no-adapter": {"adapter": False},  # PCA straight to srs.hidden, no trained map
}


def effective_settings(rat: RATConfig) -> RATConfig:
    """``rat`` with the switches of its ablation (if any) applied."""
    if rat.ablation is None:
        return rat
    if rat.ablation not in ABLATIONS:
        raise ValueError(f"unknown ablation {rat.ablation!r}; available: {sorted(ABLATIONS)}")
    return dataclasses.replace(rat, **ABLATIONS[rat.ablation])


def padded_table(vectors: np.ndarray) -> torch.Tensor:
    """(N + 1, H) float32: a zero padding row at id 0, then item id i at row i.

    The official code inserts its extra zero row before the last row instead, which zeroes
    the vector of item N (method-spec §G.2).
    """
    table = torch.as_tensor(np.asarray(vectors), dtype=torch.float32)
    return torch.cat([table.new_zeros(1, table.shape[1]), table])


def reduce_table(vectors: np.ndarray, dim: int | None, whiten: bool = False,
                 unit_norm: bool = False, seed: int = 42) -> np.ndarray:
    """Centred PCA of the LLM table to ``dim`` components (None: full width). Centring matters:
    mean-pooled LLM vectors share one dominant direction (design.md §7b). ``whiten`` scales
    each component to unit variance; ``unit_norm`` then rescales the table to mean row norm
    1, so that the adapter starts near the scale of an ID table (SmolLM2's centred rows have
    norm ~5) instead of saturating the logits."""
    from ..llm.pca import reduce

    reduced = reduce(vectors, dim, seed).vectors
    if whiten:
        spread = reduced.std(axis=0)
        reduced = reduced / np.where(spread > 0, spread, 1.0)
    if unit_norm:
        reduced = reduced / np.linalg.norm(reduced, axis=1).mean()
    return reduced


def build_adapter(width: int, hidden: int, activation: bool = False) -> nn.Sequential:
    """Linear(width -> width / 2) -> Linear(-> hidden), Xavier-normal weights, as the official
    code: no non-linearity between them unless ``activation`` (then a ReLU)."""
    layers: list[nn.Module] = [nn.Linear(width, width // 2), nn.Linear(width // 2, hidden)]
    if activation:
        layers.insert(1, nn.ReLU())
    for layer in layers:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_normal_(layer.weight)
    return nn.Sequential(*layers)


class LLMEmbEncoder(ItemEncoder):
    """Item vector = adapter(LLM table row); the same vectors feed and score the backbone.

    ``table`` is (N, H), row i - 1 = item id i. With a ``teacher`` (N + 1, hidden) table and
    ``alpha`` > 0, :meth:`auxiliary_losses` returns ``align``: alpha x the alignment loss of
    the batch's distinct target items.
    """

    def __init__(self, table: np.ndarray, hidden: int, *, freeze_table: bool = True,
                 adapter: bool = True, adapter_activation: bool = False,
                 teacher: np.ndarray | None = None, alpha: float = 0.01,
                 align_form: str = "official", tau: float = 2.0,
                 description: dict[str, Any] | None = None) -> None:
        super().__init__(len(table), hidden)
        padded = padded_table(table)
        if freeze_table:
            self.register_buffer("table", padded, persistent=False)
        else:
            self.table = nn.Parameter(padded)
        if not adapter and padded.shape[1] != hidden:
            raise ValueError(f"without an adapter the LLM table must be srs.hidden = {hidden} "
                             f"wide, got {padded.shape[1]}")
        width = padded.shape[1]
        self.adapter = build_adapter(width, hidden, adapter_activation) if adapter else None
        self.register_buffer("teacher", None if teacher is None else torch.as_tensor(
            teacher, dtype=torch.float32), persistent=False)
        self.alpha, self.align_form, self.tau = alpha, align_form, tau
        self.description = description or {"name": "llmemb"}

    def forward(self, item_ids: torch.Tensor) -> torch.Tensor:
        """Adapts each distinct id once (a batch holds many repeats), padding to zeros.

        The repeats are spread with ``embedding``, whose backward adds their gradients in a
        fixed order; indexing (``vectors[inverse]``) adds them in a thread-dependent order on
        the CPU, so runs with more than one thread would not repeat."""
        distinct, inverse = torch.unique(item_ids, return_inverse=True)
        vectors = self.table[distinct]
        if self.adapter is not None:
            vectors = self.adapter(vectors)
        return F.embedding(inverse, vectors * (distinct != PAD).unsqueeze(-1))

    def all_items(self) -> torch.Tensor:
        return self(torch.arange(self.num_items + 1, device=self.table.device))

    def auxiliary_losses(self, target_items: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.teacher is None or self.alpha == 0:
            return {}
        loss = alignment_loss(self(target_items), self.teacher[target_items], self.align_form,
                              self.tau)
        return {"align": self.alpha * loss}

    def describe(self) -> dict[str, Any]:
        return self.description


def encoder_description(rat: RATConfig, llm: LLMTable,
                        teacher: Teacher | None) -> dict[str, Any]:
    """What identifies an LLMEmb encoder: its settings and its inputs' manifests."""
    name = "llmemb" if rat.ablation is None else f"llmemb-{rat.ablation}"
    settings = {k: v for k, v in dataclasses.asdict(rat).items()
                if k not in ("llm_emb", "teacher")}
    return {"name": name, "rat": settings, "llm_table": llm.reference,
            "teacher": teacher.reference if teacher is not None else None}


@register_encoder("llmemb")
def _llmemb_encoder(dataset: PreparedDataset, config: ExperimentConfig) -> LLMEmbEncoder:
    rat = effective_settings(config.rat)
    if rat.align_form not in ALIGN_FORMS:
        raise ValueError(f"unknown rat.align_form {rat.align_form!r}; choose one of {ALIGN_FORMS}")
    hidden = config.srs.hidden
    path = (Path(rat.llm_emb) if rat.llm_emb
            else llm_table_path(config.run_dir, rat.embeddings, rat.scft_seed))
    llm = load_llm_table(path, dataset, rat.embeddings)
    teacher = None
    if rat.alpha > 0:
        if rat.teacher is None:
            raise ValueError("rat.alpha > 0 needs a teacher: --teacher RUN_DIR, a finished "
                             "`llmemb train` ID-SASRec run on the same data (or --alpha 0)")
        teacher = load_teacher(rat.teacher, dataset, hidden)
    table = reduce_table(llm.vectors, rat.pca_dim if rat.adapter else hidden, rat.whiten,
                         rat.unit_norm, config.seed)
    tau = rat.tau if rat.align_form == "official" else rat.cosine_tau
    return LLMEmbEncoder(table, hidden, freeze_table=rat.freeze_table, adapter=rat.adapter,
                         adapter_activation=rat.adapter_activation,
                         teacher=None if teacher is None else teacher.table, alpha=rat.alpha,
                         align_form=rat.align_form, tau=tau,
                         description=encoder_description(rat, llm, teacher))
