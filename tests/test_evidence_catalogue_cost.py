"""evidence/catalogue_cost.py: the catalogue-cost benchmark's JSON rendered through a
``benchmarks/catalogue_cost`` block, measured and extrapolated sizes told apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmemb_utils.evidence.catalogue_cost import catalogue_cost_view, span
from llmemb_utils.evidence.render import rendered

GIB = 1024**3


def stage(sizes: list[int], seconds: list[float], exponent: float, estimates: list[tuple],
          **extra: list) -> dict:
    rows = [{"items": n, "seconds": s, "peak_rss_mb": 512.0 * (k + 1),
             **{key: values[k] for key, values in extra.items()}}
            for k, (n, s) in enumerate(zip(sizes, seconds, strict=True))]
    return {"description": "", "measured": rows,
            "fit": {"exponent": exponent, "coefficient": 1.0},
            "estimates": [{"items": n, "value": v, "label": label} for n, v, label in estimates]}


def measurement() -> dict:
    gpu_row = {"items": 1_000, "scft_run_seconds": 1_200.0, "scft_pass_seconds": 30.0,
               "scft_peak_bytes": 3 * GIB, "extraction_seconds": 2.0,
               "extraction_peak_bytes": 0.5 * GIB, "rat_peak_bytes": 0.25 * GIB}
    return {
        "command": "python benchmarks/catalogue_cost.py", "loaded": False, "threads": 2,
        "host": {"cpu": {"model": "Test CPU"}, "cores": 2},
        "load_average": {"before": [0.25, 0.5, 0.5], "after": [0.5, 0.5, 0.5]},
        "model": "smollm2-135m-instruct", "recipe": "configs/x.yaml",
        "source": {"items": 4_344, "data": "artifacts/sci/data", "format": "sequences-json",
                   "files": ["a.json", "b.json"], "prompt_tokens": {"median": 93.0, "max": 190}},
        "rat_data": "synthetic sequences", "targets": [1_000, 10_000],
        "stages": {
            "extraction": stage([100, 200], [10.0, 20.0], 1.0, [(1_000, 100.0, "extrapolated"),
                                                                (10_000, 1_000.0, "extrapolated")]),
            "scft": stage([500, 1_000], [60.0, 120.0], 1.0,
                          [(1_000, 120.0, "measured"), (10_000, 7_200.0, "extrapolated")],
                          step_seconds=[0.5, 0.75], trunk_cache_seconds=[30.0, 90.0],
                          planned_trunk_cache_bytes=[0.5 * GIB, GIB]),
        },
        "gpu_plan": {"flops_per_second": 8e12, "tokens": 191,
                     "t4-demo": {"scft_steps": 1_350, "pairs_per_step": 64, "lora_layers": None,
                                 "sizes": [gpu_row]}},
    }


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    """A kit root with results/ and the benchmark JSON beside it."""
    (tmp_path / "results").mkdir()
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "catalogue_cost.json").write_text(json.dumps(measurement()))
    return tmp_path


def test_spans_read_naturally():
    assert [span(s) for s in (0.4234, 2.0, 9.5, 12.4, 210.0, 7_560.0, 259_200.0)] == [
        "0.42 s", "2.0 s", "9.5 s", "12 s", "3.5 min", "2.1 h", "3.0 d"]


def test_measured_and_extrapolated_sizes_are_labelled(kit: Path):
    lines = catalogue_cost_view(kit / "benchmarks", {}).splitlines()
    assert lines[:4] == [
        "| stage | measured at (items) | log-log slope | 1,000 items | 10,000 items "
        "| peak RSS at the largest measured |",
        "|---|---|---|---|---|---|",
        "| extraction | 100, 200 | 1.00 | 1.7 min (extrapolated) | 16.7 min (extrapolated) "
        "| 1.00 GiB |",
        "| SCFT, one pass over the catalogue | 500, 1,000 | 1.00 | 2.0 min | "
        "2.0 h (extrapolated) | 1.00 GiB |",
    ]
    note = lines[5]
    assert "measured on an idle machine (1-minute load average 0.25 at the start)" in note
    assert ("Model `smollm2-135m-instruct` with the recipe of `configs/x.yaml`; prompts drawn "
            "from the 4,344 items of `artifacts/sci/data` (sequences-json: a.json, b.json; "
            "median 93 tokens, longest 190)") in note
    assert "An SCFT step took 0.50, 0.75 s at the measured sizes" in note
    assert ("took 30 s at 500 items (planned 0.50 GiB of host RAM), 1.5 min at 1,000 items "
            "(planned 1.00 GiB of host RAM).") in note
    assert ("| t4-demo (1,350 steps of 64 pairs, LoRA on every layer) | 1,000 | 20.0 min | "
            "30 s | 3.00 GiB | 2.0 s | 0.50 GiB | 0.25 GiB |") in lines
    assert "at an assumed 8 TFLOPS sustained" in lines[-1]


def test_a_block_renders_from_the_json_beside_results(kit: Path):
    text = ("<!-- results:benchmarks/catalogue_cost -->\n"
            "<!-- /results:benchmarks/catalogue_cost -->\n")
    page = rendered(text, kit / "results", "docs/results.md")
    assert "| extraction | 100, 200 | 1.00 |" in page


def test_a_benchmark_not_run_yet_says_how_to_run_it(tmp_path: Path):
    (tmp_path / "results").mkdir()
    text = ("<!-- results:benchmarks/catalogue_cost -->\n"
            "<!-- /results:benchmarks/catalogue_cost -->\n")
    assert rendered(text, tmp_path / "results", "docs/x.md") == (
        "<!-- results:benchmarks/catalogue_cost -->\nNot measured yet: `python "
        "benchmarks/catalogue_cost.py` on an idle machine writes "
        "`benchmarks/catalogue_cost.json`, which this block then shows.\n"
        "<!-- /results:benchmarks/catalogue_cost -->\n")


def test_an_unknown_benchmark_view_lists_the_known_ones(kit: Path):
    text = "<!-- results:benchmarks/speed -->\n<!-- /results:benchmarks/speed -->\n"
    with pytest.raises(ValueError, match=r"benchmarks/VIEW with VIEW one of \['catalogue_cost'\]"):
        rendered(text, kit / "results", "docs/x.md")
