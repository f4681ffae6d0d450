"""Item embeddings from an LLM (docs/method.md §3.7): full prompts, pooled, one row per item.

Batches are formed from prompts sorted by token length, so little compute is spent on pads,
and every batch is written straight into a memory-mapped ``.npy`` at its items' rows: a
catalogue of any size never needs all vectors in RAM. Under ``accelerate launch`` each
process embeds every ``world_size``-th batch into the same file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .models import is_encoder
from .pooling import pool
from .processes import process_state
from .tokens import context_limit, encode, pad, pad_id


@torch.no_grad()
def forward_pooled(model, input_ids: torch.Tensor, mask: torch.Tensor,
                   pooling: str = "mean") -> torch.Tensor:
    """Pooled fp32 embeddings of right-padded ``input_ids``. A decoder needs no attention
    mask, because its causal mask already hides the pads from real tokens; an encoder attends
    both ways, so it is given ``mask``. No KV cache is built: nothing is generated after the
    forward pass, and the extraction plan counts none."""
    device = next(model.parameters()).device
    attention = mask.to(device) if is_encoder(model) else None
    hidden = model(input_ids=input_ids.to(device), attention_mask=attention,
                   use_cache=False).last_hidden_state
    return pool(hidden, mask, pooling)


def progress_bar(iterable, show: bool, **options):
    """A tqdm bar when ``show``; an explicit ``disable`` would override ``TQDM_DISABLE=1``,
    so it is only passed to hide the bar."""
    return tqdm(iterable, **options, **({} if show else {"disable": True}))


def length_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Indices grouped into batches of similar length, longest first (fails early on OOM)."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


def extract(model, tokenizer, prompts: Sequence[str], out: str | os.PathLike,
            pooling: str = "mean", batch_size: int = 32, max_tokens: int = 1024,
            progress: bool = True) -> np.ndarray:
    """Embed ``prompts`` into ``out`` (float32 ``.npy``, row i = prompt i), memory-mapped."""
    out = Path(out)
    state = process_state()
    sequences = encode(tokenizer, prompts, context_limit(model, max_tokens), is_encoder(model))
    batches = length_batches([len(s) for s in sequences], batch_size)
    batches = batches[state.process_index::state.num_processes]
    width = model.config.hidden_size
    if state.is_main_process:
        out.parent.mkdir(parents=True, exist_ok=True)
        np.lib.format.open_memmap(out, mode="w+", dtype=np.float32,
                                  shape=(len(sequences), width)).flush()
    state.wait_for_everyone()
    rows = np.load(out, mmap_mode="r+")
    padding = pad_id(tokenizer)
    for batch in progress_bar(batches, progress and state.is_main_process, desc="embed",
                              unit="batch"):
        ids, mask = pad([sequences[i] for i in batch], padding)
        rows[batch] = forward_pooled(model, ids, mask, pooling).cpu().numpy()
    rows.flush()
    del rows
    state.wait_for_everyone()
    return np.load(out, mmap_mode="r")
