"""RAT end to end on a synthetic walk whose item vectors determine the next item: LLMEmb
beats an ID model on tail items, the frozen table stays frozen, and the CLI records inputs."""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from llmemb_utils import pipeline
from llmemb_utils.cli import main
from llmemb_utils.config import ExperimentConfig, load_config
from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.eval.results import report_runs
from llmemb_utils.io import read_json
from llmemb_utils.layout import RunLayout
from llmemb_utils.llm.embed import save_item_embeddings
from llmemb_utils.rat import LLMEmbEncoder
from llmemb_utils.rat.diagnostics import _logits, alignment_diagnostics
from llmemb_utils.srs.backbones import build_backbone
from llmemb_utils.srs.model import SequentialRecommender
from llmemb_utils.srs.run import build_model, train
from llmemb_utils.srs.synthetic import prepare_synthetic, raw_from_sequences
from llmemb_utils.srs.trainer import Trainer, training_batches

pytestmark = pytest.mark.usefixtures("single_thread")
ITEMS, USERS, LENGTH, FREQUENCIES = 120, 400, 8, 8
SMALL = {"srs.hidden": 32, "srs.blocks": 1, "srs.dropout": 0.1, "srs.max_length": LENGTH,
         "srs.batch_size": 32, "srs.learning_rate": 0.005, "srs.early_stop_window": 1,
         "srs.epochs": 15}


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory,
         single_thread: None) -> tuple[PreparedDataset, Path, Path]:
    """Users walk item k -> k + 1 (mod N), most starting in the first quarter of the items, so
    the rest is a tail seen a few times. Item k's "LLM" vector holds cos and sin of 2 pi k m / N
    (m = 1..8): the next item's vector is a fixed rotation of the current one's.

    Returns the dataset, its raw LLM table file and a finished ID-SASRec run (the teacher)."""
    folder = tmp_path_factory.mktemp("walk")
    rng = np.random.default_rng(0)
    starts = np.where(rng.random(USERS) < 0.85, rng.integers(0, ITEMS // 4, USERS),
                      rng.integers(0, ITEMS, USERS))
    sequences = [(start + np.arange(LENGTH)) % ITEMS for start in starts]
    dataset = prepare_synthetic(raw_from_sequences(sequences, ITEMS), folder / "data",
                                item_head_min=10)
    raw_items = pd.read_parquet(folder / "data" / "items.parquet")["raw_item"]
    angles = 2 * np.pi * np.outer(raw_items.str[1:].astype(int), np.arange(1, 9)) / ITEMS
    table = folder / "raw.npy"
    save_item_embeddings(np.concatenate([np.cos(angles), np.sin(angles)], axis=1), table,
                         {"model": "synthetic"}, dataset)
    train(load_config(None, **SMALL), dataset, folder / "id", device="cpu")
    return dataset, table, folder / "id"


def rat_config(walk: tuple[PreparedDataset, Path, Path], **overrides: object,
               ) -> ExperimentConfig:
    return load_config(None, **{**SMALL, "rat.embeddings": "raw", "rat.llm_emb": str(walk[1]),
                                "rat.teacher": str(walk[2]), **overrides})


def test_llmemb_beats_the_id_model_on_tail_items(walk: tuple[PreparedDataset, Path, Path],
                                                 tmp_path: Path) -> None:
    dataset, _, teacher = walk
    rat = train(rat_config(walk), dataset, tmp_path, encoder="llmemb", device="cpu")["full"]
    ids = read_json(teacher / "metrics.json")
    tail = (rat["groups"]["item_tail"]["HR@10"], ids["groups"]["item_tail"]["HR@10"])
    assert tail[0] > tail[1] + 0.2, tail
    assert set(read_json(tmp_path / "train_log.json")[0]["losses"]) == {"rec", "align"}


@pytest.mark.parametrize("ablation", [None, "trainable-table"])
def test_frozen_table_stays_bitwise_equal(ablation: str | None,
                                          walk: tuple[PreparedDataset, Path, Path],
                                          tmp_path: Path) -> None:
    config = rat_config(walk, **{"srs.epochs": 2, "rat.ablation": ablation})
    model = build_model(config, walk[0], "llmemb")
    table = model.encoder.table.detach().clone()
    adapter = model.encoder.adapter[0].weight.detach().clone()
    Trainer(model, walk[0], config, tmp_path, identity={}, device="cpu").fit()
    assert not torch.equal(model.encoder.adapter[0].weight, adapter)
    assert torch.equal(model.encoder.table, table) == (ablation is None)
    assert not model.encoder.table[0].any()


def test_cli_trains_an_ablation_and_records_its_inputs(walk: tuple[PreparedDataset, Path, Path],
                                                       tmp_path: Path) -> None:
    dataset, table, teacher = walk
    config = tmp_path / "small.yaml"
    config.write_text("srs: {hidden: 32, blocks: 1, max_length: 8}\n", encoding="utf-8")
    assert main(["train", "--data", str(dataset.path), "--config", str(config), "--encoder",
                 "llmemb", "--llm-emb", str(table), "--teacher", str(teacher), "--ablation",
                 "no-scft",
                 "--align-form", "cosine", "--alpha", "0.1", "--epochs", "1", "--out",
                 str(tmp_path / "run"), "--device", "cpu"]) == 0
    inputs = read_json(tmp_path / "run" / "metrics.json")["inputs"]["encoder"]
    assert inputs["rat"]["embeddings"] == "raw" and inputs["rat"]["align_form"] == "cosine"
    assert inputs["rat"]["alpha"] == 0.1
    assert inputs["llm_table"]["manifest"]["inputs"]["data"] == dataset.manifest
    assert inputs["teacher"]["manifest"]["identity"]["data"] == dataset.fingerprint
    assert "llmemb-no-scft-sasrec, full" in report_runs([tmp_path / "run"])


def test_pipeline_builds_the_teacher_then_the_rat_run(walk: tuple[PreparedDataset, Path, Path],
                                                      tmp_path: Path) -> None:
    config = rat_config(walk, artifacts=str(tmp_path), **{"rat.teacher": None,
                                                          "srs.epochs": 2})
    run = pipeline.rat_run(config, walk[0])
    assert run.parent == RunLayout(config).srs
    assert re.fullmatch(r"sasrec-llmemb-seed42-[0-9a-f]{6}", run.name)
    teacher = read_json(run / "metrics.json")["inputs"]["encoder"]["teacher"]
    assert re.fullmatch(r".*/srs/sasrec-id-seed42-[0-9a-f]{6}", teacher["path"])
    assert pipeline.rat_run(config, walk[0]) == run  # reused


def test_run_folders_are_named_by_their_settings(walk: tuple[PreparedDataset, Path, Path],
                                                 tmp_path: Path) -> None:
    config = rat_config(walk, artifacts=str(tmp_path))
    folder = pipeline._srs_folder(config, "llmemb")
    other = dataclasses.replace(config, rat=dataclasses.replace(config.rat, alpha=0.5))
    moved = dataclasses.replace(config, rat=dataclasses.replace(config.rat, llm_emb="/x.npy"))
    assert pipeline._srs_folder(other, "llmemb") != folder  # another run, another folder
    assert pipeline._srs_folder(moved, "llmemb") == folder  # input paths do not name runs
    assert pipeline._srs_folder(other, "id") == pipeline._srs_folder(config, "id")  # no rat
    ablated = dataclasses.replace(config, rat=dataclasses.replace(config.rat, ablation="no-align"))
    assert pipeline._srs_folder(ablated, "llmemb").name.startswith("sasrec-llmemb-no-align-seed42-")


def diagnostics_of(walk: tuple[PreparedDataset, Path, Path], **overrides: object):
    config = rat_config(walk, **overrides)
    torch.manual_seed(0)
    model = build_model(config, walk[0], "llmemb")
    batches = training_batches(model, walk[0], config.srs).epoch(np.random.default_rng(0))
    return alignment_diagnostics(model, itertools.islice(batches, 3))


def test_alignment_diagnostics_scale_the_gradient_with_alpha_and_bound_the_entropy(
        walk: tuple[PreparedDataset, Path, Path]) -> None:
    light, heavy = (diagnostics_of(walk, **{"rat.alpha": alpha}) for alpha in (0.01, 0.02))
    assert heavy.gradient_ratio == pytest.approx(2 * light.gradient_ratio, rel=1e-5)
    assert (heavy.loss, heavy.logit_spread) == (light.loss, light.logit_spread)
    assert 0 < light.target_entropy <= light.chance  # no row is more uncertain than uniform
    cosine = diagnostics_of(walk, **{"rat.align_form": "cosine", "rat.alpha": 0.1})
    assert cosine.target_entropy is None and cosine.logit_spread > 10 * light.logit_spread
    with pytest.raises(ValueError, match="rat.alpha > 0"):
        diagnostics_of(walk, **{"rat.alpha": 0.0})
    # a frozen table without adapter: the alignment reaches no parameter, so no ratio
    config = rat_config(walk)
    dataset = walk[0]
    rng = np.random.default_rng(1)
    frozen = LLMEmbEncoder(rng.normal(size=(dataset.num_items, config.srs.hidden)),
                           config.srs.hidden, adapter=False,
                           teacher=rng.normal(size=(dataset.num_items + 1, config.srs.hidden)))
    model = SequentialRecommender(frozen, build_backbone(config.srs))
    batches = training_batches(model, dataset, config.srs).epoch(np.random.default_rng(0))
    untrained = alignment_diagnostics(model, itertools.islice(batches, 2))
    assert untrained.gradient_ratio is None and untrained.loss > 0


def test_alignment_logits_and_soft_target_entropy_by_hand() -> None:
    """Two orthogonal unit items, teacher = student, tau 2: logits I / 2, targets
    softmax(2 I) = [e² / (e² + 1), 1 / (e² + 1)] per row."""
    eye = torch.eye(2)
    logits, entropy = _logits(eye, eye, "official", 2.0)
    assert torch.equal(logits, eye / 2)
    p = np.e ** 2 / (np.e ** 2 + 1)
    assert entropy == pytest.approx(-(p * np.log(p) + (1 - p) * np.log(1 - p)), rel=1e-6)
    assert float(logits.std(dim=-1).mean()) == pytest.approx(np.sqrt(2 * 0.25 ** 2), rel=1e-6)
    cosine, none = _logits(3 * eye, eye, "cosine", 0.1)
    assert none is None and torch.allclose(cosine, eye / 0.1)
