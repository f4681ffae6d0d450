"""Every stage of a tiny run (generic CSV data, a tiny LLaMA) writes where ``RunLayout`` says,
from the pipeline as from the CLI."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from llmemb_utils import pipeline
from llmemb_utils.cli import main
from llmemb_utils.config import ExperimentConfig, load_config
from llmemb_utils.io import read_json
from llmemb_utils.layout import RunLayout, figures_dir, repo_root
from llmemb_utils.llm.tiny import save_tiny_llama

pytestmark = pytest.mark.usefixtures("single_thread")
ITEMS, USERS, LENGTH = 120, 20, 6  # enough items for the 100 negatives of the sampled protocol


def tiny_run_config(folder: Path) -> dict:
    """A config over items each watched once, with a tiny LLaMA and few steps."""
    rows = [f"u{u},i{u * LENGTH + s},{s}" for u in range(USERS) for s in range(LENGTH)]
    (folder / "interactions.csv").write_text("user,item,timestamp\n" + "\n".join(rows) + "\n")
    (folder / "items.csv").write_text("item,title,genre\n" + "\n".join(
        f"i{k},Film {k},{('Drama', 'War')[k % 2]}" for k in range(ITEMS)) + "\n")
    model = save_tiny_llama(folder / "tiny")
    return {
        "name": "tiny", "artifacts": str(folder / "artifacts"),
        "data": {"source": {"format": "generic", "path": str(folder / "interactions.csv"),
                            "item_file": "items.csv"},
                 "domain": "generic", "user_core": 1, "item_core": 1,
                 "thresholds": {"rule": "fixed", "item_head_min": 2, "user_long_min": 2}},
        "llm": {"model": str(model), "dtype": "float32"},
        "scft": {"steps": 2, "batch_size": 4, "lora_layers": 2},
        "srs": {"hidden": 8, "blocks": 1, "max_length": 8, "batch_size": 4, "epochs": 1},
        "rat": {"alpha": 0.0},
    }


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ExperimentConfig]]:
    """The config file of a tiny run and the config it loads to, with a private cache."""
    folder = tmp_path_factory.mktemp("tiny_run")
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(tiny_run_config(folder)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMEMB_CACHE", str(folder / "cache"))
        yield path, load_config(path)


def test_a_relative_artifacts_folder_is_anchored_at_the_kit_root(tmp_path: Path,
                                                                 monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # as a notebook kernel started in notebooks/
    layout = RunLayout(load_config(None, name="demo", artifacts="artifacts"))
    assert layout.root == repo_root() / "artifacts" / "demo"
    assert layout.llm_table("raw") == repo_root() / "artifacts/demo/embeddings/raw.npy"
    assert RunLayout(load_config(None, artifacts=str(tmp_path))).root.parent == tmp_path


def test_fast_mode_figures_never_land_in_figures(monkeypatch) -> None:
    monkeypatch.delenv("LLMEMB_FIGURES", raising=False)
    monkeypatch.setenv("LLMEMB_FAST", "1")
    assert figures_dir().parts[-2:] == ("artifacts", "fast_figures")
    monkeypatch.setenv("LLMEMB_FAST", "0")
    assert figures_dir() == repo_root() / "figures"


def test_every_stage_writes_where_the_layout_says(tiny_run: tuple[Path, ExperimentConfig],
                                                  tmp_path: Path, capsys) -> None:
    path, config = tiny_run
    layout = RunLayout(config)
    assert main(["prepare", "--config", str(path)]) == 0
    assert (layout.data / "manifest.json").is_file()
    data = pipeline.dataset(config)
    assert data.path == layout.data and data.num_items == ITEMS
    assert main(["scft", "--config", str(path)]) == 0
    assert pipeline.scft_adapter(config, data, progress=False).parent == layout.scft
    table = pipeline.llm_table_file(config, data, "raw", progress=False)
    assert table == layout.llm_table("raw") and table.with_suffix(".json").is_file()
    run = pipeline.rat_run(config, data, progress=False)
    assert run.parent == layout.srs and (run / "metrics.json").is_file()
    records = tmp_path / "records"
    assert main(["study", "--config", str(path), "--backbones", "sasrec", "--seeds", "42",
                 "--workers", "1", "--record", str(records)]) == 0
    assert layout.results.is_file() and (records / "comparisons.json").is_file()
    assert {p.name for p in layout.root.iterdir()} == {
        "data", "scft", "embeddings", "srs", layout.results.name}
    capsys.readouterr()


def test_a_study_variant_with_its_own_scft_trains_and_reads_its_own_table(
        tiny_run: tuple[Path, ExperimentConfig], tmp_path: Path, capsys) -> None:
    path, config = tiny_run
    layout = RunLayout(config)
    variant = tmp_path / "variant.yaml"
    variant.write_text(yaml.safe_dump({"extends": str(path), "study": {
        "seeds": {"sasrec": [42]}, "variants": {"l1-s3": {"scft": {"lora_layers": 1,
                                                                     "steps": 3}}}}}))
    records = tmp_path / "records"
    assert main(["study", "--config", str(variant), "--workers", "1",
                 "--record", str(records)]) == 0
    capsys.readouterr()
    own = read_json(layout.scft_run(None, "l1-s3") / "manifest.json")["config"]["scft"]
    assert (own["lora_layers"], own["steps"]) == (1, 3)
    assert read_json(layout.scft / "manifest.json")["config"]["scft"]["steps"] == 2
    plain, recipe = np.load(layout.llm_table("scft")), np.load(layout.llm_table("scft", None,
                                                                             "l1-s3"))
    assert plain.shape == recipe.shape and not np.allclose(plain, recipe)
    runs = [read_json(run / "manifest.json")["config"] for run in layout.srs.iterdir()
            if "-llmemb-l1-s3-" in run.name]
    assert len(runs) == 1 and runs[0]["rat"]["llm_emb"] == str(layout.llm_table("scft", None,
                                                                                 "l1-s3"))
    assert {(c["model"], c["baseline"]) for c in read_json(records / "comparisons.json")} >= {
        ("llmemb-l1-s3", "llmemb"), ("llmemb-l1-s3", "id")}


def test_a_table_written_by_llmemb_embed_is_reused_by_the_pipeline(
        tiny_run: tuple[Path, ExperimentConfig], monkeypatch) -> None:
    path, config = tiny_run
    layout = RunLayout(config)
    data = pipeline.dataset(config)
    adapter = pipeline.scft_adapter(config, data, progress=False)
    assert main(["embed", "--config", str(path), "--lora", str(adapter)]) == 0
    table = layout.llm_table("scft")
    written = table.stat().st_mtime_ns

    def rebuild(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pipeline rebuilt the table that llmemb embed wrote")

    monkeypatch.setattr("llmemb_utils.llm.embed.write_item_table", rebuild)
    assert pipeline.llm_table_file(config, data, "scft", progress=False) == table
    assert table.stat().st_mtime_ns == written
    other = dataclasses.replace(config, embed=dataclasses.replace(config.embed, pca_dim=3))
    with pytest.raises(AssertionError, match="rebuilt"):  # another PCA width: rebuilt
        pipeline.llm_table_file(other, data, "scft", progress=False)


def test_the_pipeline_table_has_the_configured_pca_width(
        tiny_run: tuple[Path, ExperimentConfig]) -> None:
    path, _ = tiny_run
    config = load_config(path, **{"embed.pca_dim": 4})  # as the paper configs set it
    data = pipeline.dataset(config)
    table = pipeline.llm_table_file(config, data, "raw", progress=False)
    assert np.load(table).shape == (ITEMS, 4)
    manifest = read_json(table.with_suffix(".json"))
    assert manifest["config"]["pca_dim"] == 4 and len(manifest["explained_variance_ratio"]) == 4


def test_a_finished_run_is_reused_when_its_inputs_are_reached_through_a_link(
        tmp_path: Path, monkeypatch) -> None:
    """The recorded table and teacher paths differ from the current ones only by a linked
    folder: the run is reused, not re-evaluated; another table is not."""
    real, linked = tmp_path / "real", tmp_path / "linked"
    (real / "srs" / "teacher").mkdir(parents=True)
    (real / "scft.npy").write_bytes(b"")
    (real / "other.npy").write_bytes(b"")
    linked.symlink_to(real)
    config = ExperimentConfig(artifacts=str(tmp_path / "artifacts"))
    recorded = dataclasses.replace(config, rat=dataclasses.replace(
        config.rat, llm_emb=str(real / "scft.npy"), teacher=str(real / "srs" / "teacher")))
    out = pipeline._srs_folder(recorded, "llmemb")
    out.mkdir(parents=True)
    (out / "metrics.json").write_text("{}")
    (out / "manifest.json").write_text(json.dumps({"config": recorded.to_dict()}))
    trained: list[Path] = []
    monkeypatch.setattr("llmemb_utils.srs.run.train",
                        lambda config, data, folder, encoder: trained.append(folder))
    through_link = dataclasses.replace(config, rat=dataclasses.replace(
        config.rat, llm_emb=str(linked / "scft.npy"), teacher=str(linked / "srs" / "teacher")))
    assert pipeline.srs_run(through_link, None, "llmemb") == out and trained == []
    other_table = dataclasses.replace(through_link, rat=dataclasses.replace(
        through_link.rat, llm_emb=str(linked / "other.npy")))
    assert pipeline.srs_run(other_table, None, "llmemb") == out and trained == [out]
