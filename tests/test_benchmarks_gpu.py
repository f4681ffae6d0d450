"""benchmarks/gpu.py: refuses without CUDA, builds its random model in the target dtype, and its
code path runs on the CPU (--cpu-smoke)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from llmemb_utils.llm.plan import ModelShape

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


def test_random_model_is_built_in_the_target_dtype(tmp_path: Path, monkeypatch):
    """No float32 copy first: the weights are created in bf16, never cast afterwards."""
    spec = importlib.util.spec_from_file_location("gpu_benchmark", SCRIPT)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)

    def no_cast(*args, **kwargs):
        raise AssertionError("the model was cast after it was built")

    monkeypatch.setattr(torch.nn.Module, "to", no_cast)
    shape = ModelShape(layers=2, hidden=32, intermediate=64, heads=4, kv_heads=2, head_dim=8,
                       vocab=100, source="test")
    folder = benchmark.random_llama(tmp_path / "m", shape, torch.bfloat16, "cpu")
    weights = load_file(folder / "model.safetensors")
    assert {tensor.dtype for tensor in weights.values()} == {torch.bfloat16}
    assert weights["layers.1.mlp.down_proj.weight"].shape == (32, 64)


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
        assert case["within_tolerance"] and abs(case["plan_over_measured"] - 1) <= 0.25
    assert scft[0]["peak_bytes"] < scft[1]["peak_bytes"]  # checkpointing saves memory
    (extraction,) = report["extraction"]
    assert extraction["items_per_second"] > 0 and extraction["batch"] == 8
