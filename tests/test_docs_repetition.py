"""README.md and docs/*.md say each thing once.

A paragraph copied from one document into another (or twice into one) drifts apart from its
copy at the next edit. Two checks, within a file and across files: no three consecutive lines
appear twice, and, since a copy is often re-wrapped, no run of twenty consecutive words
appears twice whatever the line breaks. Generated results blocks are left out (the renderer
keeps them equal to the records wherever they stand), and so are blank lines, code fences,
table separator rows and lines too short to carry a statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINES = 3  # consecutive counted lines that make a repeated paragraph
WORDS = 20  # consecutive words that make one, however the lines are wrapped
SHORTEST = 20  # characters; shorter lines ("```bash", "- **Source.**") are not counted
GENERATED = re.compile(r"<!-- results:(?P<name>[^\s>]+)[^>]*-->.*?<!-- /results:(?P=name) -->",
                       re.DOTALL)
SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")

Token = tuple[int, str]  # (line number, text)


def counted_lines(text: str) -> list[Token]:
    """(line number, stripped line) of every line that counts, generated blocks left out."""
    kept = GENERATED.sub(lambda match: "\n" * match[0].count("\n"), text)
    return [(number, line.strip()) for number, line in enumerate(kept.splitlines(), start=1)
            if len(line.strip()) >= SHORTEST and not line.strip().startswith("```")
            and not SEPARATOR.match(line.strip())]


def counted_words(text: str) -> list[Token]:
    return [(number, word) for number, line in counted_lines(text) for word in line.split()]


def repeated_windows(documents: Iterable[tuple[str, list[Token]]], size: int,
                     unit: str) -> list[str]:
    """One message per repeated run of ``size`` tokens or more, named by its first window."""
    seen: dict[tuple[str, ...], list[tuple[str, int, int]]] = {}
    for name, tokens in documents:
        for start in range(len(tokens) - size + 1):
            window = tokens[start:start + size]
            seen.setdefault(tuple(text for _, text in window), []).append(
                (name, start, window[0][0]))
    repeated = {run: places for run, places in seen.items() if len(places) > 1}
    starts = {frozenset((name, start) for name, start, _ in places)
              for places in repeated.values()}
    return [f"{' and '.join(f'{name}:{line}' for name, _, line in places)} repeat {size} "
            f"{unit} or more: {' '.join(run)[:80]!r} ..."
            for run, places in repeated.items()
            if frozenset((name, start - 1) for name, start, _ in places) not in starts]


def repetitions(documents: list[tuple[str, str]]) -> list[str]:
    """Every repeated run of lines, then every repeated run of words."""
    return (repeated_windows([(n, counted_lines(t)) for n, t in documents], LINES, "lines")
            + repeated_windows([(n, counted_words(t)) for n, t in documents], WORDS, "words"))


def kit_documents() -> list[tuple[str, str]]:
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")) for path in paths]


def test_readme_and_docs_repeat_no_paragraph():
    assert len(kit_documents()) > 2, "README.md and docs/*.md not found"
    problems = repetitions(kit_documents())
    assert not problems, "\n".join(problems)


PARAGRAPH = ["The frozen trunk is cached,",
             "so each SCFT step is cheap",
             "and fits a laptop's memory."]  # 15 words: too few for the word check


def test_three_lines_repeated_in_another_file_are_found_with_both_places():
    first = "\n".join(["# One", "", *PARAGRAPH, ""])
    second = "\n".join(["# Two", "Some other introduction of this page.", *PARAGRAPH])
    assert repetitions([("a.md", first), ("b.md", second)]) == [
        f"a.md:3 and b.md:3 repeat 3 lines or more: {' '.join(PARAGRAPH)[:80]!r} ..."]


def test_three_lines_repeated_within_one_file_are_found():
    text = "\n".join([*PARAGRAPH, "", "A line that separates the two copies.", *PARAGRAPH])
    assert [problem.split(" repeat")[0] for problem in repetitions([("a.md", text)])] == [
        "a.md:1 and a.md:6"]


def test_two_shared_lines_are_not_a_paragraph():
    first = "\n".join(PARAGRAPH[:2] + ["This third line differs in the first file."])
    second = "\n".join(PARAGRAPH[:2] + ["This third line differs in the second one."])
    assert repetitions([("a.md", first), ("b.md", second)]) == []


def test_twenty_words_wrapped_differently_are_found_and_nineteen_are_not():
    words = [f"word{number:02d}" for number in range(30)]
    wrapped = [" ".join(words[:12]), " ".join(words[12:20]), "and then it goes elsewhere"]
    rewrapped = [" ".join(words[:5]), " ".join(words[5:20]), "while this copy ends here"]
    assert repetitions([("a.md", "\n".join(wrapped)), ("b.md", "\n".join(rewrapped))]) == [
        f"a.md:1 and b.md:1 repeat 20 words or more: {' '.join(words[:20])[:80]!r} ..."]
    rewrapped[1] = " ".join(words[5:19]) + " differs"
    assert repetitions([("a.md", "\n".join(wrapped)), ("b.md", "\n".join(rewrapped))]) == []


def test_blank_lines_fences_separators_and_short_lines_do_not_break_or_make_a_run():
    spaced = "\n".join([PARAGRAPH[0], "", "```", PARAGRAPH[1], "|---|---|", "ok", PARAGRAPH[2]])
    found = repetitions([("a.md", "\n".join(PARAGRAPH)), ("b.md", spaced)])
    assert [problem.split(": ")[0] for problem in found] == [
        "a.md:1 and b.md:1 repeat 3 lines or more"]
    table = "\n".join(["| a | b |", "|---|---|", "```bash", "```", "- short", "| a | b |"])
    assert repetitions([("a.md", table), ("b.md", table)]) == []


def test_generated_blocks_may_repeat_and_keep_their_line_numbers_out_of_the_count():
    block = "\n".join(["<!-- results:x/table -->", *PARAGRAPH, "<!-- /results:x/table -->"])
    inline = f"| claim | <!-- results:x/verdict --> {PARAGRAPH[0]} <!-- /results:x/verdict --> |"
    assert repetitions([("a.md", block + "\n" + inline), ("b.md", block + "\n" + inline)]) == []
    assert counted_lines("<!-- results:x/t -->\nline\n<!-- /results:x/t -->\n" + PARAGRAPH[0]) \
        == [(4, PARAGRAPH[0])]
