"""Config loading: YAML, dotted overrides, type checks with field names."""

from pathlib import Path
from typing import get_args

import pytest
import yaml

from llmemb_utils.cli import build_parser
from llmemb_utils.config import ConfigError, ExperimentConfig, load_config
from llmemb_utils.data.commands import config_from_args

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_defaults_are_the_papers_hyper_parameters():
    config = load_config()
    assert (config.srs.hidden, config.srs.blocks, config.srs.dropout) == (128, 2, 0.5)
    assert (config.scft.lora_r, config.scft.lora_alpha, config.scft.drop_ratio) == (8, 32, 0.4)
    assert (config.rat.alpha, config.rat.tau) == (0.01, 2.0)


def test_runs_train_to_convergence_unless_a_config_sets_a_demo_budget():
    srs = load_config().srs
    assert (srs.budget, srs.epochs, srs.patience, srs.early_stop_window) == (
        "convergence", 200, 40, 5)
    assert load_config().srs.exclude_history and not load_config().study.scft_per_seed
    for path in sorted(CONFIGS.glob("*_llama7b.yaml")):
        assert (load_config(path).srs.budget, load_config(path).srs.epochs) == ("convergence", 200)
    demo = CONFIGS / "ml100k_smollm2.yaml"
    assert (load_config(demo).srs.budget, load_config(demo).srs.epochs) == ("demo", 20)
    on_gpu = load_config(demo, gpu=True).srs
    assert (on_gpu.budget, on_gpu.epochs) == ("convergence", 200)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_config_loads(path):
    """Each config names its own experiment, or extends one whose runs it adds to (a tuning
    study that reuses the converged study's runs); its overlays load too."""
    config = load_config(path)
    for fast, gpu in ((True, False), (False, True), (True, True)):
        load_config(path, fast=fast, gpu=gpu)
    raw = yaml.safe_load(path.read_text())
    if "name" in raw or "extends" not in raw:
        assert config.name == path.stem
    else:
        assert config.name == load_config(path.parent / raw["extends"]).name


def test_overrides_are_dotted_and_coerced():
    config = load_config(CONFIGS / "ml100k_smollm2.yaml",
                         **{"srs.epochs": 5, "seed": 7, "srs.learning_rate": 1})
    assert config.srs.epochs == 5 and config.seed == 7
    assert config.srs.learning_rate == 1.0 and isinstance(config.srs.learning_rate, float)
    assert config.data.item_core == 1  # from the file, untouched


def test_unknown_field_is_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("data:\n  user_cores: 3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: data: unknown field\(s\) \['user_cores'\]"):
        load_config(path)


def test_wrong_type_is_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("srs:\n  epochs: many\n")
    with pytest.raises(ConfigError, match=r"srs: epochs: expected int, got 'many'"):
        load_config(path)


def test_bool_is_not_an_int():
    with pytest.raises(ConfigError, match="expected int, got True"):
        load_config(**{"srs.epochs": True})


def test_missing_file():
    with pytest.raises(ConfigError, match="config file not found: nowhere.yaml"):
        load_config("nowhere.yaml")


def test_round_trip_through_dict():
    config = load_config(CONFIGS / "yelp_llama7b.yaml")
    assert isinstance(config, ExperimentConfig)
    assert config.to_dict()["data"]["thresholds"]["item_head_min"] == 13


def test_fast_overrides_apply_only_in_fast_mode():
    full = load_config(CONFIGS / "ml100k_smollm2.yaml")
    fast = load_config(CONFIGS / "ml100k_smollm2.yaml", fast=True, **{"data.max_users": 50})
    assert full.data.max_users is None and full.name == "ml100k_smollm2"
    assert fast.name == "ml100k_smollm2_fast" and fast.data.max_users == 50  # explicit wins


def test_gpu_overlay_applies_before_fast_and_explicit_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("srs: {epochs: 30}\n"
                    "gpu: {name: on_gpu, srs.epochs: 200, scft.steps: 4000}\n"
                    "fast: {name: quick, srs.epochs: 10}\n")
    assert load_config(path).srs.epochs == 30
    gpu = load_config(path, gpu=True)
    assert (gpu.name, gpu.srs.epochs, gpu.scft.steps) == ("on_gpu", 200, 4000)
    both = load_config(path, gpu=True, fast=True, **{"scft.steps": 7})
    assert (both.name, both.srs.epochs, both.scft.steps) == ("quick", 10, 7)


def test_overlay_must_be_a_mapping(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("gpu: [srs.epochs]\n")
    with pytest.raises(ConfigError, match="gpu must be a mapping of dotted overrides"):
        load_config(path, gpu=True)
    with pytest.raises(ConfigError, match="c.yaml: gpu: expected a mapping"):
        load_config(path)


@pytest.mark.parametrize("flags, name, epochs", [([], "ml100k_smollm2", 20),
                                                 (["--gpu"], "ml100k_smollm2_gpu", 200),
                                                 (["--fast"], "ml100k_smollm2_fast", 10)])
def test_cli_overlay_flags_select_the_overlays(flags, name, epochs):
    args = build_parser().parse_args(["prepare", "--config", str(CONFIGS / "ml100k_smollm2.yaml"),
                                      *flags])
    config = config_from_args(args)
    assert (config.name, config.srs.epochs) == (name, epochs)


@pytest.mark.parametrize(("dotted", "allowed"), [
    ("data.source.format", "'movielens', 'amazon', 'yelp', 'generic', 'sequences-json'"),
    ("data.domain", "'movielens', 'beauty', 'fashion', 'amazon', 'yelp', 'generic'"),
    ("data.filter", "'one-pass', 'kcore'"),
    ("data.thresholds.rule", "'pareto', 'fixed'"),
    ("llm.load_in_4bit", "'auto', 'always', 'never'"),
    ("llm.dtype", "'auto', 'float32', 'bfloat16', 'float16'"),
    ("llm.pooling", "'mean', 'last'"),
    ("scft.loss", "'soft-target', 'infonce'"),
    ("srs.backbone", "'sasrec', 'bert4rec', 'gru4rec', 'caser'"),
    ("srs.loss", "'bce', 'ce'"),
    ("srs.budget", "'convergence', 'demo'"),
    ("rat.align_form", "'official', 'cosine'"),
    ("rat.embeddings", "'scft', 'raw'"),
    ("rat.ablation", "'no-scft', 'no-align', 'trainable-table', 'no-adapter'"),
    ("study.ablations", "'no-scft', 'no-align', 'trainable-table', 'no-adapter'"),
])
def test_a_bad_choice_fails_at_load_naming_field_value_and_choices(tmp_path, dotted, allowed):
    path = tmp_path / "bad.yaml"
    value = ["kcor"] if dotted == "study.ablations" else "kcor"
    path.write_text(yaml.safe_dump(_nested(dotted, value)))
    field = ": ".join(dotted.split("."))
    message = f"{path}: {field}: 'kcor' is not one of {allowed}"
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == message


def _nested(dotted: str, value: object) -> dict:
    *sections, name = dotted.split(".")
    tree: dict = {name: value}
    for section in reversed(sections):
        tree = {section: tree}
    return tree


def test_choices_are_the_implemented_ones():
    from llmemb_utils.config import AblationName, Backbone, Domain, Dtype, SourceFormat
    from llmemb_utils.data.loaders import LOADERS
    from llmemb_utils.data.prompts import DOMAINS
    from llmemb_utils.llm.models import DTYPES
    from llmemb_utils.rat import ABLATIONS
    from llmemb_utils.srs.backbones import BACKBONES

    assert set(get_args(SourceFormat)) == set(LOADERS)
    assert set(get_args(Domain)) == set(DOMAINS)
    assert set(get_args(Dtype)) == {"auto", *DTYPES}
    assert set(get_args(Backbone)) == set(BACKBONES)
    assert set(get_args(AblationName)) == set(ABLATIONS)


def test_extends_reads_the_base_file_and_merges_the_variant_over_it(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: base\nsrs: {epochs: 20, hidden: 64}\nfast: {name: base_fast, srs.epochs: 2}\n")
    (tmp_path / "variant.yaml").write_text(
        "extends: base.yaml\nname: variant\nsrs: {epochs: 200}\nfast: {name: variant_fast}\n")
    variant = load_config(tmp_path / "variant.yaml")
    assert (variant.name, variant.srs.epochs, variant.srs.hidden) == ("variant", 200, 64)
    fast = load_config(tmp_path / "variant.yaml", fast=True)
    assert (fast.name, fast.srs.epochs, fast.srs.hidden) == ("variant_fast", 2, 64)


def test_extends_names_a_missing_base_and_refuses_a_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: missing.yaml\n")
    with pytest.raises(ConfigError, match=r"missing\.yaml \(extended by .*a\.yaml\)"):
        load_config(tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("extends: c.yaml\n")
    (tmp_path / "c.yaml").write_text("extends: b.yaml\n")
    with pytest.raises(ConfigError, match="leads back to itself"):
        load_config(tmp_path / "b.yaml")


def test_the_converged_study_is_the_demo_recipe_trained_to_convergence():
    demo = load_config(CONFIGS / "ml100k_smollm2.yaml")
    converged = load_config(CONFIGS / "ml100k_smollm2_converged.yaml")
    assert (converged.srs.budget, converged.srs.epochs) == ("convergence", 200)
    assert converged.study.scft_per_seed and len(converged.study.seeds["sasrec"]) >= 5
    assert min(len(seeds) for seeds in converged.study.seeds.values()) >= 3
    for section in ("data", "llm", "scft", "rat"):  # the same recipe
        assert getattr(converged, section) == getattr(demo, section)


def test_a_width_that_heads_cannot_split_is_refused_with_both_fields(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("srs:\n  hidden: 10\n  heads: 3\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: srs: hidden = 10 is not divisible by "
                                          r"heads = 3"):
        load_config(path)
    assert load_config(path, **{"srs.heads": 2}).srs.heads == 2  # 10 = 2 x 5
