"""Speed, memory and quality of the LLM stage on the embedded default; writes benchmarks/llm.json.

1. Extraction: a naive loop (prompts in input order, batches padded with an attention mask)
   against the kit's ``extract`` (length-sorted batches, no mask needed), both in float32 and
   both in bfloat16: the speed-up at equal precision, and beside it bfloat16 against float32
   for each. Every timing follows a warm-up batch and is the median of ``--repeats`` runs;
   every variant's vectors are compared with the naive float32 ones by cosine (raw, and after
   centring as PCA does).
2. SCFT with the config's settings in a child process (``llmemb scft``): wall time, trunk
   cache time, time per step and the child's peak RSS.
3. Uniformity (t = 2) and view-retrieval top-1 before and after SCFT.

The machine's load average is recorded before and after each part: on a shared machine the
timings depend on it.

    .venv/bin/python benchmarks/llm.py [--items N] [--repeats 3] [--skip-scft]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import run_record  # this folder is on the path when run as a script
import torch

from llmemb_utils.config import load_config
from llmemb_utils.data.dataset import PreparedDataset
from llmemb_utils.io import read_json, write_json
from llmemb_utils.layout import RunLayout
from llmemb_utils.llm.diagnostics import embedding_report
from llmemb_utils.llm.embed import embed_items
from llmemb_utils.llm.extract import extract
from llmemb_utils.llm.models import load_model
from llmemb_utils.llm.pooling import pool
from llmemb_utils.llm.tokens import encode, pad, pad_id

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "ml100k_smollm2.yaml"


@torch.no_grad()
def naive_embeddings(model, tokenizer, prompts: list[str], batch_size: int = 32) -> np.ndarray:
    """The baseline: input order, padded batches with an attention mask, float32."""
    sequences = encode(tokenizer, prompts, 1024)
    rows = []
    for start in range(0, len(sequences), batch_size):
        ids, mask = pad(sequences[start:start + batch_size], pad_id(tokenizer))
        hidden = model(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        rows.append(pool(hidden, mask).numpy())
    return np.concatenate(rows)


def cosines(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    def rowwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

    raw = rowwise(reference, other)
    centre = reference.mean(0)
    centred = rowwise(reference - centre, other - centre)
    return {"cosine_min": float(raw.min()), "cosine_mean": float(raw.mean()),
            "centred_cosine_min": float(centred.min()),
            "centred_cosine_mean": float(centred.mean())}


def timed(function, *args, **kwargs) -> tuple[object, float]:
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def kit_embeddings(model, tokenizer, prompts: list[str], out: Path) -> np.ndarray:
    """The kit's extraction: length-sorted batches, no attention mask."""
    return np.asarray(extract(model, tokenizer, prompts, out, progress=False))


def median_rate(embed, prompts: list[str], repeats: int) -> tuple[np.ndarray, float]:
    """Vectors and the median items per second of ``repeats`` runs after a warm-up batch."""
    embed(prompts[:8])
    times = []
    for _ in range(repeats):
        vectors, seconds = timed(embed, prompts)
        times.append(seconds)
    return vectors, len(prompts) / statistics.median(times)


def bench_extraction(prompts: list[str], folder: Path, repeats: int) -> dict[str, object]:
    results: dict[str, object] = {"items": len(prompts), "repeats": repeats,
                                  "timing": "median after a warm-up batch",
                                  "load_before": os.getloadavg()}
    rates: dict[tuple[str, str], float] = {}
    reference = None
    for dtype in ("float32", "bfloat16"):
        model, tokenizer = load_model(dtype=dtype, device="cpu")
        variants = {"naive": partial(naive_embeddings, model, tokenizer),
                    "kit": partial(kit_embeddings, model, tokenizer, out=folder / f"{dtype}.npy")}
        for name, embed in variants.items():
            vectors, rates[name, dtype] = median_rate(embed, prompts, repeats)
            reference = vectors if reference is None else reference  # naive float32
            results[f"{name}_{dtype}"] = {"items_per_s": rates[name, dtype],
                                          **cosines(reference, vectors)}
        results[f"kit_vs_naive_{dtype}"] = rates["kit", dtype] / rates["naive", dtype]
    for name in ("naive", "kit"):
        results[f"{name}_bfloat16_vs_float32"] = rates[name, "bfloat16"] / rates[name, "float32"]
    results["load_after"] = os.getloadavg()
    return results


def bench_scft(out: Path) -> dict[str, object]:
    load_before = os.getloadavg()
    command = [sys.executable, "-m", "llmemb_utils.cli", "scft", "--config", str(CONFIG),
               "--out", str(out), "--no-resume"]
    _, wall = timed(subprocess.run, command, check=True, env={**os.environ, "TQDM_DISABLE": "1"})
    summary = read_json(out / "summary.json")
    config = load_config(CONFIG).scft
    return {"settings": {"steps": config.steps, "batch_pairs": config.batch_size,
                         "lora_layers": config.lora_layers, "loss": config.loss},
            "process_wall_s": wall, "scft_seconds": summary["seconds"],
            "scft_cpu_seconds": summary.get("cpu_seconds"),
            "trunk_cache_s": summary["cache_seconds"],
            "train_s_per_step": summary["train_seconds"] / config.steps,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6,
            "final_temperature": summary["temperature"],
            "load_before": load_before, "load_after": os.getloadavg()}


def bench_quality(prompts: list[str], adapter: Path) -> dict[str, object]:
    settings = {"model": "smollm2-135m-instruct", "progress": False}
    before = embedding_report(partial(embed_items, **settings), prompts)
    after = embedding_report(partial(embed_items, lora=adapter, **settings), prompts)
    return {"before_scft": before, "after_scft": after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, help="only the first N prompts (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per variant")
    parser.add_argument("--skip-scft", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "llm.json")
    run_record.add_load_option(parser)
    args = parser.parse_args()
    record = run_record.start(args)
    config = load_config(CONFIG)
    layout = RunLayout(config)
    prompts = PreparedDataset.load(layout.data).prompts[:args.items]
    scratch = layout.root / "benchmark"
    report: dict[str, object] = {
        "machine": {"torch_threads": torch.get_num_threads(), "torch": torch.__version__},
        "extraction": bench_extraction(prompts, scratch, args.repeats),
    }
    if not args.skip_scft:
        report["scft"] = bench_scft(scratch / "scft")
        report["quality"] = bench_quality(prompts, scratch / "scft" / "adapter")
    write_json(args.out, {**run_record.finish(record), **report})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
