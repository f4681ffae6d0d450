"""A tiny randomly initialised LLaMA built from a config (no download), for tests and smoke runs.

It shares the default model's tokenizer, so every code path (tokenisation, LoRA, SCFT,
extraction, DDP) runs exactly as with a real model, in seconds.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .models import converted_default


def save_tiny_llama(folder: str | Path, layers: int = 4, hidden: int = 32, seed: int = 0) -> Path:
    """Write a ``layers``-deep, ``hidden``-wide LLaMA plus the default tokenizer to ``folder``."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaModel

    folder = Path(folder)
    tokenizer = AutoTokenizer.from_pretrained(converted_default())
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden,
                         intermediate_size=2 * hidden, num_hidden_layers=layers,
                         num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    LlamaModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
