"""Tokenisation as the official code does it (docs/method.md §3.1), and as encoders expect.

A decoder's text is encoded without special tokens (no BOS), cut to ``max_tokens - 1`` tokens
and closed with EOS; batches are right-padded, so with a causal mask real tokens never see
pads and the forward pass needs no attention mask. An encoder's text is cut so that its
tokenizer's own special tokens (BERT: ``[CLS] ... [SEP]``) fit around it; bidirectional
attention would see pads, so its forward pass gets the padding mask (:mod:`.extract`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch


def pad_id(tokenizer) -> int:
    """The pad token, chosen explicitly: unk as in the official code, else EOS."""
    for token_id in (tokenizer.unk_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    raise ValueError(f"tokenizer {tokenizer.name_or_path!r} has neither an unk nor an EOS token")


def encode(tokenizer, prompts: Sequence[str], max_tokens: int,
           special_tokens: bool = False) -> list[list[int]]:
    """Token ids of each prompt, at most ``max_tokens`` of them: no BOS, truncated to
    ``max_tokens - 1``, EOS appended; with ``special_tokens`` (encoders) truncated so that the
    tokenizer's own special tokens fit and wrapped in them instead.

    Empty prompts are an error; truncated prompts are counted in one warning.
    """
    if not special_tokens and tokenizer.eos_token_id is None:
        raise ValueError(f"tokenizer {tokenizer.name_or_path!r} has no EOS token")
    extra = tokenizer.num_special_tokens_to_add() if special_tokens else 1
    if max_tokens < extra + 1:
        raise ValueError(f"max_tokens must be at least {extra + 1}, got {max_tokens}")
    empty = [i for i, prompt in enumerate(prompts) if not prompt.strip()]
    if empty:
        raise ValueError(f"{len(empty)} empty prompt(s), first at index {empty[0]} "
                         f"(item id {empty[0] + 1})")
    encoded = tokenizer(list(prompts), add_special_tokens=False)["input_ids"]
    limit = max_tokens - extra
    truncated = sum(len(ids) > limit for ids in encoded)
    if truncated:
        closing = "special tokens" if special_tokens else "EOS"
        warnings.warn(f"truncated {truncated} of {len(encoded)} prompts to {max_tokens} tokens "
                      f"(including {closing})", stacklevel=2)
    if special_tokens:  # the tokenizer knows where its special tokens go
        return tokenizer(list(prompts), truncation=True, max_length=max_tokens)["input_ids"]
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


SENTENCE_CONFIG = "sentence_bert_config.json"


def context_limit(model, max_tokens: int) -> int:
    """``max_tokens`` capped at the model's context length, and at the length a
    sentence-transformers model was trained for (``max_seq_length`` in its folder's
    ``sentence_bert_config.json``; all-MiniLM-L6-v2: 256 of its 512 positions)."""
    limits = [max_tokens, getattr(model.config, "max_position_embeddings", None)]
    sentence_config = Path(model.config.name_or_path) / SENTENCE_CONFIG
    if sentence_config.is_file():
        limits.append(json.loads(sentence_config.read_text(encoding="utf-8"))
                      .get("max_seq_length"))
    return min(limit for limit in limits if limit)
