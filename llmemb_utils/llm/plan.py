"""Peak memory of each stage before running it: SCFT (4-bit QLoRA or full precision),
extraction and RAT, from the model's shape, the prompts' token lengths and the config's batch.

The estimates count tensors, in bytes:

- weights: the decoder's linear layers at 4 bits (NF4, plus one 8-bit scale per 64 weights
  and its second-level scales with double quantisation) and the embeddings and norms at the
  compute dtype (``load_model`` keeps them there for training too), or every weight at the
  load dtype;
- LoRA: rank-r factors of the seven projections of each trained layer, in fp32, with their
  gradients and AdamW's two moments (16 bytes per LoRA weight);
- activations per token and layer, what autograd keeps for the backward pass:
  ``b (14 H + 4 KV + 5 I) + (6 H + I)`` bytes at ``b`` bytes per compute element (norm inputs
  and outputs, the LoRA dropout copies and their one-byte masks, q/k/v before and after rotary
  positions, attention output, the MLP's gate, up, activation and product); with gradient
  checkpointing only each layer's input (``b H``) is kept and one layer is recomputed at a
  time; the backward pass adds transient gradients of about ``b (4 H + 2 I)`` per token;
- extraction: weights at inference precision plus one batch's live activations, about
  ``b (4 H + 3 I)`` per token (no KV cache: extraction asks for none);
- RAT: the LLM and teacher tables, the recommender and adapter weights with AdamW state, and
  its activations (an order-of-magnitude estimate; it is small next to the LLM stages).

``benchmarks/plan_check.py`` compares these estimates with peaks measured on CPU runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

GIB = 1024**3
NF4_BYTES = 0.5 + 1 / 64 + 4 / (64 * 256)  # 4-bit codes, 8-bit block scales, fp32 scales of 256
CUDA_RESERVE = 1.0 * GIB  # CUDA context and allocator slack, not seen as tensors
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class ModelShape:
    """The sizes that set a decoder's memory; ``source`` says where they came from."""

    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    source: str

    @property
    def kv_width(self) -> int:
        return self.kv_heads * self.head_dim

    def projection_shapes(self) -> dict[str, tuple[int, int]]:
        """(in, out) features of each projection of one layer."""
        attention = self.heads * self.head_dim
        return {"q_proj": (self.hidden, attention), "k_proj": (self.hidden, self.kv_width),
                "v_proj": (self.hidden, self.kv_width), "o_proj": (attention, self.hidden),
                "gate_proj": (self.hidden, self.intermediate),
                "up_proj": (self.hidden, self.intermediate),
                "down_proj": (self.intermediate, self.hidden)}

    @property
    def linear_params(self) -> int:
        return self.layers * sum(i * o for i, o in self.projection_shapes().values())

    @property
    def other_params(self) -> int:
        """Embeddings and norms (two per layer and the final one); the bare decoder has no
        LM head."""
        return self.vocab * self.hidden + (2 * self.layers + 1) * self.hidden

    @property
    def params(self) -> int:
        return self.linear_params + self.other_params


# Shapes of gated hub models whose config.json cannot be read offline.
KNOWN_SHAPES = {
    "meta-llama/Llama-2-7b-hf": ModelShape(32, 4096, 11008, 32, 32, 128, 32000,
                                           "known shape table (LLaMA-2-7B)"),
    "meta-llama/Llama-2-13b-hf": ModelShape(40, 5120, 13824, 40, 40, 128, 32000,
                                            "known shape table (LLaMA-2-13B)"),
}


def shape_from_config(config: dict, source: str) -> ModelShape:
    """The shape in a transformers ``config.json`` mapping."""
    heads = config["num_attention_heads"]
    return ModelShape(
        layers=config["num_hidden_layers"], hidden=config["hidden_size"],
        intermediate=config["intermediate_size"], heads=heads,
        kv_heads=config.get("num_key_value_heads") or heads,
        head_dim=config.get("head_dim") or config["hidden_size"] // heads,
        vocab=config["vocab_size"], source=source)


def model_shape(name: str) -> ModelShape:
    """The shape of a model name as ``llm.model`` takes it: a kit asset or local folder (its
    config.json), a hub id in the transformers cache, or a known hub id."""
    from .models import ModelError, resolve

    if name in KNOWN_SHAPES:
        return KNOWN_SHAPES[name]
    source = resolve(name)
    folder = Path(source.path)
    if source.gguf_file is None and (folder / "config.json").is_file():
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        return shape_from_config(config, f"{folder / 'config.json'}")
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(source.path, gguf_file=source.gguf_file,
                                            local_files_only=True).to_dict()
    except OSError:
        raise ModelError(f"no offline config for model {name!r}; pass a local folder, or one "
                         f"of the known shapes {sorted(KNOWN_SHAPES)}") from None
    return shape_from_config(config.get("text_config", config), f"{name} (cached config)")


@dataclass(frozen=True)
class Precision:
    """How the weights are held and what the activations are computed in."""

    four_bit: bool
    weight_bytes: int  # per weight when not 4-bit (2 for bf16/fp16, 4 for fp32)
    compute_bytes: int  # per activation element


def weight_bytes(shape: ModelShape, precision: Precision) -> float:
    """The decoder's weights: 4-bit linear layers with the rest at the compute dtype, or every
    weight at the load dtype."""
    if not precision.four_bit:
        return shape.params * precision.weight_bytes
    return shape.linear_params * NF4_BYTES + shape.other_params * precision.compute_bytes


def lora_params(shape: ModelShape, rank: int, layers: int,
                targets: tuple[str, ...] = PROJECTIONS) -> int:
    shapes = shape.projection_shapes()
    return layers * sum(rank * (shapes[t][0] + shapes[t][1]) for t in targets)


def layer_activation_bytes(shape: ModelShape, compute_bytes: int) -> int:
    """What autograd keeps per token for one LoRA-trained layer (module docstring)."""
    h, kv, i = shape.hidden, shape.kv_width, shape.intermediate
    return compute_bytes * (14 * h + 4 * kv + 5 * i) + (6 * h + i)


def transient_bytes(shape: ModelShape, compute_bytes: int) -> int:
    """Per token, the gradients alive at once in the backward pass."""
    return compute_bytes * (4 * shape.hidden + 2 * shape.intermediate)


@dataclass(frozen=True)
class StagePlan:
    """One stage's estimate: its parts (bytes) and their total."""

    stage: str
    parts: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.parts.values())


def scft_plan(shape: ModelShape, precision: Precision, pairs: int, tokens: int, rank: int,
              trained_layers: int, checkpointing: bool) -> StagePlan:
    """SCFT: weights, LoRA (+ gradients and AdamW), activations of ``2 * pairs`` views padded
    to ``tokens`` through ``trained_layers`` LoRA layers (the frozen layers below keep none)."""
    batch_tokens = 2 * pairs * tokens
    per_layer = layer_activation_bytes(shape, precision.compute_bytes) * batch_tokens
    if checkpointing:
        kept = trained_layers * batch_tokens * shape.hidden * precision.compute_bytes
        activations = kept + per_layer
    else:
        activations = trained_layers * per_layer
    name = "SCFT" + (" (checkpointing)" if checkpointing else "")
    return StagePlan(name, {
        "weights": weight_bytes(shape, precision),
        "LoRA + grads + AdamW": 16 * lora_params(shape, rank, trained_layers),
        "activations": activations,
        "backward transients": transient_bytes(shape, precision.compute_bytes) * batch_tokens})


def extraction_plan(shape: ModelShape, precision: Precision, batch: int, tokens: int,
                    rank: int) -> StagePlan:
    """Extraction: inference weights (+ the adapter) and one batch's live activations."""
    live = precision.compute_bytes * (4 * shape.hidden + 3 * shape.intermediate)
    return StagePlan("extraction", {
        "weights": weight_bytes(shape, precision),
        "LoRA": 4 * lora_params(shape, rank, shape.layers),
        "activations": live * batch * tokens})


def trunk_cache_plan(shape: ModelShape, items: int, tokens: int, trunk_layers: int,
                     element_bytes: int) -> StagePlan:
    """SCFT's trunk cache in host RAM: the frozen lower layers' output for both views of every
    item (``tokens`` at most each), kept for the whole run at the trunk's output dtype."""
    return StagePlan("trunk cache (host RAM)", {
        f"2 views x {items} items x {tokens} tokens x {shape.hidden} wide":
            2 * items * tokens * shape.hidden * element_bytes if trunk_layers else 0})


def rat_plan(items: int, table_width: int, hidden: int, blocks: int, batch: int,
             length: int) -> StagePlan:
    """RAT (order of magnitude): fp32 tables, weights with AdamW state, activations."""
    adapter = table_width * (table_width // 2) + (table_width // 2) * hidden
    recommender = blocks * 12 * hidden * hidden + (length + 1) * hidden
    return StagePlan("RAT", {
        "LLM + teacher tables": 4 * items * (table_width + hidden),
        "weights + grads + AdamW": 16 * (adapter + recommender),
        "activations": 4 * batch * length * hidden * (16 * blocks + 8)})


# The sustained rate assumed for 4-bit QLoRA on a T4, the smallest GPU the kit plans for: its
# fp16 tensor cores peak near 65 TFLOPS, but every pass dequantises each NF4 weight and the
# LoRA factors are small matrices, so QLoRA runs far below peak. An assumption, not a
# measurement: benchmarks/gpu.py measures seconds per step where a GPU is at hand.
T4_QLORA_FLOPS = 8e12


def forward_flops(shape: ModelShape, sequences: int, tokens: int, layers: int) -> float:
    """Floating-point operations of one forward pass of ``sequences`` prompts of ``tokens``
    through ``layers`` layers: per token and layer ``2 x`` the projections' weights plus the
    attention scores and their weighted sum (``4 T`` times the attention width)."""
    attention = shape.heads * shape.head_dim
    per_token = 2 * shape.linear_params / shape.layers + 4 * tokens * attention
    return layers * per_token * sequences * tokens


def scft_step_flops(shape: ModelShape, pairs: int, tokens: int, trained_layers: int,
                    checkpointing: bool) -> float:
    """Floating-point operations of one micro-batch (``2 * pairs`` views of ``tokens``) through
    the trained layers: the forward pass, the backward pass (input gradients only, about one
    forward, as the frozen weights need no gradient) and, with checkpointing, the forward
    recomputed. A cached trunk costs nothing per step."""
    passes = 3 if checkpointing else 2
    return passes * forward_flops(shape, 2 * pairs, tokens, trained_layers)


def extraction_seconds(shape: ModelShape, items: int, tokens: int,
                       flops_per_second: float) -> float:
    """Extraction time: one forward pass of every item's prompt through every layer."""
    return forward_flops(shape, items, tokens, shape.layers) / flops_per_second


def scft_seconds(step_flops: float, steps: int, grad_accumulation: int,
                 flops_per_second: float) -> float:
    """Training time: ``steps`` optimiser steps of ``grad_accumulation`` micro-batches each.
    Accumulation costs time in proportion, and no memory: one micro-batch is alive at once."""
    return step_flops * steps * grad_accumulation / flops_per_second
