"""Pre-split sequence files: ``<Name>.inter.json`` + ``<Name>.item.json``.

The layout that several LLM-recommendation codebases share for the Amazon datasets::

    <Name>.inter.json   {"<user id>": [<item id>, ...], ...}   each list oldest first
    <Name>.item.json    {"<item id>": {"title": ..., "description": ..., ...}, ...}

The files carry no timestamps and no ratings: a list's order is its time order, so an
interaction's timestamp is its position in the list. Every item of a sequence must have an
entry in the item file. Text values keep their attribute order; HTML entities (``&amp;``) are
decoded here, and the prompt rules (:mod:`.prompts`) collapse whitespace, leave empty fields
out and cut long values.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from .readers import checksums, interaction_frame, item_frame, require_file
from .schema import DataFormatError, RawData

INTER_SUFFIX = ".inter.json"
ITEM_SUFFIX = ".item.json"
EXPECTED = (f"<Name>{INTER_SUFFIX} (user id -> item ids in time order) and <Name>{ITEM_SUFFIX} "
            "(item id -> attributes) in one folder")


def find_files(path: Path) -> tuple[Path, Path]:
    """The sequence and item files: ``path`` is the folder or its ``<Name>.inter.json``."""
    if path.is_file():
        inter = path
    elif path.is_dir():
        candidates = sorted(path.glob(f"*{INTER_SUFFIX}"))
        if len(candidates) != 1:
            found = [p.name for p in candidates] or sorted(p.name for p in path.iterdir())
            problem = "several sequence files" if candidates else "no sequence file"
            raise DataFormatError(f"{path}: {problem} ({found}); expected {EXPECTED} "
                                  "(name the file in `path` to choose)")
        inter = candidates[0]
    else:
        raise DataFormatError(f"{path}: not found (expected {EXPECTED}; docs/data.md says "
                              "where to get the datasets of the kit's configs)")
    if not inter.name.endswith(INTER_SUFFIX):
        raise DataFormatError(f"{inter}: a sequence file must be named <Name>{INTER_SUFFIX}")
    item = inter.with_name(inter.name.removesuffix(INTER_SUFFIX) + ITEM_SUFFIX)
    return require_file(inter, EXPECTED), require_file(item, EXPECTED)


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file whose top level is an object; a key repeated at any level is an error."""
    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for key, value in pairs:
            if key in record:
                raise DataFormatError(f"{path}: key {key!r} appears twice")
            record[key] = value
        return record

    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle, object_pairs_hook=unique_keys)
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{path}: not valid utf-8 text ({error.reason} at byte "
                              f"{error.start})") from None
    except json.JSONDecodeError as error:
        raise DataFormatError(f"{path}:{error.lineno}:{error.colno}: not valid JSON "
                              f"({error.msg})") from None
    if not isinstance(value, dict):
        raise DataFormatError(f"{path}: expected a JSON object at the top level, got "
                              f"{type(value).__name__} (expected {EXPECTED})")
    return value


def _item_key(value: Any, path: Path, user: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DataFormatError(f"{path}: user {user!r}: item {value!r} is not an item id "
                              "(expected an integer or a string)")
    return str(value)


def _sequence_rows(sequences: dict[str, Any], path: Path) -> list[tuple[str, str, int, float]]:
    rows = []
    for user, items in sequences.items():
        if not isinstance(items, list):
            raise DataFormatError(f"{path}: user {user!r}: expected a list of item ids, got "
                                  f"{type(items).__name__}")
        rows += [(user, _item_key(item, path, user), position, 1.0)
                 for position, item in enumerate(items)]
    return rows


def _text(value: Any) -> Any:
    """Decode HTML entities in strings, inside lists too; other values as they are."""
    if isinstance(value, str):
        return html.unescape(value)
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def _item_records(attributes: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    records = []
    for item, fields in attributes.items():
        if not isinstance(fields, dict):
            raise DataFormatError(f"{path}: item {item!r}: expected an object of attributes, "
                                  f"got {type(fields).__name__}")
        records.append({"item": item, **{k: _text(v) for k, v in fields.items()}})
    return records


def load_sequences_json(path: Path) -> RawData:
    """Load the folder (or ``<Name>.inter.json``) into the normalised schema.

    ``rating`` is 1 for every interaction (the files hold implicit feedback only)."""
    inter_path, item_path = find_files(path)
    rows = _sequence_rows(read_json_object(inter_path), inter_path)
    if not rows:
        raise DataFormatError(f"{inter_path}: no interactions (every user's list is empty)")
    attributes = read_json_object(item_path)
    unknown = next((row for row in rows if row[1] not in attributes), None)
    if unknown is not None:
        raise DataFormatError(f"{item_path}: item {unknown[1]!r} (in user {unknown[0]!r}'s "
                              f"sequence in {inter_path.name}) has no entry")
    interactions = interaction_frame(rows)
    items = item_frame(_item_records(attributes, item_path))
    items = items.map(lambda value: None if isinstance(value, str) and not value.strip()
                      else value)
    return RawData(interactions, items, source="sequences-json",
                   files=checksums([inter_path, item_path]))
