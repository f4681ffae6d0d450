"""The committed notebooks and how long their recorded full-mode runs took.

``make notebooks`` (:mod:`llmemb_utils.notebook_records`) stores each run's wall time in the
notebook's metadata; this module reads it back, with each notebook's title, so a document can
state the times without typing them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..notebook_records import RECORD

NOTEBOOKS = "notebooks"  # the folder beside results/, and the source name of its blocks
NUMBERED = "[0-9][0-9]_*.ipynb"
TITLE = re.compile(r"^#\s+(?:\d+\s*·\s*)?(?P<title>.+?)\s*$", re.MULTILINE)


def notebook_run(path: Path) -> tuple[str, int]:
    """A notebook's title (its first heading without the number) and the seconds of its
    recorded full-mode run; a notebook without either is an error naming it."""
    notebook: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    record = notebook.get("metadata", {}).get(RECORD, {})
    if record.get("mode") != "full" or "seconds" not in record:
        raise ValueError(f"{path}: no full-mode run recorded in its metadata ({RECORD}); "
                         "`make notebooks` records one")
    headings = (TITLE.search("".join(cell["source"])) for cell in notebook["cells"]
                if cell["cell_type"] == "markdown")
    title = next((heading["title"] for heading in headings if heading), None)
    if title is None:
        raise ValueError(f"{path}: no Markdown heading to take its title from")
    return title, int(record["seconds"])


def duration(seconds: int) -> str:
    """``42 s`` or ``9 min 32 s``."""
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def runtimes_view(folder: Path, options: dict[str, str]) -> str:
    """Each numbered notebook of ``folder`` with its title and recorded run time."""
    paths = sorted(folder.glob(NUMBERED))
    if not paths:
        raise FileNotFoundError(f"{folder}: no numbered notebooks ({NUMBERED})")
    runs = {path.name: notebook_run(path) for path in paths}
    lines = ["| notebook | what it covers | full run |", "|---|---|---|"]
    lines += [f"| `{name}` | {title} | {duration(seconds)} |"
              for name, (title, seconds) in runs.items()]
    total = sum(seconds for _, seconds in runs.values())
    lines += ["", f"Wall time of each notebook's recorded full-mode run (`make notebooks`), "
                  f"{duration(total)} in all; a notebook reuses every stage already finished "
                  "on its machine, so a first run on a fresh one also spends the time of "
                  "building them."]
    return "\n".join(lines)
