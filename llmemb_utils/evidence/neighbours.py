"""What an item table puts next to tail items, measured on arrays.

An LLM table helps the long tail only if it places a tail item among items that resemble it,
and a recommender keeps that help only if its own scoring vectors still do. Per group of items
(tail and head, by training popularity), for one table:

- uniformity (t = 2) of the group's vectors after centring the whole table, as
  :func:`llmemb_utils.llm.diagnostics.embedding_report` centres: lower is more spread out;
- attribute agreement@k: the share of an item's k nearest other items (cosine after centring)
  whose attribute class is its own, over the items that have a class, with its chance level,
  the share that neighbours drawn at random among those items would give;
- tail neighbours@k: the share of an item's k nearest other items that are tail items, with
  the tail's share of the other items as its chance level.

An item's class is the last comma-separated element of one attribute in its prompt
(:func:`attribute_class`): one rule for every dataset, the most specific level of an Amazon
category path and, for MovieLens genres, the last genre in the dataset's genre order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..geometry import uniformity
from ..llm.diagnostics import nearest_neighbours

K = 10
GROUPS = ("item_tail", "item_head")
CHUNK = 1024  # query items per similarity block: memory O(CHUNK x items)


def attribute_class(prompt: str, name: str) -> str | None:
    """The last comma-separated element of attribute ``name`` in ``prompt`` (``... ; name is
    A, B, C; ...`` gives ``C``), or None when the prompt lacks the attribute or its value is
    empty."""
    _, _, attributes = prompt.rpartition("\n")
    for piece in attributes.split(";"):
        key, found, value = piece.strip().partition(" is ")
        if found and key == name:
            elements = [element.strip() for element in value.split(",") if element.strip()]
            return elements[-1] if elements else None
    return None


def neighbourhoods(table: np.ndarray, is_head: np.ndarray, classes: Sequence[str | None],
                   k: int = K) -> dict[str, dict[str, float | int | None]]:
    """The measures of the module's docstring for the tail and the head items of ``table``
    (one row per item, no padding row), ``is_head`` and ``classes`` (None: no class) aligned
    with its rows. A measure is None where its group has too few items: fewer than two for
    uniformity, none for a share, or no more than ``k`` candidate neighbours in all."""
    table = np.asarray(table, dtype=np.float64)
    is_head = np.asarray(is_head, dtype=bool)
    if not len(table) == len(is_head) == len(classes):
        raise ValueError(f"{len(table)} table rows, {len(is_head)} head flags and "
                         f"{len(classes)} classes: expected one of each per item")
    classed = np.array([label is not None for label in classes])
    labels = np.unique([label or "" for label in classes], return_inverse=True)[1]
    tail = ~is_head
    centred = table - table.mean(0)
    measures = {}
    for group, members in zip(GROUPS, (tail, is_head), strict=True):
        queries = np.flatnonzero(members)
        attributed = np.flatnonzero(members & classed)
        measures[group] = {
            "items": len(queries),
            "uniformity": uniformity(centred[queries]) if len(queries) >= 2 else None,
            "attribute_items": len(attributed),
            "attribute_agreement": _agreement(table, classed, labels, members, k),
            "attribute_chance": _class_chance(labels[classed], labels[attributed]),
            "tail_neighbours": _agreement(table, np.ones(len(table), dtype=bool),
                                          tail.astype(int), members, k, same=1),
            "tail_neighbours_chance": _tail_chance(tail, queries),
        }
    return measures


def _agreement(table: np.ndarray, candidates: np.ndarray, labels: np.ndarray,
               members: np.ndarray, k: int, same: int | None = None) -> float | None:
    """Mean share of the ``k`` nearest other ``candidates`` of each candidate among
    ``members`` whose label is the item's own (``same``: a fixed label instead)."""
    rows = np.flatnonzero(candidates)
    queries = np.flatnonzero(members[rows])
    if len(rows) <= k or not len(queries):
        return None
    neighbours = np.concatenate([nearest_neighbours(table[rows], queries[start:start + CHUNK], k)
                                 for start in range(0, len(queries), CHUNK)])
    found = labels[rows][neighbours]
    wanted = labels[rows][queries][:, None] if same is None else same
    return float((found == wanted).mean())


def _class_chance(candidate_labels: np.ndarray, query_labels: np.ndarray) -> float | None:
    """Expected share of same-class neighbours drawn at random among the other candidates."""
    if not len(query_labels) or len(candidate_labels) < 2:
        return None
    counts = np.bincount(candidate_labels)[query_labels]
    return float(((counts - 1) / (len(candidate_labels) - 1)).mean())


def _tail_chance(tail: np.ndarray, queries: np.ndarray) -> float | None:
    """Share of tail items among the items other than each query, averaged over queries."""
    if not len(queries) or len(tail) < 2:
        return None
    return float(((tail.sum() - tail[queries]) / (len(tail) - 1)).mean())
