"""``llmemb scft`` and ``llmemb embed``: the LLM stage on the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import get_args

import numpy as np

from ..config import Dtype, Pooling, add_config_arguments, given_overrides, load_cli_config
from ..data.dataset import PreparedDataset
from ..layout import RunLayout


def register(subparsers: argparse._SubParsersAction) -> None:
    scft = subparsers.add_parser(
        "scft", help="supervised contrastive fine-tuning of the LLM with LoRA",
        description="Fine-tune the config's LLM on the prepared dataset's item prompts; writes "
                    "adapter/, history.json, summary.json and manifest.json. Resumes from "
                    "checkpoint.pt in the output folder. Multi-process: accelerate launch -m "
                    "llmemb_utils.cli scft ...")
    add_config_arguments(scft)
    scft.add_argument("--data", type=Path, help="prepared dataset (default: the run's data folder)")
    scft.add_argument("--out", type=Path, help="output folder (default: the run's scft folder)")
    scft.add_argument("--steps", type=int, help="override scft.steps")
    scft.add_argument("--seed", type=int)
    scft.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    scft.set_defaults(handler=run_scft)

    embed = subparsers.add_parser(
        "embed", help="LLM item embeddings of a prepared dataset",
        description="Embed every item prompt (row i-1 = item id i) with the config's llm and "
                    "embed settings and write a .npy plus a JSON sidecar with the manifest; "
                    "the pipeline reuses a table written where it looks, with its settings.")
    add_config_arguments(embed)
    embed.add_argument("--data", type=Path, help="prepared dataset (default: the run's data "
                                                 "folder)")
    embed.add_argument("--model", help="asset name, Hugging Face hub id, local folder or .gguf "
                                       "file (default: llm.model)")
    embed.add_argument("--lora", type=Path, help="LoRA adapter folder from `llmemb scft` "
                                                 "(default: none, a raw table)")
    embed.add_argument("--pooling", choices=get_args(Pooling), help="default: llm.pooling")
    embed.add_argument("--pca-dim", type=int, help="PCA width (default: embed.pca_dim; none "
                                                   "centres without reducing)")
    embed.add_argument("--dtype", choices=get_args(Dtype), help="default: llm.dtype")
    embed.add_argument("--batch-size", type=int, help="default: embed.batch_size")
    embed.add_argument("--max-tokens", type=int, help="default: llm.max_tokens")
    embed.add_argument("--seed", type=int)
    embed.add_argument("--out", type=Path, help="output .npy file (default: the run's "
                                                "embeddings/scft.npy with --lora, else raw.npy)")
    embed.set_defaults(handler=run_embed)


def run_scft(args: argparse.Namespace) -> int:
    from .scft import train_scft

    config = load_cli_config(args, **given_overrides({"scft.steps": args.steps,
                                                      "seed": args.seed}))
    layout = RunLayout(config)
    dataset = PreparedDataset.load(args.data or layout.data)
    result = train_scft(dataset.prompts, config, args.out or layout.scft,
                        resume=not args.no_resume, inputs={"data": dataset.manifest})
    print(json.dumps(result.summary(), default=str, indent=2))
    return 0


def run_embed(args: argparse.Namespace) -> int:
    from .embed import write_item_table

    config = load_cli_config(args, **given_overrides({
        "llm.model": args.model, "llm.pooling": args.pooling, "llm.dtype": args.dtype,
        "llm.max_tokens": args.max_tokens, "embed.pca_dim": args.pca_dim,
        "embed.batch_size": args.batch_size, "seed": args.seed}))
    layout = RunLayout(config)
    dataset = PreparedDataset.load(args.data or layout.data)
    out = args.out or layout.llm_table("scft" if args.lora else "raw")
    path = write_item_table(config, dataset, args.lora, out)
    rows, width = np.load(path, mmap_mode="r").shape
    print(f"[embed] {rows} items x {width} -> {path}")
    return 0
