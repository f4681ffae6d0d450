"""Verdict sentences from hand-written comparison rows, and the training note from
hand-written metrics.json files."""

from __future__ import annotations

import json

import pytest

from llmemb_utils.evidence.verdicts import training_note, verdict_lines


def _row(backbone, group, ratio, low, high, excludes, model="llmemb", protocol="full"):
    return {"backbone": backbone, "model": model, "baseline": "id", "protocol": protocol,
            "metric": "NDCG@10", "group": group, "seeds": [42, 43], "ratio": ratio,
            "ratio_ci95": [low, high], "diff": ratio - 1, "diff_ci95": [low - 1, high - 1],
            "excludes_no_difference": excludes}


def test_verdicts_sasrec_first_groups_in_order_ties_called_ties():
    rows = [_row("gru4rec", "overall", 0.9, 0.7, 1.1, False),
            _row("sasrec", "item_tail", 0.53, 0.35, 0.77, True),
            _row("sasrec", "overall", 1.2, 1.1, 1.3, True),
            _row("sasrec", "overall", 2.0, 1.5, 2.5, True, protocol="sampled"),
            _row("sasrec", "overall", 3.0, 2.0, 4.0, True, model="llmemb-no-align")]
    assert verdict_lines(rows, "llmemb", groups=("overall", "item_tail")) == [
        "sasrec, llmemb vs id (seeds 42, 43), overall: 1.20x [1.10, 1.30]: llmemb better",
        "sasrec, llmemb vs id (seeds 42, 43), item_tail: 0.53x [0.35, 0.77]: llmemb worse",
        "gru4rec, llmemb vs id (seeds 42, 43), overall: 0.90x [0.70, 1.10]: tie"]


def test_a_verdict_over_a_modified_run_is_marked_and_the_note_follows():
    rows = [_row("sasrec", "overall", 1.2, 1.1, 1.3, True),
            _row("gru4rec", "overall", 0.9, 0.7, 1.1, False)]
    modified = frozenset({("gru4rec", "id", 43), ("sasrec", "id", 44)})  # 44: not compared
    lines = verdict_lines(rows, "llmemb", groups=("overall",), modified=modified)
    assert lines[:2] == [
        "sasrec, llmemb vs id (seeds 42, 43), overall: 1.20x [1.10, 1.30]: llmemb better",
        "gru4rec, llmemb† vs id (seeds 42, 43), overall: 0.90x [0.70, 1.10]: tie"]
    assert len(lines) == 3 and lines[2].startswith("† trained from a working tree")
    assert verdict_lines(rows[:1], "llmemb", groups=("overall",), modified=modified) == [
        lines[0]]  # no marked line, no note


def test_no_matching_comparison_is_an_error():
    with pytest.raises(ValueError, match="no comparison llmemb-x vs id"):
        verdict_lines([_row("sasrec", "overall", 1.0, 0.9, 1.1, False)], "llmemb-x")


def _run(folder, converged, cap=20, budget="demo"):
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps({"training": {
        "converged": converged, "cap": cap, "budget": budget}}))
    return folder


def test_training_note_counts_the_runs_stopped_at_their_cap(tmp_path):
    runs = [_run(tmp_path / "a", False), _run(tmp_path / "b", True), _run(tmp_path / "c", False)]
    assert training_note(runs) == ("undertrained: 2 of 3 runs stopped at their 20-epoch cap "
                                   "before validation stopped improving (srs.budget: demo)")
    long = [_run(tmp_path / "d", True, 200, "convergence"),
            _run(tmp_path / "e", False, 200, "convergence")]
    assert training_note(long) == ("1 of 2 runs stopped at their 200-epoch cap before validation "
                                   "stopped improving (srs.budget: convergence); the others "
                                   "converged")
    assert training_note(long[1:]).endswith("(srs.budget: convergence)")
    converged = long[:1]
    assert training_note(converged) == ("converged: each of the 1 runs trained until validation "
                                        "stopped improving")
