"""The trained map from LLM table rows to the recommender's item vectors (docs/method.md §4.2)."""

from __future__ import annotations

from torch import nn


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
