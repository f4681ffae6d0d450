"""The record options of ``llmemb report``: ``--write`` run records into ``results/`` (or
``--add`` some to those already there, or ``--compare`` their comparisons again),
``--split-gap`` measure their validation-test gap beside them, ``--neighbours`` the
neighbourhoods of their item tables, ``--views`` how their LLM tables retrieve held-out views
of an item, ``--verify`` them against their rank files,
``--render`` and ``--check`` a document's result blocks against them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from ..io import read_json
from ..layout import RECORDS
from .neighbours_record import measure_neighbours, summary
from .records import compare_experiment, write_experiment
from .render import check_file, render_file
from .split_gap_record import measure_split_gap
from .verify import experiments, verify_experiment
from .views_record import measure_views


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--write", metavar="DIR",
                        help="write the runs' records and paired comparisons to DIR "
                             "(results/<experiment>), replacing it")
    parser.add_argument("--add", metavar="DIR",
                        help="add the runs' records to those of DIR, keeping them, and "
                             "compute its paired comparisons again")
    parser.add_argument("--compare", metavar="DIR",
                        help="compute the paired comparisons of DIR again from its recorded "
                             "rank files, with the kit's bootstrap")
    parser.add_argument("--verify", metavar="DIR", nargs="*",
                        help="exit 1, naming file and field, where a metrics file or "
                             "comparison of DIR (default: every experiment under results/) "
                             "differs from what its rank files give")
    parser.add_argument("--render", metavar="DOC", nargs="+",
                        help="rewrite the <!-- results:... --> blocks of each DOC from the "
                             "records")
    parser.add_argument("--check", metavar="DOC", nargs="+",
                        help="exit 1, showing a diff, if a results block of a DOC differs "
                             "from what the records give, or a record from its rank files "
                             "(--verify)")
    parser.add_argument("--split-gap", metavar="DIR",
                        help="measure the validation-test gap of the runs recorded in DIR "
                             "(their run folders must be here) into DIR/split_gap.json")
    parser.add_argument("--neighbours", metavar="DIR",
                        help="measure the neighbourhoods of the item tables behind the runs "
                             "recorded in DIR (those on this machine) on tail and head items "
                             "into DIR/neighbours.json")
    parser.add_argument("--table", metavar="FILE", action="append", default=[],
                        help="for --neighbours: also measure this LLM item table of the same "
                             "dataset (e.g. another generator's, from `llmemb embed`); "
                             "repeatable")
    parser.add_argument("--views", metavar="DIR",
                        help="measure how each LLM table behind the runs recorded in DIR "
                             "retrieves an item from held-out attribute-drop views of its "
                             "prompt (passing the views through the table's model and "
                             "adapter) into DIR/views.json")
    parser.add_argument("--items", type=int, metavar="N",
                        help="for --views: the first N items only (default: all; the cost "
                             "is three passes of the catalogue through each table's model)")
    parser.add_argument("--attribute", metavar="NAME",
                        help="for --neighbours: the prompt attribute whose last listed value "
                             "is an item's class (default: genres for MovieLens, else "
                             "categories)")
    parser.add_argument("--results", metavar="DIR",
                        help="records folder for --render/--check/--verify (default: the "
                             "nearest results/ in DOC's folder or above it; for --verify "
                             "alone, results/)")


def run(args: argparse.Namespace) -> int:
    """Write, then render, then verify and check, as asked; 1 when a checked block or a
    verified record differs."""
    if args.write and args.add:
        raise ValueError("--write and --add: give one (--write replaces the records, --add "
                         "keeps them)")
    if args.write or args.add:
        option = "--write" if args.write else "--add"
        if not args.runs:
            raise ValueError(f"{option} needs the run folders to record")
        command = getattr(args, "command_line", None) or f"llmemb report {option}"
        folder = write_experiment(args.write or args.add, args.runs, command,
                                  add=bool(args.add))
        print(f"wrote the records of {len(args.runs)} run(s) to {folder}")
    if args.compare:
        command = getattr(args, "command_line", None) or f"llmemb report --compare {args.compare}"
        print(f"wrote {compare_experiment(args.compare, command)}")
    if args.split_gap:
        command = getattr(args, "command_line", None) or "llmemb report --split-gap"
        print(f"wrote {measure_split_gap(args.split_gap, command)}")
    if args.neighbours:
        command = getattr(args, "command_line", None) or "llmemb report --neighbours"
        written = measure_neighbours(args.neighbours, command, args.attribute, args.table)
        print(f"wrote {written}\n{summary(read_json(written))}")
    if args.views:
        command = getattr(args, "command_line", None) or "llmemb report --views"
        written = measure_views(args.views, command, args.items)
        print(f"wrote {written}\n{summary(read_json(written))}")
    for document in map(Path, args.render or ()):
        count = render_file(document, _results(args, document))
        print(f"{document}: rendered {count} results block(s)")
    status = 0
    if args.verify is not None:
        folders = list(map(Path, args.verify)) or experiments(Path(args.results or RECORDS))
        if not folders:
            raise FileNotFoundError(f"{args.results or RECORDS}: no experiment to verify (no "
                                    "*/runs/ folder)")
        status |= verify(folders)
    verified: set[Path] = set()
    for document in map(Path, args.check or ()):
        results = _results(args, document)
        if results.resolve() not in verified:
            verified.add(results.resolve())
            status |= verify(experiments(results))
        messages = check_file(document, results)
        if messages:
            print("\n\n".join(messages), file=sys.stderr)
            print(f"{document}: {len(messages)} results block(s) differ from the records; "
                  f"`llmemb report --render {document}` rewrites them", file=sys.stderr)
            status = 1
        else:
            print(f"{document}: no results block differs from the records")
    return status

def verify(folders: Iterable[Path]) -> int:
    """Print what each experiment's rank files contradict; 1 when anything."""
    status = 0
    for folder in folders:
        problems = verify_experiment(folder)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            print(f"{folder}: {len(problems)} recorded value(s) differ from what its rank "
                  "files give", file=sys.stderr)
            status = 1
        else:
            print(f"{folder}: every metrics file and comparison agrees with its rank files")
    return status


def _results(args: argparse.Namespace, document: Path) -> Path:
    """``--results``, else the nearest ``results/`` in the document's folder or above it (so
    ``docs/results.md`` reads the kit's records), else ``results/`` beside it."""
    if not document.is_file():
        raise FileNotFoundError(f"{document}: file not found")
    if args.results:
        return Path(args.results)
    folder = document.resolve().parent
    found = next((parent / RECORDS for parent in (folder, *folder.parents)
                  if (parent / RECORDS).is_dir()), None)
    return found or document.parent / RECORDS
