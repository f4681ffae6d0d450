"""Shared reading of raw files: (gzipped) text lines, CSV tables, checksums, timestamps.

Every error is a :class:`DataFormatError` that names the file and, where there is one, the
line (``path:line: what is wrong``), so a user can open the file at the faulty record.
"""

from __future__ import annotations

import ast
import gzip
import json
import re
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

import pandas as pd

from ..io import sha256_file
from .schema import INTERACTION_COLUMNS, DataFormatError

T = TypeVar("T")
GZIP_MAGIC = b"\x1f\x8b"
# What a parse function raises on a bad line; anything else is a bug and propagates.
MALFORMED = (ValueError, KeyError, TypeError, IndexError, SyntaxError)


def require_file(path: Path, expects: str) -> Path:
    """Return ``path`` if it is a file, else fail naming it and what the format expects."""
    if not path.is_file():
        raise DataFormatError(f"{path}: file not found (expected {expects})")
    return path


def open_binary(path: Path, expects: str) -> IO[bytes]:
    """Open a file for reading bytes, decompressing it when it starts with the gzip magic."""
    require_file(path, expects)
    with open(path, "rb") as handle:
        compressed = handle.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")


class LineReader(Generic[T]):
    """Iterate ``(line_number, parse(line))`` over the non-blank lines of a text file.

    A line that ``parse`` rejects (``ValueError``, ``KeyError``, ...) or that does not decode
    fails with its file and line number, or, with ``skip_malformed``, is skipped and counted
    in ``skipped``.
    """

    def __init__(self, path: Path, parse: Callable[[str], T], *, expects: str,
                 encoding: str = "utf-8", skip_malformed: bool = False) -> None:
        self.path = path
        self.parse = parse
        self.expects = expects
        self.encoding = encoding
        self.skip_malformed = skip_malformed
        self.skipped = 0

    def __iter__(self) -> Iterator[tuple[int, T]]:
        with open_binary(self.path, self.expects) as handle:
            for number, raw in enumerate(_checked_lines(handle, self.path), start=1):
                try:
                    text = raw.decode(self.encoding).rstrip("\r\n")
                except UnicodeDecodeError as error:
                    raise DataFormatError(
                        f"{self.path}:{number}: not valid {self.encoding} text ({error.reason} "
                        f"at byte {error.start}); convert the file to {self.encoding}") from None
                if not text.strip():
                    continue
                try:
                    yield number, self.parse(text)
                except MALFORMED as error:
                    if not self.skip_malformed:
                        raise DataFormatError(
                            f"{self.path}:{number}: {describe(error)} (expected {self.expects}; "
                            "set skip_malformed to skip such lines)") from None
                    self.skipped += 1


def _checked_lines(handle: IO[bytes], path: Path) -> Iterator[bytes]:
    try:
        yield from handle
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise DataFormatError(f"{path}: truncated or corrupt gzip file ({error}); "
                              "download it again") from None


def describe(error: BaseException) -> str:
    """A one-line description of why a record could not be parsed."""
    if isinstance(error, KeyError):
        return f"missing field {error}"
    return f"{type(error).__name__}: {error}"


def first_line(path: Path, expects: str) -> str:
    """The first line of a (gzipped) text file, decoded leniently, for format detection."""
    with open_binary(path, expects) as handle:
        return next(_checked_lines(handle, path), b"").decode("utf-8", "replace").strip()


def json_object(line: str) -> dict[str, Any]:
    """Parse one JSON line that must hold an object."""
    return _as_object(json.loads(line))


def python_literal_object(line: str) -> dict[str, Any]:
    """Parse one line written as a Python dict literal (Amazon 2014 metadata), never ``eval``."""
    return _as_object(ast.literal_eval(line))


def _as_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"expected an object, got {type(value).__name__}")
    return value


def delimited(separator: str, count: int) -> Callable[[str], list[str]]:
    """A parse function splitting a line into exactly ``count`` fields."""

    def parse(line: str) -> list[str]:
        fields = line.split(separator)
        if len(fields) != count:
            raise ValueError(f"expected {count} {separator!r}-separated fields, got {len(fields)}")
        return fields

    return parse


def iso_seconds(text: str) -> int:
    """Unix seconds of an ISO date or date-time such as ``2011-01-26 14:02:00`` (UTC if no zone)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def read_csv(path: Path, columns: Iterable[str] = (), *, expects: str, text: Iterable[str] = (),
             encoding: str = "utf-8", skip_malformed: bool = False) -> tuple[pd.DataFrame, int]:
    """Read a (gzipped) CSV file with a header; return it and the number of skipped lines.

    The frame's index holds line numbers and ``columns`` must all be present. Columns in
    ``text`` (ids, names) stay strings; the others get pandas' inferred types, and an empty
    field is an empty string, never NaN. Lines with too many fields fail (naming the line) or,
    with ``skip_malformed``, are skipped and counted.
    """
    require_file(path, expects)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(path, dtype=dict.fromkeys(text, str), keep_default_na=False,
                                encoding=encoding,
                                on_bad_lines="warn" if skip_malformed else "error")
        except pd.errors.ParserError as error:
            line = re.search(r"line (\d+)", str(error))
            where = f"{path}:{line.group(1)}" if line else str(path)
            raise DataFormatError(f"{where}: {str(error).strip()} (expected {expects})") from None
        except (UnicodeDecodeError, EOFError, gzip.BadGzipFile, zlib.error):
            for _ in LineReader(path, str, expects=expects, encoding=encoding):
                pass  # raises, naming the undecodable line or the broken gzip file
            raise
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # line numbers, after the header
    skipped = sum(str(w.message).count("Skipping line") for w in caught
                  if issubclass(w.category, pd.errors.ParserWarning))
    require_columns(frame, columns, path, expects)
    return frame, skipped


def require_columns(frame: pd.DataFrame, columns: Iterable[str], path: Path,
                    expects: str) -> None:
    """Fail, naming the file and the columns it has, if any of ``columns`` is absent."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFormatError(f"{path}: missing column(s) {missing}; found {list(frame.columns)} "
                              f"(expected {expects})")


Conversion = tuple[Callable[[pd.Series], pd.Series], str]  # (to values or NaN, what is expected)
NUMBER: Conversion = (lambda values: pd.to_numeric(values, errors="coerce"), "a number")


def convert_columns(frame: pd.DataFrame, conversions: dict[str, Conversion], path: Path, *,
                    skip_malformed: bool = False) -> tuple[pd.DataFrame, int]:
    """Convert columns of a frame whose index holds line numbers (see :func:`read_csv`).

    A row whose value converts to missing fails, naming its line, or with ``skip_malformed``
    is dropped; returns the converted frame and the number of dropped rows.
    """
    frame = frame.copy()
    bad = pd.Series(False, index=frame.index)
    for column, (convert, expected) in conversions.items():
        values = convert(frame[column])
        invalid = values.isna()
        if invalid.any() and not skip_malformed:
            row = int(invalid.to_numpy().argmax())
            value = frame[column].iloc[row]
            missing = pd.api.types.is_scalar(value) and pd.isna(value)
            problem = "missing value" if missing else f"{value!r} is not {expected}"
            raise DataFormatError(f"{path}:{frame.index[row]}: column {column!r}: {problem}")
        frame[column] = values
        bad |= invalid
    return frame[~bad], int(bad.sum())


def interaction_frame(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    """(user, item, timestamp, rating) rows as an interaction table."""
    return pd.DataFrame(rows, columns=[*INTERACTION_COLUMNS, "rating"])


def item_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Item records (``item`` first, then attributes) as a table; columns in first-seen order."""
    return pd.DataFrame(records) if records else pd.DataFrame(columns=["item"])


def checksums(paths: Iterable[Path]) -> dict[str, str]:
    """SHA-256 of each source file, keyed by its path."""
    return {str(path): sha256_file(path) for path in paths}
