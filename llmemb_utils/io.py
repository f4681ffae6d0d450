"""Artifact I/O: atomic writes, checksums and manifests shared by every stage."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__

MANIFEST = "manifest.json"
KIT_ROOT = Path(__file__).resolve().parent.parent


def kit_relative(path: str | os.PathLike) -> str:
    """``path`` relative to the kit's root when it lies inside it: logs and notebook outputs
    then name ``artifacts/...`` rather than the folders of the machine they ran on."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(KIT_ROOT)) if resolved.is_relative_to(KIT_ROOT) else str(path)


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write JSON atomically (temporary file + rename), pretty-printed and key-sorted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False,
        encoding="utf-8",
    ) as handle:
        json.dump(data, handle, indent=2, sort_keys=True, default=_json_default)
        handle.write("\n")
    os.replace(handle.name, path)


def write_npz(path: str | os.PathLike, arrays: dict[str, Any]) -> None:
    """Write a compressed ``.npz`` atomically (temporary file + rename)."""
    path = Path(path)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                     delete=False) as handle:
        np.savez_compressed(handle, **arrays)
    os.replace(handle.name, path)


def read_npz(path: str | os.PathLike, required: Iterable[str], kind: str
             ) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``; a missing file, or one without the
    ``required`` arrays, is an error naming the file as a ``kind``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {kind} not found")
    with np.load(path, allow_pickle=False) as data:
        missing = [key for key in required if key not in data.files]
        if missing:
            raise ValueError(f"{path}: not a {kind}, missing {missing}")
        return {key: data[key] for key in data.files}


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file, naming the file when it is missing or invalid."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: invalid JSON at line {error.lineno}: {error.msg}") from None


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling folder that replaces ``target`` only if the block succeeds.

    A crash leaves the previous ``target`` (or nothing) in place, never a half-written folder.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield staging
        if target.exists():
            retired = target.with_name(f".{target.name}.old")
            shutil.rmtree(retired, ignore_errors=True)
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def make_manifest(kind: str, config: dict[str, Any], seed: int | None = None,
                  files: dict[str, str] | None = None,
                  inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """A manifest that ties an artifact to its config, seed, input manifests and file hashes."""
    return {
        "kind": kind,
        "package_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "seed": seed,
        "config": config,
        "files": files or {},
        "inputs": inputs or {},
    }


def fingerprint(manifest: dict[str, Any]) -> str:
    """A short content hash of a manifest's files, used to check that inputs match."""
    digest = hashlib.sha256(json.dumps(manifest.get("files", {}), sort_keys=True).encode())
    return digest.hexdigest()[:16]
