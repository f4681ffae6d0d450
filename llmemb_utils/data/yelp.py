"""Yelp: the 2013 RecSys challenge training set and the current academic dataset.

Reviews give (user_id, business_id, stars, date); dates become unix seconds (UTC), at day
resolution in 2013. Every business field but ``business_id`` is an attribute, in record order;
the academic dataset's comma-separated ``categories`` becomes a list, as in 2013.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .readers import (
    LineReader,
    checksums,
    interaction_frame,
    iso_seconds,
    item_frame,
    json_object,
)
from .schema import DataFormatError, RawData

FILES = {
    "2013": ("yelp_training_set_review.json", "yelp_training_set_business.json"),
    "academic": ("yelp_academic_dataset_review.json", "yelp_academic_dataset_business.json"),
}


def detect_version(folder: Path) -> str:
    """The Yelp release whose review and business files are both in ``folder``."""
    if not folder.is_dir():
        raise DataFormatError(f"{folder}: Yelp folder not found")
    for version, names in FILES.items():
        if all((folder / name).is_file() for name in names):
            return version
    expected = "; ".join(f"{' + '.join(names)} ({version})" for version, names in FILES.items())
    found = sorted(p.name for p in folder.iterdir())
    raise DataFormatError(f"{folder}: not a Yelp folder; expected one of: {expected}; "
                          f"found {found}")


def _review(line: str) -> tuple[str, str, int, float]:
    record = json_object(line)
    return (str(record["user_id"]), str(record["business_id"]), iso_seconds(record["date"]),
            float(record["stars"]))


def _business(line: str) -> dict[str, Any]:
    record = json_object(line)
    item = {"item": str(record.pop("business_id")), **record}
    if isinstance(item.get("categories"), str):
        item["categories"] = [c.strip() for c in item["categories"].split(",") if c.strip()]
    return item


def load_yelp(folder: Path, version: str | None = None, skip_malformed: bool = False) -> RawData:
    """Load a Yelp folder; ``version`` (2013 | academic) is detected from the file names."""
    version = version or detect_version(folder)
    if version not in FILES:
        raise DataFormatError(f"unknown Yelp version {version!r}; known: {list(FILES)}")
    reviews_path, business_path = (folder / name for name in FILES[version])
    reviews = LineReader(reviews_path, _review, skip_malformed=skip_malformed,
                         expects=f"Yelp {version} reviews with user_id, business_id, stars, date")
    interactions = interaction_frame([row for _, row in reviews])
    businesses = LineReader(business_path, _business, skip_malformed=skip_malformed,
                            expects=f"Yelp {version} businesses with business_id")
    items = item_frame([item for _, item in businesses])
    return RawData(interactions, items, source=f"yelp-{version}",
                   files=checksums([reviews_path, business_path]),
                   skipped_lines=reviews.skipped + businesses.skipped)
