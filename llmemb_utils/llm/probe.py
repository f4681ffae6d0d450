"""Single SCFT steps and extraction batches on synthetic token ids, for the memory and speed
benchmarks (``benchmarks/plan_check.py``, ``benchmarks/gpu.py``).

They run the kit's own pieces (``load_model``, ``add_lora``, ``trained_part``, the
contrastive loss, AdamW) on a batch of a chosen shape, so a measurement is of exactly the
configuration that ``llmemb plan`` estimates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from ..config import ExperimentConfig
from .lora import add_lora
from .models import choose_dtype, load_model
from .scft import Objective, contrastive_loss
from .stack import split_point, trained_part


def synthetic_batch(vocab: int, sequences: int, tokens: int,
                    seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``sequences`` random token sequences of ``tokens`` tokens, no padding."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (sequences, tokens), generator=generator)
    return ids, torch.ones_like(ids, dtype=torch.bool)


@dataclass
class SCFTProbe:
    """A loaded model with LoRA, its training objective and optimiser."""

    model: nn.Module
    objective: nn.Module
    optimizer: torch.optim.Optimizer
    device: str

    @classmethod
    def load(cls, config: ExperimentConfig, device: str) -> SCFTProbe:
        llm, scft = config.llm, config.scft
        model, _ = load_model(llm.model, llm.dtype, llm.load_in_4bit, device=device)
        torch.manual_seed(config.seed)
        model = add_lora(model, scft)
        split = split_point(model, scft.lora_layers)
        if split:
            raise ValueError("the probe trains every layer (scft.lora_layers: null)")
        objective = Objective(trained_part(model, 0, llm.pooling, llm.gradient_checkpointing),
                              contrastive_loss(scft),
                              choose_dtype(llm.dtype, device)).to(device).train()
        optimizer = torch.optim.AdamW([p for p in objective.parameters() if p.requires_grad],
                                      lr=scft.learning_rate)
        return cls(model, objective, optimizer, device)

    def step(self, ids: torch.Tensor, mask: torch.Tensor) -> float:
        """One optimiser step on ``ids`` (first half: first views, second half: second)."""
        loss = self.objective(ids.to(self.device), mask.to(self.device))
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach().item()


def profiled_peak(run: Callable[[], object]) -> int:
    """Peak bytes allocated by torch on the CPU while ``run()`` executes, above the level at
    its start: the profiler's allocation and free events summed in time order."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as profiler:
        run()
    level = peak = 0
    for event in sorted(profiler.events(), key=lambda event: event.time_range.start):
        level += event.self_cpu_memory_usage
        peak = max(peak, level)
    return peak


def tensor_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Storage bytes of distinct tensors."""
    seen, total = set(), 0
    for tensor in tensors:
        if tensor.data_ptr() not in seen:
            seen.add(tensor.data_ptr())
            total += tensor.numel() * tensor.element_size()
    return total


def resident_tensors(model: nn.Module,
                     optimizer: torch.optim.Optimizer | None = None) -> list[torch.Tensor]:
    """Parameters, buffers, 4-bit quantisation states and optimiser states: what stays in
    memory between steps."""
    tensors = [*model.parameters(), *model.buffers()]
    for parameter in model.parameters():
        state = getattr(parameter, "quant_state", None)
        while state is not None:  # double quantisation nests a second state
            tensors += [t for t in (state.absmax, state.code) if isinstance(t, torch.Tensor)]
            state = getattr(state, "state2", None)
    if optimizer is not None:
        tensors += [value for state in optimizer.state.values() for value in state.values()
                    if isinstance(value, torch.Tensor)]
    return tensors
