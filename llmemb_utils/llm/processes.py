"""The process group of SCFT and extraction: one process, or several under ``accelerate launch``.

accelerate only sets up a CPU process group (gloo) when asked to run on the CPU; launched with
``--multi_gpu`` on a machine without CUDA, every process would otherwise believe it is the only
one and the main one, train its own copy and write the same files. ``process_state`` asks for
the CPU group whenever CUDA is absent and refuses a launch whose processes do not see each
other.
"""

from __future__ import annotations

import os

import torch
from accelerate import Accelerator, PartialState


class LaunchError(RuntimeError):
    """The launcher started several processes but they did not form one process group."""


def _on_cpu() -> bool:
    """Whether processes run on the CPU (no CUDA device), where accelerate needs ``cpu=True``."""
    return not torch.cuda.is_available()


def _checked(state: PartialState) -> None:
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if state.num_processes != launched:
        raise LaunchError(
            f"the launcher started {launched} processes (WORLD_SIZE) but accelerate set up "
            f"{state.num_processes} ({state.distributed_type}), so every process would train "
            "alone; launch with `accelerate launch --multi_gpu --num_processes N` or `torchrun "
            "--nproc_per_node N`")


def process_state() -> PartialState:
    """The shared accelerate state (rank, barrier), on the CPU or on CUDA, checked."""
    state = PartialState(cpu=_on_cpu())
    _checked(state)
    return state


def training_accelerator(fp16: bool = False) -> Accelerator:
    """An ``Accelerator`` over the same, checked process group, for DDP training; ``fp16``
    (a CUDA model computing in float16, e.g. on a T4) scales the loss so that small gradients
    do not underflow in float16."""
    accelerator = Accelerator(cpu=_on_cpu(),
                              mixed_precision="fp16" if fp16 and not _on_cpu() else "no")
    _checked(accelerator.state)
    return accelerator
