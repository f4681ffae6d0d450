"""Every paired comparison of an experiment: LLMEmb against the ID encoder on each backbone,
each LLMEmb ablation or variant against LLMEmb and against ID, LLMEmb and its variants against
the raw-table ablation, runs paired by seed, per protocol, group and metric
(``comparisons.json``); where the runs kept their top-K lists, also per beyond-accuracy
measure over all users."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

import numpy as np

from ..config import AblationName
from ..eval.beyond import coverage
from .bootstrap import REPLICATES, SEED, PairedEstimate, paired_estimates, resampled, totals_of
from .coverage_bootstrap import coverage_estimates, covered_items_of
from .ranks import UserRanks
from .user_lists import UserLists

GROUPS = ("overall", "item_tail", "item_head", "user_short", "user_long")
FIXED_GROUPS = ("item_tail_fixed", "item_head_fixed")  # where the data sets a fixed split
METRICS = ("NDCG@10", "HR@10")
ID, LLMEMB = "id", "llmemb"

RunKey = tuple[str, str, int]  # backbone, model (the encoder name), seed
ListsKey = tuple[str, str, int, str]  # a run's key and the protocol of its top-K lists
BEYOND_GROUP = "overall"  # the beyond-accuracy measures are compared over all test users


RAW_TABLE = f"{LLMEMB}-no-scft"  # the ablation that reads the LLM's raw table
ABLATION_MODELS = frozenset(f"{LLMEMB}-{name}" for name in get_args(AblationName))


def baselines_of(model: str) -> tuple[str, ...]:
    """What ``model`` is compared against: LLMEmb against ID; an ablation or variant against
    LLMEmb (what the change does to the method) and against ID (what it is worth); LLMEmb and
    each variant also against the raw table (what their SCFT table buys), where a study
    holds the ``no-scft`` ablation."""
    if model == ID:
        return ()
    if model == LLMEMB:
        return ID, RAW_TABLE
    return (LLMEMB, ID) if model in ABLATION_MODELS else (LLMEMB, ID, RAW_TABLE)


def compare_runs(runs: Mapping[RunKey, Mapping[str, UserRanks]],
                 replicates: int = REPLICATES, seed: int = SEED,
                 lists: Mapping[RunKey, Mapping[str, UserLists]] | None = None,
                 ) -> list[dict[str, Any]]:
    """One row per backbone, model, protocol, group and metric whose model and baseline share
    at least one seed; ``runs`` maps (backbone, model, seed) to its ranks by protocol. Where
    ``lists`` holds the top-K lists of every paired run under a protocol, the overall group
    gains a row per beyond-accuracy measure (``BEYOND_GROUP``)."""
    lists = lists or {}
    pending: list[Pending] = []
    covering: list[Covering] = []
    models = dict.fromkeys((b, m) for b, m, _ in runs)
    for backbone, model, baseline in ((b, m, base) for b, m in models
                                      for base in baselines_of(m)):
        seeds = sorted(s for b, m, s in runs if (b, m) == (backbone, model)
                       and (backbone, baseline, s) in runs)
        for protocol in _shared_protocols(runs, backbone, model, baseline, seeds):
            pairs = [(runs[backbone, model, s][protocol], runs[backbone, baseline, s][protocol])
                     for s in seeds]
            _check_same_users(pairs, f"{backbone} {model} vs {baseline} ({protocol})")
            common = {"backbone": backbone, "model": model, "baseline": baseline,
                      "protocol": protocol, "seeds": seeds, "replicates": replicates,
                      "bootstrap_seed": seed}
            pending.extend(_group_rows(pairs, common))
            model_keys = [(backbone, model, s, protocol) for s in seeds]
            baseline_keys = [(backbone, baseline, s, protocol) for s in seeds]
            shown = _paired_lists(lists, pairs, model_keys, baseline_keys)
            if shown:
                pending.extend(_measure_rows(shown, common))
                covering.append(_covering(shown, common, model_keys, baseline_keys))
    return _bootstrapped(pending, covering, lists, replicates, seed)


def _shared_protocols(runs: Mapping[RunKey, Mapping[str, UserRanks]], backbone: str,
                      model: str, baseline: str, seeds: list[int]) -> list[str]:
    if not seeds:
        return []
    protocols = [set(runs[backbone, name, s]) for s in seeds for name in (model, baseline)]
    return sorted(set.intersection(*protocols))


def _check_same_users(pairs: list[tuple[UserRanks, UserRanks]], what: str) -> None:
    reference = pairs[0][0]
    for ranks in (r for pair in pairs for r in pair):
        same_groups = ranks.groups.keys() == reference.groups.keys() and all(
            np.array_equal(ranks.groups[g], reference.groups[g]) for g in reference.groups)
        if not (np.array_equal(ranks.users, reference.users) and same_groups):
            raise ValueError(f"{what}: the runs were evaluated on different test users or "
                             "groups (another dataset?), so they cannot be paired")


@dataclass(frozen=True)
class Pending:
    """A comparison row before its bootstrap: each user's values summed over the seeds."""

    row: dict[str, Any]
    model_sums: np.ndarray
    baseline_sums: np.ndarray


def _group_rows(pairs: list[tuple[UserRanks, UserRanks]],
                common: dict[str, Any]) -> list[Pending]:
    ks = (10,)
    values = [(model.per_user(ks), baseline.per_user(ks)) for model, baseline in pairs]
    reference = pairs[0][0]
    rows = []
    for group in (*GROUPS, *(g for g in FIXED_GROUPS if g in reference.groups)):
        mask = reference.groups[group] if group != "overall" else np.ones(
            len(reference.users), dtype=bool)
        if not mask.any():
            continue
        rows += [_pending(common, group, metric, np.stack([m[metric][mask] for m, _ in values]),
                          np.stack([b[metric][mask] for _, b in values]))
                 for metric in METRICS]
    return rows


def _pending(common: dict[str, Any], group: str, metric: str, model: np.ndarray,
             baseline: np.ndarray) -> Pending:
    """The row of ``model``'s and ``baseline``'s per-user values, shape (seeds, users)."""
    return Pending({**common, "group": group, "metric": metric, "users": model.shape[1],
                    "model_mean": float(model.mean()), "baseline_mean": float(baseline.mean())},
                   model.sum(axis=0), baseline.sum(axis=0))


def _paired_lists(lists: Mapping[RunKey, Mapping[str, UserLists]],
                  pairs: list[tuple[UserRanks, UserRanks]], model_keys: list[ListsKey],
                  baseline_keys: list[ListsKey]) -> list[tuple[UserLists, UserLists]]:
    """The top-K lists of every paired run, or none unless every run has them (records
    written before the lists were kept); each must hold the test users of its ranks."""
    found = [(_lists_of(lists, model), _lists_of(lists, baseline))
             for model, baseline in zip(model_keys, baseline_keys, strict=True)]
    if any(shown is None for pair in found for shown in pair):
        return []
    for key, shown, ranks in zip(model_keys + baseline_keys, _sides(found), _sides(pairs),
                                 strict=True):
        if not np.array_equal(shown.users, ranks.users):
            raise ValueError(f"{key}: the top-K lists and the rank file hold different test "
                             "users, so the lists cannot be paired")
    return found


def _sides(pairs: list[tuple[Any, Any]]) -> list[Any]:
    """The models' entries of ``pairs``, then the baselines'."""
    return [model for model, _ in pairs] + [baseline for _, baseline in pairs]


def _lists_of(lists: Mapping[RunKey, Mapping[str, UserLists]],
              key: ListsKey) -> UserLists | None:
    backbone, model, seed, protocol = key
    return lists.get((backbone, model, seed), {}).get(protocol)


def _measure_rows(shown: list[tuple[UserLists, UserLists]],
                  common: dict[str, Any]) -> list[Pending]:
    """A row per beyond-accuracy measure that is a mean over users and that every paired run
    measured (diversity needs a ruler)."""
    measured = [set(run.measures) for pair in shown for run in pair]
    return [_pending(common, BEYOND_GROUP, name, np.stack([m.measures[name] for m, _ in shown]),
                     np.stack([b.measures[name] for _, b in shown]))
            for name in shown[0][0].measures if all(name in names for names in measured)]


@dataclass(frozen=True)
class Covering:
    """A coverage row before its bootstrap: which runs' lists each side pools."""

    row: dict[str, Any]
    model: list[ListsKey]
    baseline: list[ListsKey]


def _covering(shown: list[tuple[UserLists, UserLists]], common: dict[str, Any],
              model_keys: list[ListsKey], baseline_keys: list[ListsKey]) -> Covering:
    """The coverage row of a comparison (:mod:`.coverage_bootstrap`)."""
    reference = shown[0][0]
    means = [np.mean([coverage(run.lists, run.num_items) for run in side])
             for side in zip(*shown, strict=True)]
    return Covering({**common, "group": BEYOND_GROUP, "metric": f"coverage@{reference.k}",
                     "users": len(reference.users), "model_mean": float(means[0]),
                     "baseline_mean": float(means[1])}, model_keys, baseline_keys)


def _bootstrapped(pending: list[Pending], covering: list[Covering],
                  lists: Mapping[RunKey, Mapping[str, UserLists]], replicates: int,
                  seed: int) -> list[dict[str, Any]]:
    """The rows with their estimates, every row of one number of users bootstrapped at once,
    coverage rows included (they share their resamples whatever the batch: the draws follow
    from users and seed)."""
    estimates: dict[int, PairedEstimate] = {}
    coverages: dict[int, PairedEstimate] = {}
    for users in dict.fromkeys(item.row["users"] for item in (*pending, *covering)):
        batch = [i for i, item in enumerate(pending) if item.row["users"] == users]
        covers = [i for i, item in enumerate(covering) if item.row["users"] == users]
        runs = list(dict.fromkeys(key for i in covers
                                  for key in (*covering[i].model, *covering[i].baseline)))
        model_sums = np.stack([pending[i].model_sums for i in batch], axis=1)
        baseline_sums = np.stack([pending[i].baseline_sums for i in batch], axis=1)
        statistics = [totals_of(np.hstack([model_sums, baseline_sums]))]
        if runs:
            statistics.append(covered_items_of([_lists_of(lists, key).lists for key in runs]))
        totals, *covered = resampled(users, replicates, seed, statistics)
        estimates.update(zip(batch, paired_estimates(
            model_sums, baseline_sums, [len(pending[i].row["seeds"]) for i in batch], totals),
            strict=True))
        if runs:
            coverages.update(zip(covers, coverage_estimates(
                {key: _lists_of(lists, key) for key in runs},
                [(covering[i].model, covering[i].baseline) for i in covers],
                dict(zip(runs, covered[0].T, strict=True))), strict=True))
    return ([{**item.row, **estimate_fields(estimates[i])} for i, item in enumerate(pending)]
            + [{**item.row, **estimate_fields(coverages[i])} for i, item in enumerate(covering)])


def estimate_fields(estimate: PairedEstimate) -> dict[str, Any]:
    """A comparison row's statistics, as ``comparisons.json`` writes them."""
    return {"ratio": estimate.ratio, "ratio_ci95": _listed(estimate.ratio_ci95),
            "ratio_ci95_mc_error": _listed(estimate.ratio_mc_error),
            "diff": estimate.diff, "diff_ci95": list(estimate.diff_ci95),
            "diff_ci95_mc_error": list(estimate.diff_mc_error),
            "excludes_no_difference": estimate.excludes_no_difference}


def _listed(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else list(interval)


def verdict(row: Mapping[str, Any]) -> str:
    """``tie``, ``<model> better`` or ``<model> worse`` for a comparison row: a difference
    whose interval holds 0, or misses it by less than the interval's Monte-Carlo error, is a
    tie, whichever way the point estimate points."""
    if not row["excludes_no_difference"]:
        return "tie"
    return f"{row['model']} {'better' if row['diff'] > 0 else 'worse'}"


def ratio_text(row: Mapping[str, Any]) -> str:
    """``1.23x [1.05, 1.41]``; where some resamples hold no baseline hit the ratio has no
    interval and the difference with its interval is given instead."""
    if row["ratio"] is None:
        return f"{row['baseline']} scores 0"
    if row["ratio_ci95"] is None:
        low, high = row["diff_ci95"]
        return f"{row['ratio']:.2f}x (difference {row['diff']:+.4f} [{low:+.4f}, {high:+.4f}])"
    low, high = row["ratio_ci95"]
    return f"{row['ratio']:.2f}x [{low:.2f}, {high:.2f}]"
