"""Tokenisation as the official code does it (docs/method.md §3.1).

Text is encoded without special tokens (no BOS), cut to ``max_tokens - 1`` tokens and closed
with EOS; batches are right-padded, so with a causal mask real tokens never see pads and the
forward pass needs no attention mask.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch


def pad_id(tokenizer) -> int:
    """The pad token, chosen explicitly: unk as in the official code, else EOS."""
    for token_id in (tokenizer.unk_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    raise ValueError(f"tokenizer {tokenizer.name_or_path!r} has neither an unk nor an EOS token")


def encode(tokenizer, prompts: Sequence[str], max_tokens: int) -> list[list[int]]:
    """Token ids of each prompt: no BOS, truncated to ``max_tokens - 1``, EOS appended.

    Empty prompts are an error; truncated prompts are counted in one warning.
    """
    if tokenizer.eos_token_id is None:
        raise ValueError(f"tokenizer {tokenizer.name_or_path!r} has no EOS token")
    if max_tokens < 2:
        raise ValueError(f"max_tokens must be at least 2, got {max_tokens}")
    empty = [i for i, prompt in enumerate(prompts) if not prompt.strip()]
    if empty:
        raise ValueError(f"{len(empty)} empty prompt(s), first at index {empty[0]} "
                         f"(item id {empty[0] + 1})")
    encoded = tokenizer(list(prompts), add_special_tokens=False)["input_ids"]
    limit = max_tokens - 1
    truncated = sum(len(ids) > limit for ids in encoded)
    if truncated:
        warnings.warn(f"truncated {truncated} of {len(encoded)} prompts to {max_tokens} tokens "
                      "(including EOS)", stacklevel=2)
    return [ids[:limit] + [tokenizer.eos_token_id] for ids in encoded]


def pad(sequences: Sequence[Sequence[int]], pad_token: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token sequences into ``(input_ids, mask)``; mask is True on real tokens."""
    width = max((len(s) for s in sequences), default=0)
    ids = torch.full((len(sequences), width), pad_token, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.bool)
    for row, sequence in enumerate(sequences):
        ids[row, :len(sequence)] = torch.as_tensor(sequence, dtype=torch.long)
        mask[row, :len(sequence)] = True
    return ids, mask


def context_limit(model, max_tokens: int) -> int:
    """``max_tokens`` capped at the model's context length."""
    context = getattr(model.config, "max_position_embeddings", None)
    return min(max_tokens, context) if context else max_tokens
