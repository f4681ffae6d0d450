"""What every benchmark JSON records about how it was made: the command line, the parsed
arguments, the machine (CPU model, vector-instruction flags, PyTorch's kernel choice, cores)
and the 1-minute load average before and after. On a shared machine the timings follow the
load, so a benchmark started while the load exceeds half the cores is refused, or with
``--allow-loaded`` measured and flagged ``"loaded": true``.

    parser = argparse.ArgumentParser(...)
    add_load_option(parser)
    args = parser.parse_args()
    run = start(args)            # refuses a loaded machine
    ...
    write_json(out, {**finish(run), ...})
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOADED_SHARE = 0.5  # of the cores: a 1-minute load above it makes timings the load's


def add_load_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-loaded", action="store_true",
                        help="measure even when the 1-minute load average exceeds half the "
                             "cores (the JSON then says \"loaded\": true)")


def cpu_facts() -> dict[str, Any]:
    """CPU model, vector-instruction flags and PyTorch's kernel choice of this process."""
    import torch

    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.startswith("model name")), platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines()
                  if line.startswith("flags")), [])
    return {"model": model,
            "vector_flags": sorted({f for f in flags if f.startswith(("avx", "amx", "sse4"))}),
            "torch": torch.__version__,
            "torch_capability": torch.backends.cpu.get_cpu_capability(),
            "onednn_bf16": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())}


def command_line(argv: list[str]) -> str:
    """``python benchmarks/<script>.py ARGS`` as typed from the kit's root."""
    script = Path(argv[0]).resolve()
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    return shlex.join(["python", str(shown), *argv[1:]])


def start(args: argparse.Namespace, argv: list[str] | None = None) -> dict[str, Any]:
    """The record of this run so far; raises SystemExit on a loaded machine unless
    ``args.allow_loaded``."""
    argv = sys.argv if argv is None else argv
    cores = os.cpu_count() or 1
    load = list(os.getloadavg())
    loaded = load[0] > cores * LOADED_SHARE
    if loaded and not args.allow_loaded:
        raise SystemExit(f"{argv[0]}: the 1-minute load average is {load[0]:.2f} on {cores} "
                         f"cores (above {cores * LOADED_SHARE:g}): timings would measure the "
                         "load; wait for an idle machine or pass --allow-loaded to record it "
                         "as loaded")
    return {"command": command_line(argv),
            "arguments": {key: _plain(value) for key, value in sorted(vars(args).items())},
            "host": {"cpu": cpu_facts(), "cores": cores, "platform": platform.platform(),
                     "python": platform.python_version()},
            "load_average": {"before": load, "after": None},
            "loaded": loaded}


def finish(run: dict[str, Any]) -> dict[str, Any]:
    """``run`` with the load average now as its ``after``."""
    return {**run, "load_average": {**run["load_average"], "after": list(os.getloadavg())}}


def _plain(value: Any) -> Any:
    """An argument as JSON holds it: paths as text."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
