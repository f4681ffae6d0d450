"""benchmarks/run_record.py: every benchmark JSON names its command line, arguments, machine
and load, and a benchmark started on a loaded machine is refused unless told to record it."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("run_record", ROOT / "benchmarks" / "run_record.py")
run_record = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(run_record)
ARGV = [str(ROOT / "benchmarks" / "llm.py"), "--items", "16", "--skip-scft"]


def _arguments(allow_loaded: bool) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int)
    parser.add_argument("--skip-scft", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/llm.json"))
    run_record.add_load_option(parser)
    return parser.parse_args([*ARGV[1:], *(["--allow-loaded"] if allow_loaded else [])])


def _machine(monkeypatch: pytest.MonkeyPatch, cores: int, load: float) -> None:
    monkeypatch.setattr(run_record.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(run_record.os, "getloadavg", lambda: (load, 0.5, 0.25))


def test_a_run_records_its_command_arguments_machine_and_load(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _machine(monkeypatch, cores=2, load=1.0)  # half the cores: not yet loaded
    record = run_record.start(_arguments(False), ARGV)
    assert record["command"] == "python benchmarks/llm.py --items 16 --skip-scft"
    assert record["arguments"] == {"allow_loaded": False, "items": 16, "out": "benchmarks/llm.json",
                                   "skip_scft": True}
    assert record["host"]["cores"] == 2 and record["host"]["cpu"]["model"]
    assert record["load_average"] == {"before": [1.0, 0.5, 0.25], "after": None}
    assert record["loaded"] is False
    monkeypatch.setattr(run_record.os, "getloadavg", lambda: (0.75, 0.5, 0.25))
    assert run_record.finish(record)["load_average"] == {"before": [1.0, 0.5, 0.25],
                                                         "after": [0.75, 0.5, 0.25]}


def test_a_loaded_machine_is_refused_unless_the_run_is_recorded_as_loaded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _machine(monkeypatch, cores=2, load=1.01)
    with pytest.raises(SystemExit, match=r"llm.py: the 1-minute load average is 1.01 on 2 "
                                         r"cores \(above 1\)"):
        run_record.start(_arguments(False), ARGV)
    assert run_record.start(_arguments(True), ARGV)["loaded"] is True
