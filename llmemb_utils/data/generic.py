"""Generic tables: interactions (and optional item attributes) in CSV, Parquet or JSON lines.

``columns`` maps schema names to file columns, e.g. ``{"user": "userId", "item": "movieId",
"timestamp": "ts"}``; unmapped names are looked up as is. ``rating`` is optional. Timestamps
are numbers (unix seconds) or ISO 8601 date-times (UTC unless they carry an offset); the
first value decides which. The item table's key column is ``columns["item_key"]``, else the
interactions' item column; every other column is an attribute, in file order.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .readers import (
    NUMBER,
    Conversion,
    LineReader,
    checksums,
    convert_columns,
    json_object,
    read_csv,
    require_columns,
    require_file,
)
from .schema import DataFormatError, RawData

SCHEMA = ("user", "item", "timestamp", "rating")
MAPPABLE = (*SCHEMA, "item_key")
EPOCH = pd.Timestamp(0, tz="UTC")
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
            ".ndjson": "jsonl", ".json": "jsonl"}
EXPECTS = "a table: .csv, .parquet or .jsonl (CSV and JSON lines may be .gz)"


def unix_seconds(values: pd.Series) -> pd.Series:
    """Numbers (seconds) or date-times as unix seconds; missing where a value does not parse."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        first = values.dropna().iloc[:1]
        if pd.to_numeric(first, errors="coerce").notna().all():
            return pd.to_numeric(values, errors="coerce") // 1
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    return (parsed - EPOCH) // pd.Timedelta(seconds=1)


TEXT: Conversion = (lambda values: values.astype("string"), "a value")
TIMESTAMP: Conversion = (unix_seconds, "a unix time in seconds or an ISO 8601 date-time")


def read_table(path: Path, text: list[str], skip_malformed: bool = False
               ) -> tuple[pd.DataFrame, int]:
    """A CSV, Parquet or JSON-lines table, its index holding line (Parquet: row) numbers.

    CSV columns in ``text`` (the ids) are read as strings, so ``007`` stays ``007``.
    """
    require_file(path, EXPECTS)
    suffixes = [s for s in path.suffixes if s != ".gz"]
    kind = SUFFIXES.get(suffixes[-1].lower() if suffixes else "")
    if kind == "csv":
        return read_csv(path, text=text, expects=EXPECTS, skip_malformed=skip_malformed)
    if kind == "parquet":
        try:
            frame = pd.read_parquet(path, dtype_backend="numpy_nullable")
        except (OSError, ValueError) as error:
            raise DataFormatError(f"{path}: not a readable Parquet file ({error})") from None
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        return frame, 0
    if kind == "jsonl":
        reader = LineReader(path, json_object, expects=f"JSON lines ({EXPECTS})",
                            skip_malformed=skip_malformed)
        numbered = list(reader)
        records = [record for _, record in numbered]
        frame = pd.DataFrame(records, index=[n for n, _ in numbered], dtype=object)
        return frame, reader.skipped
    raise DataFormatError(f"{path}: unsupported file type; expected {EXPECTS}")


def load_generic(path: Path, columns: dict[str, str] | None = None, item_file: str | None = None,
                 skip_malformed: bool = False) -> RawData:
    """Load an interactions table (and an item table, relative to its folder) with a mapping."""
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(MAPPABLE))
    if unknown:
        raise DataFormatError(f"unknown column mapping key(s) {unknown}; known: {list(MAPPABLE)}")
    mapped = {name: columns.get(name, name) for name in SCHEMA}
    table, skipped = read_table(path, [mapped["user"], mapped["item"]], skip_malformed)
    wanted = {name: column for name, column in mapped.items()
              if name != "rating" or "rating" in columns or column in table.columns}
    require_columns(table, wanted.values(), path, f"columns for {list(wanted)}; set `columns` "
                    "to map schema names to file columns")
    interactions = table[list(wanted.values())].set_axis(list(wanted), axis=1)
    conversions = {"user": TEXT, "item": TEXT, "timestamp": TIMESTAMP, "rating": NUMBER}
    interactions, dropped = convert_columns(
        interactions, {name: conversions[name] for name in wanted}, path,
        skip_malformed=skip_malformed)
    files = [path]
    items = pd.DataFrame(columns=["item"])
    if item_file is not None:
        item_path = path.parent / item_file
        items, item_skips = _read_items(item_path, columns.get("item_key", wanted["item"]),
                                        skip_malformed)
        files.append(item_path)
        skipped += item_skips
    return RawData(interactions, items, source="generic", files=checksums(files),
                   skipped_lines=skipped + dropped)


def _read_items(path: Path, key: str, skip_malformed: bool) -> tuple[pd.DataFrame, int]:
    table, skipped = read_table(path, [key], skip_malformed)
    require_columns(table, [key], path, "the item key column (set columns['item_key'])")
    attributes = [c for c in table.columns if c != key]
    items = table[[key, *attributes]].rename(columns={key: "item"})
    return items.map(lambda value: None if isinstance(value, str) and not value else value), skipped
