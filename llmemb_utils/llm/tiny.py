"""Tiny randomly initialised models built from a config (no download), for tests and smoke
runs: a LLaMA, Gemma-family models whose forward adds embedding scaling (Gemma) or
sliding-window attention and soft-capping (Gemma 2), and a BERT encoder.

The decoders share the default model's tokenizer, the encoder gets a WordPiece vocabulary of
characters, so every code path (tokenisation, LoRA, SCFT, extraction, DDP) runs exactly as with
a real model, in seconds.
"""

from __future__ import annotations

import string
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


BERT_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def save_tiny_bert(folder: str | Path, layers: int = 4, hidden: int = 32, seed: int = 0,
                   max_positions: int = 256) -> Path:
    """Write a ``layers``-deep, ``hidden``-wide BERT encoder to ``folder``, with a lower-case
    WordPiece tokenizer whose vocabulary is single characters (any ASCII text encodes)."""
    import transformers

    folder = Path(folder)
    characters = string.ascii_lowercase + string.digits + string.punctuation
    vocabulary = [*BERT_SPECIAL, *characters, *(f"##{c}" for c in characters)]
    tokenizer = transformers.BertTokenizerFast(
        vocab={token: index for index, token in enumerate(vocabulary)})
    config = transformers.BertConfig(
        vocab_size=len(vocabulary), hidden_size=hidden, num_hidden_layers=layers,
        num_attention_heads=4, intermediate_size=2 * hidden,
        max_position_embeddings=max_positions, pad_token_id=0)
    torch.manual_seed(seed)
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
