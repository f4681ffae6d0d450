"""The LLMEmb ablations as data: each switches one part of the method off by changing ``rat``
settings, chosen with ``rat.ablation`` (``llmemb train --ablation``, the study's
``ablations``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..config import RATConfig


@dataclasses.dataclass(frozen=True)
class Ablation:
    """What an ablation removes, and the ``rat`` settings that remove it."""

    removes: str
    changes: Mapping[str, Any]


ABLATIONS: dict[str, Ablation] = {
    "no-scft": Ablation("fine-tuning: the LLM's raw embeddings", {"embeddings": "raw"}),
    "no-align": Ablation("the collaborative alignment", {"alpha": 0.0}),
    "trainable-table": Ablation("the frozen table: it is trained too", {"freeze_table": False}),
    "no-adapter": Ablation("the adapter: PCA straight to srs.hidden", {"adapter": False}),
}


def effective_settings(rat: RATConfig) -> RATConfig:
    """``rat`` with the changes of its ablation (if any) applied."""
    if rat.ablation is None:
        return rat
    return dataclasses.replace(rat, **ABLATIONS[rat.ablation].changes)
