"""Supervised contrastive fine-tuning (SCFT, docs/method.md §3): LoRA on the top layers of an LLM,
trained so that two attribute-drop views of an item embed close together.

Speed on CPU comes from the frozen trunk (stack.py): with views fixed once per run, the
lower layers' outputs for every view are computed once (at the inference precision, fp32 on
CPU) and reused at every step, so a step costs only the ``lora_layers`` top layers forward and
backward. With LoRA on every layer (the paper's setting, ``lora_layers: null``) there is no
trunk to cache: each micro-batch runs the model's own forward, with gradient checkpointing
when ``llm.gradient_checkpointing``. An encoder is never cut (``stack.head_split``): LoRA sits
on its top ``lora_layers`` and every step runs its whole forward. A finished run is recognised
from its manifest and reused without loading the model. The same code runs on one
process or under ``accelerate launch`` (DDP: each process takes its own micro-batches,
gradients are averaged; in-batch negatives stay per device as in the official code).
"""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from torch import nn

from ..config import ExperimentConfig, SCFTConfig
from ..io import MANIFEST, kit_relative, make_manifest, read_json, sha256_file, write_json
from .extract import length_batches, progress_bar
from .lora import ADAPTER_WEIGHTS, add_lora, save_adapter
from .losses import ContrastiveLoss
from .models import choose_dtype, default_device, is_encoder, load_model
from .processes import training_accelerator
from .stack import Trunk, head_split, trained_part
from .tokens import context_limit, encode, pad, pad_id
from .views import (
    batch_items,
    fixed_views,
    micro_batch_index,
    step_views,
    warn_if_nothing_dropped,
)

CHECKPOINT = "checkpoint.pt"


class Objective(nn.Module):
    """Trained layers -> pooled views -> contrastive loss: the module DDP wraps.

    With a 16-bit ``compute_dtype`` the layers run under autocast to it, so that LoRA's fp32
    factors compute, and keep their inputs for the backward pass, in 16 bits like the frozen
    weights around them: every activation autograd keeps is 2 bytes, as ``llmemb plan`` counts
    it. The pooled embeddings (fp32) and the loss are outside autocast.
    """

    def __init__(self, head: nn.Module, loss: ContrastiveLoss,
                 compute_dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.head = head
        self.loss = loss
        self.compute_dtype = compute_dtype

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        with torch.autocast(hidden.device.type, dtype=self.compute_dtype,
                            enabled=self.compute_dtype != torch.float32):
            pooled = self.head(hidden, mask)
        return self.loss(pooled)


def contrastive_loss(scft: SCFTConfig) -> ContrastiveLoss:
    """The configured loss with its initial (soft-target) or fixed (InfoNCE) temperature."""
    temperature = scft.temperature if scft.loss == "soft-target" else scft.infonce_temperature
    return ContrastiveLoss(scft.loss, temperature)


def trunk_states(trunk: Trunk, sequences: Sequence[Sequence[int]], pad_token: int,
                 batch_size: int = 64) -> list[torch.Tensor]:
    """Trunk outputs (length_i, H) of each token sequence, kept on the CPU."""
    states: list[torch.Tensor] = [torch.empty(0)] * len(sequences)
    for batch in length_batches([len(s) for s in sequences], batch_size):
        ids, _ = pad([sequences[i] for i in batch], pad_token)
        hidden = trunk(ids).cpu()
        for row, index in enumerate(batch):
            states[index] = hidden[row, :len(sequences[index])].clone()
    return states


def stack_states(states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad per-sequence states into ``(hidden (B, T, H), mask (B, T))``."""
    hidden = nn.utils.rnn.pad_sequence(list(states), batch_first=True)
    lengths = torch.tensor([len(s) for s in states])
    return hidden, torch.arange(hidden.shape[1])[None] < lengths[:, None]


class ViewBatches:
    """Trunk states of both views of a micro-batch's items, first views then second views.

    Fixed views are tokenised once and, with ``scft.cache_trunk`` and a trunk that has frozen
    layers, their trunk states are computed once and kept; resampled views are drawn per
    micro-batch, seeded by its index, so micro-batches and processes draw different views.
    """

    def __init__(self, prompts: Sequence[str], config: ExperimentConfig, tokenizer, trunk: Trunk,
                 max_tokens: int) -> None:
        self.prompts, self.scft, self.seed = prompts, config.scft, config.seed
        self.tokenizer, self.trunk, self.max_tokens = tokenizer, trunk, max_tokens
        self.pad = pad_id(tokenizer)
        self.special_tokens = is_encoder(trunk.decoder)
        warn_if_nothing_dropped(prompts, self.scft.drop_ratio)
        self.tokens: list[list[int]] | None = None
        self.cached: list[torch.Tensor] | None = None
        if not self.scft.resample_views:
            pairs = fixed_views(prompts, self.scft.drop_ratio, self.seed)
            self.tokens = self._encode(pairs)
            if self.scft.cache_trunk and trunk.layers:
                self.cached = trunk_states(trunk, self.tokens, self.pad)

    def _encode(self, pairs: Sequence[tuple[str, str]]) -> list[list[int]]:
        """Tokens of all first views, then all second views."""
        flat = [pair[0] for pair in pairs] + [pair[1] for pair in pairs]
        return encode(self.tokenizer, flat, self.max_tokens, self.special_tokens)

    def __call__(self, items: np.ndarray, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The trunk states of micro-batch ``index``, which holds ``items``."""
        if self.tokens is None:
            pairs = step_views(self.prompts, items, self.scft.drop_ratio, self.seed, index)
            states = trunk_states(self.trunk, self._encode(pairs), self.pad)
        else:
            rows = np.concatenate([items, items + len(self.prompts)])
            states = ([self.cached[i] for i in rows] if self.cached is not None else
                      trunk_states(self.trunk, [self.tokens[i] for i in rows], self.pad))
        return stack_states(states)


@dataclass
class SCFTResult:
    """What a run produced and what it cost."""

    folder: Path
    adapter: Path
    steps: int
    seconds: float  # whole run: model load, trunk cache, training, saving
    cpu_seconds: float  # CPU time of all threads over the same span (less load-dependent)
    cache_seconds: float
    train_seconds: float
    peak_rss_gb: float
    temperature: float
    history: list[dict[str, float]] = field(repr=False)
    model: nn.Module | None = field(default=None, repr=False)  # the trained peft model
    resumed_from: int = 0  # the step a resumed run started from; its times add those spent
    # before the checkpoint it resumed from (the steps after that checkpoint were lost)

    def summary(self) -> dict[str, Any]:
        """The scalar facts, for JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("history", "model")}


SCFT_SECTIONS = ("llm", "scft")  # with the seed: what an SCFT run depends on besides its data


def step_seed(seed: int, step: int, rank: int) -> int:
    """Seed of the dropout masks at one step on one process: resume replays them exactly."""
    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1)[0])


def trainable_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in module.named_parameters() if p.requires_grad}


@dataclass
class SCFTParts:
    """What an SCFT run trains, built once by :func:`build_parts` for the run and for checks
    by hand (notebook 02 recomputes a step of it)."""

    model: nn.Module  # the LoRA-wrapped LLM
    tokenizer: Any
    objective: Objective  # head layers + loss: the trained module
    trunk: Trunk  # the frozen lower layers
    max_tokens: int


def build_parts(config: ExperimentConfig, device: str) -> SCFTParts:
    """Load ``config.llm.model`` for training, add fresh LoRA adapters (seeded) and cut it
    into the frozen trunk and the trained objective."""
    llm, scft = config.llm, config.scft
    model, tokenizer = load_model(llm.model, llm.dtype, llm.load_in_4bit, device=device)
    torch.manual_seed(config.seed)  # LoRA initialisation
    model = add_lora(model, scft)
    split = head_split(model, scft.lora_layers)
    compute = choose_dtype(llm.dtype, torch.device(device).type)
    objective = Objective(trained_part(model, split, llm.pooling, llm.gradient_checkpointing),
                          contrastive_loss(scft), compute).to(device).train()
    trunk = Trunk(model, split, compute)
    return SCFTParts(model, tokenizer, objective, trunk, context_limit(model, llm.max_tokens))


def train_scft(prompts: Sequence[str], config: ExperimentConfig, out: str | Path,
               resume: bool = True, progress: bool = True,
               inputs: dict[str, Any] | None = None) -> SCFTResult:
    """Fine-tune ``config.llm.model`` on ``prompts`` and save the adapter under ``out/adapter``.

    ``out/checkpoint.pt`` is written every ``scft.save_every`` steps; with ``resume`` a run
    continues from it (same config required) and ends with the same weights as an
    uninterrupted run.
    """
    out = Path(out)
    if resume:
        finished = finished_run(out, config, inputs)
        if finished is not None:
            print(f"[scft] {kit_relative(out)} holds a finished run of this config "
                  f"({finished.steps} steps); reusing it")
            return finished
    started, cpu_started = time.perf_counter(), time.process_time()
    scft = config.scft
    accelerator = training_accelerator(
        fp16=choose_dtype(config.llm.dtype, default_device()) == torch.float16)
    parts = build_parts(config, str(accelerator.device))
    model, core = parts.model, parts.objective
    optimizer = torch.optim.AdamW([p for p in core.parameters() if p.requires_grad],
                                  lr=scft.learning_rate, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: max(0.0, 1.0 - step / scft.steps))
    start, history, spent = 0, [], Spent()
    if resume and (out / CHECKPOINT).is_file():
        start, history, spent = _load_checkpoint(out / CHECKPOINT, config, core, optimizer,
                                                 scheduler)
    wrapped, optimizer = accelerator.prepare(core, optimizer)

    clock = time.perf_counter()
    batches = ViewBatches(prompts, config, parts.tokenizer, parts.trunk, parts.max_tokens)
    cache_seconds, clock = time.perf_counter() - clock, time.perf_counter()

    def spent_now() -> Spent:
        return Spent(spent.seconds + time.perf_counter() - started,
                     spent.cpu_seconds + time.process_time() - cpu_started,
                     spent.cache_seconds + cache_seconds,
                     spent.train_seconds + time.perf_counter() - clock)

    bar = progress_bar(range(start, scft.steps), progress and accelerator.is_main_process,
                       desc="scft", unit="step", initial=start, total=scft.steps)
    for step in bar:
        loss = _step(step, config, len(prompts), batches, accelerator, wrapped, optimizer)
        scheduler.step()
        history.append({"step": step + 1, "loss": loss, "lr": scheduler.get_last_lr()[0],
                        "temperature": core.loss.temperature.item()})
        bar.set_postfix(loss=f"{loss:.4f}")
        if (step + 1) % scft.save_every == 0 or step + 1 == scft.steps:
            if accelerator.is_main_process:
                _save_checkpoint(out / CHECKPOINT, step + 1, config, core, optimizer, scheduler,
                                 history, spent_now())
            accelerator.wait_for_everyone()
    result = SCFTResult(folder=out, adapter=out / "adapter", steps=scft.steps,
                        **asdict(spent_now()),
                        peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                        temperature=core.loss.temperature.item(), history=history,
                        model=model.eval(), resumed_from=start)
    if accelerator.is_main_process:
        _write_outputs(result, config, inputs)
    accelerator.wait_for_everyone()
    return result


def _step(step: int, config: ExperimentConfig, num_items: int, batches: ViewBatches,
          accelerator: Accelerator, wrapped: nn.Module, optimizer) -> float:
    """One optimiser step over ``grad_accumulation`` micro-batches; the mean loss over all
    processes. Gradients are synchronised on the last micro-batch only."""
    scft = config.scft
    rank, world = accelerator.process_index, accelerator.num_processes
    torch.manual_seed(step_seed(config.seed, step, rank))
    total = 0.0
    for micro in range(scft.grad_accumulation):
        index = micro_batch_index(step, micro, scft.grad_accumulation, world, rank)
        hidden, mask = batches(batch_items(num_items, scft.batch_size, config.seed, index), index)
        last = micro == scft.grad_accumulation - 1
        with contextlib.nullcontext() if last else accelerator.no_sync(wrapped):
            loss = wrapped(hidden.to(accelerator.device), mask) / scft.grad_accumulation
            accelerator.backward(loss)
        total += loss.item()
    accelerator.clip_grad_norm_(wrapped.parameters(), scft.max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(accelerator.reduce(torch.tensor(total, device=accelerator.device), "mean"))


def finished_run(out: Path, config: ExperimentConfig,
                 inputs: dict[str, Any] | None = None) -> SCFTResult | None:
    """The run saved in ``out`` when it finished with this config (seed, ``llm``, ``scft``) on
    inputs with the same files and its adapter is intact; None otherwise."""
    manifest_path, weights = out / MANIFEST, out / "adapter" / ADAPTER_WEIGHTS
    if not all(path.is_file() for path in (manifest_path, weights, out / "summary.json")):
        return None
    manifest = read_json(manifest_path)
    stored = {"seed": manifest.get("seed"),
              **{k: manifest.get("config", {}).get(k) for k in SCFT_SECTIONS}}
    if (stored != config.identity(*SCFT_SECTIONS)
            or _input_files(manifest.get("inputs", {})) != _input_files(inputs or {})
            or manifest.get("files", {}).get(f"adapter/{ADAPTER_WEIGHTS}") != sha256_file(weights)):
        return None
    summary = read_json(out / "summary.json")
    return SCFTResult(**{**summary, "folder": out, "adapter": out / "adapter"},
                      history=read_json(out / "history.json"))


def _input_files(inputs: dict[str, Any]) -> dict[str, Any]:
    """The file hashes of each input manifest: what a run's result depends on."""
    return {name: manifest.get("files") for name, manifest in inputs.items()}


def _write_outputs(result: SCFTResult, config: ExperimentConfig,
                   inputs: dict[str, Any] | None) -> None:
    """The adapter (peft format + scft.json), the loss history, a summary and the manifest."""
    save_adapter(result.model, result.adapter, config.llm.model, result.temperature,
                 extra={"steps": result.steps, "loss": config.scft.loss})
    write_json(result.folder / "history.json", result.history)
    write_json(result.folder / "summary.json", result.summary())
    weights = result.adapter / ADAPTER_WEIGHTS
    write_json(result.folder / "manifest.json", make_manifest(
        "scft", config.to_dict(), config.seed, inputs=inputs,
        files={f"adapter/{ADAPTER_WEIGHTS}": sha256_file(weights)}))


@dataclass(frozen=True)
class Spent:
    """Time an SCFT run has cost so far; a checkpoint carries it, so that a resumed run's
    summary counts the steps trained before the interruption too."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    cache_seconds: float = 0.0
    train_seconds: float = 0.0


def _save_checkpoint(path: Path, step: int, config: ExperimentConfig, core: nn.Module,
                     optimizer, scheduler, history: list[dict[str, float]],
                     spent: Spent) -> None:
    state = {"step": step, "config": config.identity(*SCFT_SECTIONS),
             "trainable": trainable_state(core),
             "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "history": history, "spent": asdict(spent)}
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_suffix(".tmp")
    torch.save(state, staging)
    staging.replace(path)


def _load_checkpoint(path: Path, config: ExperimentConfig, core: nn.Module, optimizer,
                     scheduler) -> tuple[int, list[dict[str, float]], Spent]:
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state["config"] != config.identity(*SCFT_SECTIONS):
        raise ValueError(f"{path} was written with a different config; use another output "
                         "folder or resume=False")
    core.load_state_dict(state["trainable"], strict=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    print(f"[scft] resumed from {kit_relative(path)} at step {state['step']}")
    # checkpoints written before times were carried hold none: their steps go uncounted
    return state["step"], state["history"], Spent(**state.get("spent", {}))
