"""How long a config's demo takes from nothing on this machine, written beside its records.

Runs what `llmemb study --config CONFIG` runs (prepare, SCFT, the LLM table, the recommender
runs of ``study.seeds``) into the config's own artifacts folder, which must not exist yet, so
that no stage is reused and the time is the whole pipeline's. The study's run records go to
``results/<name>/`` as `llmemb study` writes them, and the timing beside them as
``demo_time.json`` (``llmemb_utils.evidence.records.DEMO_TIME``), which docs/results.md
renders. One-off costs of a machine, not of a demo, are not in it: installing the kit and
unpacking a model asset into the asset cache the first time.

    .venv/bin/python benchmarks/demo_time.py --config configs/scientific_minilm.yaml
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import run_record  # this folder is on the path when run as a script

ROOT = Path(__file__).resolve().parent.parent


def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (the study's workers)."""
    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, required=True, help="the demo's config")
    parser.add_argument("--workers", type=int, help="as llmemb study --workers")
    run_record.add_load_option(parser)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from llmemb_utils import pipeline
    from llmemb_utils.config import load_config
    from llmemb_utils.evidence.records import DEMO_TIME, Experiment, write_experiment
    from llmemb_utils.io import kit_relative, write_json
    from llmemb_utils.layout import RunLayout, records_dir
    from llmemb_utils.study.runs import run_study

    config = load_config(args.config)
    artifacts = RunLayout(config).root
    if artifacts.exists():
        raise SystemExit(f"{artifacts}: exists; a demo timed from nothing needs it absent "
                         "(move it away, or delete it) so that no stage is reused")
    record = run_record.start(args)
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    data = pipeline.dataset(config)
    prepared = time.perf_counter()
    folders = run_study(config, data, args.workers).values()
    total = time.perf_counter() - start
    destination = write_experiment(records_dir(config.name), folders, record["command"])
    runs = [run for _, run in Experiment(destination).records().values()]
    scft = next((run["scft"]["seconds"] for run in runs if run["scft"]), 0.0)
    trained = sum(run["wall_seconds"] for run in runs)
    write_json(destination / DEMO_TIME, {
        **run_record.finish(record),
        "config": kit_relative(args.config.resolve()),
        "runs": len(runs),
        "wall_seconds": {
            "total": round(total, 1),
            "prepare": round(prepared - start, 1),
            "scft": round(scft, 1),
            "recommender_epochs": round(trained, 1),  # training and validation epochs
            "rest": round(total - (prepared - start) - scft - trained, 1)},
        "cpu_seconds": round(_cpu_seconds() - cpu_start, 1)})
    print(f"{args.config}: {total:.0f} s from nothing; records and {DEMO_TIME} in {destination}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
