"""Named run profiles for the notebooks: what a run is sized for is chosen, never inferred.

A CUDA device alone changes nothing: ``cpu-recipe`` (the default) runs the config as written
wherever it is; ``t4-demo`` trains QLoRA on every layer for as many steps as fit a notebook-02
budget on a 16 GB T4 by the planner's time model; ``paper`` applies the config's ``gpu:``
overlay (the paper's SCFT size) and needs a CUDA GPU. Each profile prints its planned peak
memory and time before any training runs (:func:`load_profile`), planned on the run's own
data, which it prepares first (every notebook does so anyway).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from dataclasses import dataclass

from .config import ExperimentConfig, load_config
from .llm.plan import (
    GIB,
    T4_QLORA_FLOPS,
    ModelShape,
    forward_flops,
    model_shape,
    scft_seconds,
    scft_step_flops,
)
from .llm.plan_commands import budget, item_count, prompt_tokens, stage_plans

PROFILES = ("cpu-recipe", "t4-demo", "paper")
T4_GB = 16  # the GPU the t4-demo profile is sized for (Colab's free tier)
DEMO_MINUTES = 20  # the t4-demo's SCFT budget in notebook 02
DEMO_PAIRS = 64  # the paper's pairs per micro-batch
# The assumed sustained fp32 rate of the CPU recipe's matrix products on a small machine (a
# couple of AVX2 cores): an assumption for the estimate, not a measurement.
CPU_FLOPS = 5e10


class ProfileError(ValueError):
    """An unknown profile, or one this machine cannot run; the message says which."""


@dataclass(frozen=True)
class Estimate:
    """A profile's planned SCFT peak memory and time, and what they assume."""

    peak_bytes: float
    usable_bytes: float
    memory_label: str  # e.g. "a 16 GB T4" or "this machine's RAM"
    seconds: float
    flops_per_second: float
    tokens: int
    tokens_note: str

    def __str__(self) -> str:
        rate = f"{self.flops_per_second / 1e12:g} TFLOPS"
        verdict = "fits" if self.peak_bytes <= self.usable_bytes else "DOES NOT FIT"
        return (f"  SCFT peak memory {self.peak_bytes / GIB:.2f} GiB of "
                f"{self.usable_bytes / GIB:.1f} GiB usable on {self.memory_label}: {verdict}\n"
                f"  SCFT time about {self.seconds / 60:.0f} min at an assumed {rate} sustained\n"
                f"  prompts of {self.tokens} tokens ({self.tokens_note})")


def scft_run_seconds(config: ExperimentConfig, shape: ModelShape, tokens: int, items: int,
                     flops_per_second: float) -> float:
    """The planner's time for an SCFT run: the trained layers' steps, plus one pass of the
    frozen trunk over both views of every item when it is cached."""
    scft = config.scft
    trained = scft.lora_layers or shape.layers
    step = scft_step_flops(shape, scft.batch_size, tokens, trained,
                           config.llm.gradient_checkpointing)
    seconds = scft_seconds(step, scft.steps, scft.grad_accumulation, flops_per_second)
    frozen = shape.layers - trained
    if frozen and scft.cache_trunk and not scft.resample_views:
        seconds += forward_flops(shape, 2 * items, tokens, frozen) / flops_per_second
    return seconds


def t4_demo_steps(config: ExperimentConfig, shape: ModelShape, tokens: int) -> int:
    """Steps of ``DEMO_PAIRS`` pairs through every layer (checkpointing) that the planner
    expects a T4 to finish in ``DEMO_MINUTES``, rounded down to a multiple of 50."""
    step = scft_step_flops(shape, DEMO_PAIRS, tokens, shape.layers, checkpointing=True)
    fitting = DEMO_MINUTES * 60 * T4_QLORA_FLOPS / (step * config.scft.grad_accumulation)
    return max(50, 50 * math.floor(fitting / 50))


T4_DEMO = {"llm.load_in_4bit": "always", "llm.gradient_checkpointing": True,
           "scft.lora_layers": None, "scft.batch_size": DEMO_PAIRS, "scft.save_every": 100}


def load_profile(path: str | os.PathLike, profile: str = "cpu-recipe", fast: bool = False,
                 cuda: bool | None = None, **overrides) -> ExperimentConfig:
    """The config at ``path`` sized by ``profile`` (then ``fast``, then ``overrides``), after
    printing the profile's planned SCFT memory and time. ``cuda`` (default: whether a CUDA
    device is present) only decides whether a GPU profile can run here.

    t4-demo runs are named ``<name>_t4demo`` so that they never mix with the config's own
    runs; their step count is planned on the prompt lengths of their data, prepared first
    (as every notebook does anyway), so that it is the same in every notebook.
    """
    if profile not in PROFILES:
        raise ProfileError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    if cuda is None:
        import torch

        cuda = torch.cuda.is_available()
    if profile != "cpu-recipe" and not cuda:
        raise ProfileError(f"profile {profile!r} is sized for a CUDA GPU and none is present; "
                           "use profile 'cpu-recipe'")
    config = load_config(path, fast=fast, gpu=profile == "paper", **overrides)
    if profile == "t4-demo":
        config = t4_demo(path, config, fast, overrides)
    else:
        prepare_quietly(config)
    print(describe(profile, config, model_shape(config.llm.model)))
    return config


def prepare_quietly(config: ExperimentConfig) -> None:
    """Prepare (or find) the run's data, whose prompt lengths and item count the plan uses."""
    from . import pipeline

    with contextlib.redirect_stdout(io.StringIO()):
        pipeline.dataset(config)


def t4_demo(path: str | os.PathLike, config: ExperimentConfig, fast: bool,
            overrides: dict) -> ExperimentConfig:
    """``config`` with the t4-demo settings under them: the fast overlay and ``overrides``
    still win, so that CI runs stay small."""
    later = {**(config.fast if fast else {}), **overrides, "name": f"{config.name}_t4demo"}
    sized = load_config(path, **{**T4_DEMO, **later})
    prepare_quietly(sized)  # the prompt lengths the step count is planned on
    tokens, _ = prompt_tokens(sized, sized.llm.model)
    return t4_demo_config(path, tokens, later)


def t4_demo_config(path: str | os.PathLike, tokens: int, later: dict) -> ExperimentConfig:
    """The t4-demo settings over the config at ``path``, ``later`` over them, with the steps
    planned for prompts of ``tokens`` tokens."""
    sized = load_config(path, **{**T4_DEMO, **later})
    steps = t4_demo_steps(sized, model_shape(sized.llm.model), tokens)
    return load_config(path, **{**T4_DEMO, "scft.steps": steps, **later})


def describe(profile: str, config: ExperimentConfig, shape: ModelShape) -> str:
    """The profile's settings and its planned SCFT memory and time."""
    scft = config.scft
    layers = (f"the top {scft.lora_layers} of {shape.layers}" if scft.lora_layers
              else f"all {shape.layers}")
    head = (f"profile {profile}: {config.llm.model}, LoRA on {layers} layers, "
            f"{scft.steps} steps x {scft.batch_size * scft.grad_accumulation} pairs")
    return f"{head}\n{estimate(profile, config, shape)}"


def estimate(profile: str, config: ExperimentConfig, shape: ModelShape) -> Estimate:
    """Planned SCFT peak memory and time of ``config`` where ``profile`` runs it: a 16 GB T4
    for t4-demo, the present GPU for paper, this machine (its GPU when present) otherwise."""
    memory = budget(T4_GB if profile == "t4-demo" else None)
    label = (f"a {T4_GB} GB T4" if profile == "t4-demo" else
             "this GPU" if memory.device == "cuda" else "this machine's RAM")
    tokens, tokens_note = prompt_tokens(config, config.llm.model)
    items, _ = item_count(config)
    stages, _ = stage_plans(config, shape, memory.device, tokens, items)
    rate = T4_QLORA_FLOPS if memory.device == "cuda" else CPU_FLOPS
    return Estimate(stages[0].total, memory.usable, label,
                    scft_run_seconds(config, shape, tokens, items, rate), rate, tokens,
                    tokens_note)
