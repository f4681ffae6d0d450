"""The normalised raw schema that every loader returns (docs/design.md §4.3)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

INTERACTION_COLUMNS = ("user", "item", "timestamp")


class DataFormatError(ValueError):
    """Raw data is missing, malformed or does not match its declared format."""


@dataclass
class RawData:
    """Interactions and item attributes in one schema, whatever the source format.

    ``interactions``: columns ``user`` (str), ``item`` (str), ``timestamp`` (int64, any
    monotone unit), optional ``rating`` (float), in file order. ``items``: column ``item`` (str)
    plus one column per attribute, in the order a prompt lists them; values are scalars, lists
    or missing. ``files`` maps every source file to its SHA-256.
    """

    interactions: pd.DataFrame
    items: pd.DataFrame
    source: str
    files: dict[str, str] = field(default_factory=dict)
    skipped_lines: int = 0

    def __post_init__(self) -> None:
        missing = [c for c in INTERACTION_COLUMNS if c not in self.interactions.columns]
        if missing:
            raise DataFormatError(f"{self.source}: interactions lack column(s) {missing}")
        if "item" not in self.items.columns:
            raise DataFormatError(f"{self.source}: item table lacks column 'item'")
        if self.interactions.empty:
            raise DataFormatError(f"{self.source}: no interactions were read")
        columns = {"user": "string", "item": "string", "timestamp": "int64"}
        if "rating" in self.interactions.columns:
            columns["rating"] = "float64"
        self.interactions = self.interactions.astype(columns).reset_index(drop=True)
        self.items = self.items.astype({"item": "string"})
        duplicated = self.items["item"].duplicated()
        if duplicated.any():  # keep the first metadata record of an item, as a dict would
            self.items = self.items[~duplicated]
        self.items = self.items.reset_index(drop=True)

    def counts(self) -> dict[str, int]:
        return {
            "users": int(self.interactions["user"].nunique()),
            "items": int(self.interactions["item"].nunique()),
            "interactions": len(self.interactions),
        }
