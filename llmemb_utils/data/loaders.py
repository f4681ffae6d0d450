"""One entry point for every raw format: ``load_raw(source) -> RawData``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .. import assets
from ..config import SourceConfig
from ..layout import from_root
from .amazon import load_amazon
from .generic import load_generic
from .movielens import load_movielens
from .schema import DataFormatError, RawData
from .yelp import load_yelp


def _movielens(path: Path, source: SourceConfig) -> RawData:
    return load_movielens(path, source.version, source.skip_malformed)


def _amazon(path: Path, source: SourceConfig) -> RawData:
    return load_amazon(path, source.version, source.reviews, source.meta, source.skip_malformed)


def _yelp(path: Path, source: SourceConfig) -> RawData:
    return load_yelp(path, source.version, source.skip_malformed)


def _generic(path: Path, source: SourceConfig) -> RawData:
    return load_generic(path, source.columns, source.item_file, source.skip_malformed)


LOADERS: dict[str, Callable[[Path, SourceConfig], RawData]] = {
    "movielens": _movielens,
    "amazon": _amazon,
    "yelp": _yelp,
    "generic": _generic,
}


def resolve_path(source: SourceConfig) -> Path:
    """The folder or file of the raw data: the cached asset if one is named, else ``path``.

    A relative ``path`` that does not exist from the working folder is looked up from the
    kit's root, so that ``data/raw/...`` in a config works from ``notebooks/`` too."""
    if source.asset is not None:
        return assets.fetch(source.asset)
    if source.path is None:
        raise DataFormatError("data source has neither `asset` nor `path`; set one of them")
    path = Path(source.path).expanduser()
    if not path.exists() and from_root(path).exists():
        return from_root(path)
    return path


def load_raw(source: SourceConfig) -> RawData:
    """Read the raw data that ``source`` describes into the normalised schema."""
    return LOADERS[source.format](resolve_path(source), source)
