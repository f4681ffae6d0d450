"""Amazon review datasets: the 2014, 2018 and 2023 releases.

=======  ===============================  ===================================  ============
version  reviews                          metadata                             item key
=======  ===============================  ===================================  ============
2014     ``reviews_<Cat>[_5].json.gz``    ``meta_<Cat>.json.gz`` (Python dict  ``asin``
                                          literals, read with ``literal_eval``)
2018     ``<Cat>[_5].json.gz``            ``meta_<Cat>.json.gz`` (JSON lines)  ``asin``
2023     ``<Cat>.jsonl[.gz]``             ``meta_<Cat>.jsonl[.gz]``            ``parent_asin``
=======  ===============================  ===================================  ============

Files renamed by hand (as the official code does) still load: the version is read from the
first review (2023 has ``parent_asin``) and the first metadata line (2014 is not JSON). Every
metadata field but the item key becomes an attribute, in the record's order; lists stay lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .readers import (
    LineReader,
    checksums,
    first_line,
    interaction_frame,
    item_frame,
    json_object,
    python_literal_object,
    require_file,
)
from .schema import DataFormatError, RawData

_REVIEWS = re.compile(r"^(?!meta_).+\.jsonl?(\.gz)?$")
_CATEGORY = re.compile(r"^(reviews_)?(?P<category>.+?)(_5)?\.jsonl?(\.gz)?$")
EXPECTED = ("reviews_<Category>[_5].json.gz + meta_<Category>.json.gz (2014), "
            "<Category>[_5].json.gz + meta_<Category>.json.gz (2018) or "
            "<Category>.jsonl[.gz] + meta_<Category>.jsonl[.gz] (2023)")


@dataclass(frozen=True)
class Version:
    """Field names and metadata syntax of one Amazon release."""

    user: str
    item: str
    rating: str
    time: str
    time_per_second: int
    parse_meta: Callable[[str], dict[str, Any]]


VERSIONS = {
    "2014": Version("reviewerID", "asin", "overall", "unixReviewTime", 1, python_literal_object),
    "2018": Version("reviewerID", "asin", "overall", "unixReviewTime", 1, json_object),
    "2023": Version("user_id", "parent_asin", "rating", "timestamp", 1000, json_object),
}


def find_files(folder: Path, reviews: str | None, meta: str | None) -> tuple[Path, Path]:
    """The reviews and metadata files in ``folder``: the names given, else detected."""
    if not folder.is_dir():
        raise DataFormatError(f"{folder}: Amazon folder not found (expected {EXPECTED})")
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    reviews = reviews or _only(folder, [n for n in names if _REVIEWS.match(n)], "reviews",
                               names)
    if meta is None:
        candidates = [n for n in names if n.startswith("meta_")]
        matching = [n for n in candidates if _category(n) == _category(reviews)]
        meta = _only(folder, matching or candidates, "meta", names)
    return require_file(folder / reviews, EXPECTED), require_file(folder / meta, EXPECTED)


def _category(name: str) -> str | None:
    match = _CATEGORY.match(name.removeprefix("meta_"))
    return match["category"] if match else None


def _only(folder: Path, candidates: list[str], role: str, names: list[str]) -> str:
    if len(candidates) != 1:
        problem = f"several {role} files {candidates}" if candidates else f"no {role} file"
        raise DataFormatError(f"{folder}: {problem}; expected {EXPECTED}; found {names} "
                              f"(set `{role}` in the source config to choose)")
    return candidates[0]


def detect_version(reviews: Path, meta: Path) -> str:
    """2023 if the first review has ``parent_asin``; else 2018 if metadata is JSON, else 2014."""
    line = first_line(reviews, EXPECTED)
    try:
        first_review = json_object(line)
    except ValueError:
        raise DataFormatError(f"{reviews}:1: not a JSON review record; expected {EXPECTED}"
                              ) from None
    if "parent_asin" in first_review:
        return "2023"
    first_meta = first_line(meta, EXPECTED)
    try:
        json.loads(first_meta)
    except ValueError:
        return "2014"
    return "2018"


def _review_parser(release: Version) -> Callable[[str], tuple[str, str, int, float]]:
    def parse(line: str) -> tuple[str, str, int, float]:
        record = json_object(line)
        return (str(record[release.user]), str(record[release.item]),
                int(record[release.time]) // release.time_per_second,
                float(record[release.rating]))

    return parse


def _meta_parser(release: Version) -> Callable[[str], dict[str, Any]]:
    def parse(line: str) -> dict[str, Any]:
        record = release.parse_meta(line)
        return {"item": str(record.pop(release.item)), **record}

    return parse


def load_amazon(path: Path, version: str | None = None, reviews: str | None = None,
                meta: str | None = None, skip_malformed: bool = False) -> RawData:
    """Load an Amazon folder (or a reviews file, with its metadata beside it)."""
    if path.is_file():
        path, reviews = path.parent, reviews or path.name
    reviews_path, meta_path = find_files(path, reviews, meta)
    version = version or detect_version(reviews_path, meta_path)
    if version not in VERSIONS:
        raise DataFormatError(f"unknown Amazon version {version!r}; known: {list(VERSIONS)}")
    release = VERSIONS[version]
    review_reader = LineReader(reviews_path, _review_parser(release), skip_malformed=skip_malformed,
                               expects=f"Amazon {version} reviews as JSON lines")
    interactions = interaction_frame([row for _, row in review_reader])
    meta_reader = LineReader(meta_path, _meta_parser(release), skip_malformed=skip_malformed,
                             expects=f"Amazon {version} metadata with {release.item!r}")
    items = item_frame([record for _, record in meta_reader])
    return RawData(interactions, items, source=f"amazon-{version}",
                   files=checksums([reviews_path, meta_path]),
                   skipped_lines=review_reader.skipped + meta_reader.skipped)
