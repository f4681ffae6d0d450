"""benchmarks/catalogue_cost.py: its size option, and a smoke run on a tiny model and tiny
catalogues that writes every stage, fit, estimate and GPU plan (no timing is asserted)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "catalogue_cost.py"
sys.path.append(str(SCRIPT.parent))  # the script imports run_record and srs beside it
SPEC = importlib.util.spec_from_file_location("catalogue_cost", SCRIPT)
catalogue_cost = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(catalogue_cost)


def test_sizes_replace_the_defaults_of_the_stages_named():
    sizes = catalogue_cost.parse_sizes(["rat=300,100", "pca=10,20,20"])
    assert sizes["rat"] == (100, 300)
    assert sizes["pca"] == (10, 20)
    assert sizes["scft"] == catalogue_cost.DEFAULT_SIZES["scft"]


@pytest.mark.parametrize(("text", "message"), [
    ("training=1,2", "must be one of"),
    ("rat=10", "two distinct positive sizes"),
    ("rat=10,ten", "whole numbers"),
    ("pca=0,10", "two distinct positive sizes"),
])
def test_bad_sizes_are_refused_naming_the_option(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        catalogue_cost.parse_sizes([text])


@pytest.fixture
def tiny_recipe(tmp_path: Path) -> tuple[Path, Path]:
    """A config over a prepared synthetic dataset of 40 items, and a tiny random LLaMA."""
    from llmemb_utils.config import load_config
    from llmemb_utils.layout import RunLayout
    from llmemb_utils.llm.tiny import save_tiny_llama
    from llmemb_utils.srs.synthetic import prepare_synthetic, successor_data

    model = save_tiny_llama(tmp_path / "tiny", layers=4, hidden=32)
    config = tmp_path / "tiny.yaml"
    config.write_text(f"name: tiny\nartifacts: {tmp_path / 'artifacts'}\n"
                      f"llm: {{model: {model}, max_tokens: 32}}\n"
                      "scft: {batch_size: 4, lora_layers: 2, steps: 10}\n"
                      "srs: {hidden: 16, max_length: 10, batch_size: 16, blocks: 1}\n",
                      encoding="utf-8")
    prepare_synthetic(successor_data(30, 40, 6), RunLayout(load_config(config)).data)
    return config, model


@pytest.mark.slow
def test_a_tiny_run_writes_every_stage_and_the_gpu_plan(tmp_path: Path, tiny_recipe):
    config, _ = tiny_recipe
    out, figure = tmp_path / "cost.json", tmp_path / "cost.png"
    sizes = ["extraction=8,16", "scft=8,16", "pca=40,80", "rat=40,80"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(SCRIPT), "--config", str(config), "--data-config",
                           str(config), "--threads", "1", "--scft-steps", "2", "--sizes", *sizes,
                           "--allow-loaded", "--out", str(out), "--figure", str(figure)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert figure.is_file()
    assert report["source"]["items"] == 40
    assert report["targets"] == [1_000, 10_000, 100_000]
    assert set(report["stages"]) == {"extraction", "scft", "pca", "rat"}
    asked = {"extraction": [8, 16], "scft": [8, 16], "pca": [40, 80], "rat": [40, 80]}
    for stage, result in report["stages"].items():
        rows = result["measured"]
        assert [row["items"] for row in rows] == asked[stage]
        assert all(row["seconds"] > 0 and row["peak_rss_mb"] > 0 for row in rows)
        assert set(result["fit"]) == {"exponent", "coefficient"}
        assert [(row["items"], row["label"]) for row in result["estimates"]] == [
            (1_000, "extrapolated"), (10_000, "extrapolated"), (100_000, "extrapolated")]
    scft_rows = report["stages"]["scft"]["measured"]
    # one pass over 16 items at 4 pairs a step is 4 steps; the planned trunk cache doubles
    assert [row["steps_per_pass"] for row in scft_rows] == [2, 4]
    assert scft_rows[1]["planned_trunk_cache_bytes"] == 2 * scft_rows[0][
        "planned_trunk_cache_bytes"] > 0
    plan = report["gpu_plan"]
    for profile in ("t4-demo", "paper"):
        rows = plan[profile]["sizes"]
        assert [row["items"] for row in rows] == [1_000, 10_000, 100_000]
        # extraction's planned time is linear in the items; RAT's tables grow with them
        assert rows[1]["extraction_seconds"] == pytest.approx(10 * rows[0]["extraction_seconds"])
        assert rows[2]["rat_peak_bytes"] > rows[1]["rat_peak_bytes"] > rows[0]["rat_peak_bytes"]
    assert plan["t4-demo"]["lora_layers"] is None  # every layer, as the profile trains
