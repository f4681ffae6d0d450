"""A decoder-only LM cut in two: a frozen trunk and a trainable head.

SCFT adapts only the top ``lora_layers`` decoder layers, so everything below them is a fixed
function of the input. The trunk (embeddings + lower layers) therefore runs once per view
without gradients; the head (upper layers + final norm) is the only part trained. The cut
re-runs the decoder's layers itself, which is exact for decoders exposing ``embed_tokens``,
``layers``, ``norm`` and ``rotary_emb`` whose forward does nothing else (LLaMA, Mistral,
Qwen2/3, Gemma); :func:`check_split` compares it with the model's own forward and refuses the
others, bidirectional encoders among them. With split 0 nothing is cut: the head is the model's
own forward, exact for any architecture, which is how an encoder trains its top layers
(:func:`head_split`).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from .models import ModelError, decoder_of, enable_checkpointing, is_encoder, layers_of
from .pooling import pool

PARTS = ("embed_tokens", "layers", "norm", "rotary_emb")
IMPLICIT_CAUSAL = ("sdpa", "flash_attention_2", "flash_attention_3")


def split_point(model: nn.Module, lora_layers: int | None) -> int:
    """Index of the first trained layer: ``num_layers - lora_layers`` (0 when None)."""
    total = len(layers_of(model))
    if lora_layers is None:
        return 0
    if not 1 <= lora_layers <= total:
        raise ValueError(f"lora_layers must be between 1 and {total}, got {lora_layers}")
    return total - lora_layers


def head_split(model: nn.Module, lora_layers: int | None) -> int:
    """Where SCFT cuts ``model`` into trunk and head: at the first LoRA layer for a decoder;
    at 0 for an encoder, which the cut cannot reproduce, so its every step runs the whole
    encoder (the frozen lower layers too) and LoRA stays on the top ``lora_layers``."""
    split = split_point(model, lora_layers)
    return 0 if is_encoder(model) else split


def run_layers(decoder: nn.Module, layers: nn.ModuleList | list[nn.Module], hidden: torch.Tensor,
               use_checkpoint: bool = False) -> torch.Tensor:
    """Apply ``layers`` with rotary positions 0..T-1 and a causal mask (no padding mask:
    sequences are right-padded, so real tokens never attend to pads)."""
    positions = torch.arange(hidden.shape[1], device=hidden.device).unsqueeze(0)
    rope = decoder.rotary_emb(hidden, positions)
    mask = None
    if decoder.config._attn_implementation not in IMPLICIT_CAUSAL:
        width = hidden.shape[1]
        mask = torch.full((width, width), float("-inf"), device=hidden.device,
                          dtype=hidden.dtype).triu(1)[None, None]
    for layer in layers:
        step = partial(layer, attention_mask=mask, position_ids=positions,
                       position_embeddings=rope)
        if use_checkpoint and torch.is_grad_enabled():
            hidden = checkpoint(step, hidden, use_reentrant=False)
        else:
            hidden = step(hidden)
        if isinstance(hidden, tuple):  # older transformers return (hidden, ...)
            hidden = hidden[0]
    return hidden


class Trunk:
    """Embeddings and the frozen lower layers, run without gradients.

    ``compute_dtype`` (e.g. bfloat16 for a float32 model on CPU) runs them under autocast: they
    are inference only, so they may use the faster inference precision. With no frozen layers
    (split 0) there is nothing to run: the token ids pass through to the head.
    """

    def __init__(self, model: nn.Module, split: int,
                 compute_dtype: torch.dtype | None = None) -> None:
        self.decoder = decoder_of(model)
        if split:
            missing = [part for part in PARTS if not hasattr(self.decoder, part)]
            if missing:
                raise ModelError(f"{type(self.decoder).__name__} lacks {missing}; training only "
                                 "the top layers needs a LLaMA-style decoder (set "
                                 "scft.lora_layers: null)")
        self.layers = list(layers_of(model)[:split])
        self.compute_dtype = compute_dtype

    @torch.no_grad()
    def __call__(self, input_ids: torch.Tensor) -> torch.Tensor:
        if not self.layers:
            return input_ids
        weight = self.decoder.embed_tokens.weight
        autocast = self.compute_dtype not in (None, weight.dtype)
        with torch.autocast(weight.device.type, dtype=self.compute_dtype, enabled=autocast):
            hidden = self.decoder.embed_tokens(input_ids.to(weight.device))
            return run_layers(self.decoder, self.layers, hidden).to(weight.dtype)


class Head(nn.Module):
    """The trained upper layers and final norm, ending in fp32 pooling."""

    def __init__(self, model: nn.Module, split: int, pooling: str = "mean",
                 use_checkpoint: bool = False) -> None:
        super().__init__()
        decoder = decoder_of(model)
        self.layers = nn.ModuleList(decoder.layers[split:])
        self.norm = decoder.norm
        self.decoder = [decoder]  # a list keeps the whole decoder out of this module's params
        self.pooling = pooling
        self.use_checkpoint = use_checkpoint

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = run_layers(self.decoder[0], self.layers, hidden, self.use_checkpoint)
        return pool(self.norm(hidden), mask, self.pooling)


class WholeModel(nn.Module):
    """Every layer run with gradients: token ids through the model's own forward (an encoder
    given the padding mask), ending in fp32 pooling, exactly as extraction embeds (whatever the
    architecture adds to its layers)."""

    def __init__(self, model: nn.Module, pooling: str = "mean",
                 use_checkpoint: bool = False) -> None:
        super().__init__()
        self.decoder = decoder_of(model)
        self.pooling = pooling
        self.needs_mask = is_encoder(model)
        if use_checkpoint:
            enable_checkpointing(self.decoder)

    def forward(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        attention = mask if self.needs_mask else None
        hidden = self.decoder(input_ids=input_ids, attention_mask=attention,
                              use_cache=False).last_hidden_state
        return pool(hidden, mask, self.pooling)


def trained_part(model: nn.Module, split: int, pooling: str = "mean",
                 use_checkpoint: bool = False) -> nn.Module:
    """What SCFT trains on top of ``Trunk(model, split)``: the head, or the whole decoder."""
    if split == 0:
        return WholeModel(model, pooling, use_checkpoint)
    check_split(model, split)
    return Head(model, split, pooling, use_checkpoint)


@torch.no_grad()
def check_split(model: nn.Module, split: int, tokens: int = 12) -> None:
    """Refuse a decoder whose own forward does more than the trunk and head re-run (say
    sliding-window masks or extra scaling), and any encoder (bidirectional attention, no
    final norm): training on the cut would then fit hidden states that extraction never
    produces."""
    decoder = decoder_of(model)
    if is_encoder(model):
        raise ModelError(f"{type(decoder).__name__} is a bidirectional encoder: the frozen-trunk "
                         "shortcut re-runs causal decoder layers and cannot reproduce it; train "
                         "it through its own forward (split 0, as SCFT does for encoders)")
    device = decoder.embed_tokens.weight.device
    ids = torch.arange(tokens, device=device).remainder(decoder.config.vocab_size)[None]
    mask = torch.ones_like(ids, dtype=torch.bool)
    full = pool(decoder(input_ids=ids, use_cache=False).last_hidden_state, mask)
    cut = Head(model, split)(Trunk(model, split)(ids), mask)
    if not torch.allclose(cut, full, rtol=1e-2, atol=1e-2 * float(full.abs().max())):
        raise ModelError(f"{type(decoder).__name__}: the frozen-trunk shortcut does not reproduce "
                         "the model's own forward; train every layer (scft.lora_layers: null)")
