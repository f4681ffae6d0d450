"""Held-out views of LLM tables: view retrieval on hand-built vectors, the ``views`` view of a
hand-written ``views.json``, the model and adapter a table is measured with (and the reasons
one is refused), and ``llmemb report --views`` on a folder without records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from llmemb_utils.cli import main
from llmemb_utils.evidence.neighbours_record import LLMTableFile
from llmemb_utils.evidence.render import markdown
from llmemb_utils.evidence.views_record import table_embedder
from llmemb_utils.io import sha256_file
from llmemb_utils.llm.diagnostics import view_retrieval_accuracy
from llmemb_utils.llm.lora import ADAPTER_WEIGHTS


def test_view_retrieval_counts_hits_in_both_directions():
    first = np.eye(3)
    second = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.0, 0.0, 1.0]])
    # first -> second: e1 -> row 0 (cos 1 > 0.994), e2 -> row 1 (the only one off 0), e3 -> row 2:
    # 3 of 3. second -> first: row 0 -> e1, row 1 -> e1 (0.994 > 0.110): a miss, row 2 -> e3.
    assert view_retrieval_accuracy(first, second) == pytest.approx((3 / 3 + 2 / 3) / 2)


def test_views_view_renders_one_row_per_table(tmp_path: Path):
    folder = tmp_path / "results" / "exp"
    (folder / "runs").mkdir(parents=True)
    table = {"path": "/x", "embeddings": "scft", "uniformity_raw": -1.0}
    (folder / "views.json").write_text(json.dumps({
        "command": "llmemb report --views", "items": 300, "drop_ratio": 0.4, "view_seed": 43,
        "tables": [{**table, "name": "scft.npy", "view_retrieval_top1": 0.8123,
                    "view_alignment": 0.2, "uniformity_centred": -3.456},
                   {**table, "name": "raw.npy", "view_retrieval_top1": 0.5,
                    "view_alignment": 0.61, "uniformity_centred": -2.0}],
        "missing": [{"name": "scft-simcse.npy", "path": "/y",
                     "reason": "/a/adapter: the LoRA adapter is not on this machine"}]}))
    lines = markdown("exp/views", tmp_path / "results").splitlines()
    assert lines[:4] == ["| table | view retrieval top-1 | view alignment | uniformity |",
                         "|---|---|---|---|",
                         "| LLM table `raw.npy` | 0.500 | 0.610 | -2.00 |",
                         "| LLM table `scft.npy` | 0.812 | 0.200 | -3.46 |"]
    assert lines[5].startswith("300 items, each embedded as two views that each drop 40% of "
                               "its attributes (drawn with seed 43,")
    assert lines[5].endswith(" Not measured: scft-simcse.npy (the LoRA adapter is not on this "
                             "machine).")


def _table(tmp_path: Path, adapter: Path | None, **written: object) -> LLMTableFile:
    path = tmp_path / "embeddings" / "scft.npy"
    path.parent.mkdir(parents=True, exist_ok=True)
    recorded = {"model": "encoder-x", "lora": None if adapter is None else str(adapter),
                "adapter_sha256": None, "pooling": "mean", "dtype": "auto",
                "precision": "float32", "max_tokens": 64, **written}
    path.with_suffix(".json").write_text(json.dumps({"config": recorded}))
    return LLMTableFile(path.name, path, "scft")


def test_a_table_is_measured_with_the_model_and_adapter_its_manifest_names(tmp_path: Path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / ADAPTER_WEIGHTS).write_bytes(b"weights")
    embed = table_embedder(_table(tmp_path, adapter,
                                  adapter_sha256=sha256_file(adapter / ADAPTER_WEIGHTS)))
    assert {key: embed.keywords[key] for key in ("model", "lora", "pooling", "max_tokens")} == {
        "model": "encoder-x", "lora": str(adapter), "pooling": "mean", "max_tokens": 64}
    assert table_embedder(_table(tmp_path, None)).keywords["lora"] is None  # the raw table


def test_a_table_whose_adapter_or_precision_differs_is_refused(tmp_path: Path):
    adapter = tmp_path / "adapter"
    with pytest.raises(FileNotFoundError, match="adapter: the LoRA adapter scft.npy was written "
                                                "with is not on this machine"):
        table_embedder(_table(tmp_path, adapter, adapter_sha256="0" * 64))
    adapter.mkdir()
    (adapter / ADAPTER_WEIGHTS).write_bytes(b"retrained")
    with pytest.raises(ValueError, match="not the adapter scft.npy was written with"):
        table_embedder(_table(tmp_path, adapter, adapter_sha256="0" * 64))
    with pytest.raises(ValueError, match="written in nf4\\+bfloat16, this machine computes in "
                                         "float32"):
        table_embedder(_table(tmp_path, None, precision="nf4+bfloat16"))
    (tmp_path / "embeddings" / "scft.json").unlink()
    with pytest.raises(FileNotFoundError, match="scft.json: the manifest of scft.npy"):
        table_embedder(LLMTableFile("scft.npy", tmp_path / "embeddings" / "scft.npy", "scft"))


def test_report_views_refuses_a_folder_without_records(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]):
    (tmp_path / "exp" / "runs").mkdir(parents=True)
    assert main(["report", "--views", str(tmp_path / "exp")]) == 2
    assert f"{tmp_path / 'exp' / 'runs'}: no run is recorded there" in capsys.readouterr().err
    assert not (tmp_path / "exp" / "views.json").exists()
