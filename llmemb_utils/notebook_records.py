"""Execute the numbered notebooks in full mode and record what each output was made from.

``python -m llmemb_utils.notebook_records notebooks/*.ipynb`` (``make notebooks``) runs each
notebook top to bottom in its own kernel, writes it back with its outputs, and stores in every
code cell's metadata the SHA-256 of the source that produced them and of the outputs
themselves, and in the notebook's metadata the mode and the execution time. A test of the
committed notebooks compares these hashes with the current sources and outputs, so an output
can never silently belong to an older cell, nor be edited by hand.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import nbformat

from .io import kit_relative
from .layout import fast_mode

RECORD = "llmemb"  # metadata key of the records, in cells and in the notebook


def source_hash(source: str) -> str:
    """SHA-256 of a cell's source text."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def outputs_hash(outputs: list) -> str:
    """SHA-256 of a cell's outputs as the notebook file reads back: canonical JSON (sorted
    keys), so that the hash depends on what the outputs hold, not on how they are laid out."""
    text = json.dumps(outputs, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_run(notebook: nbformat.NotebookNode, mode: str, seconds: float) -> None:
    """Store each code cell's source and outputs hashes, and the run's mode and duration."""
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # per-cell timestamps: noise in every diff
        if cell.cell_type == "code":
            cell.metadata[RECORD] = {"source_sha256": source_hash(cell.source),
                                     "outputs_sha256": outputs_hash(cell.outputs)}
    notebook.metadata[RECORD] = {"mode": mode, "seconds": round(seconds)}


def execute(path: Path) -> float:
    """Run the notebook at ``path`` in full mode and write it back with outputs and records."""
    from nbclient import NotebookClient

    if fast_mode():
        raise SystemExit("LLMEMB_FAST is set: notebooks/ holds full-mode outputs only; unset it")
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(notebook, timeout=None, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - started
    notebook = nbformat.reads(nbformat.writes(notebook), as_version=4)  # the outputs as the
    # file will hold them, so that their hashes are those a reader of the file computes
    record_run(notebook, "full", seconds)
    nbformat.write(notebook, path)
    return seconds


def main(paths: list[str]) -> int:
    for name in paths:
        seconds = execute(Path(name))
        print(f"{kit_relative(name)}: executed in full mode in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
