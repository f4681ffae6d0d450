"""What the pipeline costs as the catalogue grows: seconds and peak memory of extraction, SCFT,
PCA and RAT against the number of items on this CPU, a log-log slope per stage, estimates at
1k, 10k and 100k items, and beside them the planner's GPU estimate at the same sizes; writes
benchmarks/catalogue_cost.json and figures/catalogue_cost.png.

A catalogue of N items draws its prompts from a prepared dataset (without replacement up to
the dataset's size, with replacement beyond), so that their token lengths are real ones: by
default (``--data-config``) the Amazon Scientific data of configs/scientific_smollm2.yaml when
it is prepared (``llmemb prepare --config configs/scientific_smollm2.yaml --source FOLDER``
with the folder of Scientific.inter.json and Scientific.item.json), else the embedded
MovieLens-100k (prepared on first use); the JSON names the source. ``--config`` (default
configs/ml100k_smollm2.yaml) is the recipe: the model (``--model`` replaces it), the CPU SCFT
recipe, the RAT and recommender settings and the paper profile's ``gpu`` overlay. Each stage
runs at each N in a fresh process, so that its peak RSS is its own:

- extraction: the kit's ``extract`` in float32 on the CPU (the model load is timed apart);
- SCFT: ``train_scft`` for ``--scft-steps`` steps: the trunk cache (both views of every item
  through the frozen layers, the part that grows with N) and seconds per step (the mean over
  the steps timed, the first step and the final checkpoint included); one pass over the
  catalogue is the cache plus N / batch steps at that rate;
- PCA: ``reduce_table`` with the config's RAT settings on a random N x H table (H: the
  model's width), after one untimed call on a small table (the solver's one-time set-up);
- RAT: one training epoch of LLMEmb-SASRec (random LLM and teacher tables of the real shapes:
  the cost does not depend on their values) on long-tailed synthetic sequences of N items,
  users and interactions in the proportions of the paper's Amazon Beauty.

A power law is fitted per stage to the seconds (least squares on log-log axes) and every
stage is estimated at 1k, 10k and 100k items, labelled "extrapolated" where N was not
measured. Beside it, the planner's estimate (``llmemb plan``'s memory, its FLOP-count time at
the T4 rate it assumes) for the t4-demo and paper profiles.

The default sizes keep the whole run well inside 30 minutes on an idle 2-core machine with
the Scientific prompts (the per-item rates of benchmarks/llm.json, benchmarks/srs.json and the
Scientific SCFT run set them); MovieLens-100k's prompts are about a third as long. Larger
sizes (``--sizes``) measure more of the range and extrapolate less.

    .venv/bin/python benchmarks/catalogue_cost.py [--sizes scft=128,256 rat=1000,3000 ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import run_record  # this folder is on the path when run as a script
import srs  # benchmarks/srs.py: the paper's Beauty proportions and the stand-in LLMEmb encoder
import torch
from transformers import AutoTokenizer

from llmemb_utils import pipeline
from llmemb_utils.config import ExperimentConfig, load_config
from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.evidence.catalogue_cost import STAGE_LABELS
from llmemb_utils.evidence.scaling import PowerLaw, estimates, fit_power_law
from llmemb_utils.io import kit_relative, write_json
from llmemb_utils.layout import RunLayout
from llmemb_utils.llm.extract import extract
from llmemb_utils.llm.models import load_model, resolve
from llmemb_utils.llm.plan import (
    T4_QLORA_FLOPS,
    extraction_seconds,
    model_shape,
    scft_seconds,
    scft_step_flops,
)
from llmemb_utils.llm.plan_commands import prompt_tokens, stage_plans, trunk_cache
from llmemb_utils.llm.scft import train_scft
from llmemb_utils.llm.tokens import encode
from llmemb_utils.plots import catalogue_cost_figure, plt, save_figure
from llmemb_utils.profiles import scft_run_seconds, t4_demo_config
from llmemb_utils.rat.table import reduce_table
from llmemb_utils.srs.backbones import build_backbone
from llmemb_utils.srs.model import SequentialRecommender
from llmemb_utils.srs.synthetic import long_tail_data, prepare_synthetic
from llmemb_utils.srs.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
SCIENTIFIC = ROOT / "configs" / "scientific_smollm2.yaml"
MOVIELENS = ROOT / "configs" / "ml100k_smollm2.yaml"
STAGES = ("extraction", "scft", "pca", "rat")
DEFAULT_SIZES = {"extraction": (64, 128, 256), "scft": (64, 128, 256),
                 "pca": (1_000, 10_000, 100_000), "rat": (1_000, 3_000, 10_000, 30_000)}
TARGETS = (1_000, 10_000, 100_000)
DRAW_SEED = 0
DESCRIPTIONS = {
    "extraction": "embedding every item prompt (float32, CPU), model load excluded",
    "scft": "one SCFT pass over the catalogue: the trunk cache plus N / batch steps at the "
            "measured seconds per step",
    "pca": "the RAT table's PCA on an N x H table",
    "rat": "one training epoch of LLMEmb-SASRec",
}


def parse_sizes(texts: list[str]) -> dict[str, tuple[int, ...]]:
    """``STAGE=N,N,...`` pairs over the defaults; each stage needs two distinct sizes for its
    slope."""
    sizes = dict(DEFAULT_SIZES)
    for text in texts:
        stage, _, values = text.partition("=")
        if stage not in STAGES:
            raise argparse.ArgumentTypeError(f"--sizes {text}: the stage must be one of "
                                             f"{STAGES}")
        try:
            counts = tuple(int(value) for value in values.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"--sizes {text}: expected {stage}=N,N,... with "
                                             "whole numbers") from None
        if len(set(counts)) < 2 or min(counts) < 1:
            raise argparse.ArgumentTypeError(f"--sizes {text}: a slope needs at least two "
                                             "distinct positive sizes")
        sizes[stage] = tuple(sorted(set(counts)))
    return sizes


def default_data_config() -> Path:
    """The Scientific config when its data is prepared, else the embedded MovieLens-100k."""
    prepared = RunLayout(load_config(SCIENTIFIC)).data / "manifest.json"
    return SCIENTIFIC if prepared.is_file() else MOVIELENS


def recipe(args: argparse.Namespace) -> ExperimentConfig:
    """The config the stages run with, its model replaced by ``--model``."""
    return load_config(args.config, **({"llm.model": args.model} if args.model else {}))


def source_dataset(args: argparse.Namespace) -> PreparedDataset:
    """The prepared data of ``--data-config``, prepared first when missing."""
    config = load_config(args.data_config)
    folder = RunLayout(config).data
    if (folder / "manifest.json").is_file():
        return PreparedDataset.load(folder)
    return pipeline.dataset(config)


def catalogue(args: argparse.Namespace, items: int) -> list[str]:
    """``items`` prompts drawn from the source (seeded)."""
    prompts = source_dataset(args).prompts
    rng = np.random.default_rng(DRAW_SEED)
    return [prompts[i] for i in rng.choice(len(prompts), items, replace=items > len(prompts))]


def timed(function: Callable, *args, **kwargs) -> tuple[Any, float]:
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def pass_steps(config: ExperimentConfig, items: int) -> int:
    """Optimiser steps of one SCFT pass over ``items`` items."""
    return math.ceil(items / (config.scft.batch_size * config.scft.grad_accumulation))


def measure_extraction(config: ExperimentConfig, items: int, folder: Path,
                       args: argparse.Namespace) -> dict:
    prompts = catalogue(args, items)
    llm = config.llm
    (model, tokenizer), load = timed(load_model, llm.model, "float32", llm.load_in_4bit,
                                     device="cpu")
    _, seconds = timed(extract, model, tokenizer, prompts, folder / "table.npy", llm.pooling,
                       config.embed.batch_size, llm.max_tokens, progress=False)
    return {"seconds": seconds, "model_load_seconds": load}


def measure_scft(config: ExperimentConfig, items: int, folder: Path,
                 args: argparse.Namespace) -> dict:
    steps = args.scft_steps
    short = dataclasses.replace(config, scft=dataclasses.replace(config.scft, steps=steps,
                                                                 save_every=steps))
    result = train_scft(catalogue(args, items), short, folder, resume=False, progress=False)
    step = result.train_seconds / steps
    return {"seconds": result.cache_seconds + pass_steps(config, items) * step,
            "trunk_cache_seconds": result.cache_seconds, "step_seconds": step,
            "steps_timed": steps, "steps_per_pass": pass_steps(config, items)}


def measure_pca(config: ExperimentConfig, items: int, folder: Path,
                args: argparse.Namespace) -> dict:
    width = model_shape(config.llm.model).hidden
    rng = np.random.default_rng(config.seed)
    # a decaying spectrum, as pooled LLM vectors have; the solver's cost does not depend on it
    table = (rng.normal(size=(items, width)) / np.sqrt(np.arange(1, width + 1))).astype(
        np.float32)
    rat = config.rat
    settings = (rat.pca_dim, rat.whiten, rat.unit_norm, config.seed)
    reduce_table(table[:2 * width], *settings)  # lazy imports and BLAS set-up, not N's cost
    _, seconds = timed(reduce_table, table, *settings)
    return {"seconds": seconds, "width": width}


def measure_rat(config: ExperimentConfig, items: int, folder: Path,
                args: argparse.Namespace) -> dict:
    share = items / srs.BEAUTY["items"]
    raw = long_tail_data(round(srs.BEAUTY["users"] * share), items,
                         round(srs.BEAUTY["interactions"] * share), seed=config.seed,
                         exponent=0.7)
    dataset = prepare_synthetic(raw, folder / "data")
    config = dataclasses.replace(config, srs=dataclasses.replace(config.srs,
                                                                 backbone="sasrec"))
    torch.manual_seed(config.seed)
    width = model_shape(config.llm.model).hidden
    model = SequentialRecommender(srs.stand_in_llmemb(dataset.num_items, config.srs.hidden,
                                                      width),
                                  build_backbone(config.srs), config.srs.loss)
    trainer = Trainer(model, dataset, config, folder / "run", identity={}, device="cpu")
    _, seconds = timed(trainer.train_epoch, 1)
    return {"seconds": seconds, "users": dataset.num_users, "items_kept": dataset.num_items,
            "interactions": int(sum(len(s) for s in dataset.sequences)), "table_width": width}


MEASURES = {"extraction": measure_extraction, "scft": measure_scft, "pca": measure_pca,
            "rat": measure_rat}


def measure(stage: str, items: int, args: argparse.Namespace) -> dict:
    """One stage at one size, in this process: its seconds and peak RSS (the interpreter and
    its libraries included)."""
    torch.set_num_threads(args.threads)
    config = recipe(args)
    with tempfile.TemporaryDirectory() as folder:
        measured = MEASURES[stage](config, items, Path(folder), args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"items": items, **measured, "peak_rss_mb": round(peak, 1)}


def in_child(stage: str, items: int, args: argparse.Namespace) -> dict:
    """``measure`` in a fresh process, so that its peak RSS is the stage's own."""
    command = [sys.executable, __file__, "--stage", stage, str(items), "--config",
               str(args.config), "--data-config", str(args.data_config), "--threads",
               str(args.threads), "--scft-steps", str(args.scft_steps),
               *(["--model", args.model] if args.model else [])]
    environment = {**os.environ, "TQDM_DISABLE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    if done.returncode:
        raise SystemExit(f"{stage} at {items} items failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def source_facts(config: ExperimentConfig, args: argparse.Namespace) -> dict:
    """Where the prompts come from and their token lengths with the model's tokenizer."""
    dataset = source_dataset(args)
    prompts = dataset.prompts
    source = resolve(config.llm.model)
    tokenizer = AutoTokenizer.from_pretrained(source.path, gguf_file=source.gguf_file)
    lengths = np.array([len(ids) for ids in encode(tokenizer, prompts, config.llm.max_tokens)])
    tokens, note = prompt_tokens(load_config(args.data_config), config.llm.model)
    return {"config": kit_relative(args.data_config), "data": kit_relative(dataset.path),
            "format": dataset.manifest["inputs"]["source"],
            "files": sorted(Path(path).name for path in dataset.manifest["inputs"]["sources"]),
            "items": len(prompts),
            "draw": "prompts drawn without replacement up to the source's size, with "
                    f"replacement beyond, seed {DRAW_SEED}",
            "prompt_tokens": {"mean": float(lengths.mean()), "median": float(np.median(lengths)),
                              "max": int(lengths.max())},
            "planned_tokens": tokens, "planned_tokens_note": note}


def gpu_estimates(args: argparse.Namespace, tokens: int) -> dict:
    """The planner's memory and time for each GPU profile at each target size, at its
    assumed T4 rate."""
    overrides = {"llm.model": args.model} if args.model else {}
    configs = {"t4-demo": t4_demo_config(args.config, tokens, overrides),
               "paper": load_config(args.config, gpu=True, **overrides)}
    estimates: dict[str, Any] = {"flops_per_second": T4_QLORA_FLOPS, "tokens": tokens}
    for profile, config in configs.items():
        shape, scft = model_shape(config.llm.model), config.scft
        step = scft_seconds(scft_step_flops(shape, scft.batch_size, tokens,
                                            scft.lora_layers or shape.layers,
                                            config.llm.gradient_checkpointing),
                            1, scft.grad_accumulation, T4_QLORA_FLOPS)
        rows = []
        for items in TARGETS:
            (scft_memory, extraction, rat), _ = stage_plans(config, shape, "cuda", tokens, items)
            rows.append({"items": items,
                         "scft_run_seconds": scft_run_seconds(config, shape, tokens, items,
                                                              T4_QLORA_FLOPS),
                         "scft_pass_seconds": pass_steps(config, items) * step,
                         "scft_peak_bytes": scft_memory.total,
                         "extraction_seconds": extraction_seconds(shape, items, tokens,
                                                                  T4_QLORA_FLOPS),
                         "extraction_peak_bytes": extraction.total,
                         "rat_peak_bytes": rat.total})
        estimates[profile] = {"scft_steps": scft.steps,
                              "pairs_per_step": scft.batch_size * scft.grad_accumulation,
                              "lora_layers": scft.lora_layers, "sizes": rows}
    return estimates


def planned_trunk_cache(config: ExperimentConfig, tokens: int, items: int) -> float:
    """The planner's trunk cache in host RAM at ``items`` (every view padded to ``tokens``)."""
    cache = trunk_cache(config, model_shape(config.llm.model), "cpu", tokens, items)
    return 0.0 if cache is None else cache.total


def stage_report(stage: str, rows: list[dict]) -> dict:
    """Measured rows, the fitted power law and the estimates at the target sizes."""
    fit = fit_power_law([row["items"] for row in rows], [row["seconds"] for row in rows])
    return {"description": DESCRIPTIONS[stage], "measured": rows,
            "fit": dataclasses.asdict(fit),
            "estimates": estimates({row["items"]: row["seconds"] for row in rows}, fit, TARGETS)}


def figure(stages: dict[str, dict], out: Path) -> None:
    """Measured seconds solid, the fit dashed from the smallest to the largest size shown."""
    curves = {}
    for stage, report in stages.items():
        fit = PowerLaw(**report["fit"])
        sizes = [row["items"] for row in report["measured"]]
        shown = np.geomspace(min(*sizes, *TARGETS), max(*sizes, *TARGETS), 20)
        curves[STAGE_LABELS[stage]] = {
            "items": sizes, "seconds": [row["seconds"] for row in report["measured"]],
            "fit_items": shown.tolist(), "fit_seconds": [fit(n) for n in shown]}
    fig = catalogue_cost_figure(curves)
    save_figure(fig, out.stem, out.parent)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", nargs=2, metavar=("STAGE", "ITEMS"), help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, default=MOVIELENS,
                        help="the recipe: model, CPU SCFT, RAT and recommender settings, and "
                             "the gpu overlay of the paper profile (default: %(default)s)")
    parser.add_argument("--data-config", type=Path,
                        help="the config whose prepared data the prompts are drawn from "
                             "(default: configs/scientific_smollm2.yaml when its data is "
                             "prepared, else configs/ml100k_smollm2.yaml)")
    parser.add_argument("--model", help="replaces the config's llm.model")
    parser.add_argument("--sizes", nargs="+", default=[], metavar="STAGE=N,N",
                        help=f"item counts per stage (default: {DEFAULT_SIZES})")
    parser.add_argument("--scft-steps", type=int, default=5, help="SCFT steps timed per size")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "catalogue_cost.json")
    parser.add_argument("--figure", type=Path, default=ROOT / "figures" / "catalogue_cost.png")
    run_record.add_load_option(parser)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(measure(args.stage[0], int(args.stage[1]), args)))
        return
    try:
        sizes = parse_sizes(args.sizes)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    args.data_config = args.data_config or default_data_config()
    record = run_record.start(args)
    config = recipe(args)
    source = source_facts(config, args)
    report: dict[str, Any] = {
        **record, "recipe": kit_relative(args.config), "model": config.llm.model,
        "threads": args.threads, "source": source,
        "rat_data": "long-tailed synthetic sequences (llmemb_utils/srs/synthetic.py) with "
                    "users and interactions in the proportions of Amazon Beauty "
                    f"({srs.BEAUTY['users']:,} users and {srs.BEAUTY['interactions']:,} "
                    f"interactions per {srs.BEAUTY['items']:,} items)",
        "targets": list(TARGETS), "stages": {},
        "gpu_plan": gpu_estimates(args, source["planned_tokens"])}
    for stage in STAGES:
        rows = []
        for items in sizes[stage]:
            print(f"[catalogue cost] {stage} at {items} items", flush=True)
            rows.append(in_child(stage, items, args))
            if stage == "scft":
                rows[-1]["planned_trunk_cache_bytes"] = planned_trunk_cache(
                    config, source["planned_tokens"], items)
        report["stages"][stage] = stage_report(stage, rows)
        report |= run_record.finish(record)
        write_json(args.out, report)  # so far
    figure(report["stages"], args.figure)
    print(f"wrote {args.out} and {args.figure}")


if __name__ == "__main__":
    main()
