"""``llmemb study``: train (or reuse) the config's grid of runs and print the long-tail table,
the command-line twin of notebook 05."""

from __future__ import annotations

import argparse
from pathlib import Path

from .config import add_overlay_arguments, load_cli_config


def register(subparsers: argparse._SubParsersAction) -> None:
    from .srs.backbones import BACKBONES
    from .srs.llmemb import ABLATIONS

    study = subparsers.add_parser(
        "study", help="train every run of the config's study section (ID vs LLMEmb on each "
                      "backbone, ablations) that is not finished yet, and print the table")
    study.add_argument("--config", required=True, help="experiment YAML")
    study.add_argument("--seeds", type=int, nargs="+",
                       help="seeds for every backbone (default: study.seeds)")
    study.add_argument("--ablations", nargs="+", choices=["all", *sorted(ABLATIONS)],
                       help="LLMEmb ablations on SASRec (default: study.ablations)")
    study.add_argument("--ablation-seeds", type=int, nargs="+",
                       help="default: study.ablation_seeds")
    study.add_argument("--backbones", nargs="+", choices=sorted(BACKBONES),
                       help="only these backbones of study.seeds")
    study.add_argument("--epochs", type=int, help="budget of every run (default: srs.epochs); "
                                                  "with --name, so the default runs are kept")
    study.add_argument("--name", help="experiment name, i.e. the artifacts/<name> folder "
                                      "(default: the config's)")
    study.add_argument("--workers", type=int,
                       help="runs trained in parallel (default: one per core up to 4)")
    add_overlay_arguments(study)
    study.add_argument("--out", help="also write the table here (always: <run_dir>/results.md)")
    study.add_argument("--record", help="folder of the run records and paired comparisons "
                                        "(default: results/<name>)")
    study.set_defaults(handler=_study)


def _study(args: argparse.Namespace) -> int:
    from . import pipeline
    from .evidence.commands import RESULTS
    from .evidence.records import write_experiment
    from .study import grid_overrides, run_study, write_results_table

    config = load_cli_config(args)
    overrides = {"srs.epochs": args.epochs, "study.ablation_seeds": args.ablation_seeds,
                 "name": args.name,
                 **grid_overrides(config.study, args.seeds, args.ablations, args.backbones)}
    config = load_cli_config(args, **{k: v for k, v in overrides.items() if v is not None})
    folders = run_study(config, pipeline.dataset(config), args.workers)
    table, path = write_results_table(config, folders.values())
    print(f"{table}\n\n(written to {path})")
    if args.out:
        Path(args.out).write_text(table + "\n", encoding="utf-8")
    record = write_experiment(args.record or Path(RESULTS) / config.name, folders.values(),
                              args.command_line)
    print(f"run records and paired comparisons: {record}")
    return 0
