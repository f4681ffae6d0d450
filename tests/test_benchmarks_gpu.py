"""benchmarks/gpu.py: refuses without CUDA, and its code path runs on the CPU (--cpu-smoke)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu.py"


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TQDM_DISABLE": "1"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, timeout=1200)


@pytest.mark.skipif(torch.cuda.is_available(), reason="refusal is for machines without CUDA")
def test_refuses_without_cuda(tmp_path: Path):
    result = run("--out", str(tmp_path / "gpu.json"))
    assert result.returncode == 2
    assert "measures a CUDA GPU and none is available here; --cpu-smoke" in result.stderr
    assert not (tmp_path / "gpu.json").exists()


@pytest.mark.slow
def test_cpu_smoke_writes_every_case(tmp_path: Path):
    out = tmp_path / "gpu.json"
    result = run("--cpu-smoke", "--tokens", "12", "--steps", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["gpu"] == "cpu (smoke run, tiny model)"
    assert {"torch", "transformers", "bitsandbytes"} <= report.keys()
    scft = report["scft"]
    assert [case["gradient_checkpointing"] for case in scft] == [True, False]
    for case in scft:
        assert case["pairs"] == 4 and case["tokens"] == 12 and "error" not in case
        assert case["seconds_per_step"] > 0 and case["peak_bytes"] > 0
        assert 0.75 < case["plan_bytes"] / case["peak_bytes"] < 1.33  # llmemb plan's estimate
    assert scft[0]["peak_bytes"] < scft[1]["peak_bytes"]  # checkpointing saves memory
    (extraction,) = report["extraction"]
    assert extraction["items_per_second"] > 0 and extraction["batch"] == 8
