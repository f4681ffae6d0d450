"""``llmemb scft`` and ``llmemb embed`` end to end on a tiny LLaMA and a hand-made dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from llmemb_utils.cli import main
from llmemb_utils.config import DataConfig, ThresholdConfig
from llmemb_utils.data.prepare import prepare_from_raw
from llmemb_utils.data.schema import RawData
from llmemb_utils.llm.tiny import save_tiny_llama


def test_scft_then_embed(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("LLMEMB_CACHE", str(tmp_path / "cache"))
    items = [f"i{k}" for k in range(6)]
    rows = [(f"u{u}", items[(u + s) % 6], s) for u in range(4) for s in range(4)]
    raw = RawData(pd.DataFrame(rows, columns=["user", "item", "timestamp"]),
                  pd.DataFrame({"item": items, "title": [f"Film {k}" for k in range(6)],
                                "genre": ["Drama", "War"] * 3, "year": range(1990, 1996)}),
                  "fixture")
    data = tmp_path / "data"
    prepare_from_raw(raw, DataConfig(user_core=1, item_core=1, domain="generic",
                                     thresholds=ThresholdConfig(rule="fixed", item_head_min=2,
                                                                user_long_min=2)), data)
    model = str(save_tiny_llama(tmp_path / "tiny"))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "llm": {"model": model, "dtype": "float32"},
        "scft": {"steps": 2, "batch_size": 4, "lora_layers": 2}}))
    assert main(["scft", "--config", str(config), "--data", str(data),
                 "--out", str(tmp_path / "scft")]) == 0
    assert '"steps": 2' in capsys.readouterr().out
    assert json.loads((tmp_path / "scft" / "summary.json").read_text())["steps"] == 2
    out = tmp_path / "table.npy"
    assert main(["embed", "--data", str(data), "--model", model, "--lora",
                 str(tmp_path / "scft" / "adapter"), "--pca-dim", "3", "--dtype", "float32",
                 "--out", str(out)]) == 0
    table = np.load(out)
    assert table.shape == (6, 3) and np.isfinite(table).all()
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["kind"] == "item-embeddings" and sidecar["shape"] == [6, 3]
    assert sidecar["inputs"]["adapter"]["base_model"] == model
    assert len(sidecar["explained_variance_ratio"]) == 3
