"""The evaluation protocol recorded in every ``metrics.json`` (docs/design.md §4.7)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PAPER_NEGATIVES = 100  # docs/method.md §5.1: 100 uniform negatives per user


@dataclass(frozen=True)
class Protocol:
    """How candidates are formed: every item (``full``) or the target plus sampled negatives.

    ``full`` removes each user's earlier items (the model's input sequence, other than the
    target itself) from the candidates by default, the usual full-ranking convention:
    MovieLens has no repeated ratings, so a seen item is never the answer and ranking it
    only measures how well the model learnt not to repeat. ``exclude_history=False`` is the
    with-history variant, every item ranked.

    ``sampled`` is the paper-compatible protocol: ``num_negatives`` uniform negatives excluding
    the user's items, drawn once from ``seed`` so that every run ranks the same candidates.
    """

    candidates: str = "full"  # full | sampled
    num_negatives: int | None = None
    exclude_history: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.candidates not in ("full", "sampled"):
            raise ValueError(f"protocol must be 'full' or 'sampled', got {self.candidates!r}")
        if (self.candidates == "sampled") != (self.num_negatives is not None):
            raise ValueError("num_negatives is required by, and only by, the sampled protocol")

    @classmethod
    def named(cls, name: str, seed: int = 0, exclude_history: bool = True) -> Protocol:
        """``full`` (the headline) or ``sampled`` (100 negatives, paper-compatible; it always
        leaves the user's items out)."""
        if name == "sampled":
            return cls("sampled", PAPER_NEGATIVES, exclude_history=True, seed=seed)
        return cls(name, exclude_history=exclude_history, seed=seed)

    @property
    def name(self) -> str:
        return self.candidates

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ties": "expected", "split": "leave-one-out"}
