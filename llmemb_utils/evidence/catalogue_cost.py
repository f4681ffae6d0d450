"""The catalogue-cost benchmark (``benchmarks/catalogue_cost.py``) as Markdown: each stage's
measured sizes, log-log slope and estimates at the target sizes on the CPU it ran on, then
the planner's GPU estimate at the same sizes, so a document states them without typing them.

Blocks name it ``benchmarks/catalogue_cost``: the folder beside ``results/`` and the JSON's
name, as ``notebooks/runtimes`` names the committed notebooks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..io import read_json
from ..llm.plan import GIB
from .scaling import EXTRAPOLATED

BENCHMARKS = "benchmarks"  # the folder beside results/, and the source name of its blocks
CATALOGUE_COST = "catalogue_cost.json"
STAGE_LABELS = {"extraction": "extraction", "scft": "SCFT, one pass over the catalogue",
                "pca": "PCA of the LLM table", "rat": "RAT, one LLMEmb-SASRec epoch"}


def span(seconds: float) -> str:
    """``0.42 s``, ``12 s``, ``3.5 min``, ``2.1 h`` or ``3.0 d``: two significant figures
    below a minute, one decimal above."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:#.2g} s" if seconds < 10 else f"{seconds:.0f} s"


def _sizes(values: list[int]) -> str:
    return ", ".join(f"{value:,}" for value in values)


def _estimate(row: dict[str, Any]) -> str:
    value = span(row["value"])
    return f"{value} (extrapolated)" if row["label"] == EXTRAPOLATED else value


def cpu_table(measured: dict[str, Any]) -> list[str]:
    """One row per stage: sizes measured, slope, the target sizes, peak RSS at the largest."""
    targets = measured["targets"]
    lines = ["| stage | measured at (items) | log-log slope | "
             + " | ".join(f"{size:,} items" for size in targets)
             + " | peak RSS at the largest measured |", "|---" * (len(targets) + 4) + "|"]
    for stage, label in STAGE_LABELS.items():
        if stage not in measured["stages"]:
            continue
        result = measured["stages"][stage]
        rows = result["measured"]
        by_size = {row["items"]: row for row in result["estimates"]}
        lines.append(f"| {label} | {_sizes([row['items'] for row in rows])} | "
                     f"{result['fit']['exponent']:.2f} | "
                     + " | ".join(_estimate(by_size[size]) for size in targets)
                     + f" | {rows[-1]['peak_rss_mb'] / 1024:.2f} GiB |")
    return lines


def scft_note(measured: dict[str, Any]) -> str:
    """SCFT's measured step time and trunk cache beside the planner's trunk cache."""
    if "scft" not in measured["stages"]:
        return ""
    rows = measured["stages"]["scft"]["measured"]
    steps = ", ".join(f"{row['step_seconds']:.2f}" for row in rows)
    cache = ", ".join(f"{span(row['trunk_cache_seconds'])} at {row['items']:,} items (planned "
                      f"{row['planned_trunk_cache_bytes'] / GIB:.2f} GiB of host RAM)"
                      for row in rows)
    return (f" An SCFT step took {steps} s at the measured sizes; the trunk cache, the part "
            f"that grows with the catalogue, took {cache}.")


def gpu_table(plan: dict[str, Any], profiles: tuple[str, ...]) -> list[str]:
    """The planner's time and peak memory per GPU profile and size."""
    lines = ["| profile | items | SCFT run | one SCFT pass | SCFT peak | extraction | "
             "extraction peak | RAT peak |", "|---" * 8 + "|"]
    for profile in profiles:
        settings = plan[profile]
        layers = ("every layer" if settings["lora_layers"] is None
                  else f"the top {settings['lora_layers']} layers")
        name = (f"{profile} ({settings['scft_steps']:,} steps of "
                f"{settings['pairs_per_step']} pairs, LoRA on {layers})")
        for k, row in enumerate(settings["sizes"]):
            lines.append(f"| {name if k == 0 else ''} | {row['items']:,} | "
                         f"{span(row['scft_run_seconds'])} | "
                         f"{span(row['scft_pass_seconds'])} | "
                         f"{row['scft_peak_bytes'] / GIB:.2f} GiB | "
                         f"{span(row['extraction_seconds'])} | "
                         f"{row['extraction_peak_bytes'] / GIB:.2f} GiB | "
                         f"{row['rat_peak_bytes'] / GIB:.2f} GiB |")
    return lines


def catalogue_cost_view(folder: Path, options: dict[str, str]) -> str:
    """The benchmark's JSON in ``folder`` as two tables and the notes that say how it was
    measured; until the benchmark has run, a line that says so and how to run it (its
    timings need an idle machine, which a document's check cannot wait for)."""
    path = folder / CATALOGUE_COST
    if not path.is_file():
        return (f"Not measured yet: `python benchmarks/catalogue_cost.py` on an idle machine "
                f"writes `{BENCHMARKS}/{CATALOGUE_COST}`, which this block then shows.")
    measured = read_json(path)
    source, host, plan = measured["source"], measured["host"], measured["gpu_plan"]
    load = ("measured while the machine was loaded, so the times overstate an idle one's"
            if measured["loaded"] else "measured on an idle machine")
    profiles = tuple(name for name in ("t4-demo", "paper") if name in plan)
    lines = cpu_table(measured)
    lines += ["", f"`{measured['command']}` on {host['cpu']['model']} ({host['cores']} cores, "
                  f"PyTorch threads: {measured['threads']}), {load} (1-minute load average "
                  f"{measured['load_average']['before'][0]:.2f} at the start). "
                  f"Model `{measured['model']}` with the recipe of `{measured['recipe']}`; "
                  f"prompts drawn from the {source['items']:,} "
                  f"items of `{source['data']}` ({source['format']}: "
                  f"{', '.join(source['files']) or 'no source files'}; median "
                  f"{source['prompt_tokens']['median']:.0f} tokens, longest "
                  f"{source['prompt_tokens']['max']}). RAT runs on {measured['rat_data']}. "
                  "Slope: least squares of log seconds on log items; a size not measured is "
                  "the fitted power law's, labelled extrapolated." + scft_note(measured),
              "", *gpu_table(plan, profiles),
              "", f"The planner's estimate (`llmemb plan`), not a measurement: peak memory "
                  f"from the model's shape, time from its FLOP count at an assumed "
                  f"{plan['flops_per_second'] / 1e12:g} TFLOPS sustained (4-bit QLoRA on a "
                  f"T4), prompts of {plan['tokens']} tokens. The SCFT run is the profile's "
                  "fixed number of steps; one SCFT pass is the steps that visit every item "
                  "once; RAT's time is not modelled."]
    return "\n".join(lines)
