"""Training end to end on a tiny synthetic rule (next item = current item + 1): learning,
resume, run files, the CLI and bad-input errors."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from llmemb_utils.cli import main
from llmemb_utils.config import ExperimentConfig, load_config
from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.io import read_json, sha256_file
from llmemb_utils.layout import RunLayout
from llmemb_utils.llm.embed import save_item_embeddings
from llmemb_utils.srs.run import build_model, evaluate_run, train
from llmemb_utils.srs.synthetic import prepare_synthetic, successor_data
from llmemb_utils.srs.trainer import (
    Trainer,
    TrainingDivergedError,
    UnconvergedWarning,
    convergence,
    warn_if_unconverged,
)

SMALL = {"srs.hidden": 32, "srs.blocks": 1, "srs.dropout": 0.1, "srs.max_length": 12,
         "srs.batch_size": 32, "srs.learning_rate": 0.005, "srs.early_stop_window": 1}
LEARNING_EPOCHS = {"sasrec": 10, "gru4rec": 20, "bert4rec": 25, "caser": 20}


def small_config(**overrides: object) -> ExperimentConfig:
    return load_config(None, **{**SMALL, **overrides})


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> PreparedDataset:
    folder = tmp_path_factory.mktemp("successor") / "data"
    return prepare_synthetic(successor_data(num_users=400, num_items=120, length=12), folder)


@pytest.mark.parametrize("backbone", ["sasrec", "gru4rec", "bert4rec", "caser"])
def test_every_backbone_learns_the_successor_rule(backbone: str, dataset: PreparedDataset,
                                                  tmp_path: Path) -> None:
    config = small_config(**{"srs.backbone": backbone, "srs.epochs": LEARNING_EPOCHS[backbone]})
    results = train(config, dataset, tmp_path, device="cpu")
    assert results["sampled"]["overall"]["HR@10"] > 0.9
    assert results["full"]["overall"]["HR@10"] > 0.9


def test_run_folder_holds_metrics_log_and_item_table(dataset: PreparedDataset,
                                                     tmp_path: Path) -> None:
    with pytest.warns(UnconvergedWarning, match="cap of 2 epochs within its patience, before "
                                                "early stopping on validation NDCG@10"):
        train(small_config(**{"srs.epochs": 2}), dataset, tmp_path, device="cpu")
    metrics = read_json(tmp_path / "metrics.json")
    assert {k: metrics["training"][k] for k in ("cap", "epochs_run", "converged", "budget")} \
        == {"cap": 2, "epochs_run": 2, "converged": False, "budget": "convergence"}
    assert set(metrics) == {"protocol", "overall", "groups", "counts", "config", "inputs",
                            "training", "environment", "beyond_accuracy"}
    assert "beyond_accuracy" not in read_json(tmp_path / "metrics_sampled.json")
    assert (tmp_path / "ranks.npz").is_file() and (tmp_path / "ranks_sampled.npz").is_file()
    assert (metrics["protocol"]["candidates"], metrics["protocol"]["exclude_history"]) == (
        "full", True)
    assert set(metrics["overall"]) == {f"{m}@{k}" for m in ("HR", "NDCG", "MRR")
                                       for k in (5, 10, 20)}
    assert metrics["inputs"]["data"]["fingerprint"] == dataset.fingerprint
    sampled = read_json(tmp_path / "metrics_sampled.json")["protocol"]
    assert (sampled["candidates"], sampled["num_negatives"]) == ("sampled", 100)
    assert [entry["epoch"] for entry in read_json(tmp_path / "train_log.json")] == [1, 2]
    table = np.load(tmp_path / "item_table.npy")
    assert table.shape == (dataset.num_items + 1, 32) and not table[0].any()


def test_diversity_is_measured_with_the_raw_llm_table_or_said_missing(
        dataset: PreparedDataset, tmp_path: Path) -> None:
    config = small_config(**{"srs.epochs": 1, "artifacts": str(tmp_path / "artifacts")})
    with pytest.warns(UnconvergedWarning):
        train(config, dataset, tmp_path / "no-table", device="cpu")
    section = read_json(tmp_path / "no-table" / "metrics.json")["beyond_accuracy"]
    assert section["k"] == 10 and "intra_list_diversity@10" not in section
    assert "no raw LLM item table at" in section["omitted"]["intra_list_diversity@10"]
    # A ruler whose items all point one way: every list has diversity 0, whatever the model.
    ruler = RunLayout(config).llm_table("raw")
    save_item_embeddings(np.ones((dataset.num_items, 4)), ruler,
                         {"model": "test", "pca_dim": None}, dataset)
    with pytest.warns(UnconvergedWarning):
        train(config, dataset, tmp_path / "table", device="cpu")
    section = read_json(tmp_path / "table" / "metrics.json")["beyond_accuracy"]
    assert section["intra_list_diversity@10"] == pytest.approx(0.0, abs=1e-6)
    assert section["diversity_ruler"] == {"kind": "raw", "path": str(ruler.resolve()),
                                          "sha256": sha256_file(ruler)}
    assert 10 / dataset.num_items <= section["coverage@10"] <= 1.0
    assert 0.0 <= section["tail_share@10"] <= 1.0


def test_resumed_run_equals_uninterrupted_run(dataset: PreparedDataset, tmp_path: Path) -> None:
    config = small_config(**{"srs.epochs": 4})
    uninterrupted = train(config, dataset, tmp_path / "straight", device="cpu")
    train(small_config(**{"srs.epochs": 2}), dataset, tmp_path / "resumed", device="cpu")
    resumed = train(config, dataset, tmp_path / "resumed", device="cpu")
    assert resumed["full"]["overall"] == uninterrupted["full"]["overall"]
    logs = [read_json(tmp_path / run / "train_log.json") for run in ("straight", "resumed")]
    assert [e["valid"] for e in logs[0]] == [e["valid"] for e in logs[1]]


def test_cli_trains_and_evaluates(dataset: PreparedDataset, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--data", str(dataset.path), "--backbone", "gru4rec", "--out",
                 str(run), "--epochs", "1", "--seed", "7", "--device", "cpu"]) == 0
    assert "test (sampled): HR@10" in capsys.readouterr().out
    (run / "metrics_sampled.json").unlink()
    assert main(["evaluate", "--run", str(run), "--protocol", "sampled"]) == 0
    assert read_json(run / "metrics_sampled.json")["config"]["seed"] == 7
    assert main(["evaluate", "--run", str(run), "--with-history"]) == 0
    assert read_json(run / "metrics_full_with_history.json")["protocol"]["exclude_history"] is False
    assert read_json(run / "metrics.json")["protocol"]["exclude_history"] is True
    capsys.readouterr()
    assert main(["report", str(run)]) == 0
    table = capsys.readouterr().out
    for protocol in ("full", "full, with history", "sampled"):
        assert f"| id-gru4rec, {protocol} (1) |" in table


def test_nan_loss_names_epoch_and_batch(dataset: PreparedDataset, tmp_path: Path) -> None:
    config = small_config()
    model = build_model(config, dataset, "id")
    with torch.no_grad():
        model.encoder.table.weight[5:] = float("nan")
    trainer = Trainer(model, dataset, config, tmp_path, identity={})
    with pytest.raises(TrainingDivergedError, match=r"loss is nan at epoch 1, batch 1 \(rec=nan\)"):
        trainer.fit()


def test_checkpoint_of_another_config_is_refused(dataset: PreparedDataset,
                                                 tmp_path: Path) -> None:
    train(small_config(**{"srs.epochs": 1}), dataset, tmp_path, device="cpu")
    with pytest.raises(ValueError, match=r"was written by a different run \(srs\.hidden: 32 "
                                         r"there, 16 here\)"):
        train(small_config(**{"srs.epochs": 1, "srs.hidden": 16}), dataset, tmp_path,
              device="cpu")


def test_evaluation_refuses_other_or_incomplete_data(dataset: PreparedDataset,
                                                     tmp_path: Path) -> None:
    train(small_config(**{"srs.epochs": 1}), dataset, tmp_path / "run", device="cpu")
    other = prepare_synthetic(successor_data(400, 120, 12, seed=1), tmp_path / "other")
    with pytest.raises(ValueError, match=f"dataset fingerprint {other.fingerprint} does not "
                                         f"match the run's training data {dataset.fingerprint}"):
        evaluate_run(tmp_path / "run", "full", data=other.path)
    incomplete = tmp_path / "incomplete"
    shutil.copytree(dataset.path, incomplete)
    (incomplete / "interactions.parquet").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing \['interactions.parquet'\]"):
        evaluate_run(tmp_path / "run", "full", data=incomplete)


def test_paper_compatible_sasrec_trains_on_full_width_rows(dataset: PreparedDataset,
                                                          tmp_path: Path) -> None:
    config = small_config(**{"srs.epochs": 1, "srs.paper_compat": True})
    model = build_model(config, dataset, "id")
    trainer = Trainer(model, dataset, config, tmp_path, identity={})
    batch = next(trainer.batches.epoch(np.random.default_rng(0)))
    assert [tuple(c.inputs.shape) for c in batch.chunks] == [(32, 12)]
    assert np.isfinite(trainer.fit()[0]["valid"]["NDCG@10"])


def test_a_stopped_run_continues_when_given_more_patience(dataset: PreparedDataset,
                                                          tmp_path: Path) -> None:
    impatient = small_config(**{"srs.epochs": 40, "srs.patience": 1})
    train(impatient, dataset, tmp_path, device="cpu")
    stopped = read_json(tmp_path / "train_log.json")
    assert len(stopped) < 40
    train(small_config(**{"srs.epochs": 40, "srs.patience": 3}), dataset, tmp_path, device="cpu")
    continued = read_json(tmp_path / "train_log.json")
    assert len(continued) > len(stopped) and continued[:len(stopped)] == stopped


def validation_log(scores: list[float]) -> list[dict]:
    return [{"epoch": e, "valid": {"NDCG@10": s}} for e, s in enumerate(scores, start=1)]


def test_convergence_tells_a_patience_stop_from_a_cap() -> None:
    srs = small_config(**{"srs.epochs": 10, "srs.patience": 2}).srs
    # best epoch 2 (0.2), then two epochs without a better score: patience 2 is spent
    stopped = convergence(validation_log([0.1, 0.2, 0.15, 0.14]), srs)
    assert (stopped["best_epoch"], stopped["epochs_run"], stopped["converged"]) == (2, 4, True)
    # still rising at the cap of 3 epochs
    capped = convergence(validation_log([0.1, 0.2, 0.3]),
                         small_config(**{"srs.epochs": 3, "srs.budget": "demo"}).srs)
    assert (capped["best_epoch"], capped["cap"], capped["converged"]) == (3, 3, False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_unconverged(capped, "run")  # a demo budget is short by declaration: no warning
    with pytest.warns(UnconvergedWarning, match=r"run: stopped at the srs.epochs cap of 3 "
                                                r"epochs .* raise srs.epochs"):
        warn_if_unconverged({**capped, "budget": "convergence"}, "run")
