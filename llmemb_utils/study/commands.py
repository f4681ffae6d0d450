"""``llmemb study``: train (or reuse) the config's grid of runs and print the long-tail table,
the command-line twin of notebook 05."""

from __future__ import annotations

import argparse

from ..config import add_config_arguments, given_overrides, load_cli_config


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..rat import ABLATIONS
    from ..srs.backbones import BACKBONES

    study = subparsers.add_parser(
        "study", help="train every run of the config's study section (ID vs LLMEmb on each "
                      "backbone, ablations) that is not finished yet, and print the table")
    study.add_argument("--seeds", type=int, nargs="+",
                       help="seeds for every backbone (default: study.seeds)")
    study.add_argument("--ablations", nargs="+", choices=["all", *sorted(ABLATIONS)],
                       help="LLMEmb ablations on SASRec (default: study.ablations)")
    study.add_argument("--ablation-seeds", type=int, nargs="+",
                       help="default: study.ablation_seeds")
    study.add_argument("--backbones", nargs="+", choices=sorted(BACKBONES),
                       help="only these backbones of study.seeds")
    study.add_argument("--variants", nargs="*", metavar="NAME",
                       help="only these variants of study.variants (default: all of them; "
                            "none when given no name)")
    study.add_argument("--epochs", type=int, help="budget of every run (default: srs.epochs); "
                                                  "with --name, so the default runs are kept")
    study.add_argument("--name", help="experiment name, i.e. the artifacts/<name> folder "
                                      "(default: the config's)")
    study.add_argument("--workers", type=int,
                       help="runs trained in parallel (default: one per core up to 4)")
    add_config_arguments(study)
    study.add_argument("--out", help="also write the table here "
                                     "(always: results.md in the run folder)")
    study.add_argument("--record", help="folder of the run records and paired comparisons "
                                        "(default: results/<name>)")
    study.set_defaults(handler=run_study)


def run_study(args: argparse.Namespace) -> int:
    from .. import pipeline
    from ..eval.results import write_report
    from ..evidence.records import write_experiment
    from ..layout import RunLayout, records_dir
    from . import runs
    from .plan import grid_overrides

    config = load_cli_config(args)
    config = load_cli_config(args, **given_overrides({
        "srs.epochs": args.epochs, "study.ablation_seeds": args.ablation_seeds, "name": args.name,
        **grid_overrides(config.study, args.seeds, args.ablations, args.backbones,
                         args.variants)}))
    folders = runs.run_study(config, pipeline.dataset(config), args.workers).values()
    path = RunLayout(config).results
    table = write_report(folders, path, *[args.out] if args.out else [])
    print(f"{table}\n\n(written to {path})")
    record = write_experiment(args.record or records_dir(config.name), folders,
                              args.command_line)
    print(f"run records and paired comparisons: {record}")
    return 0
