"""Runs trained from a working tree with uncommitted changes are marked in every generated
table that shows them, alone, in a mean over seeds or in a comparison, with one note."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from llmemb_utils.evidence.environment import kit_modified
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


def test_a_run_trained_from_uncommitted_code_stays_marked_after_a_clean_re_evaluation(
        tmp_path: Path) -> None:
    results = _experiment(tmp_path, ())
    target = results / "tiny" / "runs" / "llmemb-sasrec-seed43" / "run.json"
    record = read_json(target)
    record["training_environment"] = {**record["environment"], "kit_modified": True}
    write_json(target, record)  # evaluated again from committed code, trained from a dirty tree
    assert _rows(markdown("tiny/runs", results))[-1] == "llmemb-sasrec-seed43†"


def test_records_of_committed_code_carry_no_mark_and_no_note(tmp_path: Path) -> None:
    results = _experiment(tmp_path, ())
    for view in ("runs", "table", "comparison", "headline", "uniformity"):
        assert "†" not in markdown(f"tiny/{view}", results)


def test_only_changes_to_the_code_behind_a_run_mark_it_modified(tmp_path: Path):
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "llmemb_utils").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "llmemb_utils" / "model.py").write_text("A = 1\n")
    (tmp_path / "notebooks" / "01.ipynb").write_text("{}\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    assert kit_modified(tmp_path) is False
    (tmp_path / "notebooks" / "01.ipynb").write_text('{"outputs": []}\n')  # an executed notebook
    (tmp_path / "figures.png").write_text("new")
    assert kit_modified(tmp_path) is False
    (tmp_path / "llmemb_utils" / "helper.py").write_text("B = 2\n")  # new, untracked code
    assert kit_modified(tmp_path) is True
    (tmp_path / "llmemb_utils" / "helper.py").unlink()
    (tmp_path / "llmemb_utils" / "model.py").write_text("A = 2\n")
    assert kit_modified(tmp_path) is True
    assert kit_modified(tmp_path / "elsewhere") is None  # not a git checkout
