"""`make notebooks`: a notebook executed in full mode is written back with its outputs and the
hash of every code cell's source; fast mode never writes."""

import hashlib

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from llmemb_utils.notebook_records import RECORD, execute, outputs_hash, source_hash


@pytest.fixture
def notebook_file(tmp_path):
    path = tmp_path / "01_tiny.ipynb"
    cells = [new_markdown_cell("# Tiny"), new_code_cell("print(6 * 7)"),
             new_code_cell("import os\nos.environ.get('LLMEMB_FAST', 'unset')")]
    cells[1].metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    nbformat.write(new_notebook(cells=cells), path)
    return path


@pytest.mark.slow
def test_full_mode_run_writes_outputs_and_source_hashes(notebook_file, monkeypatch):
    monkeypatch.delenv("LLMEMB_FAST", raising=False)
    execute(notebook_file)
    notebook = nbformat.read(notebook_file, as_version=4)
    _, printed, mode = notebook.cells
    assert printed.outputs[0]["text"] == "42\n" and printed.execution_count == 1
    assert mode.outputs[0]["data"]["text/plain"] == "'unset'" and mode.execution_count == 2
    assert [c.metadata.get(RECORD) for c in notebook.cells] == [
        None, {"source_sha256": source_hash("print(6 * 7)"),
               "outputs_sha256": outputs_hash(printed.outputs)},
        {"source_sha256": source_hash("import os\nos.environ.get('LLMEMB_FAST', 'unset')"),
         "outputs_sha256": outputs_hash(mode.outputs)}]
    assert "execution" not in printed.metadata
    assert notebook.metadata[RECORD]["mode"] == "full"


def test_fast_mode_never_writes(notebook_file, monkeypatch):
    monkeypatch.setenv("LLMEMB_FAST", "1")
    before = notebook_file.read_bytes()
    with pytest.raises(SystemExit, match="LLMEMB_FAST"):
        execute(notebook_file)
    assert notebook_file.read_bytes() == before


def test_source_hash_is_sha256_of_the_text():
    assert source_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_outputs_hash_is_sha256_of_the_canonical_json():
    assert outputs_hash([]) == hashlib.sha256(b"[]").hexdigest()
    stream = {"output_type": "stream", "name": "stdout", "text": "42\n"}
    expected = b'[{"name":"stdout","output_type":"stream","text":"42\\n"}]'
    assert outputs_hash([stream]) == hashlib.sha256(expected).hexdigest()
    assert outputs_hash([dict(reversed(stream.items()))]) == outputs_hash([stream])


@pytest.mark.slow
def test_a_published_figure_shows_once_under_the_inline_backend(tmp_path, monkeypatch):
    monkeypatch.delenv("LLMEMB_FAST", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # Jupyter's own inline backend
    path = tmp_path / "figure.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(
        "import numpy as np\nfrom llmemb_utils import plots\n"
        f"plots.publish(plots.popularity_curve(np.array([9, 3, 1]), 3), 'pop', {str(tmp_path)!r})"
    )]), path)
    execute(path)
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [sorted(o.get("data", {})) for o in outputs] == [["image/png", "text/plain"]]
    assert (tmp_path / "pop.png").is_file()
