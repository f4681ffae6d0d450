"""``llmemb prepare``: raw data -> a prepared-dataset folder (see :mod:`.dataset`)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import DataConfig, recorded_data_settings
from ..io import (
    MANIFEST,
    atomic_directory,
    kit_relative,
    make_manifest,
    read_json,
    sha256_file,
    write_json,
)
from .buckets import ITEM_POPULARITY_BINS, USER_LENGTH_BINS, bin_counts
from .dataset import KIND, PreparedDataset
from .preprocess import Sequences, build_sequences
from .prompts import build_prompts
from .schema import RawData
from .thresholds import thresholds

QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)


def prepare(config: DataConfig, out: str | Path, seed: int = 42,
            force: bool = False) -> PreparedDataset:
    """Load the raw data named by ``config.source`` and prepare it into ``out``.

    A folder already prepared from the same config and source files is reused unless
    ``force`` is set.
    """
    from .loaders import load_raw

    out = Path(out)
    started = time.perf_counter()
    raw = load_raw(config.source)
    load_seconds = time.perf_counter() - started
    if not force and _is_up_to_date(out, config, raw):
        print(f"[prepare] {kit_relative(out)}: up to date (same config and source files), reused")
        return PreparedDataset.load(out)
    return prepare_from_raw(raw, config, out, seed, timings={"load_raw": load_seconds})


def _is_up_to_date(out: Path, config: DataConfig, raw: RawData) -> bool:
    if not (out / MANIFEST).is_file():
        return False
    manifest = read_json(out / MANIFEST)
    return (manifest.get("kind") == KIND and manifest.get("config") == _config_dict(config)
            and manifest.get("inputs", {}).get("sources") == raw.files)


def _config_dict(config: DataConfig) -> dict[str, Any]:
    # tuples -> lists, as on disk
    return recorded_data_settings(json.loads(json.dumps(dataclasses.asdict(config))))


def prepare_from_raw(raw: RawData, config: DataConfig, out: str | Path, seed: int = 42,
                     timings: dict[str, float] | None = None) -> PreparedDataset:
    """Filter, map, split and prompt ``raw``; write the folder atomically and load it back."""
    timings = dict(timings or {})
    clock = time.perf_counter()
    sequences = build_sequences(raw, config)
    timings["preprocess"] = time.perf_counter() - clock

    clock = time.perf_counter()
    prompts, has_attributes = build_prompts(sequences.raw_items, raw.items, config.domain,
                                            config.max_value_chars)
    timings["prompts"] = time.perf_counter() - clock

    clock = time.perf_counter()
    stats = _stats(raw, sequences, has_attributes, config)
    with atomic_directory(out) as folder:
        sequences.interactions.to_parquet(folder / "interactions.parquet", index=False)
        pd.DataFrame({
            "item_id": np.arange(1, len(sequences.raw_items) + 1, dtype=np.int32),
            "raw_item": sequences.raw_items,
            "has_attributes": has_attributes,
        }).to_parquet(folder / "items.parquet", index=False)
        pd.DataFrame({
            "user_id": np.arange(1, len(sequences.raw_users) + 1, dtype=np.int32),
            "raw_user": sequences.raw_users,
        }).to_parquet(folder / "users.parquet", index=False)
        with open(folder / "prompts.jsonl", "w", encoding="utf-8") as handle:
            for item_id, (raw_item, prompt, known) in enumerate(
                    zip(sequences.raw_items, prompts, has_attributes, strict=True), start=1):
                record = {"item_id": item_id, "raw_item": raw_item, "prompt": prompt,
                          "has_attributes": known}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        write_json(folder / "stats.json", stats)
        timings["write"] = time.perf_counter() - clock
        files = {p.name: sha256_file(p) for p in sorted(folder.iterdir())}
        manifest = make_manifest(KIND, _config_dict(config), seed=seed, files=files,
                                 inputs={"source": raw.source, "sources": raw.files})
        manifest["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
        write_json(folder / MANIFEST, manifest)
    return PreparedDataset.load(out)


def _stats(raw: RawData, sequences: Sequences, has_attributes: list[bool],
           config: DataConfig) -> dict[str, Any]:
    frame = sequences.interactions
    num_users, num_items = len(sequences.raw_users), len(sequences.raw_items)
    lengths = frame.groupby("user_id").size().to_numpy()
    train = frame[frame.groupby("user_id").cumcount(ascending=False) >= 2]
    popularity = np.bincount(train["item_id"], minlength=num_items + 1)[1:]
    train_lengths = lengths - 2
    limits = thresholds(popularity, train_lengths, config.thresholds)
    test_items = frame.groupby("user_id")["item_id"].last().to_numpy()
    head = popularity >= limits.item_head_min
    return {
        "raw": raw.counts(),
        "skipped_lines": raw.skipped_lines,
        "dropped": sequences.dropped,
        "filtered": {
            "users": num_users,
            "items": num_items,
            "interactions": len(frame),
            "density": round(len(frame) / (num_users * num_items), 6),
        },
        "sequence_length": {**_quantiles(lengths), "mean": round(float(lengths.mean()), 3)},
        "item_popularity": {
            **_quantiles(popularity),
            "mean": round(float(popularity.mean()), 3),
            "items_without_training_interactions": int((popularity == 0).sum()),
            "bins": bin_counts(popularity, ITEM_POPULARITY_BINS),
        },
        "user_length_bins": bin_counts(train_lengths, USER_LENGTH_BINS),
        "thresholds": {
            "rule": config.thresholds.rule,
            **dataclasses.asdict(limits),
            "head_items": int(head.sum()),
            "tail_items": int((~head).sum()),
            "long_users": int((train_lengths >= limits.user_long_min).sum()),
            "short_users": int((train_lengths < limits.user_long_min).sum()),
            "tail_test_targets": int((~head[test_items - 1]).sum()),
        },
        "items_without_attributes": int(len(has_attributes) - sum(has_attributes)),
    }


def _quantiles(values: np.ndarray) -> dict[str, float]:
    return {f"q{int(q * 100):02d}": round(float(np.quantile(values, q)), 3) for q in QUANTILES}
