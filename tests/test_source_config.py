"""A data source that names a path reads that path, never the default asset."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from llmemb_utils.config import ConfigError, SourceConfig, load_config
from llmemb_utils.data.loaders import resolve_path
from llmemb_utils.data.prepare import prepare
from llmemb_utils.io import sha256_file


def write_source(folder: Path) -> Path:
    """Three users over four items, in a generic CSV."""
    path = folder / "ratings.csv"
    path.write_text("user,item,timestamp\n" + "".join(
        f"u{u},i{(u + s) % 4},{s}\n" for u in range(3) for s in range(4)))
    return path


def test_a_path_without_asset_prepares_that_path(tmp_path: Path) -> None:
    source = write_source(tmp_path)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump({"data": {
        "source": {"format": "generic", "path": str(source)}, "domain": "generic",
        "user_core": 1, "item_core": 1, "min_sequence_length": 3}}))
    config = load_config(config_file)
    assert config.data.source.asset is None
    assert resolve_path(config.data.source) == source
    dataset = prepare(config.data, tmp_path / "data")
    assert (dataset.num_users, dataset.num_items) == (3, 4)
    assert dataset.manifest["inputs"]["sources"] == {str(source): sha256_file(source)}


def test_an_asset_and_a_path_together_are_refused(tmp_path: Path) -> None:
    config_file = tmp_path / "both.yaml"
    config_file.write_text("data: {source: {asset: ml-100k, path: my/folder}}\n")
    with pytest.raises(ConfigError) as error:
        load_config(config_file)
    assert str(error.value) == (f"{config_file}: data: source: asset 'ml-100k' and path "
                                "'my/folder' are both given; keep one of them")


def test_the_default_source_is_still_the_default_asset() -> None:
    assert load_config().data.source.asset == "ml-100k"
    assert SourceConfig(path="my/folder").asset is None  # a path wins over the default
    assert load_config(None, **{"data.source.asset": None}).data.source.asset is None
