"""Run records end to end on tiny runs: the per-user rank files reproduce every metrics file,
``llmemb report --write`` records runs and their paired comparisons, and ``--render`` /
``--check`` keep a document's result blocks equal to what the records give."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import llmemb_utils.rat  # noqa: F401  registers the llmemb encoder that the runs train
from llmemb_utils.cli import main
from llmemb_utils.config import load_config
from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.evidence.comparisons import compare_runs, ratio_text, verdict
from llmemb_utils.evidence.environment import environment
from llmemb_utils.evidence.ranks import UserRanks
from llmemb_utils.evidence.records import Experiment, settings_hash, write_experiment
from llmemb_utils.evidence.render import (
    cap_note,
    comparison_order,
    find_blocks,
    markdown,
    model_label,
    seeds_cell,
)
from llmemb_utils.evidence.selection import chosen_variant, validation_ranking
from llmemb_utils.evidence.user_lists import UserLists, section_measures
from llmemb_utils.evidence.verify import verify_experiment
from llmemb_utils.io import read_json
from llmemb_utils.llm.embed import save_item_embeddings
from llmemb_utils.srs.run import train
from llmemb_utils.srs.synthetic import prepare_synthetic, successor_data

pytestmark = pytest.mark.usefixtures("single_thread")
TINY = {"srs.hidden": 16, "srs.blocks": 1, "srs.max_length": 8, "srs.batch_size": 64,
        "srs.learning_rate": 0.005, "srs.epochs": 2, "rat.embeddings": "raw", "rat.alpha": 0.0}
SEEDS = (1, 2)
RANKS = {"metrics.json": "ranks.npz", "metrics_sampled.json": "ranks_sampled.npz"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, single_thread: None) -> list[Path]:
    """ID-SASRec and LLMEmb-SASRec (a random item table, no alignment), two seeds each, two
    epochs: the four run folders."""
    folder = tmp_path_factory.mktemp("evidence")
    dataset = prepare_synthetic(successor_data(num_users=150, num_items=130, length=10),
                                folder / "data")
    table = folder / "raw.npy"
    save_item_embeddings(np.random.default_rng(0).normal(size=(dataset.num_items, 16)), table,
                         {"model": "synthetic"}, dataset)
    folders = []
    with pytest.MonkeyPatch.context() as patch:  # as from a commit, whatever the tree holds:
        committed = {**environment(), "kit_modified": False}  # the views mark uncommitted runs
        patch.setattr("llmemb_utils.srs.run.environment", lambda: committed)
        for encoder in ("id", "llmemb"):
            for seed in SEEDS:
                out = folder / f"{encoder}-{seed}"
                config = load_config(None, **TINY, seed=seed, **{"rat.llm_emb": str(table)})
                train(config, dataset, out, encoder=encoder, device="cpu")
                folders.append(out)
    return folders


def test_rank_files_reproduce_every_metrics_file_exactly(runs: list[Path]) -> None:
    for run in runs:
        for metrics_name, ranks_name in RANKS.items():
            metrics = read_json(run / metrics_name)
            ranks = UserRanks.load(run / ranks_name)
            recomputed = ranks.summary()
            assert recomputed == {key: metrics[key] for key in recomputed}
            assert set(recomputed["groups"]) == set(metrics["groups"])
            assert list(ranks.users) == list(range(1, metrics["counts"]["users"] + 1))
        assert read_json(run / "metrics.json")["environment"]["threads"] == 1


def test_report_writes_records_renders_and_checks_a_document(
        runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    assert main(["report", "--write", str(results / "tiny"), *map(str, runs)]) == 0
    experiment = Experiment(results / "tiny")
    assert "`llmemb report --write" in (results / "tiny" / "README.md").read_text()
    records = experiment.records()
    assert sorted(records) == [("sasrec", e, s) for e in ("id", "llmemb") for s in SEEDS]
    _, record = records["sasrec", "llmemb", 2]
    assert (record["epochs_run"], record["epoch_cap"]) == (2, 2)
    assert record["best_epoch"] in (1, 2) and record["cpu_seconds"] > 0
    assert record["metrics"] == {"full": "metrics.json", "sampled": "metrics_sampled.json"}
    assert record["settings_hash"] == settings_hash(records["sasrec", "llmemb", 1][1]["settings"])
    assert record["environment"]["torch"]

    rows = experiment.comparisons()
    assert {(r["model"], r["baseline"], r["protocol"]) for r in rows} == {
        ("llmemb", "id", "full"), ("llmemb", "id", "sampled")}
    overall = next(r for r in rows if (r["protocol"], r["group"], r["metric"])
                   == ("full", "overall", "NDCG@10"))
    assert (overall["seeds"], overall["users"]) == ([1, 2], 150)
    means = {encoder: np.mean([read_json(run / "metrics.json")["overall"]["NDCG@10"]
                               for run in runs if run.name.startswith(encoder)])
             for encoder in ("id", "llmemb")}
    assert overall["diff"] == pytest.approx(means["llmemb"] - means["id"], abs=1e-12)
    assert overall["ratio"] == pytest.approx(means["llmemb"] / means["id"], rel=1e-12)
    low, high = overall["diff_ci95"]
    assert low <= overall["diff"] <= high
    assert overall["excludes_no_difference"] == (low > 0 or high < 0)

    document = tmp_path / "README.md"
    document.write_text("# Results\n\n<!-- results:tiny/table protocol=full -->\n"
                        "<!-- /results:tiny/table -->\n\nText between.\n\n"
                        "<!-- results:tiny/comparison value=diff -->\n"
                        "<!-- /results:tiny/comparison -->\n\n"
                        "<!-- results:tiny/runs -->\n<!-- /results:tiny/runs -->\n"
                        "<!-- results:tiny/headline -->\n<!-- /results:tiny/headline -->\n")
    assert main(["report", "--render", str(document)]) == 0
    text = document.read_text()
    assert "| llmemb-sasrec, full (2) |" in text and "Text between." in text
    assert f"| sasrec | llmemb vs id | 1, 2 | {overall['diff']:+.4f}" in text
    ratio = f"{overall['ratio']:.2f}x [{overall['ratio_ci95'][0]:.2f}, "
    assert f"| sasrec | ID (2) | {means['id']:.4f} ± " in text
    assert f"| sasrec | LLMEmb / ID (seeds 1, 2) | {ratio}" in text
    users = next(line for line in text.splitlines() if line.startswith("| | test users |"))
    bins = markdown("tiny/bins", results).splitlines()
    assert sum(map(int, bins[2].strip(" |").split(" | ")[1:])) == 150  # every user in one bin
    id_runs = [read_json(run / "metrics.json") for run in runs if run.name.startswith("id")]
    top_bin = bins[0].strip(" |").split(" | ")[-1].strip("`")
    top_mean = np.mean([m["groups"]["item_pop_bins"][top_bin]["NDCG@10"] for m in id_runs])
    assert bins[3].startswith("| sasrec | ID (2) | ") and f"{top_mean:.4f} ± " in bins[3]
    overall_users, tail_users, head_users = map(int, users.strip(" |").split(" | ")[1:])
    assert overall_users == 150 and tail_users + head_users == 150 and tail_users > 0
    per_epoch = record["cpu_seconds"] / record["epochs_run"]
    assert f"| {record['cpu_seconds']:.0f} | {per_epoch:.1f} | " in next(
        line for line in text.splitlines() if line.startswith("| llmemb-sasrec-seed2 |"))
    assert main(["report", "--check", str(document)]) == 0

    cell = f"{means['id']:.4f} ± "
    assert cell in text
    document.write_text(text.replace(cell, f"{means['id'] + 0.1:.4f} ± ", 1))
    capsys.readouterr()
    assert main(["report", "--check", str(document)]) == 1
    error = capsys.readouterr().err
    assert f"{document}:3: results:tiny/table differs from the records" in error
    assert "+| id-sasrec, full (2) | " in error and "results:tiny/comparison" not in error
    assert markdown("tiny/comparison", results, value="diff") in text  # for notebook cells


def test_comparison_rows_list_sasrec_first_then_llmemb_then_variants_against_id_first() -> None:
    rows = [("gru4rec", "llmemb", "id"), ("sasrec", "llmemb-v", "llmemb"),
            ("bert4rec", "llmemb-v", "id"), ("sasrec", "llmemb", "id"),
            ("sasrec", "llmemb-v", "id"), ("bert4rec", "llmemb", "id")]
    assert sorted(rows, key=lambda row: comparison_order(*row)) == [
        ("sasrec", "llmemb", "id"), ("sasrec", "llmemb-v", "id"),
        ("sasrec", "llmemb-v", "llmemb"), ("bert4rec", "llmemb", "id"),
        ("bert4rec", "llmemb-v", "id"), ("gru4rec", "llmemb", "id")]


def test_a_block_of_a_missing_experiment_is_named(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    document = tmp_path / "README.md"
    document.write_text("<!-- results:absent/table -->\n<!-- /results:absent/table -->\n")
    assert main(["report", "--check", str(document)]) == 2
    assert f"{document}:1: results:absent/table: {tmp_path / 'results' / 'absent'}: no run " \
        "records" in capsys.readouterr().err


def test_a_run_without_rank_files_is_refused_by_name(runs: list[Path], tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    for path in [*runs[0].glob("*.json"), runs[0] / "item_table.npy"]:
        (old / path.name).write_bytes(path.read_bytes())
    with pytest.raises(FileNotFoundError, match=f"{old / 'ranks.npz'}: missing; re-evaluate"):
        write_experiment(tmp_path / "results" / "x", [old], "test")
    (old / "item_table.npy").unlink()
    with pytest.raises(FileNotFoundError, match=f"{old / 'item_table.npy'}: missing"):
        write_experiment(tmp_path / "results" / "x", [old], "test")
    assert not (tmp_path / "results" / "x").exists()  # nothing half-written


def test_a_document_without_blocks_passes_and_an_unclosed_block_is_named(tmp_path: Path) -> None:
    document = tmp_path / "README.md"
    document.write_text("# Nothing generated here\n")
    assert main(["report", "--check", str(document)]) == 0
    with pytest.raises(ValueError, match="README.md:2: results:x/table has no closing"):
        find_blocks("text\n<!-- results:x/table -->\n", "README.md")


def test_single_runs_are_labelled_instead_of_a_zero_spread() -> None:
    assert seeds_cell(0.03614, 0.0, 1) == "0.0361 (single run)"
    assert seeds_cell(0.03614, 0.002, 3) == "0.0361 ± 0.0020"


def _hit_at_10(greater: int, ties: int) -> float:
    """The chance that the target lands in the top 10 when its ``ties`` equals are ordered at
    random: the share of its equally likely 0-based ranks greater .. greater + ties below 10."""
    return sum(rank < 10 for rank in range(greater, greater + ties + 1)) / (ties + 1)


@pytest.mark.parametrize("group", ["item_tail", "overall"])
def test_comparison_rows_use_the_bootstrap_on_the_users_of_the_group(runs: list[Path],
                                                                     group: str) -> None:
    """A row of a comparison against a bootstrap written out here: HR@10 per user of the
    group from the raw rank counts, 200 resamples of those users (each bringing both seeds of
    both models), the 2.5 and 97.5 percentiles of the resampled mean differences."""
    ranks = {(run.name.split("-")[0], int(run.name.split("-")[1])):
             UserRanks.load(run / "ranks.npz") for run in runs}
    row = next(r for r in compare_runs({("sasrec", *key): {"full": value}
                                        for key, value in ranks.items()},
                                       replicates=200, seed=3)
               if (r["model"], r["group"], r["metric"]) == ("llmemb", group, "HR@10"))
    in_group = ranks["id", 1].groups.get(group, np.ones(len(ranks["id", 1].users), dtype=bool))
    members = np.flatnonzero(in_group)
    hits = {model: np.array([[_hit_at_10(ranks[model, seed].greater[user],
                                         ranks[model, seed].ties[user]) for user in members]
                             for seed in SEEDS]) for model in ("id", "llmemb")}
    gap = (hits["llmemb"] - hits["id"]).sum(axis=0)  # per user, summed over the seeds
    draws = np.random.default_rng(3).integers(0, len(members), size=(200, len(members)))
    resampled = [sum(gap[user] for user in draw) / (len(SEEDS) * len(members)) for draw in draws]
    assert row["users"] == len(members) > 0
    assert row["model_mean"] == pytest.approx(hits["llmemb"].mean(), abs=1e-12)
    assert row["baseline_mean"] == pytest.approx(hits["id"].mean(), abs=1e-12)
    assert row["diff"] == pytest.approx(hits["llmemb"].mean() - hits["id"].mean(), abs=1e-12)
    assert row["diff_ci95"] == pytest.approx(np.percentile(resampled, [2.5, 97.5]), abs=1e-12)
    assert row["ratio"] == pytest.approx(hits["llmemb"].sum() / hits["id"].sum(), abs=1e-12)


def test_a_measurement_beside_the_runs_survives_a_rewrite_and_renders(
        runs: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "results" / "tiny"
    write_experiment(target, runs, "test")
    records = {"label": "records (AMD EPYC, 2 threads)",
               "scores": {"id": {"overall": {"NDCG@10": 0.5}},
                          "llmemb": {"overall": {"NDCG@10": 0.25}}}}
    scores = {"avx2, 2 threads": {"id": {"overall": {"NDCG@10": 0.5}},
                                  "llmemb": {"overall": {"NDCG@10": 0.25}}},
              "avx2, 1 thread": {"id": {"overall": {"NDCG@10": 0.375}},
                                 "llmemb": {"overall": {"NDCG@10": 0.3125}}}}
    band = {"id": {"overall": {"NDCG@10": 0.125}}, "llmemb": {"overall": {"NDCG@10": 0.0625}}}
    (target / "cpu_band.json").write_text(json.dumps(
        {"settings": {"protocol": "full", "reference": "avx2, 2 threads"}, "scores": scores,
         "records": records,
         "band": band, "cpu": {"avx2, 2 threads": {"model": "AMD EPYC"}},
         "reference_equals_records": True}))
    write_experiment(target, runs[:2], "test")  # rewritten with fewer runs
    assert len(Experiment(target).records()) == 2
    assert markdown("tiny/band", tmp_path / "results").splitlines() == [
        "| seed-42 SASRec pair trained with | id overall | llmemb overall |",
        "|---|---|---|",
        "| records (AMD EPYC, 2 threads) | 0.5000 | 0.2500 |",
        "| avx2, 2 threads | 0.5000 | 0.2500 |",
        "| avx2, 1 thread | 0.3750 | 0.3125 |",
        "| largest difference | 0.1250 | 0.0625 |",
        "",
        "Test NDCG@10, full ranking, demo budget; the largest difference is from the records' "
        "own numbers. \"avx2, 2 threads\" is how the records' seed-42 runs were trained; on "
        "the CPU of this measurement (AMD EPYC) it reproduces them exactly."]


def test_added_runs_give_the_records_and_comparisons_of_writing_them_all_at_once(
        runs: list[Path], tmp_path: Path) -> None:
    """``--add`` needs only the new run folders: the earlier records are kept, and the
    comparisons equal those of one ``--write`` of every folder."""
    whole, added = tmp_path / "results" / "whole", tmp_path / "results" / "added"
    write_experiment(whole, runs, "write all")
    copies = []
    for run in runs[:3]:  # ID seeds 1 and 2, LLMEmb seed 1, from folders removed afterwards
        copies.append(tmp_path / "gone" / run.name)
        copies[-1].parent.mkdir(exist_ok=True)
        shutil.copytree(run, copies[-1])
    write_experiment(added, copies, "write three")
    shutil.rmtree(tmp_path / "gone")
    alone = read_json(added / "comparisons.json")
    assert main(["report", "--add", str(added), str(runs[3])]) == 0

    assert read_json(added / "comparisons.json") == read_json(whole / "comparisons.json")
    assert read_json(added / "comparisons.json") != alone  # the new seed pairs in
    for name in ("id-sasrec-seed1", "llmemb-sasrec-seed2"):
        for file in ("metrics.json", "ranks.npz"):
            assert (added / "runs" / name / file).read_bytes() == (
                whole / "runs" / name / file).read_bytes()
    kept, rewritten = (read_json(folder / "runs" / "id-sasrec-seed1" / "run.json")
                       for folder in (added, whole))
    assert kept.pop("source").endswith("gone/id-1") and rewritten.pop("source") != kept
    assert kept == rewritten  # the kept record still names the folder it was written from
    assert (added / "README.md").read_text().splitlines() == [
        "Run records written by `write three`.",
        f"The records of 1 run(s) added by `llmemb report --add {added} {runs[3]}`."]


def test_adding_a_recorded_run_or_to_no_records_is_refused_and_changes_nothing(
        runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "results" / "tiny"
    write_experiment(target, runs[:2], "test")
    before = {path: path.read_bytes() for path in target.rglob("*") if path.is_file()}
    with pytest.raises(ValueError, match=f"{runs[1]}: {target / 'runs' / 'id-sasrec-seed2'} "
                                         "is already recorded"):
        write_experiment(target, [runs[2], runs[1]], "again", add=True)
    assert {path: path.read_bytes() for path in target.rglob("*") if path.is_file()} == before
    assert not list(target.parent.glob(".tiny.*"))  # no staging folder left behind
    with pytest.raises(FileNotFoundError, match="no run records"):
        write_experiment(tmp_path / "results" / "absent", runs[:1], "test", add=True)
    capsys.readouterr()
    assert main(["report", "--write", str(target), "--add", str(target), str(runs[2])]) == 2
    assert "--write and --add: give one" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in target.rglob("*") if path.is_file()} == before


def test_a_comparison_reads_as_a_tie_unless_its_interval_excludes_no_difference() -> None:
    row = {"model": "llmemb", "baseline": "id", "diff": 0.01, "diff_ci95": [-0.002, 0.02],
           "ratio": 1.25, "ratio_ci95": [0.95, 1.6], "excludes_no_difference": False}
    assert (verdict(row), ratio_text(row)) == ("tie", "1.25x [0.95, 1.60]")
    shifted = {**row, "diff": -0.01, "diff_ci95": [-0.02, -0.004], "ratio": 0.8,
               "ratio_ci95": None, "excludes_no_difference": True}
    assert verdict(shifted) == "llmemb worse"
    assert verdict({**shifted, "diff": 0.01, "diff_ci95": [0.004, 0.02]}) == "llmemb better"
    assert ratio_text(shifted) == "0.80x (difference -0.0100 [-0.0200, -0.0040])"
    assert ratio_text({**row, "ratio": None}) == "id scores 0"


@pytest.mark.parametrize(("best", "ran", "converged", "note"), [
    (200, 200, False, ", still improving"),
    (165, 200, False, ", cap reached within patience"),  # 35 epochs without improvement < 40
    (150, 200, True, ""),  # the patience rule ended it at the cap
    (136, 176, True, ""),
])
def test_the_runs_view_says_when_the_cap_ended_a_run(best: int, ran: int, converged: bool,
                                                      note: str) -> None:
    record = {"best_epoch": best, "epochs_run": ran, "epoch_cap": 200,
              "cap_reached_while_improving": best == ran == 200}
    assert cap_note(record, {"converged": converged}) == note


def brute_force_uniformity(vectors: np.ndarray) -> float:
    """log of the mean exp(-2 |x_i - x_j|²) over pairs i < j of unit vectors, pair by pair."""
    unit = [v / np.linalg.norm(v) for v in np.asarray(vectors, dtype=np.float64)]
    kernels = [np.exp(-2.0 * np.sum((unit[i] - unit[j]) ** 2))
               for i in range(len(unit)) for j in range(i + 1, len(unit))]
    return float(np.log(np.mean(kernels)))


def test_a_record_holds_its_best_epoch_validation_and_its_item_table_uniformity(
        runs: list[Path], tmp_path: Path) -> None:
    write_experiment(tmp_path / "results" / "tiny", runs, "test")
    records = Experiment(tmp_path / "results" / "tiny").records()
    for run in runs:
        _, record = records["sasrec", "id" if run.name.startswith("id") else "llmemb",
                            int(run.name.rsplit("-", 1)[1])]
        log = read_json(run / "train_log.json")
        assert record["validation"] == log[record["best_epoch"] - 1]["valid"]
        assert record["alignment"] is None  # rat.alpha 0: nothing aligned
        table = np.load(run / "item_table.npy")[1:]
        dataset = PreparedDataset.load(read_json(run / "metrics.json")["inputs"]["data"]["path"])
        head = dataset.item_popularity[1:] >= dataset.thresholds.item_head_min
        assert 2 <= head.sum() <= len(head) - 2
        measured = record["item_table_uniformity"]
        assert measured["overall"] == pytest.approx(brute_force_uniformity(table), abs=1e-9)
        assert measured["item_head"] == pytest.approx(brute_force_uniformity(table[head]),
                                                      abs=1e-9)
        assert measured["item_tail"] == pytest.approx(brute_force_uniformity(table[~head]),
                                                      abs=1e-9)


def test_selection_and_uniformity_views_show_what_the_records_hold(
        runs: list[Path], tmp_path: Path) -> None:
    write_experiment(tmp_path / "results" / "tiny", runs, "test")
    records = Experiment(tmp_path / "results" / "tiny").records()
    folder, record = records["sasrec", "llmemb", 2]
    test = read_json(folder / "metrics.json")
    selection = markdown("tiny/selection", tmp_path / "results").splitlines()
    assert selection[0] == ("| run | best epoch | validation NDCG@10 | test overall | "
                            "test item_tail | test item_head |")
    assert (f"| llmemb-sasrec-seed2 | {record['best_epoch']} | "
            f"{record['validation']['NDCG@10']:.4f} | {test['overall']['NDCG@10']:.4f} | "
            f"{test['groups']['item_tail']['NDCG@10']:.4f} | "
            f"{test['groups']['item_head']['NDCG@10']:.4f} |") in selection
    tails = [records["sasrec", "id", seed][1]["item_table_uniformity"]["item_tail"]
             for seed in SEEDS]
    uniformity = markdown("tiny/uniformity", tmp_path / "results").splitlines()
    row = next(line for line in uniformity if line.startswith("| sasrec | ID (2) |"))
    assert row.split(" | ")[3] == f"{np.mean(tails):.2f} ± {np.std(tails, ddof=1):.2f}"
    assert (markdown("tiny/headline", tmp_path / "results", models="llmemb")
            == markdown("tiny/headline", tmp_path / "results"))


@pytest.mark.parametrize(("model", "label"), [
    ("id", "ID"), ("llmemb", "LLMEmb"), ("llmemb-scft-init", "LLMEmb scft-init"),
    ("llmemb-no-align", "LLMEmb no-align")])
def test_models_are_labelled_by_their_variant_or_ablation(model: str, label: str) -> None:
    assert model_label(model) == label


def test_models_are_ranked_by_their_validation_scores_only(runs: list[Path],
                                                          tmp_path: Path) -> None:
    write_experiment(tmp_path / "results" / "tiny", runs, "test")
    ranking = validation_ranking(Experiment(tmp_path / "results" / "tiny"))
    expected = {encoder: np.mean([read_json(run / "train_log.json")[
        read_json(run / "metrics.json")["inputs"]["checkpoint"]["epoch"] - 1]["valid"]["NDCG@10"]
        for run in runs if run.name.startswith(encoder)]) for encoder in ("id", "llmemb")}
    assert list(ranking["model"]) == sorted(expected, key=expected.get, reverse=True)
    assert dict(zip(ranking["model"], ranking["validation"], strict=True)) == pytest.approx(
        expected)
    assert list(ranking["seeds"]) == [2, 2]


def test_the_chosen_variant_is_the_best_validated_run_of_study_variants_only(
        runs: list[Path], tmp_path: Path) -> None:
    folder = tmp_path / "results" / "tiny"
    write_experiment(folder, runs, "test")
    with pytest.raises(ValueError, match="no variant"):
        chosen_variant(Experiment(folder))
    # seed 1 of each model becomes a variant, seed 2 of each an ablation that validates best
    for path in sorted((folder / "runs").glob("*/run.json")):
        record = read_json(path)
        variant = record["seed"] == 1
        name = f"v-{record['model']}" if variant else f"no-{record['model']}"
        record["model"] = f"llmemb-{name}"
        record["settings"]["rat"]["variant" if variant else "ablation"] = name
        record["validation"]["NDCG@10"] = {"v-id": 0.2, "v-llmemb": 0.3}.get(name, 0.9)
        path.write_text(json.dumps(record))
    assert chosen_variant(Experiment(folder)) == "llmemb-v-llmemb"


def test_compare_computes_the_comparisons_again_as_a_fresh_write_does(
        runs: list[Path], tmp_path: Path) -> None:
    fresh, stale = tmp_path / "fresh", tmp_path / "stale"
    write_experiment(fresh, runs, "test")
    write_experiment(stale, runs, "test", replicates=50, seed=5)
    assert main(["report", "--compare", str(stale)]) == 0
    assert read_json(stale / "comparisons.json") == read_json(fresh / "comparisons.json")
    assert (stale / "README.md").read_text().splitlines()[-1] == (
        f"Comparisons computed again by `llmemb report --compare {stale}`.")


def test_uniformity_by_model_summarises_each_group_over_the_seeds_that_hold_it() -> None:
    from llmemb_utils.evidence.table_geometry import uniformity_by_model

    records = [
        {"backbone": "sasrec", "model": "id",
         "item_table_uniformity": {"overall": -3.0, "item_tail": -2.0, "item_head": -4.0}},
        {"backbone": "sasrec", "model": "id",
         "item_table_uniformity": {"overall": -3.2, "item_tail": -2.6, "item_head": None}},
        {"backbone": "sasrec", "model": "llmemb", "item_table_uniformity": None},  # older record
        {"backbone": "sasrec", "model": "llmemb",
         "item_table_uniformity": {"overall": -1.5, "item_tail": -1.0, "item_head": -2.5}},
    ]
    summary = uniformity_by_model(records).set_index(["model", "group"])
    assert summary.loc[("id", "overall"), "mean"] == pytest.approx(-3.1)
    assert summary.loc[("id", "overall"), "std"] == pytest.approx(0.2 / np.sqrt(2))
    assert summary.loc[("id", "item_tail"), "std"] == pytest.approx(0.6 / np.sqrt(2))
    assert summary.loc[("id", "item_head")].to_dict() == {"backbone": "sasrec", "mean": -4.0,
                                                          "std": 0.0, "seeds": 1}
    assert summary.loc[("llmemb", "item_tail"), "seeds"] == 1
    assert len(summary) == 6


def _uniformity_records(tail_by_model_and_seed: dict[tuple[str, int], float]
                        ) -> list[dict[str, object]]:
    return [{"backbone": "sasrec", "model": model, "seed": seed,
             "item_table_uniformity": {"overall": -3.0, "item_tail": tail, "item_head": -3.5},
             "environment": {"kit_modified": False}}
            for (model, seed), tail in tail_by_model_and_seed.items()]


def test_uniformity_gap_pairs_seeds_and_gives_a_student_t_interval() -> None:
    from llmemb_utils.evidence.table_geometry import uniformity_gap

    records = _uniformity_records({("id", 42): -3.0, ("id", 43): -3.1, ("id", 44): -2.9,
                                   ("llmemb", 42): -2.9, ("llmemb", 43): -2.9,
                                   ("llmemb", 44): -2.6, ("llmemb", 45): -9.0})  # 45 unpaired
    gap = uniformity_gap(records, "sasrec", "llmemb", "id", "item_tail")
    # differences 0.1, 0.2, 0.3: mean 0.2, std 0.1; t(0.975, 2 df) = 4.302653 (tables)
    half = 4.302653 * 0.1 / np.sqrt(3)
    assert gap["seeds"] == [42, 43, 44]
    assert gap["diff"] == pytest.approx(0.2)
    assert gap["ci95"] == pytest.approx((0.2 - half, 0.2 + half), abs=1e-6)
    single = uniformity_gap(records[:1] + records[3:4], "sasrec", "llmemb", "id", "item_tail")
    assert single["ci95"] is None and single["diff"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="no seed with a recorded item_tail uniformity"):
        uniformity_gap(records, "gru4rec", "llmemb", "id", "item_tail")


@pytest.mark.parametrize(("llmemb_tails", "expected"), [
    ((-2.6, -2.6, -2.3), "**less spread**, +0.50 [+0.25, +0.75], 3 seeds"),
    ((-3.6, -3.6, -3.3), "**more spread**, -0.50 [-0.75, -0.25], 3 seeds"),
    ((-2.9, -2.9, -2.6), "**tie**, +0.20 [-0.05, +0.45], 3 seeds"),
])
def test_the_uniformity_verdict_names_the_side_its_interval_clears(
        llmemb_tails: tuple[float, ...], expected: str, tmp_path: Path) -> None:
    ids = {("id", 42): -3.0, ("id", 43): -3.1, ("id", 44): -2.9}
    tails = zip((42, 43, 44), llmemb_tails, strict=True)
    records = _uniformity_records(ids | {("llmemb", seed): tail for seed, tail in tails})
    for record in records:
        folder = tmp_path / "results" / "tiny" / "runs" / f"{record['model']}-{record['seed']}"
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps(record))
    # the ID tails are -3.0, -3.1, -2.9: differences 0.4, 0.5, 0.6, their negatives, or 0.1,
    # 0.2, 0.3; std 0.1, half-width 4.302653 (t, 2 df) * 0.1 / sqrt(3) = 0.248
    assert markdown("tiny/uniformity_verdict", tmp_path / "results") == expected
    assert markdown("tiny/uniformity_verdict", tmp_path / "results", group="item_head") == \
        "**tie**, +0.00 [+0.00, +0.00], 3 seeds"


def test_the_demo_time_renders_each_stage_and_says_whether_the_machine_was_idle(
        runs: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "results" / "tiny"
    write_experiment(target, runs[:2], "test")
    (target / "demo_time.json").write_text(json.dumps(
        {"command": "python benchmarks/demo_time.py --config configs/x.yaml",
         "host": {"cpu": {"model": "AMD EPYC"}, "cores": 2},
         "load_average": {"before": [0.25, 1.0, 1.5], "after": [2.0, 2.0, 2.0]},
         "loaded": False, "config": "configs/x.yaml", "runs": 2,
         "wall_seconds": {"total": 905.4, "prepare": 3.2, "scft": 400.0,
                          "recommender_epochs": 300.0, "rest": 202.2},
         "cpu_seconds": 1500.0}))
    assert markdown("tiny/demo_time", tmp_path / "results").splitlines() == [
        "| config | prepare s | SCFT s | LLM table, PCA, evaluation s | recommender epochs s "
        "| total | CPU s |",
        "|---|---|---|---|---|---|---|",
        "| `configs/x.yaml` | 3 | 400 | 202 | 300 | 15 min 05 s | 1500 |",
        "",
        "`python benchmarks/demo_time.py --config configs/x.yaml` on AMD EPYC (2 cores), 2 "
        "recommender runs; timed on an idle machine (1-minute load average 0.25 at the start)."]


def test_each_full_ranking_run_keeps_lists_that_give_its_beyond_section_exactly(
        runs: list[Path]) -> None:
    for run in runs:
        shown = UserLists.load(run / "beyond.npz")
        assert shown.summary() == section_measures(read_json(run / "metrics.json"))
        assert shown.lists.shape == (150, 10) and shown.users.tolist() == list(range(1, 151))
        assert not (run / "beyond_sampled.npz").exists()  # sampled negatives show no list


def _tamper_lists(path: Path, change: Callable[[UserLists], None]) -> None:
    shown = UserLists.load(path)
    change(shown)
    shown.save(path)


def test_records_keep_the_lists_and_verify_names_a_tampered_value(runs: list[Path],
                                                                  tmp_path: Path) -> None:
    target = tmp_path / "results" / "tiny"
    write_experiment(target, runs, "test", replicates=200)
    rows = read_json(target / "comparisons.json")
    assert {(r["model"], r["baseline"], r["group"], r["metric"]) for r in rows
            if not r["metric"].startswith(("NDCG", "HR"))} == {
        ("llmemb", "id", "overall", metric)
        for metric in ("coverage@10", "tail_share@10", "novelty@10")}  # no ruler: no diversity
    assert verify_experiment(target) == []
    run = target / "runs" / "llmemb-sasrec-seed1"
    recorded = read_json(run / "metrics.json")["beyond_accuracy"]
    _tamper_lists(run / "beyond.npz", lambda shown: shown.measures["novelty@10"].__iadd__(1.0))
    problems = verify_experiment(target)
    assert problems[0] == (f"{run / 'metrics.json'}: beyond_accuracy.novelty@10 recorded "
                           f"{recorded['novelty@10']:.12g}, lists give "
                           f"{recorded['novelty@10'] + 1:.12g}")
    compared = f"{target / 'comparisons.json'}: sasrec llmemb vs id, full overall novelty@10: "
    assert all(problem.startswith(compared) for problem in problems[1:])
    assert any(problem.startswith(f"{compared}model_mean") for problem in problems[1:])

    def show_an_unshown_item(shown: UserLists) -> None:
        shown.lists[0, 0] = np.setdiff1d(np.arange(1, shown.num_items + 1), shown.lists)[0]

    shutil.copyfile(runs[2] / "beyond.npz", run / "beyond.npz")
    _tamper_lists(run / "beyond.npz", show_an_unshown_item)
    problems = verify_experiment(target)
    assert problems[0].startswith(f"{run / 'metrics.json'}: beyond_accuracy.coverage@10 "
                                  f"recorded {recorded['coverage@10']:.12g}, lists give ")
    assert any("overall coverage@10: model_mean" in problem for problem in problems[1:])


def test_a_run_whose_lists_disagree_with_its_metrics_is_refused(runs: list[Path],
                                                                tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(runs[0], copy)
    _tamper_lists(copy / "beyond.npz", lambda shown: shown.measures["tail_share@10"].fill(0.5))
    with pytest.raises(ValueError, match=f"{copy / 'beyond.npz'} does not reproduce the "
                                         f"beyond_accuracy of {copy / 'metrics.json'}"):
        write_experiment(tmp_path / "results" / "x", [copy, *runs[1:]], "test")
    assert not (tmp_path / "results" / "x").exists()


def test_evaluate_writes_the_lists_of_a_run_evaluated_before_they_were_kept(
        runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old"
    shutil.copytree(runs[0], old)
    (old / "beyond.npz").unlink()
    write_experiment(tmp_path / "results" / "before", [old, runs[2]], "test", replicates=50)
    assert {r["metric"] for r in read_json(tmp_path / "results" / "before" / "comparisons.json")
            } == {"NDCG@10", "HR@10"}  # a run without lists: no beyond-accuracy rows
    trained_in = {**read_json(old / "metrics.json")["environment"], "kit_commit": "0" * 40}
    metrics = read_json(old / "metrics.json")
    (old / "metrics.json").write_text(json.dumps({**metrics, "environment": trained_in}))
    assert main(["evaluate", "--run", str(old), "--device", "cpu"]) == 0
    capsys.readouterr()
    assert read_json(old / "metrics.json")["training_environment"] == trained_in  # kept
    assert main(["evaluate", "--run", str(old), "--device", "cpu"]) == 0  # and kept again
    capsys.readouterr()
    assert read_json(old / "metrics.json")["training_environment"] == trained_in
    kept, original = UserLists.load(old / "beyond.npz"), UserLists.load(runs[0] / "beyond.npz")
    np.testing.assert_array_equal(kept.lists, original.lists)
    assert kept.summary() == original.summary() == section_measures(
        read_json(old / "metrics.json"))
