"""Neighbourhoods of item tables: the measures on a hand-built table, the attribute class of a
prompt, the ``neighbours`` view of a hand-written ``neighbours.json`` and ``llmemb report
--neighbours`` on a recorded run, and refusing a folder without records.

The table holds eight unit vectors in 2-D at the angles below, each with its opposite, so
their mean is 0 and centring leaves them as they are; so does it for the six items with a
class (2 and 6, opposite, have none). Cosine neighbours are then the items nearest in angle,
read off by hand (distances in degrees, none tied at the second place):

    item  angle  nearest of all items   nearest of the classed items
    0       0    1 (10), 2 (30)         1 (10), 7 (83)
    1      10    0 (10), 2 (20)         0 (10), 3 (87)
    2      30    1 (20), 0 (30)         -
    3      97    2 (67), 4 (83)         4 (83), 1 (87)
    4     180    5 (10), 6 (30)         5 (10), 3 (83)
    5     190    4 (10), 6 (20)         4 (10), 7 (87)
    6     210    5 (20), 4 (30)         -
    7     277    6 (67), 0 (83)         0 (83), 5 (87)
"""

from __future__ import annotations

import json
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from llmemb_utils.cli import main
from llmemb_utils.config import load_config
from llmemb_utils.evidence.neighbours import attribute_class, neighbourhoods
from llmemb_utils.evidence.neighbours_record import _tables
from llmemb_utils.evidence.records import Experiment, write_experiment
from llmemb_utils.evidence.render import markdown
from llmemb_utils.io import read_json
from llmemb_utils.llm.embed import save_item_embeddings
from llmemb_utils.srs.run import train
from llmemb_utils.srs.synthetic import prepare_synthetic, successor_data

ANGLES = (0, 10, 30, 97, 180, 190, 210, 277)
TABLE = np.array([[math.cos(math.radians(a)), math.sin(math.radians(a))] for a in ANGLES])
IS_HEAD = np.array([True, False, False, True, True, True, False, False])  # tail: 1, 2, 6, 7
CLASSES = ("A", "A", None, "A", "B", "B", None, "A")  # classed: A = 0, 1, 3, 7; B = 4, 5


def brute_uniformity(angles: list[int]) -> float:
    """log mean over pairs of exp(-2 |x - y|^2) for unit vectors, |x - y|^2 = 2 - 2 cos."""
    kernels = [math.exp(-2 * (2 - 2 * math.cos(math.radians(a - b))))
               for a, b in combinations(angles, 2)]
    return math.log(sum(kernels) / len(kernels))


@pytest.mark.parametrize("shift", [(0.0, 0.0), (3.0, -2.0)])  # centring removes a shift
def test_measures_of_a_hand_built_table(shift: tuple[float, float]):
    measured = neighbourhoods(TABLE + np.array(shift), IS_HEAD, CLASSES, k=2)
    tail, head = measured["item_tail"], measured["item_head"]
    assert (tail["items"], head["items"]) == (4, 4)
    assert (tail["attribute_items"], head["attribute_items"]) == (2, 4)
    assert tail["uniformity"] == pytest.approx(brute_uniformity([10, 30, 210, 277]))
    assert head["uniformity"] == pytest.approx(brute_uniformity([0, 97, 180, 190]))
    # Same-class share of the two classed neighbours: 1 -> {0, 3}: 2/2; 7 -> {0, 5}: 1/2;
    # 0 -> {1, 7}: 2/2; 3 -> {4, 1}: 1/2; 4 -> {5, 3}: 1/2; 5 -> {4, 7}: 1/2.
    assert tail["attribute_agreement"] == pytest.approx((1 + 1 / 2) / 2)
    assert head["attribute_agreement"] == pytest.approx((1 + 1 / 2 + 1 / 2 + 1 / 2) / 4)
    # Random neighbours among the 6 classed items: an A item finds 3 of the 5 others in A, a
    # B item 1 of 5 in B.
    assert tail["attribute_chance"] == pytest.approx(3 / 5)
    assert head["attribute_chance"] == pytest.approx((3 / 5 + 3 / 5 + 1 / 5 + 1 / 5) / 4)
    # Tail share of the two neighbours: 1 -> {0, 2}: 1/2; 2 -> {1, 0}: 1/2; 6 -> {5, 4}: 0;
    # 7 -> {6, 0}: 1/2; 0 -> {1, 2}: 1; 3 -> {2, 4}: 1/2; 4 -> {5, 6}: 1/2; 5 -> {4, 6}: 1/2.
    assert tail["tail_neighbours"] == pytest.approx(3 / 8)
    assert head["tail_neighbours"] == pytest.approx(5 / 8)
    assert tail["tail_neighbours_chance"] == pytest.approx(3 / 7)
    assert head["tail_neighbours_chance"] == pytest.approx(4 / 7)


def test_a_group_with_too_few_items_gives_none():
    head_only = neighbourhoods(TABLE[:3], np.ones(3, dtype=bool), ("A", "B", None), k=2)
    assert head_only["item_tail"] == {
        "items": 0, "uniformity": None, "attribute_items": 0, "attribute_agreement": None,
        "attribute_chance": None, "tail_neighbours": None, "tail_neighbours_chance": None}
    # Two classed items leave one candidate neighbour each, fewer than k = 2.
    assert head_only["item_head"]["attribute_agreement"] is None
    assert head_only["item_head"]["attribute_chance"] == pytest.approx(0.0)
    assert head_only["item_head"]["tail_neighbours"] == pytest.approx(0.0)


def test_rows_flags_and_classes_must_align():
    with pytest.raises(ValueError, match="8 table rows, 7 head flags and 8 classes"):
        neighbourhoods(TABLE, IS_HEAD[:7], CLASSES)


@pytest.mark.parametrize(("prompt", "name", "expected"), [
    ("The item has the following attributes: \n title is Cream; categories is Beauty, "
     "Skin Care, Face, Moisturizers; price is 9.99", "categories", "Moisturizers"),
    ("The movie has the following attributes: \n title is Toy Story; year is 1995; "
     "genres is Animation, Children's, Comedy", "genres", "Comedy"),
    ("genres is Drama", "genres", "Drama"),  # no instruction line
    ("title is This is Spinal Tap; genres is Comedy", "title", "This is Spinal Tap"),
    ("categories is Tools, Hand Tools   ; brand is Acme", "categories", "Hand Tools"),
    ("categories is Tools, Hand Tools, ", "categories", "Hand Tools"),  # trailing comma
    ("The movie has the following attributes: \n title is Heat; year is 1995", "genres", None),
    ("The item has the following attributes: \n attributes are unknown", "categories", None),
    ("subcategories is Pens; brand is Acme", "categories", None),  # another attribute's name
    ("title is Pen; categories is ", "categories", None),  # an empty value
])
def test_attribute_class_is_the_last_element_of_the_named_attribute(prompt, name, expected):
    assert attribute_class(prompt, name) == expected


def hand_written_measurement() -> dict:
    """A ``neighbours.json`` as ``llmemb report --neighbours`` writes it, values chosen."""
    def groups(tail: list, head: list) -> dict:
        keys = ("uniformity", "attribute_agreement", "attribute_chance", "tail_neighbours",
                "tail_neighbours_chance")
        return {"item_tail": {"items": 30, "attribute_items": 28,
                              **dict(zip(keys, tail, strict=True))},
                "item_head": {"items": 6, "attribute_items": 6,
                              **dict(zip(keys, head, strict=True))}}

    def table(name: str, model: str | None, tail: list, head: list) -> dict:
        return {"name": name, "kind": "LLM table" if model is None else "item vectors",
                "path": f"/artifacts/{name}", "model": model,
                "backbone": None if model is None else "sasrec", **groups(tail, head)}

    return {"command": "llmemb report --neighbours results/exp", "attribute": "genres", "k": 10,
            "tables": [table("scft.npy", None, [-3.1234, 0.4125, 0.1833, 0.6, 0.8],
                             [-2.5, 0.25, 0.2, 0.5, 0.9]),
                       table("llmemb-sasrec-seed42", "llmemb", [-1.0, 0.3, 0.1833, 0.9, 0.8],
                             [None, None, None, 0.1, 0.9]),
                       table("id-sasrec-seed42", "id", [-2.0, 0.2, 0.1833, 0.7, 0.8],
                             [-3.0, 0.35, 0.2, 0.4, 0.9])],
            "missing": [{"name": "raw.npy", "kind": "LLM table", "path": "/artifacts/raw.npy",
                         "model": None, "backbone": None,
                         "reason": "/artifacts/raw.npy: not found"}]}


def test_neighbours_view_renders_one_row_per_table(tmp_path: Path):
    folder = tmp_path / "results" / "exp"
    (folder / "runs").mkdir(parents=True)
    (folder / "neighbours.json").write_text(json.dumps(hand_written_measurement()))
    lines = markdown("exp/neighbours", tmp_path / "results").splitlines()
    assert lines[:5] == [
        "| table | tail uniformity | head uniformity | tail genres agreement@10 (chance) | "
        "head genres agreement@10 (chance) | tail neighbours of tail items@10 (chance) |",
        "|---|---|---|---|---|---|",
        "| LLM table `scft.npy` | -3.12 | -2.50 | 0.412 (0.183) | 0.250 (0.200) | "
        "0.600 (0.800) |",
        "| item vectors of `id-sasrec-seed42` | -2.00 | -3.00 | 0.200 (0.183) | "
        "0.350 (0.200) | 0.700 (0.800) |",
        "| item vectors of `llmemb-sasrec-seed42` | -1.00 | n/a | 0.300 (0.183) | n/a | "
        "0.900 (0.800) |"]
    assert lines[5] == ""
    assert lines[6].startswith("Tail and head items by training popularity (30 tail and 6 "
                               "head items).")
    assert lines[6].endswith(" Not measured: raw.npy (not found).")  # no machine path
    assert len(lines) == 7


@pytest.mark.parametrize("runs", [False, True])
def test_report_refuses_a_folder_without_records(tmp_path: Path, runs: bool,
                                                 capsys: pytest.CaptureFixture[str]):
    folder = tmp_path / "exp"
    (folder / "runs" if runs else folder).mkdir(parents=True)
    assert main(["report", "--neighbours", str(folder)]) == 2
    expected = (f"{folder / 'runs'}: no run is recorded there" if runs
                else f"{folder}: no run records (runs/ is missing)")
    assert expected in capsys.readouterr().err
    assert not (folder / "neighbours.json").exists()


@pytest.mark.usefixtures("single_thread")
def test_report_measures_the_recorded_runs_item_vectors_and_names_what_it_skips(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    raw = successor_data(num_users=120, num_items=120, length=6)  # 100 sampled negatives
    raw.items["categories"] = [["Tools", ("Saws", "Drills", "Pliers")[i % 3]]
                               for i in range(len(raw.items))]
    dataset = prepare_synthetic(raw, tmp_path / "data", item_head_min=5)
    config = load_config(None, seed=42, **{"srs.hidden": 8, "srs.blocks": 1,
                                           "srs.max_length": 6, "srs.epochs": 1,
                                           "srs.budget": "demo"})
    run = tmp_path / "run"
    train(config, dataset, run, "id", device="cpu")
    record = write_experiment(tmp_path / "results" / "exp", [run], "test")

    assert main(["report", "--neighbours", str(record), "--attribute", "categories"]) == 0
    assert "measured 1 table(s): id-sasrec-seed42" in capsys.readouterr().out
    measured = read_json(record / "neighbours.json")
    classes = [prompt.rpartition(", ")[2] for prompt in dataset.prompts]
    assert set(classes) == {"Saws", "Drills", "Pliers"}
    is_head = dataset.is_head_item(np.arange(1, dataset.num_items + 1))
    assert 0 < is_head.sum() < dataset.num_items
    [table] = measured["tables"]
    assert (table["name"], table["model"], measured["attribute"]) == (
        "id-sasrec-seed42", "id", "categories")
    assert table["item_tail"] == pytest.approx(neighbourhoods(
        np.load(run / "item_table.npy")[1:], is_head, classes)["item_tail"])
    assert measured["missing"] == []

    other = np.random.default_rng(3).normal(size=(dataset.num_items, 6))  # another generator's
    save_item_embeddings(other, tmp_path / "gen" / "raw.npy", {"model": "encoder-x",
                                                                "pca_dim": None}, dataset)
    assert main(["report", "--neighbours", str(record), "--attribute", "categories",
                 "--table", str(tmp_path / "gen" / "raw.npy")]) == 0
    names = [table["name"] for table in read_json(record / "neighbours.json")["tables"]]
    assert names == ["id-sasrec-seed42", "encoder-x/raw.npy"]
    extra = read_json(record / "neighbours.json")["tables"][1]
    assert extra["item_head"] == pytest.approx(neighbourhoods(other, is_head, classes)["item_head"])

    vectors = np.load(run / "item_table.npy")
    np.save(run / "item_table.npy", vectors * 2.0 + 1.0)  # trained anew since recorded
    assert main(["report", "--neighbours", str(record), "--attribute", "categories"]) == 0
    measured = read_json(record / "neighbours.json")
    assert measured["tables"] == []
    assert "not the vectors recorded for id-sasrec-seed42" in measured["missing"][0]["reason"]
    assert main(["report", "--neighbours", str(record), "--attribute", "genres"]) == 2
    assert "no prompt has the attribute 'genres'" in capsys.readouterr().err


def test_tables_are_the_llm_tables_the_runs_read_the_raw_one_and_seed_42_sasrec_runs(
        tmp_path: Path):
    trained = tmp_path / "elsewhere" / "exp" / "embeddings"  # where the runs' tables lie
    trained.mkdir(parents=True)
    (trained / "raw.npy").write_bytes(b"")
    folder = tmp_path / "results" / "exp"
    for model, backbone, seed, table in [("llmemb", "sasrec", 42, "scft.npy"),
                                         ("llmemb", "sasrec", 43, "scft-seed43.npy"),
                                         ("llmemb", "gru4rec", 42, "scft.npy"),
                                         ("id", "sasrec", 42, None)]:
        run = folder / "runs" / f"{model}-{backbone}-seed{seed}"
        run.mkdir(parents=True)
        (run / "run.json").write_text(json.dumps({
            "backbone": backbone, "model": model, "seed": seed, "source": f"/srs/{run.name}",
            "settings": {"name": "exp", "artifacts": str(tmp_path / "artifacts")},
            "item_table_uniformity": {"overall": -2.0}}))
        encoder = ({} if table is None else {"llm_table": {"path": str(trained / table),
                                                           "sha256": "0" * 64},
                                             "rat": {"embeddings": "scft"}})
        (run / "metrics.json").write_text(json.dumps({"inputs": {"encoder": encoder}}))
    tables = _tables(Experiment(folder))
    assert [(table.name, table.kind, table.path) for table in tables] == [
        ("scft.npy", "LLM table", trained / "scft.npy"),
        ("scft-seed43.npy", "LLM table", trained / "scft-seed43.npy"),
        ("raw.npy", "LLM table", trained / "raw.npy"),  # not in the layout: beside the others
        ("id-sasrec-seed42", "item vectors", Path("/srs/id-sasrec-seed42/item_table.npy")),
        ("llmemb-sasrec-seed42", "item vectors",
         Path("/srs/llmemb-sasrec-seed42/item_table.npy"))]
    (trained / "raw.npy").unlink()
    layout = tmp_path / "artifacts" / "exp" / "embeddings" / "raw.npy"  # neither: the layout's
    assert _tables(Experiment(folder))[2].path == layout
