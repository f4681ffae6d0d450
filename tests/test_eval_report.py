"""Mean and standard deviation over runs' metrics files."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmemb_utils.eval.report import aggregate_runs, format_table, report_runs
from llmemb_utils.io import write_json

GROUPS = ("item_tail", "item_head", "user_short", "user_long")


def metrics_file(folder: Path, name: str, hr: float, candidates: str = "full") -> Path:
    section = {"HR@10": hr, "NDCG@10": hr / 2}
    path = folder / name
    write_json(path, {"protocol": {"candidates": candidates, "num_negatives": None,
                                   "exclude_history": False},
                      "overall": section, "groups": dict.fromkeys(GROUPS, section),
                      "inputs": {"encoder": {"name": "id"}},
                      "config": {"srs": {"backbone": "sasrec"}}})
    return path


def test_aggregate_gives_mean_and_sample_std(tmp_path: Path) -> None:
    paths = [metrics_file(tmp_path, f"{i}.json", hr) for i, hr in enumerate([0.1, 0.2, 0.3])]
    table = aggregate_runs(paths, groups=("overall", "item_tail"))
    mean, std, runs = table["overall/HR@10"]
    assert (mean, std, runs) == (pytest.approx(0.2), pytest.approx(0.1), 3)
    assert table["item_tail/NDCG@10"][0] == pytest.approx(0.1)
    text = format_table({"SASRec": table})
    assert "| SASRec | 0.2000 ± 0.1000 |" in text


def test_aggregate_refuses_mixed_protocols(tmp_path: Path) -> None:
    paths = [metrics_file(tmp_path, "a.json", 0.1),
             metrics_file(tmp_path, "b.json", 0.1, candidates="sampled")]
    with pytest.raises(ValueError, match="different protocols"):
        aggregate_runs(paths)


def test_report_groups_runs_by_encoder_backbone_and_protocol(tmp_path: Path) -> None:
    for seed, hr in ((42, 0.1), (43, 0.3)):
        metrics_file(tmp_path / f"run{seed}", "metrics.json", hr)
        metrics_file(tmp_path / f"run{seed}", "metrics_sampled.json", 0.5, "sampled")
    lines = report_runs([tmp_path / "run42", tmp_path / "run43"]).splitlines()
    assert lines[0].startswith("| run | overall/HR@10 | overall/NDCG@10 | item_tail/HR@10")
    assert lines[2].startswith("| id-sasrec, full (n=2) | 0.2000 ± 0.1414 |")
    assert lines[3].startswith("| id-sasrec, sampled (n=2) | 0.5000 ± 0.0000 |")
