"""Per-user beyond-accuracy values of three users' top-10 lists, worked out by hand, the file
that keeps them, and the paired comparisons read from it: coverage's bootstrap against a
resample written out here, the rows each baseline gets, and none from runs without lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.data.thresholds import Thresholds
from llmemb_utils.eval.beyond import beyond_accuracy, per_user_measures
from llmemb_utils.evidence.comparisons import compare_runs
from llmemb_utils.evidence.ranks import UserRanks
from llmemb_utils.evidence.user_lists import UserLists, lists_filename, section_measures
from llmemb_utils.llm.item_table import LLMTable

# 14 items. Training interactions (all but each user's last two items): item 1 16, item 2 8,
# item 3 4, item 4 2, items 5 and 6 1, items 7..14 none; 32 in all. Head items (>= 3): 1, 2, 3.
SEQUENCES = (np.array([1] * 10 + [2] * 6 + [13, 14]),
             np.array([1] * 6 + [2] * 2 + [3] * 4 + [13, 14]),
             np.array([4, 4, 5, 6, 13, 14]))
LISTS = np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                  [12, 11, 10, 9, 8, 7, 6, 5, 4, 3],
                  [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]])
# Items 1..6 point one way, 7..14 another at a right angle (lengths differ: cosines do not
# see them): a list's pairs have cosine 1 within a side, 0 across.
RULER = np.array([[1.0, 0.0], [3.0, 0.0], [0.5, 0.0], [1.0, 0.0], [2.0, 0.0], [1.0, 0.0],
                  *([[0.0, 1.0]] * 4), *([[0.0, 5.0]] * 4)])
# Tail items in each list: 7 of 10 (4..10), 9 (12..4), 8 (4..11).
TAIL_SHARES = [0.7, 0.9, 0.8]
# -log2 p: item 1 1 bit, 2 2, 3 3, 4 4, 5 and 6 5, unseen items counted once 5.
NOVELTIES = [(1 + 2 + 3 + 4 + 5 * 6) / 10, (5 * 8 + 4 + 3) / 10, (1 + 2 + 4 + 5 * 7) / 10]
# Ordered pairs of cosine 1 among the 90 of a list with a items on one side, b on the other:
# a(a - 1) + b(b - 1); lists 1 and 2 hold 6 + 4, list 3 5 + 5.
DIVERSITIES = [1 - (30 + 12) / 90, 1 - (12 + 30) / 90, 1 - (20 + 20) / 90]


def hand_dataset() -> PreparedDataset:
    return PreparedDataset(path=Path("hand"), sequences=SEQUENCES, num_items=14,
                           thresholds=Thresholds(item_head_min=3, user_long_min=5),
                           stats={}, manifest={})


def test_the_hand_dataset_has_the_popularity_the_hand_values_use() -> None:
    assert hand_dataset().item_popularity.tolist() == [0, 16, 8, 4, 2, 1, 1] + [0] * 8


def test_each_users_values_are_the_ones_worked_out_by_hand() -> None:
    measures = per_user_measures(LISTS, hand_dataset(), RULER)
    assert set(measures) == {"tail_share@10", "novelty@10", "intra_list_diversity@10"}
    np.testing.assert_allclose(measures["tail_share@10"], TAIL_SHARES, rtol=1e-12)
    np.testing.assert_allclose(measures["novelty@10"], NOVELTIES, rtol=1e-12)
    np.testing.assert_allclose(measures["intra_list_diversity@10"], DIVERSITIES, rtol=1e-12)
    assert "intra_list_diversity@10" not in per_user_measures(LISTS, hand_dataset(), None)


def test_the_file_reproduces_the_metrics_section_exactly(tmp_path: Path) -> None:
    table = LLMTable(RULER, "raw", {"path": "raw.npy", "sha256": "abc", "manifest": {}})
    section = beyond_accuracy(LISTS, hand_dataset(), table)
    assert section["coverage@10"] == pytest.approx(12 / 14)  # items 13 and 14 never shown
    assert section["tail_share@10"] == pytest.approx(0.8)
    assert section["novelty@10"] == pytest.approx((4.0 + 4.7 + 4.2) / 3)
    assert section["intra_list_diversity@10"] == pytest.approx(np.mean(DIVERSITIES))
    path = tmp_path / lists_filename("metrics.json")
    UserLists.of_lists(LISTS, hand_dataset(), RULER).save(path)
    kept = UserLists.load(path)
    assert path.name == "beyond.npz"
    assert kept.users.tolist() == [1, 2, 3] and kept.num_items == 14
    np.testing.assert_array_equal(kept.lists, LISTS)
    assert kept.summary() == section_measures({"beyond_accuracy": section})  # exactly


def test_a_float32_ruler_gives_float64_values_that_the_file_reproduces_exactly(
        tmp_path: Path) -> None:
    """LLM tables are float32; the section and the file must average the same numbers."""
    ruler = np.random.default_rng(0).normal(size=(14, 64)).astype(np.float32)
    measures = per_user_measures(LISTS, hand_dataset(), ruler)
    assert {values.dtype for values in measures.values()} == {np.dtype(np.float64)}
    table = LLMTable(ruler, "raw", {"path": "raw.npy", "sha256": "abc", "manifest": {}})
    section = beyond_accuracy(LISTS, hand_dataset(), table)
    UserLists.of_lists(LISTS, hand_dataset(), ruler).save(tmp_path / "beyond.npz")
    assert UserLists.load(tmp_path / "beyond.npz").summary() == section_measures(
        {"beyond_accuracy": section})


def test_a_file_without_lists_or_with_a_short_array_is_named(tmp_path: Path) -> None:
    path = tmp_path / "beyond.npz"
    np.savez_compressed(path, users=np.arange(1, 4), num_items=14)
    with pytest.raises(ValueError, match=f"{path}: not a per-user lists file, missing"):
        UserLists.load(path)
    np.savez_compressed(path, users=np.arange(1, 4), num_items=14, lists=LISTS,
                        **{"novelty@10": np.zeros(2)})
    with pytest.raises(ValueError, match="disagree on the number of users"):
        UserLists.load(path)


def _ranks(users: int) -> UserRanks:
    """Rank counts of ``users`` test users whose groups all hold every user."""
    every = np.ones(users, dtype=bool)
    return UserRanks(np.arange(1, users + 1), np.arange(users) % 3, np.zeros(users, dtype=int),
                     {group: every for group in ("item_tail", "item_head", "user_short",
                                                 "user_long")})


def _lists(lists: list[list[int]], measures: dict[str, list[float]],
           num_items: int = 8) -> UserLists:
    return UserLists(np.arange(1, len(lists) + 1), np.array(lists), num_items,
                     {name: np.array(values) for name, values in measures.items()})


# Five users, lists of 3 out of 8 items, two seeds of two models.
SHOWN = {("llmemb", 1): [[1, 2, 3], [1, 2, 4], [5, 6, 7], [1, 3, 8], [2, 4, 6]],
         ("llmemb", 2): [[1, 2, 3], [4, 5, 6], [1, 2, 7], [1, 2, 3], [3, 4, 8]],
         ("id", 1): [[1, 2, 3], [1, 2, 3], [1, 2, 4], [1, 2, 3], [2, 3, 4]],
         ("id", 2): [[1, 2, 3], [1, 2, 4], [1, 3, 5], [1, 2, 3], [1, 2, 3]]}
TAIL = {("llmemb", 1): [0.1, 0.2, 0.9, 0.5, 0.4], ("llmemb", 2): [0.3, 0.6, 0.2, 0.1, 0.8],
        ("id", 1): [0.1, 0.1, 0.2, 0.0, 0.3], ("id", 2): [0.2, 0.0, 0.4, 0.1, 0.1]}


def _experiment(with_lists: set[tuple[str, int]]) -> tuple[dict, dict]:
    """Ranks and, for the runs in ``with_lists``, top-3 lists with a tail share and a
    diversity (left out for LLMEmb's seed 2, whose run had no ruler)."""
    ranks = {("sasrec", model, seed): {"full": _ranks(5), "sampled": _ranks(5)}
             for model, seed in SHOWN}
    lists = {("sasrec", model, seed): {"full": _lists(SHOWN[model, seed], {
        "tail_share@3": TAIL[model, seed],
        **({} if (model, seed) == ("llmemb", 2) else {"intra_list_diversity@3": [0.5] * 5})})}
        for model, seed in with_lists}
    return ranks, lists


@pytest.mark.parametrize(("model", "baseline"), [("llmemb", "id"), ("llmemb-no-scft", "llmemb")])
def test_coverage_is_bootstrapped_by_counting_the_items_of_the_drawn_users(
        model: str, baseline: str) -> None:
    """A row against a bootstrap written out here: 300 resamples of the 5 users (the draws
    every comparison on 5 users shares), the distinct items of the drawn users' lists counted
    per seed and model, and the 2.5 and 97.5 percentiles of the pooled ratio and difference;
    the raw-table ablation shows ID's lists, so against LLMEmb its differences are negative."""
    ranks, lists = _experiment(set(SHOWN))
    for seed in (1, 2):
        ranks["sasrec", "llmemb-no-scft", seed] = {"full": _ranks(5)}
        lists["sasrec", "llmemb-no-scft", seed] = {"full": _lists(SHOWN["id", seed], {})}
    shown = {**SHOWN, **{("llmemb-no-scft", seed): SHOWN["id", seed] for seed in (1, 2)}}
    rows = compare_runs(ranks, replicates=300, seed=7, lists=lists)
    row = next(r for r in rows if (r["model"], r["baseline"], r["metric"]) == (
        model, baseline, "coverage@3"))
    draws = np.random.default_rng(7).integers(0, 5, size=(300, 5))

    def covered(name: str, users: np.ndarray) -> list[int]:
        return [len({item for user in users for item in shown[name, seed][user]})
                for seed in (1, 2)]

    drawn = {name: np.array([sum(covered(name, draw)) for draw in draws])
             for name in (model, baseline)}
    everyone = {name: sum(covered(name, np.arange(5))) for name in (model, baseline)}
    assert sum(covered("llmemb", np.arange(5))) == 8 + 8 and sum(covered("id", np.arange(5))) \
        == 4 + 5
    assert (row["model_mean"], row["baseline_mean"]) == (
        pytest.approx(everyone[model] / 16), pytest.approx(everyone[baseline] / 16))
    assert row["ratio"] == pytest.approx(everyone[model] / everyone[baseline])
    assert row["diff"] == pytest.approx((everyone[model] - everyone[baseline]) / 16)
    assert row["ratio_ci95"] == pytest.approx(
        np.percentile(drawn[model] / drawn[baseline], [2.5, 97.5]), rel=1e-12)
    assert row["diff_ci95"] == pytest.approx(
        np.percentile((drawn[model] - drawn[baseline]) / 16, [2.5, 97.5]), rel=1e-12)
    assert (row["group"], row["protocol"], row["users"], row["replicates"], row["seeds"]) == (
        "overall", "full", 5, 300, [1, 2])


def test_a_mean_measure_is_compared_as_a_ratio_of_means_on_the_shared_resamples() -> None:
    ranks, lists = _experiment(set(SHOWN))
    rows = compare_runs(ranks, replicates=300, seed=7, lists=lists)
    row = next(r for r in rows if r["metric"] == "tail_share@3")
    model = np.array(TAIL["llmemb", 1]) + TAIL["llmemb", 2]  # per user, summed over seeds
    baseline = np.array(TAIL["id", 1]) + TAIL["id", 2]
    draws = np.random.default_rng(7).integers(0, 5, size=(300, 5))
    ratios = [model[draw].sum() / baseline[draw].sum() for draw in draws]
    assert row["model_mean"] == pytest.approx(model.sum() / 10)
    assert row["ratio"] == pytest.approx(model.sum() / baseline.sum())
    assert row["ratio_ci95"] == pytest.approx(np.percentile(ratios, [2.5, 97.5]), rel=1e-12)


def test_beyond_rows_follow_the_accuracy_pairs_overall_and_only_where_every_run_kept_lists(
        ) -> None:
    ranks, lists = _experiment(set(SHOWN))
    ranks.update({("sasrec", "llmemb-no-scft", seed): {"full": _ranks(5)} for seed in (1, 2)})
    lists.update({("sasrec", "llmemb-no-scft", seed): {"full": _lists(
        SHOWN["id", seed], {"tail_share@3": TAIL["id", seed]})} for seed in (1, 2)})
    beyond = {(r["model"], r["baseline"], r["metric"], r["group"], r["protocol"])
              for r in compare_runs(ranks, replicates=50, lists=lists)
              if r["metric"] in ("coverage@3", "tail_share@3", "intra_list_diversity@3")}
    pairs = {("llmemb", "id"), ("llmemb", "llmemb-no-scft"), ("llmemb-no-scft", "llmemb"),
             ("llmemb-no-scft", "id")}
    # Diversity: LLMEmb's seed 2 has none, the raw-table ablation none at all.
    assert beyond == {(model, baseline, metric, "overall", "full") for model, baseline in pairs
                      for metric in ("coverage@3", "tail_share@3")}
    # A seed without lists drops the pair's beyond rows, whichever side it is on.
    ranks, lists = _experiment(set(SHOWN) - {("id", 2)})
    assert not [r for r in compare_runs(ranks, replicates=50, lists=lists)
                if r["metric"] not in ("NDCG@10", "HR@10")]
    without = compare_runs(ranks, replicates=50)
    assert {r["metric"] for r in without} == {"NDCG@10", "HR@10"}


def test_lists_of_other_users_than_the_ranks_are_refused() -> None:
    ranks, lists = _experiment(set(SHOWN))
    shown = lists["sasrec", "id", 2]["full"]
    lists["sasrec", "id", 2]["full"] = UserLists(shown.users + 1, shown.lists, 8,
                                                 shown.measures)
    with pytest.raises(ValueError, match="'id', 2, 'full'.*different test users"):
        compare_runs(ranks, replicates=50, lists=lists)
