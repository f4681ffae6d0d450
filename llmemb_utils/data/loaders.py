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
from .sequences_json import load_sequences_json
from .yelp import load_yelp


def _movielens(path: Path, source: SourceConfig) -> RawData:
    return load_movielens(path, source.version, source.skip_malformed)


def _amazon(path: Path, source: SourceConfig) -> RawData:
    return load_amazon(path, source.version, source.reviews, source.meta, source.skip_malformed)


def _yelp(path: Path, source: SourceConfig) -> RawData:
    return load_yelp(path, source.version, source.skip_malformed)


def _generic(path: Path, source: SourceConfig) -> RawData:
    return load_generic(path, source.columns, source.item_file, source.skip_malformed)


def _sequences_json(path: Path, source: SourceConfig) -> RawData:
    return load_sequences_json(path)


LOADERS: dict[str, Callable[[Path, SourceConfig], RawData]] = {
    "movielens": _movielens,
    "amazon": _amazon,
    "yelp": _yelp,
    "generic": _generic,
    "sequences-json": _sequences_json,
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
    """Read the raw data that ``source`` describes into the normalised schema, refusing
    source files whose SHA-256 differs from the one ``source.sha256`` expects."""
    raw = LOADERS[source.format](resolve_path(source), source)
    verify_checksums(raw.files, source.sha256)
    return raw


def verify_checksums(files: dict[str, str], expected: dict[str, str]) -> None:
    """Fail naming the file whose checksum is not the expected one (or that was not read)."""
    found = {Path(path).name: (path, digest) for path, digest in files.items()}
    for name, digest in expected.items():
        if name not in found:
            raise DataFormatError(f"data.source.sha256 names {name!r}, but the source read "
                                  f"{sorted(found)}")
        path, actual = found[name]
        if actual != digest.lower():
            raise DataFormatError(f"{path}: SHA-256 is {actual}, expected {digest} "
                                  "(data.source.sha256): a different or changed copy of the "
                                  "data; download it again")
