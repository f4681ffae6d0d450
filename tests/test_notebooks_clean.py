"""Committed notebooks are clean: python3 kernel, no widget state, no pip logs, one
parameters cell, and one short Colab cell first."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def _text_of_outputs(cell: dict) -> str:
    chunks = []
    for output in cell.get("outputs", []):
        chunks.extend(output.get("text", []))
        chunks.extend(output.get("data", {}).get("text/plain", []))
    return "".join(chunks)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in notebook["metadata"]
    cells = notebook["cells"]
    outputs = "".join(_text_of_outputs(c) for c in cells if c["cell_type"] == "code")
    assert "Successfully installed" not in outputs and "Requirement already" not in outputs
    assert "application/vnd.jupyter.widget-view+json" not in json.dumps(cells)
    parameters = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(parameters) == 1, "exactly one cell tagged 'parameters'"
    colab = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
    assert len(colab.splitlines()) <= 6 and colab.startswith('KIT_REPO_URL = ""')
    assert "/content/llmemb-kit/llmemb_utils/colab.py" in colab
    addresses = set(re.findall(r"github\.com/[\w.-]+/[\w.-]+", json.dumps(cells)))
    assert addresses <= {"github.com/OWNER/REPO.git"}, "a repository address besides the example"


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "01_data_prep.ipynb"
