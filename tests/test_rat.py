"""The LLMEmb encoder: padding-row placement, shapes through every backbone, the alignment
loss against hand-computed values, ablation switches and the checks on its inputs."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from llmemb_utils.config import ExperimentConfig, RATConfig, load_config
from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.io import write_json
from llmemb_utils.llm.embed import save_item_embeddings
from llmemb_utils.llm.item_table import load_llm_table
from llmemb_utils.llm.lora import ADAPTER_INFO
from llmemb_utils.rat import ABLATIONS, LLMEmbEncoder, alignment_loss, effective_settings
from llmemb_utils.rat.inputs import load_teacher
from llmemb_utils.rat.table import reduce_table
from llmemb_utils.srs.batches import TrainingBatches
from llmemb_utils.srs.run import build_model, train
from llmemb_utils.srs.synthetic import prepare_synthetic, successor_data

pytestmark = pytest.mark.usefixtures("single_thread")
HIDDEN = 16
WIDTH = 24  # LLM table width


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, single_thread: None) -> PreparedDataset:
    folder = tmp_path_factory.mktemp("rat") / "data"
    return prepare_synthetic(successor_data(num_users=60, num_items=120, length=8), folder)


def write_table(dataset: PreparedDataset, path: Path, scft: bool = True) -> np.ndarray:
    """A random LLM table for ``dataset`` with an ``llmemb embed`` manifest (an SCFT one when
    ``scft``: the manifest then names an adapter folder)."""
    vectors = np.random.default_rng(0).normal(size=(dataset.num_items, WIDTH)) + 5.0
    adapter = None
    if scft:
        adapter = path.parent / "adapter"
        write_json(adapter / ADAPTER_INFO, {"base_model": "test"})
    save_item_embeddings(vectors, path, {"model": "test", "pca_dim": None}, dataset, adapter)
    return vectors


@pytest.fixture(scope="module")
def inputs(dataset: PreparedDataset, tmp_path_factory: pytest.TempPathFactory,
           ) -> tuple[Path, Path]:
    """(LLM table file, finished ID-SASRec teacher run) for ``dataset``."""
    folder = tmp_path_factory.mktemp("inputs")
    write_table(dataset, folder / "scft.npy")
    teacher = folder / "teacher"
    train(small_config(**{"srs.epochs": 1}), dataset, teacher, device="cpu")
    return folder / "scft.npy", teacher


def small_config(**overrides: object) -> ExperimentConfig:
    return load_config(None, **{"srs.hidden": HIDDEN, "srs.blocks": 1, "srs.max_length": 8,
                                "srs.batch_size": 16, **overrides})


def rat_config(inputs: tuple[Path, Path], **overrides: object) -> ExperimentConfig:
    return small_config(**{"rat.llm_emb": str(inputs[0]), "rat.teacher": str(inputs[1]),
                           **overrides})


def test_padding_row_is_zero_and_every_item_keeps_its_vector() -> None:
    vectors = np.random.default_rng(1).normal(size=(7, HIDDEN)).astype(np.float32)
    encoder = LLMEmbEncoder(vectors, HIDDEN, adapter=False)
    table = encoder.all_items()
    assert table.shape == (8, HIDDEN)
    assert not table[0].any()
    assert torch.equal(table[1:], torch.from_numpy(vectors))  # item N too (docs/method.md §6.2)
    ids = torch.tensor([[0, 7, 3], [7, 7, 1]])
    assert torch.equal(encoder(ids), table[ids])


def test_encoder_table_is_the_centred_pca_of_the_file(dataset: PreparedDataset,
                                                      inputs: tuple[Path, Path],
                                                      pca_by_svd) -> None:
    config = rat_config(inputs, **{"rat.pca_dim": 8, "rat.unit_norm": False})
    encoder = build_model(config, dataset, "llmemb").encoder
    assert encoder.table.shape == (dataset.num_items + 1, 8)
    assert not encoder.table[0].any()
    table = encoder.table[1:].numpy()
    expected, _ = pca_by_svd(np.load(inputs[0]), 8, like=table)  # rows: item ids 1..N
    np.testing.assert_allclose(table, expected, atol=1e-4)


@pytest.mark.parametrize("whiten", [False, True])
def test_table_rescaling(whiten: bool) -> None:
    vectors = np.random.default_rng(2).normal(size=(50, WIDTH)) * np.arange(1, WIDTH + 1) + 3
    table = reduce_table(vectors, 10, whiten=whiten, unit_norm=True)
    assert np.linalg.norm(table, axis=1).mean() == pytest.approx(1.0, rel=1e-5)
    spread = table.std(axis=0)
    assert np.allclose(spread, spread[0], rtol=1e-4) == whiten


@pytest.mark.parametrize("activation", [False, True])
def test_adapter_halves_then_maps_to_hidden(activation: bool) -> None:
    encoder = LLMEmbEncoder(np.ones((5, WIDTH)), HIDDEN, adapter_activation=activation)
    shapes = [tuple(m.weight.shape) for m in encoder.adapter if hasattr(m, "weight")]
    assert shapes == [(WIDTH // 2, WIDTH), (HIDDEN, WIDTH // 2)]
    assert any(isinstance(m, torch.nn.ReLU) for m in encoder.adapter) == activation
    assert encoder(torch.tensor([[1, 2, 0]])).shape == (1, 3, HIDDEN)


def test_the_adapter_width_sets_the_intermediate_layer_and_the_rank_of_the_map() -> None:
    encoder = LLMEmbEncoder(np.random.default_rng(0).normal(size=(5, WIDTH)), HIDDEN,
                            adapter_width=3)
    shapes = [tuple(m.weight.shape) for m in encoder.adapter if hasattr(m, "weight")]
    assert shapes == [(3, WIDTH), (HIDDEN, 3)]
    vectors = encoder(torch.arange(1, 6)[None]).detach()[0]  # 5 items through a linear map
    assert torch.linalg.matrix_rank(vectors - encoder.adapter[1].bias).item() == 3


def test_gradients_repeat_bitwise_on_several_threads() -> None:
    """A batch repeats items; their gradients must add up in the same order on every run, or
    a seed would not fix the numbers of a run on more than one CPU thread."""
    table = np.random.default_rng(0).normal(size=(300, WIDTH))
    ids = torch.randint(0, 301, (128, 200), generator=torch.Generator().manual_seed(0))
    upstream = torch.randn(128, 200, HIDDEN, generator=torch.Generator().manual_seed(1))

    def adapter_gradient() -> torch.Tensor:
        torch.manual_seed(0)
        encoder = LLMEmbEncoder(table, HIDDEN)
        encoder(ids).backward(upstream)
        return encoder.adapter[0].weight.grad

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        first = adapter_gradient()
        assert all(torch.equal(adapter_gradient(), first) for _ in range(10))
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("backbone", ["sasrec", "bert4rec", "gru4rec", "caser"])
def test_every_backbone_runs_on_the_llmemb_encoder(backbone: str, dataset: PreparedDataset,
                                                   inputs: tuple[Path, Path]) -> None:
    config = rat_config(inputs, **{"srs.backbone": backbone})
    model = build_model(config, dataset, "llmemb")
    batches = TrainingBatches(dataset.train_sequences, dataset.num_items,
                              model.backbone.objective, 8, 16)
    losses = model(next(batches.epoch(np.random.default_rng(0))))
    assert set(losses) == {"rec", "align"} and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.encoder.adapter[0].weight.grad.abs().sum() > 0
    inputs_ = torch.tensor([[0, 0, 3, 4], [1, 2, 3, 4]])
    assert model.user_states(inputs_).shape == (2, HIDDEN)
    assert model.item_table().shape == (dataset.num_items + 1, HIDDEN)


def test_official_alignment_matches_hand_computation() -> None:
    teacher = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    student = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    # logits X Yᵀ / 2 = [[.5, 0], [0, 0]]; targets softmax(X Xᵀ + Y Yᵀ) = softmax([[2, 0], [0, 1]])
    t0, t1 = math.exp(2) / (math.exp(2) + 1), math.e / (math.e + 1)
    log_p0 = (0.5 - math.log(1 + math.exp(0.5)), -math.log(1 + math.exp(0.5)))
    log_p1 = (-math.log(2), -math.log(2))
    rows = [-(t0 * log_p0[0] + (1 - t0) * log_p0[1]), -log_p1[0]]
    # the logits are symmetric; the transposed targets are the columns [t0, 1 - t1], [1 - t0, t1]
    columns = [-(t0 * log_p0[0] + (1 - t1) * log_p0[1]), -(1 - t0 + t1) * log_p1[0]]
    expected = (rows[0] + columns[0] + rows[1] + columns[1]) / 4
    assert alignment_loss(student, teacher, "official", 2.0).item() == pytest.approx(expected,
                                                                                   abs=1e-6)


def test_cosine_alignment_matches_hand_computation() -> None:
    teacher = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    student = torch.tensor([[2.0, 0.0], [1.0, 1.0]])
    c = math.sqrt(0.5) / 0.5  # cosine of 45 degrees over tau 0.5
    # logits [[2, c], [0, c]], the diagonal is right; rows then columns
    rows = [math.log(1 + math.exp(c - 2)), math.log(1 + math.exp(-c))]
    columns = [math.log(1 + math.exp(-2)), math.log(2)]
    expected = (sum(rows) + sum(columns)) / 4
    assert alignment_loss(student, teacher, "cosine", 0.5).item() == pytest.approx(expected,
                                                                                 abs=1e-6)


def test_no_alignment_loss_without_teacher_or_alpha() -> None:
    encoder = LLMEmbEncoder(np.ones((5, WIDTH)), HIDDEN, teacher=np.ones((6, HIDDEN)), alpha=0)
    assert encoder.auxiliary_losses(torch.tensor([1, 2])) == {}
    assert LLMEmbEncoder(np.ones((5, WIDTH)), HIDDEN).auxiliary_losses(torch.tensor([1])) == {}


@pytest.mark.parametrize(("name", "expected"), [
    ("no-scft", {"embeddings": "raw"}),
    ("no-align", {"alpha": 0.0}),
    ("trainable-table", {"freeze_table": False}),
    ("no-adapter", {"adapter": False}),
])
def test_each_ablation_switches_one_setting(name: str, expected: dict[str, object]) -> None:
    base = RATConfig()
    settings = effective_settings(RATConfig(ablation=name))
    changed = {f.name: getattr(settings, f.name) for f in dataclasses.fields(RATConfig)
               if getattr(settings, f.name) != getattr(base, f.name)}
    assert changed == {"ablation": name, **expected}


def test_every_ablation_is_tested() -> None:
    assert sorted(ABLATIONS) == ["no-adapter", "no-align", "no-scft", "trainable-table"]


def test_ablations_build_what_they_say(dataset: PreparedDataset, inputs: tuple[Path, Path],
                                       tmp_path: Path) -> None:
    def encoder(ablation: str, **overrides: object) -> LLMEmbEncoder:
        config = rat_config(inputs, **{"rat.ablation": ablation, **overrides})
        return build_model(config, dataset, "llmemb").encoder

    assert encoder("no-align").teacher is None
    assert isinstance(encoder("trainable-table").table, torch.nn.Parameter)
    no_adapter = encoder("no-adapter")
    assert no_adapter.adapter is None and no_adapter.table.shape[1] == HIDDEN
    assert encoder("no-adapter").describe()["name"] == "llmemb-no-adapter"
    with pytest.raises(ValueError, match="holds scft embeddings"):
        encoder("no-scft")
    write_table(dataset, tmp_path / "raw.npy", scft=False)
    assert encoder("no-scft", **{"rat.llm_emb": str(tmp_path / "raw.npy")}).describe()[
        "llm_table"]["manifest"]["config"]["lora"] is None


def test_llm_table_is_checked_against_the_dataset(dataset: PreparedDataset,
                                                  tmp_path: Path) -> None:
    path = tmp_path / "scft.npy"
    write_table(dataset, path)
    assert load_llm_table(path, dataset, "scft").vectors.shape == (dataset.num_items, WIDTH)
    np.save(path, np.zeros((dataset.num_items, WIDTH)))
    with pytest.raises(ValueError, match="checksum"):
        load_llm_table(path, dataset, "scft")
    other = prepare_synthetic(successor_data(num_users=60, num_items=120, length=9),
                              tmp_path / "other")
    write_table(dataset, path)
    with pytest.raises(ValueError, match="another dataset"):
        load_llm_table(path, other, "scft")
    with pytest.raises(FileNotFoundError, match="llmemb embed"):
        load_llm_table(tmp_path / "missing.npy", dataset, "scft")


def test_teacher_must_be_a_finished_id_sasrec_on_the_same_data(
        dataset: PreparedDataset, inputs: tuple[Path, Path], tmp_path: Path) -> None:
    teacher = load_teacher(inputs[1], dataset, HIDDEN)
    assert teacher.table.shape == (dataset.num_items + 1, HIDDEN)
    assert teacher.reference["manifest"]["identity"]["data"] == dataset.fingerprint
    with pytest.raises(ValueError, match="shape"):
        load_teacher(inputs[1], dataset, HIDDEN * 2)
    gru = tmp_path / "gru"
    train(small_config(**{"srs.epochs": 1, "srs.backbone": "gru4rec"}), dataset, gru,
          device="cpu")
    with pytest.raises(ValueError, match="id-gru4rec run"):
        load_teacher(gru, dataset, HIDDEN)
    other = prepare_synthetic(successor_data(num_users=60, num_items=120, length=9),
                              tmp_path / "other")
    with pytest.raises(ValueError, match="other data"):
        load_teacher(inputs[1], other, HIDDEN)
    with pytest.raises(ValueError, match="needs a teacher"):
        build_model(rat_config(inputs, **{"rat.teacher": None}), dataset, "llmemb")
