"""MovieLens loaders: the 100k, 1M and "latest" (small / 25M / 32M) layouts.

Item attributes, in prompt order: ``title`` (year removed, trailing article moved to the front),
``year`` (int or missing), ``genres`` (list, without "unknown") and, for the latest layout,
``tags`` (distinct, most frequent first). The 100k and 1M files are latin-1 by design.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..assets import ML100K_GENRES
from .readers import (
    NUMBER,
    LineReader,
    checksums,
    convert_columns,
    delimited,
    interaction_frame,
    read_csv,
    require_file,
)
from .schema import DataFormatError, RawData

LATIN1 = "latin-1"
_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\s*\)\s*$")
_ARTICLE = re.compile(
    r"^(?P<body>.+?), (?P<article>The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)(?P<alias> \(.+\))?$")
_DATE_YEAR = re.compile(r"(\d{4})\s*$")
NO_GENRES = "(no genres listed)"


def split_title(raw: str) -> tuple[str, int | None]:
    """``"Usual Suspects, The (1995)"`` -> ``("The Usual Suspects", 1995)``."""
    raw = raw.strip()
    year = _YEAR.search(raw)
    title = raw[: year.start()] if year else raw
    moved = _ARTICLE.match(title)
    if moved:
        article = moved["article"]
        joiner = "" if article.endswith("'") else " "
        title = f"{article}{joiner}{moved['body']}{moved['alias'] or ''}"
    return title, int(year.group(1)) if year else None


def _rating_row(fields: list[str]) -> tuple[str, str, int, float]:
    """(user, item, rating, timestamp) fields -> an interaction row."""
    user, item, rating, timestamp = (f.strip() for f in fields)
    return user, item, int(timestamp), float(rating)


def _read_ratings(path: Path, separator: str, expects: str,
                  skip_malformed: bool) -> tuple[pd.DataFrame, int]:
    split = delimited(separator, 4)
    reader = LineReader(path, lambda line: _rating_row(split(line)), expects=expects,
                        encoding=LATIN1, skip_malformed=skip_malformed)
    rows = [row for _, row in reader]
    return interaction_frame(rows), reader.skipped


def _item_frame(rows: list[dict]) -> pd.DataFrame:
    items = pd.DataFrame(rows, columns=["item", "title", "year", "genres"])
    return items.astype({"year": "Int64"})


def _ml100k_item(line: str) -> dict:
    fields = delimited("|", 5 + len(ML100K_GENRES))(line)
    title, year = split_title(fields[1])
    if year is None and (released := _DATE_YEAR.search(fields[2])):
        year = int(released.group(1))
    flags = fields[5:]
    if set(flags) - {"0", "1"}:
        raise ValueError(f"genre flags must be 0 or 1, got {flags}")
    genres = [genre for genre, flag in zip(ML100K_GENRES, flags, strict=True)
              if flag == "1" and genre != "unknown"]
    return {"item": fields[0].strip(), "title": title, "year": year, "genres": genres}


def _ml1m_item(line: str) -> dict:
    item, raw_title, genres = delimited("::", 3)(line)
    title, year = split_title(raw_title)
    return {"item": item.strip(), "title": title, "year": year, "genres": _genre_list(genres)}


def _genre_list(text: str) -> list[str]:
    return [g for g in text.strip().split("|") if g and g != NO_GENRES]


def _load_lines(folder: Path, ratings: str, movies: str, separator: str,
                parse_item: Callable[[str], dict], skip_malformed: bool,
                layout: str) -> RawData:
    ratings_path, movies_path = folder / ratings, folder / movies
    interactions, skipped = _read_ratings(ratings_path, separator,
                                          f"MovieLens-{layout} {ratings}", skip_malformed)
    reader = LineReader(movies_path, parse_item, expects=f"MovieLens-{layout} {movies}",
                        encoding=LATIN1, skip_malformed=skip_malformed)
    items = _item_frame([item for _, item in reader])
    return RawData(interactions, items, source=f"movielens-{layout}",
                   files=checksums([ratings_path, movies_path]),
                   skipped_lines=skipped + reader.skipped)


def load_ml100k(folder: Path, skip_malformed: bool = False) -> RawData:
    """MovieLens-100k: ``u.data`` (tab-separated) and ``u.item`` (pipe-separated)."""
    return _load_lines(folder, "u.data", "u.item", "\t", _ml100k_item, skip_malformed, "100k")


def load_ml1m(folder: Path, skip_malformed: bool = False) -> RawData:
    """MovieLens-1M: ``ratings.dat`` and ``movies.dat`` (``::``-separated)."""
    return _load_lines(folder, "ratings.dat", "movies.dat", "::", _ml1m_item, skip_malformed,
                       "1m")


def load_latest(folder: Path, skip_malformed: bool = False) -> RawData:
    """ml-latest(-small), 25M, 32M: ``ratings.csv``, ``movies.csv`` and optional ``tags.csv``."""
    ratings_path, movies_path, tags_path = (folder / f"{name}.csv"
                                            for name in ("ratings", "movies", "tags"))
    interactions, skipped = _latest_ratings(ratings_path, skip_malformed)
    movie_columns = ["movieId", "title", "genres"]
    movies, movie_skips = read_csv(movies_path, movie_columns, text=movie_columns,
                                   expects="MovieLens movies.csv", skip_malformed=skip_malformed)
    titles = [split_title(title) for title in movies["title"]]
    items = _item_frame([
        {"item": item, "title": title, "year": year, "genres": _genre_list(genres)}
        for item, (title, year), genres in zip(movies["movieId"], titles, movies["genres"],
                                               strict=True)
    ])
    files = [ratings_path, movies_path]
    if tags_path.is_file():
        tags, tag_skips = read_csv(tags_path, ["movieId", "tag"], text=["movieId", "tag"],
                                   expects="MovieLens tags.csv", skip_malformed=skip_malformed)
        ranked = ranked_tags(tags)
        items["tags"] = [ranked.get(item, []) for item in items["item"]]
        files.append(tags_path)
        movie_skips += tag_skips
    return RawData(interactions, items, source="movielens-latest", files=checksums(files),
                   skipped_lines=skipped + movie_skips)


def _latest_ratings(path: Path, skip_malformed: bool) -> tuple[pd.DataFrame, int]:
    ratings, skipped = read_csv(path, ["userId", "movieId", "rating", "timestamp"],
                                text=["userId", "movieId"], expects="MovieLens ratings.csv",
                                skip_malformed=skip_malformed)
    ratings, dropped = convert_columns(ratings, {"rating": NUMBER, "timestamp": NUMBER}, path,
                                       skip_malformed=skip_malformed)
    interactions = ratings.rename(columns={"userId": "user", "movieId": "item"})
    return interactions[["user", "item", "timestamp", "rating"]], skipped + dropped


def ranked_tags(tags: pd.DataFrame) -> dict[str, list[str]]:
    """Each movie's distinct tags (case-insensitive, first spelling kept), most frequent first.

    Ties keep the order in which the tags first appear in the file.
    """
    tags = tags.assign(tag=tags["tag"].str.strip())
    tags = tags[tags["tag"] != ""]
    tags = tags.assign(key=tags["tag"].str.casefold(), order=range(len(tags)))
    counted = (tags.groupby(["movieId", "key"], sort=False)
               .agg(count=("tag", "size"), first=("order", "min"), tag=("tag", "first"))
               .reset_index()
               .sort_values(["movieId", "count", "first"], ascending=[True, False, True]))
    return counted.groupby("movieId", sort=False)["tag"].agg(list).to_dict()


LAYOUTS: dict[str, tuple[tuple[str, ...], Callable[[Path, bool], RawData]]] = {
    "100k": (("u.data", "u.item"), load_ml100k),
    "1m": (("ratings.dat", "movies.dat"), load_ml1m),
    "latest": (("ratings.csv", "movies.csv"), load_latest),
}


def detect_layout(folder: Path) -> str:
    """The MovieLens layout whose files are all present in ``folder``."""
    if not folder.is_dir():
        raise DataFormatError(f"{folder}: MovieLens folder not found")
    for layout, (required, _) in LAYOUTS.items():
        if all((folder / name).is_file() for name in required):
            return layout
    expected = "; ".join(f"{' + '.join(req)} ({name})" for name, (req, _) in LAYOUTS.items())
    found = sorted(p.name for p in folder.iterdir())
    raise DataFormatError(f"{folder}: not a MovieLens folder; expected one of: {expected} "
                          f"[+ tags.csv for latest]; found {found}")


def load_movielens(folder: Path, layout: str | None = None,
                   skip_malformed: bool = False) -> RawData:
    """Load a MovieLens folder; ``layout`` (100k | 1m | latest) is detected when None."""
    layout = layout or detect_layout(folder)
    if layout not in LAYOUTS:
        raise DataFormatError(f"unknown MovieLens layout {layout!r}; known: {list(LAYOUTS)}")
    required, load = LAYOUTS[layout]
    for name in required:
        require_file(folder / name, f"MovieLens-{layout} files {' + '.join(required)}")
    return load(folder, skip_malformed)
