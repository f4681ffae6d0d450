"""Runs trained from a working tree with uncommitted changes are marked in every generated
table that shows them, alone, in a mean over seeds or in a comparison, with one note."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llmemb_utils.evidence.provenance import NOTE
from llmemb_utils.evidence.records import compare_experiment
from llmemb_utils.evidence.render import markdown
from llmemb_utils.io import read_json, write_json
from llmemb_utils.layout import repo_root

SOURCE = repo_root() / "results" / "ml100k_smollm2" / "runs"
RUNS = ("id-sasrec-seed42", "id-sasrec-seed43", "llmemb-sasrec-seed42", "llmemb-sasrec-seed43")


def _experiment(tmp_path: Path, modified: tuple[str, ...]) -> Path:
    """Four committed SASRec runs, ``modified`` the only ones recorded as such."""
    results = tmp_path / "results"
    for name in RUNS:
        target = results / "tiny" / "runs" / name
        shutil.copytree(SOURCE / name, target)
        record = read_json(target / "run.json")
        record["environment"]["kit_modified"] = name in modified
        write_json(target / "run.json", record)
    (results / "tiny" / "README.md").write_text("Copied from the committed records.\n")
    compare_experiment(results / "tiny", "test", replicates=100)
    return results


@pytest.fixture
def one_modified(tmp_path: Path) -> Path:
    return _experiment(tmp_path, ("llmemb-sasrec-seed43",))


def _rows(text: str) -> list[str]:
    return [line.split(" | ")[0].removeprefix("| ") for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("|---")][1:]


def test_a_run_table_marks_the_modified_run_alone(one_modified: Path) -> None:
    for view in ("runs", "selection"):
        text = markdown(f"tiny/{view}", one_modified)
        assert _rows(text) == ["id-sasrec-seed42", "id-sasrec-seed43", "llmemb-sasrec-seed42",
                               "llmemb-sasrec-seed43†"]
        assert text.endswith(f"\n\n{NOTE}") and text.count(NOTE) == 1


def test_a_mean_over_seeds_and_a_comparison_holding_it_are_marked(one_modified: Path) -> None:
    table = markdown("tiny/table", one_modified, protocol="full")
    assert _rows(table) == ["id-sasrec, full (2)", "llmemb-sasrec†, full (2)"]
    comparison = markdown("tiny/comparison", one_modified)
    assert [line.split(" | ")[1] for line in comparison.splitlines()[2:3]] == ["llmemb vs id†"]
    # the headline rows after its test-users row
    headline = [line.split(" | ")[1] for line in
                markdown("tiny/headline", one_modified).splitlines()[3:6]]
    assert headline == ["ID (2)", "LLMEmb† (2)", "LLMEmb / ID† (seeds 42, 43)"]


def test_records_of_committed_code_carry_no_mark_and_no_note(tmp_path: Path) -> None:
    results = _experiment(tmp_path, ())
    for view in ("runs", "table", "comparison", "headline", "uniformity"):
        assert "†" not in markdown(f"tiny/{view}", results)
