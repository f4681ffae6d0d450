"""Tiny randomly initialised decoders built from a config (no download), for tests and smoke
runs: a LLaMA, and Gemma-family models whose forward adds embedding scaling (Gemma) or
sliding-window attention and soft-capping (Gemma 2).

They share the default model's tokenizer, so every code path (tokenisation, LoRA, SCFT,
extraction, DDP) runs exactly as with a real model, in seconds.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .models import converted_default

FAMILIES = ("llama", "gemma", "gemma2")


def save_tiny_llama(folder: str | Path, layers: int = 4, hidden: int = 32, seed: int = 0,
                    family: str = "llama") -> Path:
    """Write a ``layers``-deep, ``hidden``-wide decoder of ``family`` plus the default
    tokenizer to ``folder``."""
    import transformers

    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    folder = Path(folder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(converted_default())
    shape = {"vocab_size": len(tokenizer), "hidden_size": hidden,
             "intermediate_size": 2 * hidden, "num_hidden_layers": layers,
             "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": hidden // 4,
             "max_position_embeddings": 256, "tie_word_embeddings": True,
             "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
             "pad_token_id": None}
    config, model = {"llama": ("LlamaConfig", "LlamaModel"),
                     "gemma": ("GemmaConfig", "GemmaModel"),
                     "gemma2": ("Gemma2Config", "Gemma2Model")}[family]
    extra = {"sliding_window": 8} if family == "gemma2" else {}
    torch.manual_seed(seed)
    getattr(transformers, model)(getattr(transformers, config)(**shape, **extra)).save_pretrained(
        folder)
    tokenizer.save_pretrained(folder)
    return folder
