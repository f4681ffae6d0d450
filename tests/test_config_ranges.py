"""Config ranges: an impossible number, or a YAML file that does not parse, is refused when
the config loads, with the file, the dotted field, the value and what the field allows."""

from pathlib import Path

import pytest
import yaml

from llmemb_utils.cli import main
from llmemb_utils.config import ConfigError, load_config


def _refusal(tmp_path: Path, dotted: str, value: object) -> str:
    """The message of loading a file that sets only ``dotted`` to ``value``."""
    *sections, name = dotted.split(".")
    tree: dict = {name: value}
    for section in reversed(sections):
        tree = {section: tree}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(tree))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    return str(error.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize(("dotted", "value", "expected"), [
    ("srs.batch_size", 0, "srs.batch_size = 0 is out of range; expected an integer >= 1"),
    ("srs.epochs", -3, "srs.epochs = -3 is out of range; expected an integer >= 1"),
    ("srs.max_length", 0, "srs.max_length = 0 is out of range; expected an integer >= 1"),
    ("srs.hidden", 0, "srs.hidden = 0 is out of range; expected an integer >= 1"),
    ("srs.patience", 0, "srs.patience = 0 is out of range; expected an integer >= 1"),
    ("scft.steps", 0, "scft.steps = 0 is out of range; expected an integer >= 1"),
    ("scft.save_every", -1, "scft.save_every = -1 is out of range; expected an integer >= 1"),
    ("scft.lora_layers", 0,
     "scft.lora_layers = 0 is out of range; expected an integer >= 1 or null"),
    ("embed.pca_dim", -8, "embed.pca_dim = -8 is out of range; expected an integer >= 1 or null"),
    ("data.min_sequence_length", 2,
     "data.min_sequence_length = 2 is out of range; expected an integer >= 3"),
    ("seed", -1, "seed = -1 is out of range; expected an integer >= 0"),
    ("study.seeds", {"sasrec": [42, -1]},
     "study.seeds.sasrec[1] = -1 is out of range; expected an integer >= 0"),
])
def test_a_count_or_size_below_its_minimum_is_refused(tmp_path, dotted, value, expected):
    assert _refusal(tmp_path, dotted, value) == expected


@pytest.mark.parametrize(("dotted", "value", "expected"), [
    ("srs.learning_rate", 0, "srs.learning_rate = 0.0 is out of range; expected a number > 0"),
    ("scft.learning_rate", -2e-4,
     "scft.learning_rate = -0.0002 is out of range; expected a number > 0"),
    ("rat.table_learning_rate", 0.0,
     "rat.table_learning_rate = 0.0 is out of range; expected a number > 0 or null"),
    ("srs.weight_decay", -0.1, "srs.weight_decay = -0.1 is out of range; expected a number >= 0"),
])
def test_a_learning_rate_that_cannot_learn_is_refused(tmp_path, dotted, value, expected):
    assert _refusal(tmp_path, dotted, value) == expected


@pytest.mark.parametrize(("dotted", "value", "expected"), [
    ("scft.drop_ratio", 1.0, "scft.drop_ratio = 1.0 is out of range; expected a number in [0, 1)"),
    ("scft.drop_ratio", -0.1,
     "scft.drop_ratio = -0.1 is out of range; expected a number in [0, 1)"),
    ("data.thresholds.head_fraction", 0.0,
     "data.thresholds.head_fraction = 0.0 is out of range; expected a number in (0, 1)"),
    ("data.thresholds.head_fraction", 1,
     "data.thresholds.head_fraction = 1.0 is out of range; expected a number in (0, 1)"),
    ("srs.dropout", 1.0, "srs.dropout = 1.0 is out of range; expected a number in [0, 1)"),
    ("scft.lora_dropout", 1.5,
     "scft.lora_dropout = 1.5 is out of range; expected a number in [0, 1)"),
    ("srs.mask_prob", 1.2, "srs.mask_prob = 1.2 is out of range; expected a number in [0, 1]"),
])
def test_a_ratio_outside_its_interval_is_refused(tmp_path, dotted, value, expected):
    assert _refusal(tmp_path, dotted, value) == expected


@pytest.mark.parametrize(("dotted", "value", "expected"), [
    ("rat.tau", 0, "rat.tau = 0.0 is out of range; expected a number > 0"),
    ("rat.cosine_tau", -0.1, "rat.cosine_tau = -0.1 is out of range; expected a number > 0"),
    ("scft.temperature", 0.0, "scft.temperature = 0.0 is out of range; expected a number > 0"),
    ("scft.infonce_temperature", -1,
     "scft.infonce_temperature = -1.0 is out of range; expected a number > 0"),
])
def test_a_temperature_that_is_not_positive_is_refused(tmp_path, dotted, value, expected):
    assert _refusal(tmp_path, dotted, value) == expected


def test_an_scft_batch_needs_two_pairs_for_an_in_batch_negative(tmp_path):
    assert _refusal(tmp_path, "scft.batch_size", 1) == (
        "scft.batch_size = 1 is out of range; expected an integer >= 2")
    assert load_config(**{"scft.batch_size": 2}).scft.batch_size == 2  # the smallest that works


def test_the_ends_of_each_interval_are_as_documented():
    edge = load_config(**{"scft.drop_ratio": 0.0, "srs.dropout": 0.0, "srs.mask_prob": 1.0,
                          "rat.alpha": 0.0, "srs.weight_decay": 0.0, "seed": 0,
                          "data.thresholds.head_fraction": 0.999})
    assert (edge.scft.drop_ratio, edge.srs.mask_prob, edge.rat.alpha, edge.seed) == (
        0.0, 1.0, 0.0, 0)


def test_overrides_are_checked_and_named_after_the_file():
    config = Path(__file__).resolve().parent.parent / "configs" / "ml100k_smollm2.yaml"
    with pytest.raises(ConfigError) as error:
        load_config(config, **{"srs.epochs": -3})
    assert str(error.value) == (
        f"{config}: srs.epochs = -3 is out of range; expected an integer >= 1")
    with pytest.raises(ConfigError, match=r"^<defaults>: rat\.tau = -2\.0 is out of range"):
        load_config(**{"rat.tau": -2})


def test_an_overlay_value_is_checked_when_the_overlay_applies(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("fast: {scft.batch_size: 1}\n")
    assert load_config(path).scft.batch_size == 64
    with pytest.raises(ConfigError, match=r"c\.yaml: scft\.batch_size = 1 is out of range"):
        load_config(path, fast=True)


def test_a_cli_override_out_of_range_is_an_error_line_not_a_traceback(tmp_path, capsys):
    code = main(["train", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "run"),
                 "--epochs", "0"])
    assert code == 2
    assert capsys.readouterr().err == (
        "llmemb train: error: <defaults>: srs.epochs = 0 is out of range; "
        "expected an integer >= 1\n")
    assert not (tmp_path / "run").exists()


def test_a_yaml_syntax_error_names_file_line_and_column(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("name: demo\nsrs:\n  epochs: 20\n  hidden: [64\n")  # the list never closes
    with pytest.raises(ConfigError) as error:
        load_config(path)
    # PyYAML reports where it gave up: the end of the file, line 5, column 1
    assert str(error.value).startswith(f"{path}: line 5, column 1: invalid YAML: ")
    path.write_text("srs:\n  epochs: 20\n hidden: 64\n")  # a key indented one space too few
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f"{path}: line 3, column 2: invalid YAML: expected <block end>, but found '<block "
        "mapping start>'")
    code = main(["prepare", "--config", str(path), "--out", str(tmp_path / "data")])
    assert code == 2
    assert capsys.readouterr().err.startswith(f"llmemb prepare: error: {path}: line 3, column 2")
