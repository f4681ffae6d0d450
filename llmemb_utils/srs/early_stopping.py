"""Early stopping on a smoothed validation score.

Validation NDCG@10 on a few hundred users is noisy (docs/method.md §5.3: s.e. ~0.005 at ~0.04): a
single lucky epoch can stop training 20 epochs later on an undertrained model. The rule here
compares the trailing mean of the last ``window`` scores, for both stopping and choosing the
best checkpoint; ``window=1`` is the paper's raw rule.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class EarlyStopping:
    patience: int
    window: int = 1
    scores: list[float] = field(default_factory=list)
    best_score: float = -math.inf
    best_epoch: int = 0

    def __post_init__(self) -> None:
        if self.patience < 1 or self.window < 1:
            raise ValueError("patience and window must be at least 1")

    def smoothed(self) -> float:
        """Trailing mean of the last ``window`` scores."""
        recent = self.scores[-self.window:]
        return sum(recent) / len(recent)

    def update(self, score: float) -> bool:
        """Record the next epoch's score; True when it makes this epoch the best so far."""
        self.scores.append(score)
        if self.smoothed() > self.best_score:
            self.best_score = self.smoothed()
            self.best_epoch = len(self.scores)
            return True
        return False

    @classmethod
    def replay(cls, scores: list[float], patience: int, window: int = 1) -> EarlyStopping:
        """The state this rule reaches on a recorded score sequence, stopping where it would:
        compares stopping rules on one training log without retraining."""
        stopper = cls(patience, window)
        for score in scores:
            stopper.update(score)
            if stopper.should_stop:
                break
        return stopper

    @property
    def should_stop(self) -> bool:
        return len(self.scores) - self.best_epoch >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> EarlyStopping:
        return cls(**state)
