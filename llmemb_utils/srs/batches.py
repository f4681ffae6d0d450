"""Left-padded training and inference batches from item-id sequences.

Training objectives (docs/method.md §4.3), per user training sequence ``s``:

- ``next`` (SASRec, Caser): input ``s[:-1]``, every position predicts the following item;
- ``last`` (GRU4Rec): input ``s[:-1]``, only the last position predicts ``s[-1]``;
- ``cloze`` (Bert4Rec): two rows per user, one with each position selected with probability
  ``mask_prob`` (of those: 80 % mask token, 10 % random item, 10 % unchanged) and one with only
  the last item masked; selected positions predict their original item.

Each target gets one uniform negative from 1..N outside the user's training items (the
paper's BCE loss). Sequences keep their most recent ``max_length`` items.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .backbones import MASK_TOKEN, PAD

CHUNK_SIZE = 16  # rows per length-sorted chunk of a batch


@dataclass
class Chunk:
    """``inputs``, ``targets`` (0 = no target here) and ``negatives``, all (B, L)."""

    inputs: torch.Tensor
    targets: torch.Tensor
    negatives: torch.Tensor

    def to(self, device: torch.device | str) -> Chunk:
        return Chunk(self.inputs.to(device), self.targets.to(device), self.negatives.to(device))


@dataclass
class Batch:
    """One optimisation step's rows, split into chunks of similar length.

    The loss is computed once over every target of the batch, so chunking changes nothing
    but the padding computed: rows are sorted by length and each chunk is padded only to its
    own longest row (where the backbone makes that exact).
    """

    chunks: list[Chunk]

    def to(self, device: torch.device | str) -> Batch:
        return Batch([chunk.to(device) for chunk in self.chunks])


def left_pad(rows: Sequence[np.ndarray], width: int) -> np.ndarray:
    """Stack rows into a (len(rows), width) array, right-aligned, padded with 0 on the left."""
    out = np.full((len(rows), width), PAD, dtype=np.int64)
    for i, row in enumerate(rows):
        if len(row):
            out[i, width - len(row):] = row
    return out


class TrainingBatches:
    """Shuffled training batches of one objective over the users' training sequences."""

    def __init__(self, sequences: Sequence[np.ndarray], num_items: int, objective: str,
                 max_length: int, batch_size: int, mask_prob: float = 0.6,
                 pad_to_max_length: bool = False, chunk_size: int = CHUNK_SIZE) -> None:
        if objective not in ("next", "last", "cloze"):
            raise ValueError(f"unknown training objective {objective!r}")
        shortest = 1 if objective == "cloze" else 2
        self.sequences = [np.asarray(s, dtype=np.int64) for s in sequences if len(s) >= shortest]
        if not self.sequences:
            raise ValueError(f"no user has the {shortest} training item(s) the "
                             f"{objective!r} objective needs")
        self.seen = [np.unique(s) for s in self.sequences]
        if any(len(seen) >= num_items for seen in self.seen):
            raise ValueError("a user has interacted with every item: no negative to sample")
        self.num_items = num_items
        self.objective = objective
        self.max_length = max_length
        self.batch_size = batch_size
        self.mask_prob = mask_prob
        self.pad_to_max_length = pad_to_max_length
        self.chunk_size = batch_size if pad_to_max_length else chunk_size

    def __len__(self) -> int:
        rows = len(self.sequences) * (2 if self.objective == "cloze" else 1)
        return -(-rows // self.batch_size)

    def epoch(self, rng: np.random.Generator) -> Iterator[Batch]:
        """One pass in a random order; all randomness comes from ``rng``."""
        rows = self._rows(rng)
        order = rng.permutation(len(rows))
        for start in range(0, len(order), self.batch_size):
            chosen = [rows[i] for i in order[start:start + self.batch_size]]
            if not self.pad_to_max_length:
                chosen.sort(key=lambda row: len(row[0]))
            yield Batch([self._chunk(chosen[i:i + self.chunk_size], rng)
                         for i in range(0, len(chosen), self.chunk_size)])

    def _chunk(self, rows: list[tuple[np.ndarray, np.ndarray, int]],
               rng: np.random.Generator) -> Chunk:
        width = self.max_length if self.pad_to_max_length else max(len(r[0]) for r in rows)
        inputs = left_pad([r[0] for r in rows], width)
        targets = left_pad([r[1] for r in rows], width)
        negatives = np.zeros_like(targets)
        for i, (_, _, user) in enumerate(rows):
            has_target = targets[i] != PAD
            negatives[i, has_target] = self._negatives(user, int(has_target.sum()), rng)
        return Chunk(torch.from_numpy(inputs), torch.from_numpy(targets),
                     torch.from_numpy(negatives))

    def _rows(self, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, int]]:
        """(input, targets, user index) rows of this epoch."""
        length = self.max_length
        if self.objective == "next":
            return [(s[:-1][-length:], s[1:][-length:], u) for u, s in enumerate(self.sequences)]
        if self.objective == "last":
            return [(s[:-1][-length:], _only_last(s[-1], min(len(s) - 1, length)), u)
                    for u, s in enumerate(self.sequences)]
        cloze = [(*self._cloze(s[-length:], rng), u) for u, s in enumerate(self.sequences)]
        last = [(np.append(s[-length:][:-1], MASK_TOKEN), _only_last(s[-1], len(s[-length:])), u)
                for u, s in enumerate(self.sequences)]
        return cloze + last

    def _cloze(self, sequence: np.ndarray, rng: np.random.Generator,
               ) -> tuple[np.ndarray, np.ndarray]:
        selected = rng.random(len(sequence)) < self.mask_prob
        treatment = rng.random(len(sequence))
        inputs = sequence.copy()
        inputs[selected & (treatment < 0.8)] = MASK_TOKEN
        randomised = selected & (treatment >= 0.8) & (treatment < 0.9)
        inputs[randomised] = rng.integers(1, self.num_items + 1, int(randomised.sum()))
        return inputs, np.where(selected, sequence, PAD)

    def _negatives(self, user: int, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` uniform items from 1..N, resampled until none is a training item."""
        seen = self.seen[user]
        draws = rng.integers(1, self.num_items + 1, count)
        while True:
            clash = np.isin(draws, seen, assume_unique=False)
            if not clash.any():
                return draws
            draws[clash] = rng.integers(1, self.num_items + 1, int(clash.sum()))


def _only_last(item: int, length: int) -> np.ndarray:
    targets = np.zeros(length, dtype=np.int64)
    targets[-1] = item
    return targets


def history_batches(histories: Sequence[np.ndarray], max_length: int, batch_size: int,
                    append_mask: bool = False,
                    pad_to_max_length: bool = False) -> Iterator[torch.Tensor]:
    """Model inputs for scoring the item after each history, in user order.

    With ``append_mask`` (Bert4Rec) the history keeps its ``max_length - 1`` latest items and a
    mask token follows.
    """
    keep = max_length - 1 if append_mask else max_length
    for start in range(0, len(histories), batch_size):
        rows = [np.asarray(h[-keep:], dtype=np.int64) for h in histories[start:start + batch_size]]
        if append_mask:
            rows = [np.append(r, MASK_TOKEN) for r in rows]
        width = max_length if pad_to_max_length else max(len(r) for r in rows)
        yield torch.from_numpy(left_pad(rows, width))
