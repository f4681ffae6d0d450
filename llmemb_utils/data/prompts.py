"""Item prompts (docs/method.md §2.4) and the attribute-drop augmentation of SCFT
(docs/method.md §3.3).

A prompt is ``<instruction>\\n key is value; key is value; ...``: a domain instruction, a
newline, then the item's attributes in the raw record's order. Values are flattened to text,
newlines become spaces, ``;`` (the attribute separator) becomes ``.``, and each value is cut to
``max_value_chars``. Unlike the official code this also sanitises Yelp values, so a ``;`` inside
a value can never split one attribute into several during augmentation (docs/method.md §6.8).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

SEPARATOR = "; "
UNKNOWN_ATTRIBUTES = "attributes are unknown"


@dataclass(frozen=True)
class Domain:
    """A prompt template: the instruction and the raw fields that never enter a prompt."""

    instruction: str
    excluded: frozenset[str] = frozenset()
    first_category_path: bool = False  # Amazon 2014: keep only the first category path


_AMAZON_MEDIA = frozenset({
    "related", "imUrl", "salesRank",  # 2014
    "fit", "also_buy", "also_view", "similar_item", "imageURL", "imageURLHighRes",  # 2018
    "images", "videos", "bought_together",  # 2023
})

DOMAINS: dict[str, Domain] = {
    "movielens": Domain("The movie has the following attributes: "),
    "beauty": Domain("The beauty item has the following attributes: ", _AMAZON_MEDIA,
                     first_category_path=True),
    "fashion": Domain("The fashion item has the following attributes: ", _AMAZON_MEDIA),
    "amazon": Domain("The item has the following attributes: ", _AMAZON_MEDIA,
                     first_category_path=True),
    "yelp": Domain("The point of interest has the following attributes: ",
                   frozenset({"longitude", "latitude"})),
    "generic": Domain("The item has the following attributes: "),
}


def get_domain(name: str) -> Domain:
    return DOMAINS[name]


def format_value(value: object, max_chars: int | None = 100,
                 first_category_path: bool = False) -> str | None:
    """Flatten one attribute value to prompt text; ``None`` when the value is missing/empty."""
    if first_category_path and _is_list(value) and value and _is_list(value[0]):
        value = value[0]
    text = _flatten(value)
    if text is None:
        return None
    text = " ".join(text.replace(";", ".").split())  # newlines/tabs -> single spaces
    if max_chars is not None:
        text = text[:max_chars].rstrip()
    return text or None


def _is_list(value: object) -> bool:
    return isinstance(value, list | tuple) or (hasattr(value, "tolist") and
                                                 getattr(value, "ndim", 0) == 1)


def _flatten(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if _is_list(value):
        parts = [p for p in (_flatten(v) for v in list(value)) if p]
        return ", ".join(parts) or None
    if isinstance(value, Mapping):
        parts = [f"{k}: {text}" for k, v in value.items() if (text := _flatten(v))]
        return ", ".join(parts) or None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def item_prompt(attributes: Iterable[tuple[str, object]] | None, domain: Domain,
                max_chars: int | None = 100) -> str:
    """The prompt of one item from its ``(key, value)`` attributes (None: no metadata)."""
    pairs = []
    for key, value in attributes or ():
        if key in domain.excluded:
            continue
        text = format_value(value, max_chars, domain.first_category_path)
        if text is not None:
            pairs.append(f"{key} is {text}")
    body = SEPARATOR.join(pairs) if pairs else UNKNOWN_ATTRIBUTES
    return f"{domain.instruction}\n {body}"


def build_prompts(raw_items: list[str], items: pd.DataFrame, domain_name: str,
                  max_chars: int | None = 100) -> tuple[list[str], list[bool]]:
    """Prompts for ``raw_items`` (in item-id order) and whether each had any metadata."""
    domain = get_domain(domain_name)
    attributes = [c for c in items.columns if c != "item"]
    records = dict(zip(items["item"].tolist(),
                       items[attributes].itertuples(index=False, name=None), strict=True))
    prompts, has_attributes = [], []
    for raw in raw_items:
        values = records.get(raw)
        prompt = item_prompt(zip(attributes, values, strict=True) if values else None,
                             domain, max_chars)
        prompts.append(prompt)
        has_attributes.append(not prompt.endswith(UNKNOWN_ATTRIBUTES))
    return prompts, has_attributes


def attribute_count(prompt: str) -> int:
    """The number of ``;``-separated attributes after the instruction line (0 without one)."""
    instruction, newline, body = prompt.partition("\n")
    return len(body.split(";")) if newline else 0


def attributes_dropped(prompt: str, drop_ratio: float) -> int:
    """How many of ``prompt``'s attributes each of its views drops
    (:func:`attribute_drop_views`): ``floor(n * drop_ratio)``, at most n - 1."""
    if not 0.0 <= drop_ratio < 1.0:
        raise ValueError(f"drop_ratio must be in [0, 1), got {drop_ratio}")
    count = attribute_count(prompt)
    return count - max(1, count - math.floor(count * drop_ratio)) if count else 0


def attribute_drop_views(prompt: str, drop_ratio: float,
                         rng: random.Random) -> tuple[str, str]:
    """Two augmented views of a prompt (docs/method.md §3.3).

    The attribute line is split on ``;``; each view independently shuffles the pieces and drops
    ``floor(n * drop_ratio)`` of them. Unlike the official code, a view always keeps at least
    one attribute (an item with a single attribute keeps it instead of collapsing to the bare
    instruction).
    """
    dropped = attributes_dropped(prompt, drop_ratio)  # checks the ratio, too
    instruction, newline, body = prompt.partition("\n")
    if not newline:
        return prompt, prompt
    pieces = body.split(";")
    keep = len(pieces) - dropped

    def view() -> str:
        shuffled = pieces.copy()
        rng.shuffle(shuffled)
        return instruction + "\n" + ";".join(shuffled[:keep])

    return view(), view()
