"""``llmemb``: the command line over the package.

Each stage owns a ``commands`` module with a ``register(subparsers)`` function that adds its
subcommands and sets ``handler`` (named ``run_<command>``) on them; this file only assembles
them.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys

from . import __version__

COMMAND_MODULES = (
    "llmemb_utils.data.commands",
    "llmemb_utils.llm.commands",
    "llmemb_utils.llm.plan_commands",
    "llmemb_utils.srs.commands",
    "llmemb_utils.study.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmemb",
        description="LLMEmb reproduction kit: prepare data, fine-tune and embed with an LLM, "
                    "train and evaluate sequential recommenders.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.command_line = shlex.join(["llmemb", *argv])  # recorded beside what it writes
    try:
        return int(args.handler(args) or 0)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as error:
        print(f"llmemb {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
