"""``llmemb prepare``: the data stage on the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import get_args

from ..config import (
    ExperimentConfig,
    FilterRule,
    SourceFormat,
    add_config_arguments,
    given_overrides,
    load_cli_config,
)
from ..io import kit_relative
from ..layout import RunLayout
from .dataset import PreparedDataset


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="prepare a dataset folder from a config or from raw files",
        description="Filter, map, split and prompt a raw dataset into a prepared folder. "
                    "Either --config (the data section of an experiment config) or --format "
                    "with --source.",
    )
    add_config_arguments(parser)
    parser.add_argument("--out", type=Path, help="output folder "
                        "(default: the data folder of the config's run)")
    parser.add_argument("--format", choices=get_args(SourceFormat))
    parser.add_argument("--source", type=Path, help="raw data folder or file")
    parser.add_argument("--domain", help="prompt template (default: movielens for movielens, "
                        "amazon for amazon, yelp for yelp, generic otherwise)")
    parser.add_argument("--filter", choices=get_args(FilterRule))
    parser.add_argument("--user-core", type=int)
    parser.add_argument("--item-core", type=int)
    parser.add_argument("--min-rating", type=float)
    parser.add_argument("--dedupe", action="store_true", default=None,
                        help="drop repeated (user, item) pairs, keeping the first")
    parser.add_argument("--skip-malformed", action="store_true", default=None,
                        help="skip unparsable raw lines (counted in stats.json)")
    parser.add_argument("--column", action="append", default=[], metavar="NAME=COLUMN",
                        help="generic format: map a schema column (user, item, timestamp, "
                        "rating) to a file column; repeatable")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.set_defaults(handler=run_prepare)


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """The experiment config that ``prepare`` runs: the file (if any) plus the flags."""
    if args.config is None and (args.format is None or args.source is None):
        raise ValueError("give --config, or --format and --source")
    overrides: dict[str, object] = {}
    if args.format is not None:
        overrides.update({"data.source.format": args.format, "data.source.asset": None,
                          "data.domain": args.domain or _default_domain(args.format)})
    elif args.domain is not None:
        overrides["data.domain"] = args.domain
    if args.source is not None:
        overrides.update({"data.source.path": str(args.source), "data.source.asset": None})
    if args.column:
        overrides["data.source.columns"] = dict(_parse_mapping(c) for c in args.column)
    overrides.update(given_overrides({
        "data.filter": args.filter, "data.user_core": args.user_core,
        "data.item_core": args.item_core, "data.min_rating": args.min_rating,
        "data.dedupe": args.dedupe, "data.source.skip_malformed": args.skip_malformed,
        "seed": args.seed}))
    return load_cli_config(args, **overrides)


def _default_domain(source_format: str) -> str:
    return {"movielens": "movielens", "amazon": "amazon", "yelp": "yelp"}.get(
        source_format, "generic")


def _parse_mapping(text: str) -> tuple[str, str]:
    name, sep, column = text.partition("=")
    if not sep or not name or not column:
        raise ValueError(f"--column expects NAME=COLUMN, got {text!r}")
    return name, column


def run_prepare(args: argparse.Namespace) -> int:
    from .prepare import prepare

    config = config_from_args(args)
    out = args.out or RunLayout(config).data
    dataset = prepare(config.data, out, seed=config.seed, force=args.force)
    print(summary_table(dataset))
    return 0


def summary_table(dataset: PreparedDataset) -> str:
    """A plain-text table of the dataset's raw and filtered counts and thresholds."""
    stats = dataset.stats
    raw, kept, limits = stats["raw"], stats["filtered"], stats["thresholds"]
    rows = [
        ("", "raw", "prepared"),
        ("users", f"{raw['users']:,}", f"{kept['users']:,}"),
        ("items", f"{raw['items']:,}", f"{kept['items']:,}"),
        ("interactions", f"{raw['interactions']:,}", f"{kept['interactions']:,}"),
        ("density", "", f"{kept['density']:.4%}"),
        ("median sequence length", "", f"{stats['sequence_length']['q50']:g}"),
        ("head items (>= {} train. inter.)".format(limits["item_head_min"]), "",
         f"{limits['head_items']:,}"),
        ("tail test targets", "", f"{limits['tail_test_targets']:,}"),
        ("long users (>= {} train. items)".format(limits["user_long_min"]), "",
         f"{limits['long_users']:,}"),
        ("items without attributes", "", f"{stats['items_without_attributes']:,}"),
        ("skipped malformed lines", "", f"{stats['skipped_lines']:,}"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{name:<{width}}  {a:>10}  {b:>10}" for name, a, b in rows]
    return f"{kit_relative(dataset.path)}\n" + "\n".join(lines)
