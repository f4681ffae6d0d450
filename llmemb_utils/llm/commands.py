"""``llmemb scft`` and ``llmemb embed``: the LLM stage on the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config import add_overlay_arguments, load_cli_config
from ..data.dataset import PreparedDataset
from .pooling import POOLINGS


def register(subparsers: argparse._SubParsersAction) -> None:
    scft = subparsers.add_parser(
        "scft", help="supervised contrastive fine-tuning of the LLM with LoRA",
        description="Fine-tune the config's LLM on the prepared dataset's item prompts; writes "
                    "adapter/, history.json, summary.json and manifest.json. Resumes from "
                    "checkpoint.pt in the output folder. Multi-process: accelerate launch -m "
                    "llmemb_utils.cli scft ...")
    scft.add_argument("--config", type=Path, required=True, help="experiment YAML")
    scft.add_argument("--data", type=Path, help="prepared dataset (default: <run_dir>/data)")
    scft.add_argument("--out", type=Path, help="output folder (default: <run_dir>/scft)")
    scft.add_argument("--steps", type=int, help="override scft.steps")
    scft.add_argument("--seed", type=int)
    add_overlay_arguments(scft)
    scft.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    scft.set_defaults(handler=run_scft)

    embed = subparsers.add_parser(
        "embed", help="LLM item embeddings of a prepared dataset",
        description="Embed every item prompt (row i-1 = item id i) and write a .npy plus a "
                    "JSON sidecar with the manifest.")
    embed.add_argument("--data", type=Path, required=True, help="prepared dataset folder")
    embed.add_argument("--model", required=True,
                       help="asset name, Hugging Face hub id, local folder or .gguf file")
    embed.add_argument("--lora", type=Path, help="LoRA adapter folder from `llmemb scft`")
    embed.add_argument("--pooling", choices=POOLINGS, default="mean")
    embed.add_argument("--pca-dim", type=int,
                       help="PCA width (the LLM's width centres without reducing)")
    embed.add_argument("--dtype", default="auto",
                       help="auto (bfloat16 on CUDA, float32 on CPU), float32, bfloat16, float16")
    embed.add_argument("--batch-size", type=int, default=32)
    embed.add_argument("--max-tokens", type=int, default=1024)
    embed.add_argument("--seed", type=int, default=42)
    embed.add_argument("--out", type=Path, required=True, help="output .npy file")
    embed.set_defaults(handler=run_embed)


def run_scft(args: argparse.Namespace) -> int:
    from .scft import train_scft

    overrides = {k: v for k, v in {"scft.steps": args.steps, "seed": args.seed}.items()
                 if v is not None}
    config = load_cli_config(args, **overrides)
    dataset = PreparedDataset.load(args.data or config.run_dir / "data")
    result = train_scft(dataset.prompts, config, args.out or config.run_dir / "scft",
                        resume=not args.no_resume, inputs={"data": dataset.manifest})
    print(json.dumps(result.summary(), default=str, indent=2))
    return 0


def run_embed(args: argparse.Namespace) -> int:
    from .embed import embed_items, save_item_embeddings
    from .models import precision

    dataset = PreparedDataset.load(args.data)
    vectors = embed_items(dataset.prompts, args.model, args.lora, args.pooling, args.dtype,
                          max_tokens=args.max_tokens, batch_size=args.batch_size)
    settings = {"model": args.model, "lora": args.lora, "pooling": args.pooling,
                "dtype": args.dtype, "precision": precision(args.dtype, "auto"),
                "max_tokens": args.max_tokens, "pca_dim": args.pca_dim}
    path = save_item_embeddings(vectors, args.out, settings, dataset, args.lora, args.seed)
    print(f"[embed] {dataset.num_items} items x {vectors.shape[1]} -> {path}")
    return 0
