"""Result blocks of Markdown documents, generated from ``results/`` and never typed.

A block is the text between two markers::

    <!-- results:EXPERIMENT/VIEW key=value ... -->
    (generated Markdown)
    <!-- /results:EXPERIMENT/VIEW -->

with ``EXPERIMENT`` a folder of ``results/`` and ``VIEW`` one of

``table``       mean ± std over seeds per model and protocol; a single run says so
                (options ``protocol``, ``groups``, ``metrics``: comma-separated lists)
``comparison``  ratio (``value=ratio``, default) or difference (``value=diff``) of each
                comparison with its paired 95 % interval (options ``protocol``, default
                ``full``; ``metric``, default ``NDCG@10``; ``groups``)
``headline``    per backbone: ID and LLMEmb, mean ± std over seeds, and LLMEmb / ID with
                its paired 95 % interval (options ``protocol``, default ``full``; ``metric``,
                default ``NDCG@10``; ``groups``; ``models``, default ``llmemb``: the LLMEmb
                models shown, e.g. ``models=llmemb,llmemb-scft-init`` adds a variant)
``bins``        per model: the metric in each bin of a binned analysis (option ``analysis``,
                default ``item_pop_bins``; ``protocol``; ``metric``) under each bin's test users
``scft_runs``   the SCFT runs behind the LLM tables, once each: LoRA layers, steps, wall and
                CPU seconds
``runs``        per run: best epoch, epochs run of the cap (and whether the cap, not the
                patience rule, ended it), seconds, CPU seconds per epoch, CPU and threads
``selection``   per run: the validation score that chose its checkpoint beside its test
                scores (option ``metric``)
``uniformity``  per model: uniformity of the item vectors that score the items, overall and
                on tail and head items, mean ± std over seeds
``uniformity_verdict``  whether a model's scoring vectors spread a group of items more
                than another's: the difference of their uniformity paired by seed, with a
                Student-t 95 % interval over the seeds, in a word (more spread, less spread
                or tie) (options ``backbone``, default ``sasrec``; ``model``, default
                ``llmemb``; ``baseline``, default ``id``; ``group``, default ``item_tail``)
``alignment``   per model that aligns: its logged alignment loss against chance, how uniform
                its softmaxes are, the norms it compares and its gradient beside the
                recommendation loss's (:mod:`llmemb_utils.rat.diagnostics`), mean over seeds
``scft_gain``   per SCFT recipe (LoRA layers, steps): RAT on its table over RAT on the raw
                LLM table, overall and on tail items, with the SCFT run's CPU seconds
                (:mod:`.scft_gain`; options ``backbone``, default ``sasrec``; ``metric``)
``split_gap``   per model: validation / test NDCG@10 of its best models with the paired
                95 % interval, for all users, tied held-out items and a later test item
                (``split_gap.json``, ``llmemb report --split-gap``)
``neighbours``  per item table (the LLM tables the runs read, the seed-42 SASRec runs' item
                vectors): uniformity of tail and head items, the share of their 10 nearest
                items that share their attribute class, and the share of a tail item's 10
                nearest items that are tail items, each beside its chance level
                (``neighbours.json``, ``llmemb report --neighbours``)
``band``        how far the seed-42 SASRec pair moved with another thread count or
                instruction set (``cpu_band.json``, ``benchmarks/demo_band.py``; option
                ``metric``)
``verdict``     one comparison in a word, better, worse or tie (its interval contains
                no difference), with its ratio, paired 95 % interval and seeds (options
                ``backbone``, default ``sasrec``; ``model``, default ``llmemb``;
                ``baseline``, default ``id``; ``group``, default ``overall``;
                ``protocol``; ``metric``)

``notebooks/runtimes`` (``notebooks`` instead of an experiment: the committed notebooks
beside ``results/``) lists each notebook with its title and the wall time of its recorded
full-mode run (:mod:`.notebook_times`). ``benchmarks/catalogue_cost`` (the benchmark JSONs
beside ``results/``) shows what each stage costs as the catalogue grows, measured and
extrapolated, beside the planner's GPU estimate (:mod:`.catalogue_cost`).

A block whose markers stand on one line is rendered inline, for a one-line view such as
``verdict`` inside a table row. An option's value holds no space unless quoted:
``protocol="full, history excluded"``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.buckets import bin_lower_bound
from ..eval.beyond_results import COVERAGE, MEASURES, beyond_accuracy_table
from ..eval.results import REPORT_GROUPS, format_cells, load_results, markdown_table, mean_std
from ..eval.results import summarize as summarize_results
from ..io import read_json
from .catalogue_cost import BENCHMARKS, catalogue_cost_view
from .comparisons import BEYOND_GROUP, GROUPS, RAW_TABLE
from .notebook_times import NOTEBOOKS, duration, runtimes_view
from .provenance import (
    any_modified,
    compares_modified,
    is_modified,
    marked,
    modified_runs,
    with_note,
)
from .records import (
    CPU_BAND,
    DEMO_TIME,
    HEADLINE_METRICS,
    HELD_OUT_VIEWS,
    NEIGHBOURS,
    SPLIT_GAP,
    Experiment,
)
from .scft_gain import DEMO_SCFT_CPU_SECONDS, chosen_recipe, raw_table_validation, scft_gain
from .table_geometry import uniformity_by_model, uniformity_gap

VALUE = r'"[^"\n]*"|[^\s>"]+'  # a quoted value may hold spaces: protocol="full, history excluded"
OPTION = re.compile(rf"([^\s=>]+)=({VALUE})")
OPEN = re.compile(rf"<!-- results:(?P<name>[^\s>]+)(?P<options>(?:[ \t]+[^\s=>]+=(?:{VALUE}))*)"
                  r"[ \t]*-->")
COMPARED_GROUPS = GROUPS[:3]  # overall, item_tail, item_head
SIGNIFICANT = " *"
SIGNIFICANT_NOTE = (f"{SIGNIFICANT} the interval of the difference excludes 0 by more than "
                    "the Monte-Carlo error of its ends")


@dataclass(frozen=True)
class Block:
    """One marked block: its name, options, first line and the span of its body."""

    name: str
    options: dict[str, str]
    line: int
    start: int
    end: int

    @property
    def label(self) -> str:
        return f"results:{self.name}"

    def inline(self, text: str) -> bool:
        """Whether both markers stand on one line of ``text``: the body is then one line."""
        return "\n" not in text[self.start:self.end]


def find_blocks(text: str, source: str) -> list[Block]:
    """Every block of ``text`` in order; an unclosed or overlapping one is an error naming
    ``source`` and the line of its opening marker."""
    blocks: list[Block] = []
    for match in OPEN.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        name = match["name"]
        if blocks and match.start() < blocks[-1].end:
            raise ValueError(f"{source}:{line}: results:{name} opens inside "
                             f"{blocks[-1].label} (line {blocks[-1].line})")
        closing = f"<!-- /results:{name} -->"
        end = text.find(closing, match.end())
        if end < 0:
            raise ValueError(f"{source}:{line}: results:{name} has no closing {closing}")
        options = {key: value.strip('"') for key, value in OPTION.findall(match["options"])}
        blocks.append(Block(name, options, line, match.end(), end))
    return blocks


def markdown(name: str, results: str | Path = "results", **options: str) -> str:
    """The Markdown of block ``name`` (``EXPERIMENT/VIEW``) from the records in ``results``:
    what a notebook cell prints instead of numbers typed into its prose."""
    return generate(Block(name, options, 0, 0, 0), Path(results), "block")


def generate(block: Block, results: Path, source: str) -> str:
    """The Markdown the records give for ``block``; errors name ``source`` and its line."""
    where = f"{source}:{block.line}: {block.label}"
    origin, _, view = block.name.rpartition("/")
    views = FOLDER_VIEWS.get(origin, VIEWS)
    if view not in views or not origin:
        raise ValueError(f"{where}: expected EXPERIMENT/VIEW with VIEW one of "
                         f"{sorted(VIEWS)}, or "
                         + ", or ".join(f"{folder}/VIEW with VIEW one of {sorted(named)}"
                                        for folder, named in FOLDER_VIEWS.items()))
    render, allowed = views[view]
    unknown = sorted(set(block.options) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown option(s) {unknown}; known: {sorted(allowed)}")
    try:
        read = results.parent / origin if origin in FOLDER_VIEWS else Experiment(results / origin)
        return with_note(render(read, block.options))
    except (FileNotFoundError, KeyError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from error


def body(block: Block, text: str, results: Path, source: str) -> str:
    """What stands between ``block``'s markers once rendered: the generated Markdown on lines
    of its own, or, between markers on one line, on that line."""
    generated = generate(block, results, source)
    if not block.inline(text):
        return f"\n{generated}\n"
    if "\n" in generated:
        raise ValueError(f"{source}:{block.line}: {block.label} gives several lines; put its "
                         "markers on lines of their own")
    return f" {generated} "


def rendered(text: str, results: Path, source: str) -> str:
    """``text`` with every block's body replaced by what the records give."""
    pieces, position = [], 0
    for block in find_blocks(text, source):
        pieces += [text[position:block.start], body(block, text, results, source)]
        position = block.end
    return "".join([*pieces, text[position:]])


def render_file(path: Path, results: Path) -> int:
    """Rewrite ``path``'s blocks from ``results``; returns how many there are."""
    text = path.read_text(encoding="utf-8")
    path.write_text(rendered(text, results, str(path)), encoding="utf-8")
    return len(find_blocks(text, str(path)))


def check_file(path: Path, results: Path) -> list[str]:
    """One message with a unified diff per block of ``path`` that differs from the records."""
    text = path.read_text(encoding="utf-8")
    messages = []
    for block in find_blocks(text, str(path)):
        written = text[block.start:block.end].strip(" " if block.inline(text) else "\n")
        expected = body(block, text, results, str(path)).strip(" \n")
        if written != expected:
            diff = difflib.unified_diff(written.splitlines(), expected.splitlines(),
                                        f"{path} ({block.label})",
                                        f"generated from {results}", lineterm="")
            messages.append(f"{path}:{block.line}: {block.label} differs from the records:\n"
                            + "\n".join(diff))
    return messages


def _listed(options: dict[str, str], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(options[key].split(",")) if key in options else default


def seeds_cell(mean: float, std: float, seeds: int, digits: int = 4) -> str:
    """``mean ± std`` over seeds, or ``mean (single run)``: one run has no spread."""
    return f"{mean:.{digits}f} (single run)" if seeds == 1 else mean_std(mean, std, seeds, digits)


def table_view(experiment: Experiment, options: dict[str, str]) -> str:
    metrics = _listed(options, "metrics", ("HR@10", "NDCG@10"))
    results = load_results(experiment.run_folders(), metrics)
    if "protocol" in options:
        results = results[results["protocol"].isin(_listed(options, "protocol", ()))]
    modified = modified_runs(experiment)
    results["backbone"] = [marked(backbone, any_modified(modified, backbone, [encoder]))
                           for backbone, encoder in zip(results["backbone"], results["encoder"],
                                                        strict=True)]
    cells = format_cells(summarize_results(results), _listed(options, "groups", REPORT_GROUPS),
                         metrics, cell=seeds_cell)
    return markdown_table(cells)


def comparison_view(experiment: Experiment, options: dict[str, str]) -> str:
    protocol, metric = options.get("protocol", "full"), options.get("metric", "NDCG@10")
    value = options.get("value", "ratio")
    if value not in ("ratio", "diff"):
        raise ValueError(f"value must be ratio or diff, got {value!r}")
    groups = _listed(options, "groups", COMPARED_GROUPS)
    baselines = _listed(options, "baselines", ()) or None  # none named: every baseline
    table: dict[tuple[str, str, str, str, str], dict[str, str]] = {}
    modified = modified_runs(experiment)
    for row in experiment.comparisons_under(protocol, metric, baselines):
        if row["group"] in groups:
            key = (row["backbone"], row["model"], row["baseline"],
                   ", ".join(map(str, row["seeds"])),
                   marked("", compares_modified(modified, row)))
            table.setdefault(key, {})[row["group"]] = _comparison_cell(row, value)
    lines = ["| backbone | model vs baseline | seeds | " + " | ".join(groups) + " |",
             "|---" * (len(groups) + 3) + "|"]
    lines += [f"| {backbone} | {model} vs {baseline}{mark} | {seeds} | "
              + " | ".join(cells.get(group, "") for group in groups) + " |"
              for (backbone, model, baseline, seeds, mark), cells in sorted(
                  table.items(), key=lambda item: comparison_order(*item[0][:3]))]
    shown = "model / baseline" if value == "ratio" else "model - baseline"
    lines += ["", f"{metric}, {protocol} ranking: {shown} [paired 95 % bootstrap interval over "
                  f"users, pooled across seeds];{SIGNIFICANT_NOTE}."]
    return "\n".join(lines)


def headline_view(experiment: Experiment, options: dict[str, str]) -> str:
    protocol, metric = options.get("protocol", "full"), options.get("metric", "NDCG@10")
    groups = _listed(options, "groups", COMPARED_GROUPS)
    summary = summarize_results(load_results(experiment.run_folders(), (metric,)))
    summary = summary[(summary["protocol"] == protocol) & summary["bin"].isna()]
    models = _listed(options, "models", ("llmemb",))
    modified = modified_runs(experiment)
    lines = ["| backbone | model (seeds) | " + " | ".join(groups) + " |",
             "|---" * (len(groups) + 2) + "|"]
    users = group_users(experiment, protocol, metric)
    if users:
        lines.append("| | test users | " + " | ".join(str(users.get(group, "")) for group in groups)
                     + " |")
    for backbone in sorted(set(summary["backbone"]), key=backbone_order):
        for model in ("id", *models):
            rows = summary[(summary["backbone"] == backbone) & (summary["encoder"] == model)]
            cells = {row.group: seeds_cell(row.mean, row.std, row.seeds)
                     for row in rows.itertuples()}
            if cells:
                seeds = int(rows["seeds"].max())
                label = marked(model_label(model), any_modified(modified, backbone, [model]))
                lines.append(f"| {backbone} | {label} ({seeds}) | "
                             + " | ".join(cells.get(group, "") for group in groups) + " |")
        for model in models:
            paired = {row["group"]: row for row in experiment.comparisons()
                      if (row["backbone"], row["protocol"], row["metric"], row["model"],
                          row["baseline"]) == (backbone, protocol, metric, model, "id")}
            if paired:
                first = next(iter(paired.values()))
                label = marked(f"{model_label(model)} / ID",
                               compares_modified(modified, first))
                seeds = ", ".join(map(str, first["seeds"]))
                lines.append(f"| {backbone} | {label} (seeds {seeds}) | "
                             + " | ".join(_comparison_cell(paired[group], "ratio")
                                          if group in paired else "" for group in groups) + " |")
    lines += ["", f"{metric}, {protocol} ranking, mean ± std over seeds; model / ID: ratio of "
                  "the means over the seeds both have [paired 95 % bootstrap interval over "
                  f"users, pooled across those seeds];{SIGNIFICANT_NOTE}."]
    return "\n".join(lines)


def bins_view(experiment: Experiment, options: dict[str, str]) -> str:
    """Per model, the metric in each bin of a binned analysis (mean ± std over seeds), under a
    row of each bin's test users."""
    protocol, metric = options.get("protocol", "full"), options.get("metric", "NDCG@10")
    analysis = options.get("analysis", "item_pop_bins")
    summary = summarize_results(load_results(experiment.run_folders(), (metric,)))
    summary = summary[(summary["protocol"] == protocol) & (summary["group"] == analysis)]
    if summary.empty:
        raise ValueError(f"no {analysis} bins under the {protocol} protocol")
    bins = sorted(set(summary["bin"]), key=bin_lower_bound)
    users = summary.groupby("bin")["users"].first()
    modified = modified_runs(experiment)
    lines = ["| backbone | model (seeds) | " + " | ".join(f"`{b}`" for b in bins) + " |",
             "|---" * (len(bins) + 2) + "|",
             "| | test users | " + " | ".join(str(int(users[b])) for b in bins) + " |"]
    for (backbone, model), rows in sorted(summary.groupby(["backbone", "encoder"]),
                                          key=lambda item: display_order(*item[0])):
        cells = {row.bin: seeds_cell(row.mean, row.std, row.seeds) for row in rows.itertuples()}
        label = marked(model_label(model), any_modified(modified, backbone, [model]))
        lines.append(f"| {backbone} | {label} ({int(rows['seeds'].max())}) | "
                     + " | ".join(cells.get(b, "") for b in bins) + " |")
    lines += ["", f"{metric}, {protocol} ranking, mean ± std over seeds, by {analysis} (training "
                  "interactions of the test item; user bins: training items of the user)."]
    return "\n".join(lines)


def scft_runs_view(experiment: Experiment, options: dict[str, str]) -> str:
    """The SCFT runs behind the experiment's LLM tables, once each, with their cost."""
    runs = {tuple(sorted(record["scft"].items())): record["scft"]
            for _, record in experiment.records().values() if record.get("scft")}
    if not runs:
        raise ValueError(f"no run of {experiment.folder} records an SCFT run")
    lines = ["| LoRA layers | steps | wall s | CPU s |", "|---|---|---|---|"]
    lines += [f"| {run['lora_layers'] or 'all'} | {run['steps']} | {run['seconds']:.0f} | "
              f"{_number(run['cpu_seconds'])} |" for run in runs.values()]
    return "\n".join(lines)


def group_users(experiment: Experiment, protocol: str, metric: str) -> dict[str, int]:
    """How many test users each group of the comparisons holds (the same in every row)."""
    return {row["group"]: row["users"] for row in experiment.comparisons()
            if (row["protocol"], row["metric"]) == (protocol, metric)}


def model_label(model: str) -> str:
    """``id`` -> ID, ``llmemb`` -> LLMEmb, ``llmemb-<name>`` -> LLMEmb <name>."""
    if model == "id":
        return "ID"
    return "LLMEmb" + model.removeprefix("llmemb").replace("-", " ", 1)


def _comparison_cell(row: dict[str, Any], value: str) -> str:
    mark = SIGNIFICANT if row["excludes_no_difference"] else ""
    if value == "diff":
        low, high = row["diff_ci95"]
        return f"{row['diff']:+.4f} [{low:+.4f}, {high:+.4f}]{mark}"
    if row["ratio"] is None:
        return "n/a (baseline 0)"
    interval = "n/a" if row["ratio_ci95"] is None else "{:.2f}, {:.2f}".format(*row["ratio_ci95"])
    return f"{row['ratio']:.2f}x [{interval}]{mark}"


def verdict_view(experiment: Experiment, options: dict[str, str]) -> str:
    key = {"backbone": options.get("backbone", "sasrec"), "model": options.get("model", "llmemb"),
           "baseline": options.get("baseline", "id"), "group": options.get("group", "overall"),
           "protocol": options.get("protocol", "full"),
           "metric": options.get("metric", "NDCG@10")}
    row = next((row for row in experiment.comparisons()
                if all(row[field] == value for field, value in key.items())), None)
    if row is None:
        raise ValueError(f"no comparison {key} in {experiment.folder}")
    cell = _comparison_cell(row, "ratio").removesuffix(SIGNIFICANT)
    seeds = len(row["seeds"])
    provenance = _uncommitted_note(compares_modified(modified_runs(experiment), row))
    return f"**{verdict(row)}**, {cell}, {seeds} seed{'s' if seeds > 1 else ''}{provenance}"


def _uncommitted_note(modified: bool) -> str:
    """The suffix of a one-line verdict over runs trained from uncommitted code."""
    return ", runs trained from uncommitted code" if modified else ""


def verdict(row: dict[str, Any]) -> str:
    """better or worse when the comparison's difference interval clears 0 by more than its
    Monte-Carlo error (the row's ``excludes_no_difference``, the rule of the ``*`` marks),
    else tie, whichever way the ratio points."""
    if not row["excludes_no_difference"]:
        return "tie"
    return "better" if row["diff_ci95"][0] > 0 else "worse"


def runs_view(experiment: Experiment, options: dict[str, str]) -> str:
    lines = ["| run | best epoch | epochs run | wall s | CPU s | CPU s / epoch | CPU (threads) |",
             "|---|---|---|---|---|---|---|"]
    for folder, record in experiment.records().values():
        environment = record["environment"] or {}
        training = read_json(folder / HEADLINE_METRICS)["training"]
        cap = cap_note(record, training)
        lines.append(f"| {marked(folder.name, is_modified(record))} | {record['best_epoch']} | "
                     f"{record['epochs_run']} of "
                     f"{record['epoch_cap']}{cap} | {record['wall_seconds']:.0f} | "
                     f"{_number(record['cpu_seconds'])} | {_per_epoch(record)} | "
                     f"{environment.get('cpu')} "
                     f"({environment.get('threads')}) |")
    return "\n".join(lines)


def selection_view(experiment: Experiment, options: dict[str, str]) -> str:
    metric = options.get("metric", "NDCG@10")
    groups = COMPARED_GROUPS
    lines = [f"| run | best epoch | validation {metric} | "
             + " | ".join(f"test {group}" for group in groups) + " |",
             "|---" * (len(groups) + 3) + "|"]
    for folder, record in experiment.records().values():
        test = read_json(folder / HEADLINE_METRICS)
        scores = [test["overall"][metric], *(test["groups"][g][metric] for g in groups[1:])]
        chosen = record.get("validation", {}).get(metric)  # older records lack it
        lines.append(f"| {marked(folder.name, is_modified(record))} | {record['best_epoch']} | "
                     f"{'n/a' if chosen is None else f'{chosen:.4f}'} | "
                     + " | ".join(f"{score:.4f}" for score in scores) + " |")
    lines += ["", f"{metric}, full ranking: validation at the epoch it chose (the only score "
                  "any choice between runs reads), test of that checkpoint."]
    return "\n".join(lines)


def _by_model(experiment: Experiment, field: str) -> dict[tuple[str, str], list[Any]]:
    """Each (backbone, model)'s values of a run-record ``field`` over its seeds, leaving out
    records where it is null or missing (written before the field existed)."""
    values: dict[tuple[str, str], list[Any]] = {}
    for _, record in experiment.records().values():
        if record.get(field) is not None:
            values.setdefault((record["backbone"], record["model"]), []).append(record[field])
    return dict(sorted(values.items(), key=lambda item: display_order(*item[0])))


def backbone_order(backbone: str) -> tuple[bool, str]:
    """Sort key of a backbone: SASRec first, then by name."""
    return backbone != "sasrec", backbone


def display_order(backbone: str, model: str) -> tuple[bool, str, bool, bool, str]:
    """Sort key of a (backbone, model) row: by backbone, then ID, LLMEmb and the rest."""
    return *backbone_order(backbone), model != "id", model != "llmemb", model


def comparison_order(backbone: str, model: str, baseline: str) -> tuple:
    """Sort key of a comparison row: by backbone and model as ``display_order``, then
    against ID before against the other baselines."""
    return *display_order(backbone, model), baseline != "id", baseline


def _model_cell(modified: frozenset, backbone: str, *models: str) -> str:
    """The first model's label, marked when a run of any of ``models`` is modified."""
    return marked(model_label(models[0]), any_modified(modified, backbone, models))


def uniformity_view(experiment: Experiment, options: dict[str, str]) -> str:
    """Per model, the uniformity of its scoring vectors over seeds
    (:func:`.table_geometry.uniformity_by_model`)."""
    runs = {key: len(found)
            for key, found in _by_model(experiment, "item_table_uniformity").items()}
    summary = uniformity_by_model(record for _, record in experiment.records().values())
    summary = summary.set_index(["backbone", "model", "group"])
    modified = modified_runs(experiment)
    groups = COMPARED_GROUPS
    lines = ["| backbone | model (seeds) | " + " | ".join(groups) + " |",
             "|---" * (len(groups) + 2) + "|"]
    for (backbone, model), count in runs.items():
        cells = [seeds_cell(*summary.loc[key, ["mean", "std"]], int(summary.loc[key, "seeds"]),
                            digits=2) if key in summary.index else "n/a"
                 for key in ((backbone, model, group) for group in groups)]
        lines.append(f"| {backbone} | {_model_cell(modified, backbone, model)} ({count}) | "
                     + " | ".join(cells) + " |")
    lines += ["", "Uniformity of the item vectors that score the items (the best model's), "
                  "mean ± std over seeds: lower is more spread out (notebook 03)."]
    return "\n".join(lines)


def uniformity_verdict_view(experiment: Experiment, options: dict[str, str]) -> str:
    """Whether ``model``'s scoring vectors spread ``group`` more than ``baseline``'s: the
    seed-paired difference of uniformity (:func:`.table_geometry.uniformity_gap`) with its
    interval, a tie wherever the interval holds 0."""
    gap = uniformity_gap((record for _, record in experiment.records().values()),
                         options.get("backbone", "sasrec"), options.get("model", "llmemb"),
                         options.get("baseline", "id"), options.get("group", "item_tail"))
    seeds = len(gap["seeds"])
    provenance = _uncommitted_note(any_modified(modified_runs(experiment), gap["backbone"],
                                                (gap["model"], gap["baseline"]), gap["seeds"]))
    if gap["ci95"] is None:
        return f"{gap['diff']:+.2f}, 1 seed (no interval){provenance}"
    low, high = gap["ci95"]
    word = "more spread" if high < 0 else "less spread" if low > 0 else "tie"
    return f"**{word}**, {gap['diff']:+.2f} [{low:+.2f}, {high:+.2f}], {seeds} seeds{provenance}"


def beyond_view(experiment: Experiment, options: dict[str, str]) -> str:
    """Per model, what its top-10 lists show beside its accuracy (means over seeds,
    :func:`..eval.beyond_results.beyond_accuracy_table`), and under each model that its
    records compare with ID on these measures, the paired ratio to ID."""
    measured = beyond_accuracy_table(experiment.run_folders())
    modified = modified_runs(experiment)
    comparisons = experiment.comparisons()
    columns = [column for column in measured.table.columns if column != "seeds"]
    lines = ["| backbone | model (seeds) | " + " | ".join(columns) + " |",
             "|---" * (len(columns) + 2) + "|"]
    compared = False
    for (backbone, model), row in sorted(measured.table.iterrows(),
                                         key=lambda item: display_order(*item[0])):
        label = f"{_model_cell(modified, backbone, model)} ({int(row['seeds'])})"
        lines.append(f"| {backbone} | {label} | "
                     + " | ".join("n/a" if pd.isna(row[c]) else f"{row[c]:.3f}" for c in columns)
                     + " |")
        paired = _beyond_against_id(comparisons, backbone, model)
        if paired:
            compared = True
            first = next(iter(paired.values()))
            label = marked(f"{model_label(model)} / ID", compares_modified(modified, first))
            lines.append(f"| {backbone} | {label} (seeds {', '.join(map(str, first['seeds']))})"
                         " | " + " | ".join(_beyond_cell(paired, c) for c in columns) + " |")
    lines += ["", "Test split, full ranking, each user's top 10, means over seeds: coverage is "
                  "the share of the catalogue shown to anyone, tail share the mean share of tail "
                  "items in a list, intra-list diversity the mean pairwise 1 - cosine of a list "
                  "under the raw LLM table (one ruler for every model), novelty the mean -log2 "
                  "of an item's share of training interactions (docs/method.md §5.5); n/a where "
                  "a seed's run could not measure it."]
    if compared:
        lines[-1] += (" Model / ID: ratio of the means over the seeds both have [paired 95 % "
                      f"bootstrap interval over users, pooled across those seeds];"
                      f"{SIGNIFICANT_NOTE}. {COVERAGE} shows the ratio alone: a count of "
                      "distinct items falls on every resample of users (about a third of them "
                      "left out), so its bootstrap interval sits below the whole split's ratio "
                      "and is no interval for it (comparisons.json keeps it).")
    for measure, runs in measured.omitted.items():
        lines[-1] += (f" {measure} left out by {len(runs)} run(s): "
                      f"{_without_path(measured.reasons[measure])}.")
    if measured.without:
        lines[-1] += f" Runs evaluated before these measures: {', '.join(measured.without)}."
    return "\n".join(lines)


def _beyond_cell(paired: dict[str, dict[str, Any]], column: str) -> str:
    """A measure's paired ratio to ID with its interval; coverage's ratio alone."""
    if column not in paired:
        return ""
    if column == COVERAGE:
        return f"{paired[column]['ratio']:.2f}x"
    return _comparison_cell(paired[column], "ratio")


def _beyond_against_id(comparisons: list[dict[str, Any]], backbone: str,
                       model: str) -> dict[str, dict[str, Any]]:
    """``model``'s comparisons with ID over all users under full ranking, by metric, when
    they hold the beyond-accuracy measures (runs that kept their top-10 lists); else none."""
    paired = {row["metric"]: row for row in comparisons
              if (row["backbone"], row["model"], row["baseline"], row["protocol"],
                  row["group"]) == (backbone, model, "id", "full", BEYOND_GROUP)}
    return paired if set(paired) & set(MEASURES) else {}


CURVE_EPOCHS = (1, 5, 10, 20, 40, 80, 160)


def curves_view(experiment: Experiment, options: dict[str, str]) -> str:
    curves = _by_model(experiment, "validation_curve")  # older records lack it
    modified = modified_runs(experiment)
    lines = ["| backbone | model (seeds) | " + " | ".join(f"epoch {e}" for e in CURVE_EPOCHS)
             + " |", "|---" * (len(CURVE_EPOCHS) + 2) + "|"]
    for (backbone, model), runs in curves.items():
        cells = []
        for epoch in CURVE_EPOCHS:
            reached = [curve[epoch - 1] for curve in runs if len(curve) >= epoch]
            cells.append("stopped" if not reached else f"{np.mean(reached):.4f}" + (
                f" ({len(reached)})" if len(reached) < len(runs) else ""))
        lines.append(f"| {backbone} | {_model_cell(modified, backbone, model)} ({len(runs)}) | "
                     + " | ".join(cells) + " |")
    lines += ["", "Validation NDCG@10 (full ranking) after each epoch, mean over the seeds whose "
                  "run reached that epoch (their number in brackets when not all did); "
                  "stopped: early stopping ended every seed before it."]
    return "\n".join(lines)


def alignment_view(experiment: Experiment, options: dict[str, str]) -> str:
    measured = _by_model(experiment, "alignment")  # null for a run that does not align
    modified = modified_runs(experiment)
    lines = ["| backbone | model (seeds) | form, alpha | loss first → last epoch | log M | "
             "soft-target entropy | logit spread | norm adapted / teacher | gradient align / "
             "rec |", "|---" * 9 + "|"]
    for (backbone, model), runs in measured.items():
        mean = {key: float(np.mean([run[key] for run in runs])) for key in runs[0]
                if isinstance(runs[0][key], float)}
        gradient = ("n/a" if "gradient_ratio" not in mean
                    else f"{mean['gradient_ratio']:.2g}")  # nothing trained: no gradient
        logged = {key: float(np.mean([run["logged_loss"][key] for run in runs]))
                  for key in ("first", "last")}
        entropy = "n/a" if runs[0]["target_entropy"] is None else f"{mean['target_entropy']:.3f}"
        lines.append(
            f"| {backbone} | {_model_cell(modified, backbone, model)} ({len(runs)}) | "
            f"{runs[0]['form']}, "
            f"{runs[0]['alpha']:g} | {logged['first']:.3f} → {logged['last']:.3f} | "
            f"{mean['chance']:.3f} | {entropy} | {mean['logit_spread']:.3f} | "
            f"{mean['student_norm']:.2f} / {mean['teacher_norm']:.2f} | "
            f"{gradient} |")
    lines += ["", "Alignment loss without its weight alpha, as logged in training; the rest "
                  "measured on 8 training batches with each run's best model: log M for the M "
                  "distinct target items of a batch is the loss of uniform logits, the "
                  "official form's soft targets are uniform at entropy log M, logit spread is "
                  "the standard deviation within a row, the gradient ratio compares alpha x "
                  "the alignment loss with the recommendation loss on the encoder's trained "
                  "parameters. Means over seeds."]
    return "\n".join(lines)


def scft_gain_view(experiment: Experiment, options: dict[str, str]) -> str:
    backbone, metric = options.get("backbone", "sasrec"), options.get("metric", "NDCG@10")
    gain = scft_gain(experiment, backbone, metric)
    modified = modified_runs(experiment)
    lines = ["| SCFT recipe | LoRA layers | steps | SCFT CPU s | validation | overall / raw | "
             "tail / raw |", "|---|---|---|---|---|---|---|"]
    for model, rows in gain.groupby("model", sort=False):
        first = rows.iloc[0]
        cells = {row.group: _comparison_cell(
            {"ratio": row.ratio, "excludes_no_difference": row.excludes_no_difference,
             "ratio_ci95": None if pd.isna(row.ratio_low) else [row.ratio_low, row.ratio_high]},
            "ratio") for row in rows.itertuples()}
        cost = None if pd.isna(first.scft_cpu_seconds) else first.scft_cpu_seconds
        lines.append(f"| {_model_cell(modified, backbone, model, RAW_TABLE)} | "
                     f"{_layers(first.lora_layers)} | {first.steps} | "
                     f"{_number(cost)} | {_number(first.validation, 4)} | "
                     f"{cells.get('overall', '')} | {cells.get('item_tail', '')} |")
    seeds = int(gain["seeds"].max())
    raw = raw_table_validation(experiment, backbone, metric)
    chosen = chosen_recipe(gain)
    lines += ["", f"{backbone}, {metric}, full ranking: RAT on each SCFT table over RAT on the "
                  f"raw LLM table (the no-scft ablation), {seeds} seed(s) [paired 95 % "
                  f"bootstrap interval over users];{SIGNIFICANT_NOTE}. SCFT CPU s: the SCFT "
                  "run's CPU seconds (every thread), trunk "
                  f"cache included. Validation: {metric} at the chosen epoch (RAT on the raw "
                  f"table: {_number(raw, 4)}). Best on validation among the recipes within "
                  f"the demo's SCFT budget ({DEMO_SCFT_CPU_SECONDS:g} CPU s): "
                  f"{model_label(chosen.model)} ({_layers(chosen.lora_layers)} layers, "
                  f"{chosen.steps} steps)."]
    return "\n".join(lines)


def _layers(count: float) -> str:
    """LoRA layers as written: a count, or "all" for every layer (None)."""
    return "all" if pd.isna(count) else str(int(count))


def split_gap_view(experiment: Experiment, options: dict[str, str]) -> str:
    measured = experiment.measurement(SPLIT_GAP)
    groups = list(next(iter(measured["models"].values())))
    lines = ["| model (seeds pooled) | " + " | ".join(groups) + " |",
             "|---" * (len(groups) + 1) + "|"]
    modified = {f"{model}-{backbone}" for backbone, model, _ in modified_runs(experiment)}
    for name, by_group in measured["models"].items():
        cells = []
        for group in groups:
            row = by_group[group]
            if row["validation"] is None:
                cells.append("no users")
                continue
            ratio = "n/a" if row["validation / test"] is None else f"{row['validation / test']:.2f}"
            interval = ("" if row["low"] is None
                        else f" [{row['low']:.2f}, {row['high']:.2f}]")
            cells.append(f"{row['validation']:.4f} / {row['test']:.4f} = {ratio}{interval}")
        lines.append(f"| {marked(name, name in modified)} | " + " | ".join(cells) + " |")
    medians = "; ".join(f"{group}: {values['validation target']:g} / {values['test target']:g}"
                        for group, values in measured["median_training_interactions"].items())
    lines += ["", f"Validation / test {measured['metric']} of each model's best checkpoints, "
                  "user by user, [paired 95 % bootstrap interval over users]. Median training "
                  f"interactions of the validation / test targets: {medians}."]
    return "\n".join(lines)


def neighbours_view(experiment: Experiment, options: dict[str, str]) -> str:
    measured = experiment.measurement(NEIGHBOURS)
    k, attribute = measured["k"], measured["attribute"]
    modified = {folder.name for folder, record in experiment.records().values()
                if is_modified(record)}
    lines = [f"| table | tail uniformity | head uniformity | tail {attribute} agreement@{k} "
             f"(chance) | head {attribute} agreement@{k} (chance) | tail neighbours of tail "
             f"items@{k} (chance) |", "|---|---|---|---|---|---|"]
    for table in sorted(measured["tables"], key=_table_order):
        tail, head = table["item_tail"], table["item_head"]
        lines.append(f"| {marked(_table_label(table), table['name'] in modified)} | "
                     f"{_number(tail['uniformity'], 2)} | {_number(head['uniformity'], 2)} | "
                     f"{_share(tail, 'attribute_agreement', 'attribute_chance')} | "
                     f"{_share(head, 'attribute_agreement', 'attribute_chance')} | "
                     f"{_share(tail, 'tail_neighbours', 'tail_neighbours_chance')} |")
    first = measured["tables"][0] if measured["tables"] else None
    counts = ("" if first is None else f" ({first['item_tail']['items']} tail and "
              f"{first['item_head']['items']} head items)")
    lines += ["", f"Tail and head items by training popularity{counts}. Uniformity (t = 2) of "
                  "each group's vectors after centring the table: lower is more spread out. "
                  f"Agreement@{k}: the share of an item's {k} nearest other items (cosine after "
                  f"centring) whose {attribute} class, the last value its prompt lists, is its "
                  "own, over the items with one; chance: the share random neighbours among "
                  f"them would give. Tail neighbours@{k}: the share of a tail item's {k} "
                  "nearest other items that are tail items; chance: the tail's share of the "
                  "other items."]
    lines[-1] += _not_measured(measured["missing"])
    return "\n".join(lines)


def views_view(experiment: Experiment, options: dict[str, str]) -> str:
    """How each LLM table retrieves an item from held-out views of its prompt (``views.json``,
    :mod:`.views_record`)."""
    measured = experiment.measurement(HELD_OUT_VIEWS)
    lines = ["| table | view retrieval top-1 | view alignment | uniformity |", "|---|---|---|---|"]
    lines += [f"| LLM table `{table['name']}` | {table['view_retrieval_top1']:.3f} | "
              f"{table['view_alignment']:.3f} | {table['uniformity_centred']:.2f} |"
              for table in sorted(measured["tables"], key=lambda table: table["name"])]
    lines += ["", f"{measured['items']} items, each embedded as two views that each drop "
                  f"{measured['drop_ratio']:.0%} of its attributes (drawn with seed "
                  f"{measured['view_seed']}, not the views any SCFT run trained on), through the "
                  "model and adapter that wrote the table. View retrieval: the share of views "
                  "whose nearest view (cosine) among all items' other views is the same item's, "
                  "both ways (chance: one in the number of items). View alignment: the mean "
                  "squared distance between an item's two normalised views after centring "
                  "(lower: closer). Uniformity (t = 2) of the full prompts' vectors after "
                  "centring (lower: more spread out)."]
    lines[-1] += _not_measured(measured["missing"])
    return "\n".join(lines)


def _not_measured(missing: list[dict[str, Any]]) -> str:
    """A measurement footer's end naming the tables it skipped and why (nothing if none)."""
    if not missing:
        return ""
    return " Not measured: " + "; ".join(f"{table['name']} ({_without_path(table['reason'])})"
                                         for table in missing) + "."


def _without_path(reason: str) -> str:
    """A measurement's reason without the machine path it starts with."""
    return reason.split(": ", 1)[-1] if reason.startswith("/") else reason


def _table_order(table: dict[str, Any]) -> tuple:
    """LLM tables by name first, then the runs' item vectors as ``display_order`` orders them."""
    if table["model"] is None:
        return False, table["name"]
    return True, *display_order(table["backbone"], table["model"])


def _table_label(table: dict[str, Any]) -> str:
    kind = "LLM table" if table["model"] is None else "item vectors of"
    return f"{kind} `{table['name']}`"


def _share(group: dict[str, Any], key: str, chance: str) -> str:
    """``share (chance)``; n/a where the group has no share."""
    if group[key] is None:
        return "n/a"
    return f"{group[key]:.3f} ({_number(group[chance], 3)})"


def band_view(experiment: Experiment, options: dict[str, str]) -> str:
    measured = experiment.measurement(CPU_BAND)
    metric = options.get("metric", "NDCG@10")
    columns = [(encoder, group) for encoder in measured["band"]
               for group in measured["band"][encoder]]
    lines = ["| seed-42 SASRec pair trained with | "
             + " | ".join(f"{encoder} {group}" for encoder, group in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    records = marked(measured["records"]["label"], any_modified(
        modified_runs(experiment), "sasrec", ("id", "llmemb"), [42]))
    rows = {records: measured["records"]["scores"], **measured["scores"]}
    lines += [f"| {name} | " + " | ".join(f"{scores[e][g][metric]:.4f}" for e, g in columns)
              + " |" for name, scores in rows.items()]
    lines.append("| largest difference | "
                 + " | ".join(f"{measured['band'][e][g][metric]:.4f}" for e, g in columns) + " |")
    reference = measured["settings"]["reference"]
    same = ("reproduces them exactly" if measured["reference_equals_records"]
            else "does not reproduce them")
    lines += ["", f"Test {metric}, {measured['settings']['protocol']} ranking, demo budget; the "
                  "largest difference is from the records' own numbers. "
                  f"\"{reference}\" is how the records' seed-42 runs were trained; on the CPU "
                  f"of this measurement ({measured['cpu'][reference]['model']}) it {same}."]
    return "\n".join(lines)


DEMO_STAGES = {"prepare": "prepare", "scft": "SCFT", "rest": "LLM table, PCA, evaluation",
               "recommender_epochs": "recommender epochs"}


def demo_time_view(experiment: Experiment, options: dict[str, str]) -> str:
    """The whole demo timed from nothing (``benchmarks/demo_time.py``), stage by stage."""
    measured = experiment.measurement(DEMO_TIME)
    wall = measured["wall_seconds"]
    lines = ["| config | " + " | ".join(f"{label} s" for label in DEMO_STAGES.values())
             + " | total | CPU s |", "|---" * (len(DEMO_STAGES) + 3) + "|",
             f"| `{measured['config']}` | "
             + " | ".join(f"{wall[stage]:.0f}" for stage in DEMO_STAGES)
             + f" | {duration(round(wall['total']))} | {measured['cpu_seconds']:.0f} |"]
    host = measured["host"]
    load = ("timed while the machine was loaded, so the wall time overstates an idle one's"
            if measured["loaded"] else "timed on an idle machine")
    lines += ["", f"`{measured['command']}` on {host['cpu']['model']} ({host['cores']} cores), "
                  f"{measured['runs']} recommender runs; {load} (1-minute load average "
                  f"{measured['load_average']['before'][0]:.2f} at the start)."]
    return "\n".join(lines)


def cap_note(record: dict[str, Any], training: dict[str, Any]) -> str:
    """How a run that used its whole cap ended: its last epoch was its best, or the
    early-stopping rule never stopped it (``training``: its metrics' ``training`` section)."""
    if record["cap_reached_while_improving"]:
        return ", still improving"
    if record["epochs_run"] == record["epoch_cap"] and not training["converged"]:
        return ", cap reached within patience"
    return ""


def _per_epoch(record: dict[str, Any]) -> str:
    """CPU seconds per epoch (training and validation): the cost of a model that wall time
    hides when runs share the CPU."""
    seconds = record["cpu_seconds"]
    return "n/a" if seconds is None else f"{seconds / record['epochs_run']:.1f}"


def _number(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


VIEWS: dict[str, tuple[Callable[[Experiment, dict[str, str]], str], tuple[str, ...]]] = {
    "table": (table_view, ("protocol", "groups", "metrics")),
    "comparison": (comparison_view, ("protocol", "metric", "groups", "value", "baselines")),
    "headline": (headline_view, ("protocol", "metric", "groups", "models")),
    "bins": (bins_view, ("protocol", "metric", "analysis")),
    "runs": (runs_view, ()),
    "scft_runs": (scft_runs_view, ()),
    "selection": (selection_view, ("metric",)),
    "uniformity": (uniformity_view, ()),
    "uniformity_verdict": (uniformity_verdict_view, ("backbone", "model", "baseline", "group")),
    "curves": (curves_view, ()),
    "beyond": (beyond_view, ()),
    "alignment": (alignment_view, ()),
    "scft_gain": (scft_gain_view, ("backbone", "metric")),
    "split_gap": (split_gap_view, ()),
    "neighbours": (neighbours_view, ()),
    "views": (views_view, ()),
    "band": (band_view, ("metric",)),
    "demo_time": (demo_time_view, ()),
    "verdict": (verdict_view, ("backbone", "model", "baseline", "group", "protocol", "metric")),
}
FolderViews = dict[str, tuple[Callable[[Path, dict[str, str]], str], tuple[str, ...]]]
# Views over a folder beside results/ instead of an experiment, by the folder's name.
FOLDER_VIEWS: dict[str, FolderViews] = {
    NOTEBOOKS: {"runtimes": (runtimes_view, ())},
    BENCHMARKS: {"catalogue_cost": (catalogue_cost_view, ())},
}
