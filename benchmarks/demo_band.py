"""How far `make demo`'s numbers move on another CPU or thread count; writes the band into the
demo study's records (results/ml100k_smollm2/cpu_band.json), where docs/results.md renders it.

On one CPU with one thread count a seeded run repeats bit for bit. Another thread count or
instruction set changes the order of floating-point sums; over 20 epochs the small differences
grow into other trajectories. This script trains the demo study's seed-42 ID-SASRec and
LLMEmb-SASRec (the demo config, its SCFT table, the LLMEmb run aligned to its own ID run) under
several perturbations, each in a child process:

* ``avx2`` with 2 threads: how the records' seed-42 runs were trained, on a CPU whose widest
  kernels are AVX2's (checked against them);
* ``avx2`` with 1 thread: another reduction order;
* ``sse41`` with 2 threads: the kernels of a CPU without AVX (``benchmarks/cross_cpu.py``);
* ``native`` with 2 threads, only where this CPU's own kernels are wider than AVX2 (avx512):
  what such a CPU gives unperturbed.

The band is, per model and group, the largest absolute difference of test NDCG@10 and HR@10 from
the records' own numbers (on the records' CPU the reference repeats them exactly, elsewhere it
need not). Run it after `make demo` or `make notebooks`: it reads the demo's data and SCFT table
as this machine built them.

    .venv/bin/python benchmarks/demo_band.py
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import run_record  # this folder is on the path when run as a script
from cross_cpu import ISA_VARIABLES, MODES

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "ml100k_smollm2.yaml"
RUNS = ROOT / "results" / "ml100k_smollm2" / "runs"  # the demo study's records
REFERENCE = ("avx2", 2)  # the kernels and threads of the records' seed-42 runs
PERTURBATIONS = (REFERENCE, ("avx2", 1), ("sse41", 2))
RECORDS_CAPABILITY = "AVX2"  # PyTorch's kernel choice on the CPU that wrote the records
SEED = 42
ENCODERS = ("id", "llmemb")
GROUPS = ("overall", "item_tail", "item_head")
METRICS = ("NDCG@10", "HR@10")


def train_pair(folder: Path) -> dict[str, dict[str, dict[str, float]]]:
    """Train the seed's ID-SASRec, then LLMEmb-SASRec aligned to it, into ``folder``; returns
    each run's full-ranking test metrics by group."""
    from llmemb_utils.config import load_config
    from llmemb_utils.data.dataset import PreparedDataset
    from llmemb_utils.layout import RunLayout
    from llmemb_utils.srs.run import train

    config = load_config(CONFIG, seed=SEED)
    layout = RunLayout(config)
    table = layout.llm_table("scft")
    if not table.is_file():
        raise FileNotFoundError(f"{table}: the demo's SCFT table is missing; run `make demo` "
                                "or `make notebooks` first")
    data = PreparedDataset.load(layout.data)
    scores = {}
    for encoder in ENCODERS:
        rat = dataclasses.replace(config.rat, llm_emb=str(table), teacher=str(folder / "id"))
        metrics = train(dataclasses.replace(config, rat=rat), data, folder / encoder, encoder,
                        device="cpu")["full"]
        scores[encoder] = {group: {m: _group_metrics(metrics, group)[m] for m in METRICS}
                           for group in GROUPS}
    return scores


def _group_metrics(metrics: dict, group: str) -> dict[str, float]:
    return metrics["overall"] if group == "overall" else metrics["groups"][group]


def recorded_scores() -> dict[str, dict[str, dict[str, float]]]:
    """The same numbers from the demo study's committed records of seed 42."""
    from llmemb_utils.io import read_json

    return {encoder: {group: {m: _group_metrics(read_json(
        RUNS / f"{encoder}-sasrec-seed{SEED}" / "metrics.json"), group)[m] for m in METRICS}
        for group in GROUPS} for encoder in ENCODERS}


def records_label() -> str:
    """``records (<CPU>, <threads> threads)``: where the records' seed-42 runs were trained."""
    from llmemb_utils.io import read_json

    environment = read_json(RUNS / f"id-sasrec-seed{SEED}" / "run.json")["environment"]
    return f"records ({environment['cpu']}, {threads_text(environment['threads'])})"


def largest_differences(scores: dict[str, dict], baseline: dict) -> dict[str, dict]:
    """Per encoder, group and metric: the largest absolute difference from ``baseline``."""
    return {encoder: {group: {metric: max(abs(run[encoder][group][metric]
                                              - baseline[encoder][group][metric])
                                          for run in scores.values())
                              for metric in METRICS} for group in GROUPS}
            for encoder in ENCODERS}


def perturbations() -> list[tuple[str, int]]:
    """``PERTURBATIONS``, and this CPU's own kernels where they are not the records' ones."""
    import torch

    native = torch.backends.cpu.get_cpu_capability()
    return [*PERTURBATIONS, *([("native", 2)] if native != RECORDS_CAPABILITY else [])]


def label(mode: str, threads: int) -> str:
    if mode == "native":
        import torch

        mode = f"native ({torch.backends.cpu.get_cpu_capability().lower()})"
    return f"{mode}, {threads_text(threads)}"


def threads_text(threads: int) -> str:
    return f"{threads} thread{'s' if threads > 1 else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=ROOT / "results" / "ml100k_smollm2" / "cpu_band.json")
    run_record.add_load_option(parser)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from llmemb_utils.io import read_json, write_json

    if args.child:
        write_json(args.child / "scores.json", {"cpu": run_record.cpu_facts(),
                                                "scores": train_pair(args.child)})
        return
    record = run_record.start(args)
    base_env = {k: v for k, v in os.environ.items() if k not in ISA_VARIABLES}
    runs = {}
    with tempfile.TemporaryDirectory(prefix="demo_band_") as scratch:
        for mode, threads in perturbations():
            folder = Path(scratch) / f"{mode}-{threads}"
            folder.mkdir()
            print(f"training the seed-{SEED} pair: {label(mode, threads)}", flush=True)
            subprocess.run([sys.executable, __file__, "--child", str(folder)], check=True,
                           env={**base_env, **MODES[mode], "TQDM_DISABLE": "1",
                                "OMP_NUM_THREADS": str(threads)})
            runs[label(mode, threads)] = read_json(folder / "scores.json")
    reference, recorded = label(*REFERENCE), recorded_scores()
    scores = {name: run["scores"] for name, run in runs.items()}
    write_json(args.out, {
        **run_record.finish(record),
        "settings": {"config": str(CONFIG.relative_to(ROOT)), "seed": SEED,
                     "backbone": "sasrec", "protocol": "full", "reference": reference,
                     "perturbations": {label(m, t): {"threads": t, **MODES[m]}
                                       for m, t in perturbations()}},
        "cpu": {name: run["cpu"] for name, run in runs.items()},
        "records": {"label": records_label(), "scores": recorded},
        "scores": scores,
        "band": largest_differences(scores, recorded),
        "reference_equals_records": scores[reference] == recorded,
    })
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
