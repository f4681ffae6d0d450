"""Valid ranges of the numeric config fields, declared beside each field.

A field states its range as dataclass metadata, ``steps: int = within(COUNT, 4000)``, so that
the range is read where the field is defined and checked by one function
(:func:`range_problem`) whenever a config loads, instead of at the first use of a bad value.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

RANGE = "range"  # the metadata key


@dataclass(frozen=True)
class Interval:
    """The numbers between ``low`` and ``high`` (None: unbounded), each end open or closed."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def __str__(self) -> str:
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if self.low is None:
            return f"{'<' if self.high_open else '<='} {self.high:g}"
        return (f"in {'(' if self.low_open else '['}{self.low:g}, "
                f"{self.high:g}{')' if self.high_open else ']'}")


COUNT = Interval(low=1)  # sizes, steps, epochs, patience
NON_NEGATIVE = Interval(low=0)  # seeds, weights that may switch a term off
POSITIVE = Interval(low=0, low_open=True)  # learning rates, temperatures, norms
PROBABILITY = Interval(low=0, high=1)
DROP_RATE = Interval(low=0, high=1, high_open=True)  # dropping everything leaves nothing
PROPER_FRACTION = Interval(low=0, high=1, low_open=True, high_open=True)


def within(interval: Interval, default: Any = dataclasses.MISSING, **options: Any) -> Any:
    """A dataclass field whose values must lie in ``interval`` (None always passes)."""
    return dataclasses.field(default=default, metadata={RANGE: interval}, **options)


def range_problem(field: dataclasses.Field, hint: Any, value: Any, name: str) -> str | None:
    """What is wrong with ``value`` for ``field`` (dotted ``name``), or None when it is in
    range; a list or mapping of numbers is checked entry by entry."""
    interval = field.metadata.get(RANGE)
    if interval is None:
        return None
    for entry_name, entry in _numbers(value, name):
        if entry not in interval:
            kind = "an integer" if _holds_ints(hint) else "a number"
            optional = " or null" if type(None) in typing.get_args(hint) else ""
            return f"{entry_name} = {entry!r} is out of range; expected {kind} {interval}{optional}"
    return None


def _numbers(value: Any, name: str) -> Iterator[tuple[str, float]]:
    """The numbers inside ``value`` with their dotted names (``study.seeds.sasrec[1]``)."""
    if isinstance(value, dict):
        for key, entry in value.items():
            yield from _numbers(entry, f"{name}.{key}")
    elif isinstance(value, list | tuple):
        for index, entry in enumerate(value):
            yield from _numbers(entry, f"{name}[{index}]")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield name, value


def _holds_ints(hint: Any) -> bool:
    """Whether ``hint`` is int, or a union, list or mapping with ints in it."""
    return hint is int or any(_holds_ints(argument) for argument in typing.get_args(hint))
