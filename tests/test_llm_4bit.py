"""The QLoRA path on the CPU: a tiny LLaMA in 4-bit NF4 (bitsandbytes), LoRA on every layer
with gradient checkpointing, the adapter saved, reloaded and used for extraction; and the
bf16-compute step (the GPU recipe's precision) against ``llmemb plan``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from llmemb_utils.config import load_config
from llmemb_utils.llm.embed import embed_items
from llmemb_utils.llm.models import decoder_of
from llmemb_utils.llm.plan import model_shape, scft_plan
from llmemb_utils.llm.plan_commands import precision
from llmemb_utils.llm.probe import (
    SCFTProbe,
    profiled_peak,
    resident_tensors,
    synthetic_batch,
    tensor_bytes,
)
from llmemb_utils.llm.scft import train_scft
from llmemb_utils.llm.tiny import save_tiny_llama

PROMPTS = [f"The movie has the following attributes: \n title is Film {i}; year is {1970 + i}; "
           f"genres is {('Drama', 'Comedy', 'War')[i % 3]}" for i in range(16)]


@pytest.mark.slow
def test_qlora_scft_and_extraction_on_cpu(tmp_path: Path, single_thread):
    tiny = str(save_tiny_llama(tmp_path / "tiny", hidden=64))  # whole NF4 blocks per row
    config = load_config(**{"llm.model": tiny, "llm.dtype": "float32",
                            "llm.load_in_4bit": "always", "llm.gradient_checkpointing": True,
                            "scft.lora_layers": None, "scft.batch_size": 8, "scft.steps": 3,
                            "scft.save_every": 3})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the kit's own path raises no warning
        # bitsandbytes before 0.50 calls a check that torch 2.13 deprecates: a notice about
        # bitsandbytes' internals, not about the kit
        warnings.filterwarnings("ignore", r"_check_is_size will be removed", FutureWarning)
        result = train_scft(PROMPTS, config, tmp_path / "scft", progress=False)
    layer = decoder_of(result.model).layers[0]
    assert type(layer.self_attn.q_proj.base_layer).__name__ == "Linear4bit"  # bitsandbytes
    assert layer.gradient_checkpointing
    assert all(np.isfinite(h["loss"]) for h in result.history) and len(result.history) == 3
    weights = load_file(result.adapter / "adapter_model.safetensors")
    assert len(weights) == 2 * 7 * 4  # A and B of 7 projections on each of the 4 layers
    assert any(name.endswith("lora_B.weight") and tensor.abs().sum() > 0
               for name, tensor in weights.items())  # B starts at zero: training moved it

    embed = {mode: np.asarray(embed_items(PROMPTS, tiny, result.adapter, dtype="float32",
                                          load_in_4bit=mode, cache=False, progress=False))
             for mode in ("always", "never")}
    quantized, full = embed["always"], embed["never"]
    assert quantized.shape == (len(PROMPTS), 64) and np.isfinite(quantized).all()
    assert not np.array_equal(quantized, full)  # 4-bit weights really were used
    cosine = (quantized * full).sum(1) / np.linalg.norm(quantized, axis=1) / np.linalg.norm(
        full, axis=1)
    assert cosine.min() > 0.95, cosine


@pytest.mark.slow
@pytest.mark.parametrize("checkpointing", [False, True])
def test_bf16_qlora_step_keeps_the_activations_llmemb_plan_counts(tmp_path: Path, single_thread,
                                                                  checkpointing: bool):
    """4-bit weights with bf16 compute: every decoder layer hands on bf16 (not the fp32 an
    upcast of the norms and embeddings would give), the bytes per activation the plan assumes,
    and one training step's measured peak is the plan's within a quarter."""
    tiny = str(save_tiny_llama(tmp_path / "tiny", hidden=64))
    config = load_config(**{"llm.model": tiny, "llm.dtype": "bfloat16",
                            "llm.load_in_4bit": "always",
                            "llm.gradient_checkpointing": checkpointing,
                            "scft.lora_layers": None, "scft.batch_size": 8})
    probe = SCFTProbe.load(config, "cpu")
    outputs = []
    for layer in decoder_of(probe.model).layers:
        layer.register_forward_hook(lambda module, args, out: outputs.append(
            (out[0] if isinstance(out, tuple) else out).dtype))
    shape = model_shape(tiny)
    ids, mask = synthetic_batch(shape.vocab, 2 * 8, 64)
    probe.step(ids, mask)  # creates AdamW's moments
    assert set(outputs) == {torch.bfloat16} and len(outputs) >= 4
    planned = precision(config, "cpu")
    assert planned.four_bit and planned.compute_bytes == torch.bfloat16.itemsize
    resident = tensor_bytes(resident_tensors(probe.objective, probe.optimizer))
    measured = resident + profiled_peak(lambda: probe.step(ids, mask))
    plan = scft_plan(shape, planned, 8, 64, config.scft.lora_r, shape.layers, checkpointing)
    assert abs(plan.total / measured - 1) <= 0.25, (plan.parts, measured)
