"""The committed notebooks show one full-mode execution of their current sources: every code
cell's recorded source and outputs hashes (``make notebooks``) match its source and outputs,
execution counts run 1, 2, 3, ... without gaps, each notebook shows a figure, and no output
holds a machine's folders, an error, a warning, or words about how the kit was made rather
than about the method.

The checkers return a list of problems; they are tested first on small hand-built notebooks.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from llmemb_utils.notebook_records import RECORD, outputs_hash, record_run, source_hash

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob(
    "[0-9][0-9]_*.ipynb"))
MACHINE_PATHS = re.compile(r"/root\b|/home/|/tmp/|/work/|site-packages")
INTERNAL_DOCUMENTS = ("method" + "-spec", "shared/" + "design")  # spelt apart: not named here
KIT_MAKING = re.compile(r"\bissues?\b|\btickets?\b|\bcoordinator\b|the team\b|"
                        + "|".join(INTERNAL_DOCUMENTS), re.IGNORECASE)
WARNING = re.compile(r"warning", re.IGNORECASE)


def output_text(output: dict) -> str:
    """The text of a stream, result, display or error output."""
    if output["output_type"] == "stream":
        return output["text"]
    if output["output_type"] == "error":
        return "\n".join([output["ename"], output["evalue"], *output["traceback"]])
    data = output.get("data", {})
    return "\n".join(data[kind] for kind in ("text/plain", "text/html", "text/markdown")
                     if kind in data)


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def stale_cells(notebook) -> list[str]:
    """Code cells whose outputs are not from a full-mode run of their current source."""
    problems = []
    if notebook.metadata.get(RECORD, {}).get("mode") != "full":
        problems.append("not executed by `make notebooks` in full mode")
    counts = [cell.execution_count for cell in code_cells(notebook)]
    if counts != list(range(1, len(counts) + 1)):
        problems.append(f"execution counts {counts}: not one run top to bottom")
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        record = cell.metadata.get(RECORD, {})
        for key, now, changed in (
                ("source_sha256", source_hash(cell.source),
                 "source changed after its outputs were made"),
                ("outputs_sha256", outputs_hash(cell.outputs),
                 "outputs changed after the run that made them")):
            if record.get(key) != now:
                problems.append(f"cell {number}: {changed}" if key in record
                                else f"cell {number}: no recorded {key.split('_')[0]} hash")
    return problems


def missing_figure(notebook) -> list[str]:
    images = [output for cell in code_cells(notebook) for output in cell.outputs
              if "image/png" in output.get("data", {})]
    return [] if images else ["no inline image"]


def bad_outputs(notebook) -> list[str]:
    """Errors, warnings on stderr and machine paths in any output."""
    problems = []
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            text = output_text(output)
            if output["output_type"] == "error":
                problems.append(f"cell {number}: error {output['ename']}")
            if output.get("name") == "stderr" and WARNING.search(text):
                problems.append(f"cell {number}: warning on stderr: {text.strip()[:80]}")
            if match := MACHINE_PATHS.search(text):
                problems.append(f"cell {number}: machine path {match.group()!r} in the output")
    return problems


def words_about_the_making(notebook) -> list[str]:
    """Sources or outputs that speak of issues, tickets or internal documents."""
    problems = []
    for number, cell in enumerate(notebook.cells):
        texts = [cell.source, *(output_text(o) for o in cell.get("outputs", []))]
        for text in texts:
            if match := KIT_MAKING.search(text):
                problems.append(f"cell {number}: {match.group()!r}")
    return problems


CHECKS = (stale_cells, missing_figure, bad_outputs, words_about_the_making)


def problems_of(notebook) -> list[str]:
    return [problem for check in CHECKS for problem in check(notebook)]


# --- the checkers, on hand-built notebooks -----------------------------------------------------

PNG = "iVBORw0KGgo="  # any base64 payload: the checks look at the MIME type only


def executed(*cells, mode: str = "full"):
    """A notebook as `make notebooks` leaves it: counts 1, 2, ... and recorded sources."""
    notebook = new_notebook(cells=list(cells))
    for count, cell in enumerate(code_cells(notebook), start=1):
        cell.execution_count = count
    record_run(notebook, mode, seconds=1.0)
    return notebook


def good_notebook():
    return executed(
        new_markdown_cell("# A notebook\nThe loss of the method."),
        new_code_cell("print('kit 0.1.0')", outputs=[
            new_output("stream", name="stdout", text="kit 0.1.0\n")]),
        new_code_cell("show()", outputs=[new_output("display_data", data={
            "image/png": PNG, "text/plain": "<IPython.core.display.Image object>"})]))


def test_a_fresh_full_run_passes():
    assert problems_of(good_notebook()) == []


def test_an_edited_cell_is_stale():
    notebook = good_notebook()
    notebook.cells[1].source = "print('kit 0.2.0')"
    assert stale_cells(notebook) == ["cell 1: source changed after its outputs were made"]


def test_an_output_edited_by_hand_is_stale():
    notebook = good_notebook()
    notebook.cells[1].outputs[0].text = "kit 0.2.0\n"
    assert stale_cells(notebook) == ["cell 1: outputs changed after the run that made them"]
    notebook = good_notebook()
    notebook.cells[2].outputs[0].data["image/png"] = "iVBORw0KGgp="  # another figure
    assert stale_cells(notebook) == ["cell 2: outputs changed after the run that made them"]
    notebook = good_notebook()
    notebook.cells[1].outputs.append(new_output("stream", name="stdout", text="more\n"))
    assert stale_cells(notebook) == ["cell 1: outputs changed after the run that made them"]


def test_a_cell_without_record_or_from_fast_mode_is_stale():
    notebook = executed(new_code_cell("1"), mode="fast")
    del notebook.cells[0].metadata[RECORD]
    assert stale_cells(notebook) == ["not executed by `make notebooks` in full mode",
                                     "cell 0: no recorded source hash",
                                     "cell 0: no recorded outputs hash"]


def test_cells_run_out_of_order_are_not_one_execution():
    notebook = good_notebook()
    notebook.cells[2].execution_count = 7
    assert stale_cells(notebook) == ["execution counts [1, 7]: not one run top to bottom"]


def test_a_notebook_without_image_is_reported():
    notebook = good_notebook()
    notebook.cells[2].outputs = []
    assert missing_figure(notebook) == ["no inline image"]


def test_errors_warnings_and_machine_paths_are_reported():
    notebook = good_notebook()
    notebook.cells[1].outputs = [
        new_output("stream", name="stdout", text="[prepare] /work/kit/artifacts/data: reused\n"),
        new_output("stream", name="stderr", text="UserWarning: something is deprecated\n"),
        new_output("error", ename="ValueError", evalue="bad", traceback=["in site-packages"]),
        new_output("execute_result", data={"text/plain": "'/root/.cache/llmemb'"},
                   execution_count=1)]
    assert bad_outputs(notebook) == [
        "cell 1: machine path '/work/' in the output",
        "cell 1: warning on stderr: UserWarning: something is deprecated",
        "cell 1: error ValueError", "cell 1: machine path 'site-packages' in the output",
        "cell 1: machine path '/root' in the output"]


def test_relative_paths_and_plain_stderr_pass():
    notebook = good_notebook()
    notebook.cells[1].outputs = [
        new_output("stream", name="stdout", text="artifacts/ml100k_smollm2/data\n"),
        new_output("stream", name="stderr", text="epoch 1: loss 0.7\n")]
    assert bad_outputs(notebook) == []


def test_words_about_the_making_are_reported_in_sources_and_outputs():
    notebook = good_notebook()
    notebook.cells[0].source = "The issue's target for SASRec is 1.2x."
    notebook.cells[1].outputs[0].text = "as the coordinator asked\n"
    assert words_about_the_making(notebook) == ["cell 0: 'issue'", "cell 1: 'coordinator'"]


def test_method_words_that_resemble_them_pass():
    notebook = good_notebook()
    notebook.cells[0].source = "Test targets outside the head, as in session-based recommenders."
    assert words_about_the_making(notebook) == []


# --- the committed notebooks -------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_shows_one_full_run_of_its_sources(path):
    problems = problems_of(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name} (run `make notebooks`):\n" + "\n".join(problems)
