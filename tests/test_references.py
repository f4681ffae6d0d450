"""Section references resolve inside the repository.

A reference is a repository file followed by a section sign and a heading number, for example
``docs/method.md`` then the sign then ``4.4``; further numbers joined by ``,``, ``and`` or
``or`` refer to the same file. Every reference in a tracked text file must name a file of the
repository and a numbered Markdown heading (``## 4.4 Title``) that exists in it.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIGN = "\u00a7"  # the section sign, escaped so that this file holds no reference itself
SUFFIXES = {".py", ".ipynb", ".md", ".yaml", ".yml", ".txt", ".cfg"}
NAMES = {"Makefile"}
# Documents that are not part of the kit; spelled in pieces so this file does not name them.
FORBIDDEN = ("method" + "-spec", "shared/" + "design.md")

_REFERENCE = re.compile(SIGN + r"(?P<section>\d+(?:\.\d+)*)?")
_FILE_BEFORE = re.compile(r"(?P<path>[\w][\w./-]*\.(?:md|ipynb|py|yaml|yml|txt|cfg))\s*$")
_SAME_FILE = re.compile(SIGN + r"\d+(?:\.\d+)*\s*(?:,|and|or)\s*$")
_KIT_PATH = re.compile(r"`((?:llmemb_utils|tests|configs|benchmarks|notebooks|docs)/[\w./-]*)`")
_HEADING = re.compile(r"^#{1,6}[ \t]+(\d+(?:\.\d+)*)\.?[ \t]", re.MULTILINE)

Headings = Callable[[str], "set[str] | None"]


def markdown_headings(path: str) -> set[str] | None:
    """Numbers of the numbered headings of repository file ``path``; None if it is missing."""
    file = ROOT / path
    if not file.is_file():
        return None
    return set(_HEADING.findall(file.read_text(encoding="utf-8")))


def reference_problems(text: str, where: str, headings: Headings = markdown_headings) -> list[str]:
    """Every reference in ``text`` that does not resolve, described with ``where``."""
    problems = []
    current: str | None = None
    for match in _REFERENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        shown = text[match.start():].split(maxsplit=1)[0]
        before = text[max(0, match.start() - 200):match.start()]
        named = _FILE_BEFORE.search(before)
        if named:
            current = named["path"]
        elif not (current and _SAME_FILE.search(before)):
            problems.append(f"{where}:{line}: {shown!r} does not name a file")
            continue
        section = match["section"]
        known = headings(current)
        if known is None:
            problems.append(f"{where}:{line}: {current} is not a file of the repository")
        elif section is None or section not in known:
            problems.append(f"{where}:{line}: {shown!r}: {current} has no heading numbered "
                            f"{section or '(none)'}")
    return problems


def tracked_text_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    return [name for name in listed if (ROOT / name).is_file()
            and (Path(name).suffix in SUFFIXES or Path(name).name in NAMES)]


def texts(path: str) -> Iterator[tuple[str, str]]:
    """(where, text) pieces of a file: the whole file, or each cell's source and outputs."""
    content = (ROOT / path).read_text(encoding="utf-8")
    if not path.endswith(".ipynb"):
        yield path, content
        return
    for number, cell in enumerate(json.loads(content)["cells"]):
        yield f"{path} cell {number}", "".join(cell["source"])
        for output in cell.get("outputs", []):
            pieces = [output.get("text", "")]
            pieces += [value for kind, value in output.get("data", {}).items()
                       if kind.startswith("text/")]
            yield f"{path} cell {number} output", "".join(
                "".join(piece) if isinstance(piece, list) else piece for piece in pieces)


def test_every_reference_resolves():
    problems = [problem for path in tracked_text_files() for where, text in texts(path)
                for problem in reference_problems(text, where)]
    assert not problems, "\n".join(problems)


def test_no_file_mentions_documents_outside_the_kit():
    offenders = [path for path in tracked_text_files()
                 if any(word in (ROOT / path).read_text(encoding="utf-8").lower()
                        for word in FORBIDDEN)]
    assert not offenders, offenders


def test_files_named_in_the_documents_exist():
    """Module moves must carry the documents along."""
    named = {match for document in ("docs/method.md", "docs/design.md")
             for match in _KIT_PATH.findall((ROOT / document).read_text(encoding="utf-8"))}
    assert named, "no kit path found: the pattern is wrong"
    assert sorted(path for path in named if not (ROOT / path).exists()) == []


def test_the_method_and_design_documents_have_numbered_headings():
    assert {"3.5", "4.4", "5.2", "6.1"} <= markdown_headings("docs/method.md")
    assert {"3", "4.7", "6"} <= markdown_headings("docs/design.md")


def _headings(path: str) -> set[str] | None:
    return {"notes.md": {"1", "2.1", "2.10"}}.get(path)


@pytest.mark.parametrize("text", [
    f"see notes.md {SIGN}2.1.",
    f"(notes.md {SIGN}1, {SIGN}2.10 and {SIGN}2.1)",
    f"`notes.md\n{SIGN}2.10`",
    "no reference at all",
])
def test_checker_accepts_references_to_existing_headings(text):
    assert reference_problems(text, "x", _headings) == []


@pytest.mark.parametrize(("text", "expected"), [
    (f"notes.md {SIGN}2.2", f"x:1: '{SIGN}2.2': notes.md has no heading numbered 2.2"),
    (f"notes.md {SIGN}2", f"x:1: '{SIGN}2': notes.md has no heading numbered 2"),
    (f"other.md {SIGN}1", "x:1: other.md is not a file of the repository"),
    (f"line one\n({SIGN}1)", f"x:2: '{SIGN}1)' does not name a file"),
    (f"notes.md {SIGN}1; later {SIGN}2.1", f"x:1: '{SIGN}2.1' does not name a file"),
    (f"notes.md {SIGN}G.1", f"x:1: '{SIGN}G.1': notes.md has no heading numbered (none)"),
])
def test_checker_rejects_what_does_not_resolve(text, expected):
    assert reference_problems(text, "x", _headings) == [expected]


def test_checker_rejects_a_made_up_section_of_the_real_method_document():
    assert reference_problems(f"docs/method.md {SIGN}3.5 and {SIGN}42.7", "x") == [
        f"x:1: '{SIGN}42.7': docs/method.md has no heading numbered 42.7"]
