"""How a cost grows with the catalogue: a power law fitted on log-log axes, and estimates at
other sizes that say whether they were measured or extrapolated from the fit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

MEASURED = "measured"
EXTRAPOLATED = "extrapolated"


@dataclass(frozen=True)
class PowerLaw:
    """``cost = coefficient * items ** exponent``: the exponent is the log-log slope (1 for a
    cost linear in the items, 2 for a quadratic one)."""

    exponent: float
    coefficient: float

    def __call__(self, items: float) -> float:
        return self.coefficient * items**self.exponent


def fit_power_law(items: Iterable[float], costs: Iterable[float]) -> PowerLaw:
    """Least squares of log cost on log items; at least two distinct sizes, every value
    positive (a logarithm needs it)."""
    x, y = np.asarray(list(items), dtype=float), np.asarray(list(costs), dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"{len(x)} sizes for {len(y)} costs")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError(f"sizes and costs must be positive to fit on log axes, got sizes "
                         f"{x.tolist()} and costs {y.tolist()}")
    if len(np.unique(x)) < 2:
        raise ValueError(f"a slope needs at least two distinct sizes, got {x.tolist()}")
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return PowerLaw(float(slope), float(np.exp(intercept)))


def estimates(measured: Mapping[int, float], fit: PowerLaw,
              sizes: Iterable[int]) -> list[dict[str, float | int | str]]:
    """The cost at each of ``sizes``: the measured value where that size was measured, else
    the fit's, labelled ``extrapolated`` (beyond the measured range as well as between)."""
    return [{"items": size, "value": measured[size], "label": MEASURED} if size in measured
            else {"items": size, "value": fit(size), "label": EXTRAPOLATED}
            for size in sizes]
