"""``llmemb plan``: will each stage of a config fit the GPU (or this machine's memory)?"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass

from ..config import ExperimentConfig, add_config_arguments, load_cli_config
from ..io import kit_relative
from ..layout import RunLayout
from .plan import (
    CUDA_RESERVE,
    GIB,
    T4_QLORA_FLOPS,
    ModelShape,
    Precision,
    StagePlan,
    extraction_plan,
    model_shape,
    rat_plan,
    scft_plan,
    scft_seconds,
    scft_step_flops,
    trunk_cache_plan,
)

ASSUMED_ITEMS = 100_000  # RAT's item count when the prepared data is not there yet


DESCRIPTION = ("Estimate each stage's peak memory from the model's shape, the prompts' token "
               "lengths (the prepared data when present) and the config's batch sizes; print a "
               "table with a fit verdict per stage and exit with status 1 and a suggestion when "
               "a stage does not fit.")


def register(subparsers: argparse._SubParsersAction) -> None:
    plan = subparsers.add_parser("plan", description=DESCRIPTION,
                                 help="estimate the peak memory of SCFT, extraction and RAT")
    plan.add_argument("--gpu-memory", type=float, metavar="GB",
                      help="GPU memory in GB (default: the CUDA device's, else this machine's "
                           "RAM with the CPU recipe's precision)")
    plan.add_argument("--host-memory", type=float, metavar="GB",
                      help="host RAM in GB, for SCFT's trunk cache (default: this machine's)")
    plan.add_argument("--tflops", type=float, default=T4_QLORA_FLOPS / 1e12,
                      help="sustained TFLOPS of SCFT on the GPU, for the time estimate "
                           "(default: the kit's assumption for 4-bit QLoRA on a T4)")
    plan.add_argument("--tokens", type=int,
                      help="tokens per prompt to assume (default: the longest prepared prompt, "
                           "else llm.max_tokens)")
    add_config_arguments(plan)
    plan.set_defaults(handler=run_plan)


@dataclass(frozen=True)
class Budget:
    device: str  # cuda | cpu
    total: float  # bytes
    usable: float  # bytes left for tensors


def budget(gpu_memory: float | None) -> Budget:
    """The memory to plan for: the given or present GPU (less the CUDA context), else RAM."""
    import torch

    if gpu_memory is None and torch.cuda.is_available():
        gpu_memory = torch.cuda.get_device_properties(0).total_memory / 1e9
    if gpu_memory is not None:
        total = gpu_memory * 1e9
        return Budget("cuda", total, total - CUDA_RESERVE)
    total = host_memory()
    return Budget("cpu", total, total)


def host_memory(given_gb: float | None = None) -> float:
    """Host RAM in bytes: the given size, else this machine's."""
    if given_gb is not None:
        return given_gb * 1e9
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def precision(config: ExperimentConfig, device: str) -> Precision:
    """Weight and compute bytes as ``load_model`` would choose them on ``device``."""
    from .models import use_4bit

    dtype = config.llm.dtype
    if dtype == "auto":
        wide = device == "cpu"  # choose_dtype: float32 on the CPU, else 16-bit
        element = 4 if wide else 2
    else:
        element = 4 if dtype == "float32" else 2
    return Precision(use_4bit(config.llm.load_in_4bit, device), element, element)


def prompt_tokens(config: ExperimentConfig, shape_name: str) -> tuple[int, str]:
    """The longest prompt in tokens (+ EOS) of the prepared data, with its tokenizer, else
    ``llm.max_tokens``; and a note saying which."""
    from ..data.dataset import PreparedDataset
    from .models import DEFAULT_MODEL, ModelError, converted_default, resolve

    folder = RunLayout(config).data
    limit = config.llm.max_tokens
    if not (folder / "prompts.jsonl").is_file():
        return limit, (f"assumed llm.max_tokens = {limit} tokens per prompt "
                       f"({kit_relative(folder)} not prepared)")
    from transformers import AutoTokenizer

    try:
        source = resolve(shape_name)
        tokenizer = AutoTokenizer.from_pretrained(source.path, gguf_file=source.gguf_file,
                                                  local_files_only=True)
        which = shape_name
    except (OSError, ModelError, ValueError):
        tokenizer = AutoTokenizer.from_pretrained(converted_default())
        which = f"{DEFAULT_MODEL}'s tokenizer standing in for {shape_name}'s"
    prompts = PreparedDataset.load(folder).prompts
    longest = max(len(ids) for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"])
    return min(longest + 1, limit), f"longest prompt of {kit_relative(folder)} ({which})"


def stage_plans(config: ExperimentConfig, shape: ModelShape, device: str, tokens: int,
                items: int) -> tuple[list[StagePlan], StagePlan]:
    """The configured stages, and SCFT with the other checkpointing setting for comparison."""
    scft, computed = config.scft, precision(config, device)
    layers = scft.lora_layers or shape.layers

    def scft_with(checkpointing: bool, pairs: int = scft.batch_size) -> StagePlan:
        return scft_plan(shape, computed, pairs, tokens, scft.lora_r, layers, checkpointing)

    checkpointing = config.llm.gradient_checkpointing
    width = config.rat.pca_dim or config.embed.pca_dim or shape.hidden
    stages = [scft_with(checkpointing),
              extraction_plan(shape, computed,
                              config.embed.batch_size, tokens, scft.lora_r),
              rat_plan(items, width, config.srs.hidden, config.srs.blocks,
                       config.srs.batch_size, config.srs.max_length)]
    return stages, scft_with(not checkpointing)


def trunk_cache(config: ExperimentConfig, shape: ModelShape, device: str, tokens: int,
                items: int) -> StagePlan | None:
    """SCFT's trunk cache when the config keeps one (fixed views, ``scft.cache_trunk`` and
    frozen layers below ``scft.lora_layers``), else None. The trunk hands on the dtype of
    the embeddings: the compute dtype (``load_model``)."""
    scft = config.scft
    frozen = shape.layers - (scft.lora_layers or shape.layers)
    if not (scft.cache_trunk and frozen and not scft.resample_views):
        return None
    return trunk_cache_plan(shape, items, tokens, frozen, precision(config, device).compute_bytes)


def scft_time(config: ExperimentConfig, shape: ModelShape, tokens: int, tflops: float) -> str:
    """SCFT's optimiser steps, micro-batches and estimated hours at ``tflops`` sustained."""
    scft = config.scft
    flops = scft_step_flops(shape, scft.batch_size, tokens, scft.lora_layers or shape.layers,
                            config.llm.gradient_checkpointing)
    hours = scft_seconds(flops, scft.steps, scft.grad_accumulation, tflops * 1e12) / 3600
    return (f"SCFT time: {scft.steps} optimiser steps x {scft.grad_accumulation} micro-batch(es) "
            f"of {scft.batch_size} pairs ({scft.batch_size * scft.grad_accumulation} pairs a "
            f"step), about {hours:.1f} h at {tflops:g} TFLOPS sustained (--tflops); "
            "accumulation costs time, not memory")


def suggestion(config: ExperimentConfig, shape: ModelShape, plan: StagePlan, device: str,
               tokens: int, usable: float) -> str:
    """What to change so that ``plan``'s stage fits."""
    scft = config.scft
    if plan.stage.startswith("SCFT"):
        if not config.llm.gradient_checkpointing:
            return "set llm.gradient_checkpointing: true"
        train = precision(config, device)
        layers = scft.lora_layers or shape.layers
        fitting = [pairs for pairs in range(scft.batch_size, 0, -1)
                   if scft_plan(shape, train, pairs, tokens, scft.lora_r, layers,
                                True).total <= usable]
        if fitting:
            pairs = scft.batch_size * scft.grad_accumulation
            steps = math.ceil(pairs / fitting[0])
            return (f"set scft.batch_size: {fitting[0]} with scft.grad_accumulation: {steps} "
                    f"(about the same {pairs} pairs a step, fewer in-batch negatives per "
                    "micro-batch), or cut llm.max_tokens")
        return "cut llm.max_tokens, train fewer layers (scft.lora_layers), or use a larger GPU"
    if plan.stage == "extraction":
        return "lower embed.batch_size or llm.max_tokens"
    return "lower srs.batch_size or rat.pca_dim"


def run_plan(args: argparse.Namespace) -> int:
    config = load_cli_config(args)
    shape = model_shape(config.llm.model)
    memory = budget(args.gpu_memory)
    tokens, tokens_note = ((args.tokens, f"--tokens {args.tokens}") if args.tokens
                           else prompt_tokens(config, config.llm.model))
    items, items_note = item_count(config)
    stages, alternative = stage_plans(config, shape, memory.device, tokens, items)
    print(f"model {config.llm.model}: {shape.params / 1e9:.2f} B parameters, {shape.layers} "
          f"layers x {shape.hidden} wide, vocabulary {shape.vocab} (from {shape.source})")
    print(f"tokens per prompt: {tokens} ({tokens_note}); items: {items} ({items_note})")
    where = "GPU" if memory.device == "cuda" else "CPU RAM"
    reserve = " less 1 GiB for the CUDA context" if memory.device == "cuda" else ""
    print(f"budget: {memory.total / 1e9:.1f} GB {where}{reserve}\n")
    print(format_table(stages + [alternative], memory.usable, {alternative.stage}))
    if memory.device == "cuda":
        print(f"\n{scft_time(config, shape, tokens, args.tflops)}")
    failing = [plan for plan in stages if plan.total > memory.usable]
    for plan in failing:
        advice = suggestion(config, shape, plan, memory.device, tokens, memory.usable)
        print(f"\n{plan.stage} does not fit: {plan.total / GIB:.1f} GiB needed, "
              f"{memory.usable / GIB:.1f} GiB usable; {advice}")
    cache = trunk_cache(config, shape, memory.device, tokens, items)
    if cache is not None and not check_host_memory(cache, stages[0], memory, args.host_memory):
        failing.append(cache)
    if failing and args.tokens is None and tokens == config.llm.max_tokens:
        print(f"every prompt was taken as {tokens} tokens long; prepare the data (llmemb "
              "prepare) or pass --tokens to plan with the real prompt lengths")
    return 1 if failing else 0


def check_host_memory(cache: StagePlan, scft: StagePlan, memory: Budget,
                      given_gb: float | None) -> bool:
    """Print the trunk cache's share of host RAM (with SCFT itself when that runs on the
    CPU too); whether it fits, with a suggestion when not."""
    host = host_memory(given_gb)
    needed = cache.total + (scft.total if memory.device == "cpu" else 0)
    print(f"\n{cache.stage}: {cache.total / GIB:.2f} GiB "
          f"({', '.join(cache.parts)}) of {host / GIB:.1f} GiB host RAM")
    if needed <= host:
        return True
    print(f"the trunk cache does not fit: {needed / GIB:.1f} GiB needed, {host / GIB:.1f} GiB of "
          "host RAM; set scft.cache_trunk: false (the frozen layers then run for every "
          "micro-batch), train on fewer items, or cut llm.max_tokens")
    return False


def item_count(config: ExperimentConfig) -> tuple[int, str]:
    from ..data.dataset import PreparedDataset

    folder = RunLayout(config).data
    if (folder / "stats.json").is_file():
        return PreparedDataset.load(folder).num_items, f"{folder}"
    return ASSUMED_ITEMS, "assumed, data not prepared"


def format_table(plans: list[StagePlan], usable: float, alternatives: set[str]) -> str:
    """One row per stage: its parts and total in GiB and the verdict."""
    rows = [("stage", "parts (GiB)", "total GiB", "fits")]
    for plan in plans:
        parts = ", ".join(f"{name} {value / GIB:.2f}" for name, value in plan.parts.items())
        verdict = "yes" if plan.total <= usable else "NO"
        if plan.stage in alternatives:
            verdict += " (not configured)"
        rows.append((plan.stage, parts, f"{plan.total / GIB:.2f}", verdict))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                     .rstrip() for row in rows)
