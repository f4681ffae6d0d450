"""How much the kit's numbers depend on the CPU's instruction set; writes benchmarks/cross_cpu.json.

One machine stands in for others: PyTorch's own kernels follow ``ATEN_CPU_CAPABILITY``, oneDNN's
``ONEDNN_MAX_CPU_ISA`` and MKL's ``MKL_ENABLE_INSTRUCTIONS``, so a child process started with
lower limits computes as a CPU with fewer vector instructions would. For every instruction-set
mode the same child measures, on the prepared default data:

1. Pooled SmolLM2 embeddings of the first ``--prompts`` item prompts in bfloat16 and float32.
2. A short ID-SASRec run and an LLMEmb-SASRec run (``--epochs`` epochs, ``--threads``
   threads, seed 42), the LLMEmb run aligned to its own mode's ID-SASRec and reading one
   stand-in LLM table shared by every mode (seeded Gaussian rows of SmolLM2's width, so that
   only the recommender's training differs; part 1 measures how the LLM table itself moves):
   their item tables and test NDCG@10.

The JSON holds, for every mode against the first, the largest absolute difference of each
output, the speed of each dtype, and the machine's CPU flags and load.

    .venv/bin/python benchmarks/cross_cpu.py [--prompts 64] [--epochs 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import run_record  # this folder is on the path when run as a script

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "ml100k_smollm2.yaml"
MODES: dict[str, dict[str, str]] = {
    "native": {},
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"},
    "sse41": {"ONEDNN_MAX_CPU_ISA": "SSE41", "ATEN_CPU_CAPABILITY": "default",
              "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
}
DTYPES = ("bfloat16", "float32")
LLM_WIDTH = 576  # SmolLM2-135M
ISA_VARIABLES = sorted({name for env in MODES.values() for name in env})


def measure_embeddings(prompts: list[str], folder: Path) -> dict[str, float]:
    """Embed ``prompts`` in every dtype into ``folder``; returns seconds per dtype after a
    warm-up batch."""
    from llmemb_utils.llm.extract import extract
    from llmemb_utils.llm.models import load_model

    seconds = {}
    for dtype in DTYPES:
        model, tokenizer = load_model(dtype=dtype, device="cpu")
        extract(model, tokenizer, prompts[:8], folder / f"warmup_{dtype}.npy", progress=False)
        started = time.perf_counter()
        extract(model, tokenizer, prompts, folder / f"embeddings_{dtype}.npy", progress=False)
        seconds[dtype] = time.perf_counter() - started
    return seconds


def measure_training(epochs: int, table: Path, folder: Path) -> dict[str, float]:
    """Train ID-SASRec, then LLMEmb-SASRec aligned to it; returns each run's test NDCG@10."""
    from llmemb_utils.config import load_config
    from llmemb_utils.data.dataset import PreparedDataset
    from llmemb_utils.layout import RunLayout
    from llmemb_utils.srs.run import train

    config = load_config(CONFIG, **{"srs.epochs": epochs})
    data = PreparedDataset.load(RunLayout(config).data)
    scores = {}
    for encoder in ("id", "llmemb"):
        rat = dataclasses.replace(config.rat, embeddings="raw", llm_emb=str(table),
                                  teacher=str(folder / "id"))
        metrics = train(dataclasses.replace(config, rat=rat), data, folder / encoder, encoder,
                        device="cpu")
        scores[encoder] = metrics["full"]["overall"]["NDCG@10"]
    return scores


def child(args: argparse.Namespace) -> None:
    """One mode's measurements, written into ``args.scratch``."""
    import torch

    from llmemb_utils.data.dataset import PreparedDataset
    from llmemb_utils.io import write_json

    torch.set_num_threads(args.threads)
    folder = args.scratch
    prompts = PreparedDataset.load(args.data).prompts[:args.prompts]
    seconds = measure_embeddings(prompts, folder)
    ndcg = measure_training(args.epochs, args.table, folder)
    write_json(folder / "summary.json", {"cpu": run_record.cpu_facts(), "embed_seconds": seconds,
                                         "test_NDCG@10": ndcg})


def stand_in_table(data_dir: Path, out: Path) -> Path:
    """A seeded Gaussian LLM table of SmolLM2's width for the default data, with the manifest
    of a raw table."""
    from llmemb_utils.data.dataset import PreparedDataset
    from llmemb_utils.llm.embed import save_item_embeddings

    data = PreparedDataset.load(data_dir)
    vectors = np.random.default_rng(0).normal(size=(data.num_items, LLM_WIDTH))
    return save_item_embeddings(vectors.astype(np.float32), out,
                                {"model": "stand-in", "pca_dim": None}, data)


def max_abs(first: Path, other: Path) -> float:
    return float(np.abs(np.load(first) - np.load(other)).max())


def compare(reference: Path, other: Path) -> dict[str, float]:
    """Largest absolute differences of ``other``'s outputs from ``reference``'s."""
    from llmemb_utils.io import read_json

    ref, oth = read_json(reference / "summary.json"), read_json(other / "summary.json")
    out: dict[str, float] = {}
    for dtype in DTYPES:
        name = f"embeddings_{dtype}.npy"
        out[f"embeddings_{dtype}_max_abs"] = max_abs(reference / name, other / name)
    for encoder in ("id", "llmemb"):
        out[f"{encoder}_item_table_max_abs"] = max_abs(reference / encoder / "item_table.npy",
                                                       other / encoder / "item_table.npy")
        out[f"{encoder}_test_NDCG@10_abs_diff"] = abs(ref["test_NDCG@10"][encoder]
                                                      - oth["test_NDCG@10"][encoder])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--modes", nargs="+", choices=sorted(MODES), default=list(MODES))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "cross_cpu.json")
    run_record.add_load_option(parser)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--table", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    record = run_record.start(args)

    from llmemb_utils.config import load_config
    from llmemb_utils.io import read_json, write_json
    from llmemb_utils.layout import RunLayout

    data = RunLayout(load_config(CONFIG)).data
    scratch = ROOT / "artifacts" / "benchmarks" / "cross_cpu"
    table = stand_in_table(data, scratch / "stand_in_llm_table.npy")
    base_env = {k: v for k, v in os.environ.items() if k not in ISA_VARIABLES}
    for mode in args.modes:
        folder = scratch / mode
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        subprocess.run([sys.executable, __file__, "--child", "--scratch", str(folder),
                        "--table", str(table), "--data", str(data),
                        "--prompts", str(args.prompts), "--epochs", str(args.epochs),
                        "--threads", str(args.threads)],
                       check=True, env={**base_env, **MODES[mode], "TQDM_DISABLE": "1"})
    reference = args.modes[0]
    report = {
        **run_record.finish(record),
        "settings": {"prompts": args.prompts, "epochs": args.epochs, "threads": args.threads,
                     "seed": 42, "modes": {m: MODES[m] for m in args.modes},
                     "reference_mode": reference},
        "modes": {m: read_json(scratch / m / "summary.json") for m in args.modes},
        "differences_from_reference": {m: compare(scratch / reference, scratch / m)
                                       for m in args.modes[1:]},
    }
    write_json(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
