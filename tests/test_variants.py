"""LLMEmb variants: named ``rat`` changes trained by the study, the normalized adapter output,
the trainable table's own learning rate, and the run names of earlier runs left unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from llmemb_utils import pipeline
from llmemb_utils.config import ConfigError, StudyConfig, load_config
from llmemb_utils.evidence.comparisons import compare_runs
from llmemb_utils.evidence.ranks import UserRanks
from llmemb_utils.evidence.records import settings_hash
from llmemb_utils.rat import LLMEmbEncoder
from llmemb_utils.rat.encoder import encoder_name
from llmemb_utils.srs.backbones import build_backbone
from llmemb_utils.srs.model import SequentialRecommender
from llmemb_utils.srs.synthetic import prepare_synthetic, successor_data
from llmemb_utils.srs.trainer import Trainer
from llmemb_utils.study.plan import RunSpec, plan, spec_config

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
COSINE = {"cosine-align": {"align_form": "cosine", "alpha": 0.1}}


def test_runs_recorded_before_the_later_fields_keep_their_names_and_hashes() -> None:
    config = load_config(CONFIGS / "ml100k_smollm2.yaml")  # values recorded by earlier runs
    assert pipeline._srs_folder(config, "llmemb").name == "sasrec-llmemb-seed42-6e6dd1"
    assert pipeline._srs_folder(config, "id").name == "sasrec-id-seed42-7c1b31"
    assert settings_hash(config.to_dict()) == "6e6dd13baa0e0b03"
    assert not {"adapter_output", "table_learning_rate", "id_embedding", "variant",
                "adapter_width"} & set(
        config.to_dict()["rat"])
    normalized = load_config(CONFIGS / "ml100k_smollm2.yaml",
                             **{"rat.adapter_output": "normalized"})
    assert normalized.to_dict()["rat"]["adapter_output"] == "normalized"
    assert pipeline._srs_folder(normalized, "llmemb").name != "sasrec-llmemb-seed42-6e6dd1"
    assert load_config(None, **normalized.to_dict()).rat == normalized.rat  # round trip


def test_the_study_trains_each_variant_beside_plain_llmemb_on_its_seeds() -> None:
    study = StudyConfig(seeds={"sasrec": [1], "gru4rec": [1]}, variants=COSINE,
                        variant_seeds=[1, 2])
    specs = plan(study)
    assert RunSpec("sasrec", "llmemb", 2) in specs and RunSpec("sasrec", "id", 2) in specs
    assert [s for s in specs if s.variant] == [RunSpec("sasrec", "llmemb", seed,
                                                       variant="cosine-align")
                                               for seed in (1, 2)]
    config = load_config(None, **{"study.variants": COSINE})
    rat = spec_config(config, RunSpec("sasrec", "llmemb", 2, variant="cosine-align")).rat
    assert (rat.align_form, rat.alpha, rat.variant) == ("cosine", 0.1, "cosine-align")
    assert encoder_name(rat) == "llmemb-cosine-align"
    run = spec_config(config, RunSpec("sasrec", "llmemb", 2, variant="cosine-align"))
    assert pipeline._srs_folder(run, "llmemb").name.startswith("sasrec-llmemb-cosine-align-seed2-")
    assert spec_config(config, RunSpec("sasrec", "llmemb", 2)).rat.variant is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"alhpa": 0.1}, r"study\.variants\.bad: unknown field\(s\) \['alhpa'\]"),
    ({"alpha": "high"}, r"study\.variants\.bad: alpha"),
    ({"teacher": "elsewhere"}, r"study\.variants\.bad: \['teacher'\] cannot vary"),
    ({"tau": 0}, r"^<defaults>: study\.variants\.bad: tau = 0\.0 is out of range; "
                 r"expected a number > 0$"),
    ({"scft": {"batch_size": 1}}, r"^<defaults>: study\.variants\.bad\.scft: batch_size = 1 "
                                  r"is out of range; expected an integer >= 2$"),
    ("cosine", r"^<defaults>: study\.variants\.bad: expected a mapping of rat settings"),
])
def test_a_bad_variant_is_refused_when_the_config_loads(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, **{"study.variants": {"bad": changes}})


def test_a_normalized_adapter_puts_every_item_on_one_learned_sphere() -> None:
    torch.manual_seed(0)
    vectors = np.random.default_rng(0).normal(size=(7, 24))
    encoder = LLMEmbEncoder(vectors, 16, adapter_output="normalized")
    with torch.no_grad():
        encoder.radius.fill_(2.5)
        table = encoder.all_items()
    assert torch.allclose(table[1:].norm(dim=1), torch.full((7,), 2.5))
    assert torch.equal(table[0], torch.zeros(16))  # padding stays zero
    linear = LLMEmbEncoder(vectors, 16)
    assert linear.radius is None and linear.all_items()[1:].norm(dim=1).std() > 0


def test_an_id_embedding_starts_at_zero_and_learns_only_the_items_it_sees() -> None:
    vectors = np.random.default_rng(0).normal(size=(6, 12))
    torch.manual_seed(0)
    plain = LLMEmbEncoder(vectors, 8)
    torch.manual_seed(0)
    encoder = LLMEmbEncoder(vectors, 8, id_embedding=True)
    assert torch.equal(encoder.all_items(), plain.all_items())  # the LLM vectors alone
    optimizer = torch.optim.SGD(encoder.ids.parameters(), lr=1.0)
    seen = torch.tensor([2, 2, 5])
    encoder(seen).sum().backward()
    optimizer.step()
    moved = (encoder.ids.weight != 0).any(dim=1)
    assert moved.tolist() == [False, False, True, False, False, True, False]
    # d(sum)/d(row) counts the row's uses: item 2 twice, item 5 once; one SGD step of lr 1
    assert torch.equal(encoder.ids.weight[2], torch.full((8,), -2.0))
    assert torch.equal(encoder(torch.tensor([5]))[0], plain(torch.tensor([5]))[0] - 1)
    assert plain.ids is None


def test_the_trainable_table_gets_its_own_learning_rate(tmp_path: Path) -> None:
    dataset = prepare_synthetic(successor_data(num_users=20, num_items=30, length=6),
                                tmp_path / "data")
    config = load_config(None, **{"srs.hidden": 8, "srs.blocks": 1, "srs.max_length": 6})
    vectors = np.random.default_rng(0).normal(size=(dataset.num_items, 12))
    encoder = LLMEmbEncoder(vectors, 8, freeze_table=False, table_learning_rate=1e-5)
    model = SequentialRecommender(encoder, build_backbone(config.srs))
    trainer = Trainer(model, dataset, config, tmp_path / "run", {}, "cpu")
    first, table = trainer.optimizer.param_groups
    assert table["lr"] == 1e-5 and table["params"] == [encoder.table]
    assert first["lr"] == config.srs.learning_rate
    assert all(p is not encoder.table for p in first["params"])
    assert sum(p.numel() for g in trainer.optimizer.param_groups for p in g["params"]) == sum(
        p.numel() for p in model.parameters())
    with pytest.raises(ValueError, match="needs rat.freeze_table: false"):
        LLMEmbEncoder(vectors, 8, table_learning_rate=1e-5)


def test_a_variant_is_compared_with_llmemb_and_with_id() -> None:
    def ranks(greater: list[int]) -> dict[str, UserRanks]:
        size = len(greater)
        groups = {name: np.ones(size, dtype=bool) for name in ("item_tail", "item_head",
                                                                "user_short", "user_long")}
        return {"full": UserRanks(np.arange(1, size + 1), np.array(greater),
                                  np.zeros(size, dtype=int), groups)}

    runs = {("sasrec", "id", 1): ranks([0, 5, 20]), ("sasrec", "llmemb", 1): ranks([1, 5, 20]),
            ("sasrec", "llmemb-cosine-align", 1): ranks([0, 0, 20])}
    pairs = {(r["model"], r["baseline"]) for r in compare_runs(runs, replicates=50)}
    assert pairs == {("llmemb", "id"), ("llmemb-cosine-align", "llmemb"),
                     ("llmemb-cosine-align", "id")}
    runs |= {("sasrec", "llmemb-no-scft", 1): ranks([4, 5, 20]),
             ("sasrec", "llmemb-no-align", 1): ranks([1, 6, 20])}
    rows = compare_runs(runs, replicates=50)
    assert {(r["model"], r["baseline"]) for r in rows} - pairs == {
        ("llmemb", "llmemb-no-scft"), ("llmemb-cosine-align", "llmemb-no-scft"),
        ("llmemb-no-scft", "llmemb"), ("llmemb-no-scft", "id"),
        ("llmemb-no-align", "llmemb"), ("llmemb-no-align", "id")}  # SCFT's gain, not ablations'
    gain = next(r for r in rows if (r["model"], r["baseline"], r["group"], r["metric"]) == (
        "llmemb", "llmemb-no-scft", "overall", "NDCG@10"))
    # only the first user differs: rank 2 against rank 5 (greater + 1)
    assert gain["diff"] == pytest.approx((1 / np.log2(3) - 1 / np.log2(6)) / 3)
