"""The LLMEmb item encoder (docs/method.md §4.2, §4.4): a frozen, PCA'd LLM item table, a
trained adapter, and the collaborative alignment loss against an ID-SASRec teacher.

Registered as ``llmemb`` (``llmemb train --encoder llmemb --llm-emb FILE --teacher RUN``); its
settings are the config's ``rat`` section, where ``rat.ablation`` switches one part off
(:mod:`.ablations`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..config import ExperimentConfig, RATConfig, recorded_settings
from ..data.dataset import PreparedDataset
from ..layout import RunLayout
from ..llm.item_table import LLMTable, load_llm_table
from ..srs.backbones import PAD
from ..srs.encoders import ItemEncoder, register_encoder
from .ablations import effective_settings
from .adapter import build_adapter
from .alignment import alignment_loss
from .inputs import Teacher, load_teacher
from .table import padded_table, reduce_table


class LLMEmbEncoder(ItemEncoder):
    """Item vector = adapter(LLM table row); the same vectors feed and score the backbone.

    ``table`` is (N, H), row i - 1 = item id i. With a ``teacher`` (N + 1, hidden) table and
    ``alpha`` > 0, :meth:`auxiliary_losses` returns ``align``: alpha x the alignment loss of
    the batch's distinct target items.
    """

    def __init__(self, table: np.ndarray, hidden: int, *, freeze_table: bool = True,
                 adapter: bool = True, adapter_activation: bool = False,
                 adapter_width: int | None = None, teacher: np.ndarray | None = None,
                 alpha: float = 0.01, align_form: str = "official", tau: float = 2.0,
                 adapter_output: str = "linear", table_learning_rate: float | None = None,
                 id_embedding: bool = False,
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
        self.adapter = (build_adapter(width, hidden, adapter_activation, adapter_width)
                        if adapter else None)
        self.register_buffer("teacher", None if teacher is None else torch.as_tensor(
            teacher, dtype=torch.float32), persistent=False)
        self.alpha, self.align_form, self.tau = alpha, align_form, tau
        # normalized output: unit rows times one learned radius, 1 at first (the scale of the
        # unit-norm table the adapter starts from)
        self.radius = nn.Parameter(torch.ones(())) if adapter_output == "normalized" else None
        if table_learning_rate is not None and freeze_table:
            raise ValueError("rat.table_learning_rate is the trainable table's learning rate: "
                             "it needs rat.freeze_table: false")
        self.table_learning_rate = table_learning_rate
        # ID vectors start at zero, so training starts from the LLM vectors alone; an item the
        # data rarely shows keeps close to its LLM vector
        self.ids = nn.Embedding(len(padded), hidden, padding_idx=PAD) if id_embedding else None
        if self.ids is not None:
            nn.init.zeros_(self.ids.weight)
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
        if self.radius is not None:
            vectors = F.normalize(vectors, dim=-1) * self.radius
        if self.ids is not None:
            vectors = vectors + self.ids(distinct)
        return F.embedding(inverse, vectors * (distinct != PAD).unsqueeze(-1))

    def all_items(self) -> torch.Tensor:
        return self(torch.arange(self.num_items + 1, device=self.table.device))

    def auxiliary_losses(self, target_items: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.teacher is None or self.alpha == 0:
            return {}
        loss = alignment_loss(self(target_items), self.teacher[target_items], self.align_form,
                              self.tau)
        return {"align": self.alpha * loss}

    def parameter_groups(self) -> list[dict[str, Any]]:
        if self.table_learning_rate is None:
            return []
        return [{"params": [self.table], "lr": self.table_learning_rate}]

    def describe(self) -> dict[str, Any]:
        return self.description


def encoder_name(rat: RATConfig) -> str:
    """``llmemb``, ``llmemb-<ablation>`` or ``llmemb-<variant>``: the model's name in runs and
    records."""
    if rat.ablation is not None and rat.variant is not None:
        raise ValueError(f"rat.ablation {rat.ablation!r} and rat.variant {rat.variant!r} are "
                         "both set; a run is either an ablation or a variant")
    suffix = rat.ablation or rat.variant
    return "llmemb" if suffix is None else f"llmemb-{suffix}"


def encoder_description(rat: RATConfig, llm: LLMTable,
                        teacher: Teacher | None) -> dict[str, Any]:
    """What identifies an LLMEmb encoder: its settings and its inputs' manifests."""
    settings = {k: v for k, v in recorded_settings(dataclasses.asdict(rat)).items()
                if k not in ("llm_emb", "teacher")}
    return {"name": encoder_name(rat), "rat": settings, "llm_table": llm.reference,
            "teacher": teacher.reference if teacher is not None else None}


@register_encoder("llmemb")
def _llmemb_encoder(dataset: PreparedDataset, config: ExperimentConfig) -> LLMEmbEncoder:
    rat = effective_settings(config.rat)
    hidden = config.srs.hidden
    path = (Path(rat.llm_emb) if rat.llm_emb
            else RunLayout(config).llm_table(rat.embeddings, rat.scft_seed, rat.scft_recipe))
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
                         adapter_width=rat.adapter_width,
                         teacher=None if teacher is None else teacher.table, alpha=rat.alpha,
                         align_form=rat.align_form, tau=tau,
                         adapter_output=rat.adapter_output,
                         table_learning_rate=rat.table_learning_rate,
                         id_embedding=rat.id_embedding,
                         description=encoder_description(rat, llm, teacher))
