"""SCFT and extraction under ``accelerate launch`` with 2 CPU processes (DDP, gloo).

Run as a script, this file is the worker that each process executes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from llmemb_utils.config import load_config
from llmemb_utils.llm.extract import extract
from llmemb_utils.llm.lora import load_adapter
from llmemb_utils.llm.models import load_model
from llmemb_utils.llm.processes import LaunchError, process_state
from llmemb_utils.llm.scft import train_scft, trainable_state
from llmemb_utils.llm.tiny import save_tiny_llama

PROMPTS = [f"The movie has the following attributes: \n title is Film {i}; year is {1960 + i}; "
           f"genres is Drama; rating is {i % 5}" for i in range(20)]


def worker(model: str, out: Path) -> None:
    """Train 3 steps, dump this rank's LoRA weights, then embed PROMPTS into one shared file."""
    state = process_state()
    assert state.num_processes == 2, state
    settings = load_config(**{"llm.model": model, "llm.dtype": "float32", "scft.steps": 3,
                              "scft.batch_size": 4, "scft.lora_layers": 2})
    result = train_scft(PROMPTS, settings, out / "scft", progress=False)
    torch.save(trainable_state(result.model), out / f"rank{state.process_index}.pt")
    _, tokenizer = load_model(model, dtype="float32")
    extract(result.model, tokenizer, PROMPTS, out / "ddp.npy", batch_size=3, progress=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_two_processes_agree_with_one(tmp_path: Path):
    model = str(save_tiny_llama(tmp_path / "tiny"))
    # --multi_gpu selects accelerate's torchrun launcher; without CUDA the processes use gloo
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
               "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
               "--dynamo_backend", "no",
               "--main_process_port", str(free_port()), __file__, model, str(tmp_path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys()
    for name, tensor in ranks[0].items():
        assert torch.equal(tensor, ranks[1][name]), name
    base, tokenizer = load_model(model, dtype="float32")
    single = extract(load_adapter(base, tmp_path / "scft" / "adapter", model), tokenizer,
                     PROMPTS, tmp_path / "single.npy", batch_size=3, progress=False)
    np.testing.assert_allclose(np.load(tmp_path / "ddp.npy"), single, atol=1e-5, rtol=0)


def test_launch_without_process_group_is_refused(monkeypatch: pytest.MonkeyPatch):
    process_state()  # this pytest process: one process, no group
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(LaunchError, match=r"started 2 processes \(WORLD_SIZE\) but accelerate set "
                                          r"up 1"):
        process_state()


if __name__ == "__main__":
    worker(sys.argv[1], Path(sys.argv[2]))
