"""The trained map from LLM table rows to the recommender's item vectors (docs/method.md §4.2)."""

from __future__ import annotations

from torch import nn


def build_adapter(width: int, hidden: int, activation: bool = False,
                  middle: int | None = None) -> nn.Sequential:
    """Linear(width -> middle) -> Linear(-> hidden), Xavier-normal weights; ``middle`` defaults
    to width / 2, as the official code. No non-linearity between them unless ``activation``
    (then a ReLU), so without one the map's rank is at most min(middle, hidden)."""
    middle = width // 2 if middle is None else middle
    layers: list[nn.Module] = [nn.Linear(width, middle), nn.Linear(middle, hidden)]
    if activation:
        layers.insert(1, nn.ReLU())
    for layer in layers:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_normal_(layer.weight)
    return nn.Sequential(*layers)
