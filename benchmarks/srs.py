"""SRS speed and memory: training epoch time, full-ranking test time and peak RSS.

Cases: every backbone on the default dataset (MovieLens-100k, prepared by
``llmemb prepare --config configs/ml100k_smollm2.yaml``), every backbone on a synthetic dataset
at the scale of the paper's Amazon Beauty (52k users, 57k items, ~400k interactions,
long-tailed popularity), and SASRec at 1/4 and 1/2 of that scale for the growth curve; each
with the ID table, and the default data and full Beauty scale also with the LLMEmb encoder
(RAT: frozen LLM table + adapter + alignment). Each case runs in its own process so that its
peak RSS is its own.

    .venv/bin/python benchmarks/srs.py [--threads 2] [--epochs 2] [--quick]
    .venv/bin/python benchmarks/srs.py --thread-sweep 2 1

Writes ``benchmarks/srs.json`` (machine info and load average included); ``--thread-sweep``
times only ID-SASRec on the default data, once per thread count, into
``benchmarks/srs_idle.json`` (meant for an otherwise idle machine: its load is recorded).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import run_record  # this folder is on the path when run as a script

ROOT = Path(__file__).resolve().parent.parent
SYNTHETIC_ROOT = ROOT / "artifacts" / "benchmarks" / "srs"
BEAUTY = {"users": 52_204, "items": 57_289, "interactions": 394_908}
BACKBONES = ("sasrec", "bert4rec", "gru4rec")
LLM_WIDTH = {"ml100k": 576, "beauty": 1536}  # SmolLM2-135M; the paper's PCA'd LLaMA-7B table


def default_data() -> Path:
    """The prepared dataset of the default run (notebook 01's output)."""
    from llmemb_utils.config import load_config
    from llmemb_utils.layout import RunLayout

    return RunLayout(load_config(ROOT / "configs" / "ml100k_smollm2.yaml")).data


def synthetic_dataset(scale: float):
    """The long-tailed synthetic dataset at ``scale`` x Beauty, prepared once and cached."""
    from llmemb_utils.data.dataset import PreparedDataset
    from llmemb_utils.srs.synthetic import long_tail_data, prepare_synthetic

    folder = SYNTHETIC_ROOT / f"beauty_x{scale:g}"
    if (folder / "manifest.json").is_file():
        return PreparedDataset.load(folder)
    raw = long_tail_data(int(BEAUTY["users"] * scale), int(BEAUTY["items"] * scale),
                         int(BEAUTY["interactions"] * scale), seed=0, exponent=0.7)
    return prepare_synthetic(raw, folder, item_head_min=4, user_long_min=9)


def stand_in_llmemb(num_items: int, hidden: int, width: int):
    """An LLMEmb encoder on random LLM and teacher tables of the real shapes (its cost does
    not depend on their values)."""
    import numpy as np

    from llmemb_utils.rat import LLMEmbEncoder

    rng = np.random.default_rng(0)
    return LLMEmbEncoder(rng.normal(size=(num_items, width)).astype(np.float32), hidden,
                         teacher=rng.normal(scale=0.05, size=(num_items + 1, hidden)))


def measure(data: str, backbone: str, encoder: str, epochs: int, threads: int) -> dict:
    """Time ``epochs`` training epochs, then a full-ranking evaluation of the test split."""
    import tempfile

    import torch

    from llmemb_utils.config import load_config
    from llmemb_utils.data.dataset import PreparedDataset
    from llmemb_utils.eval.evaluate import evaluate
    from llmemb_utils.eval.protocol import Protocol
    from llmemb_utils.srs.backbones import build_backbone
    from llmemb_utils.srs.inference import user_states
    from llmemb_utils.srs.model import SequentialRecommender
    from llmemb_utils.srs.run import build_model
    from llmemb_utils.srs.trainer import Trainer

    torch.set_num_threads(threads)
    dataset = (PreparedDataset.load(data) if data == str(default_data())
               else synthetic_dataset(float(data)))
    config = load_config(None, **{"srs.backbone": backbone, "srs.epochs": epochs})
    torch.manual_seed(config.seed)
    if encoder == "id":
        model = build_model(config, dataset, "id")
    else:
        width = LLM_WIDTH["ml100k" if data == str(default_data()) else "beauty"]
        model = SequentialRecommender(
            stand_in_llmemb(dataset.num_items, config.srs.hidden, width),
            build_backbone(config.srs), config.srs.loss)
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(model, dataset, config, out, identity={}, device="cpu")
        epoch_seconds = []
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            trainer.train_epoch(epoch)
            epoch_seconds.append(round(time.perf_counter() - started, 3))
    started = time.perf_counter()
    states = user_states(model, dataset.history("test"), config.srs.max_length, "cpu")
    encoded = time.perf_counter()
    with torch.no_grad():
        evaluate(states, model.item_table(), dataset, "test", Protocol("full"))
    ranked = time.perf_counter()
    return {
        "users": dataset.num_users, "items": dataset.num_items,
        "interactions": int(sum(len(s) for s in dataset.sequences)),
        "epoch_seconds": epoch_seconds,
        "test_full_ranking_seconds": round(ranked - started, 3),
        "test_user_states_seconds": round(encoded - started, 3),
        "test_ranking_seconds": round(ranked - encoded, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average_after": os.getloadavg(),
    }


def run_case(data: str, backbone: str, encoder: str, epochs: int, threads: int) -> dict:
    """``measure`` in a fresh process, so peak RSS is the case's own."""
    command = [sys.executable, __file__, "--case", data, backbone, encoder, "--epochs",
               str(epochs), "--threads", str(threads)]
    environment = {**os.environ, "TQDM_DISABLE": "1"}
    output = subprocess.run(command, check=True, capture_output=True, text=True,
                            env=environment).stdout
    return json.loads(output.strip().splitlines()[-1])


def cases(quick: bool) -> list[tuple[str, str, str, str]]:
    """(label, data, backbone, encoder): default data per backbone and encoder, Beauty scale
    per backbone, the SASRec growth curve, and LLMEmb-SASRec at the largest scale."""
    found = []
    if default_data().is_dir():
        found += [(f"ml100k/{b}{suffix}", str(default_data()), b, encoder) for b in BACKBONES
                  for encoder, suffix in (("id", ""), ("llmemb", "+llmemb"))]
    scales = (0.05,) if quick else (0.25, 0.5, 1.0)
    top = f"{scales[-1]:g}"
    found += [(f"beauty_x{s:g}/sasrec", str(s), "sasrec", "id") for s in scales]
    found += [(f"beauty_x{top}/{b}", top, b, "id") for b in BACKBONES[1:]]
    found.append((f"beauty_x{top}/sasrec+llmemb", top, "sasrec", "llmemb"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs=3, metavar=("DATA", "BACKBONE", "ENCODER"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--quick", action="store_true", help="a tiny synthetic scale only")
    parser.add_argument("--thread-sweep", type=int, nargs="+", metavar="T",
                        help="only ID-SASRec on the default data, with each thread count")
    parser.add_argument("--out", type=Path,
                        help="default: benchmarks/srs.json (srs_idle.json with --thread-sweep)")
    run_record.add_load_option(parser)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(measure(*args.case, args.epochs, args.threads)))
        return
    record = run_record.start(args)

    import torch

    if args.thread_sweep:
        runs = [(f"ml100k/sasrec, threads {t}", str(default_data()), "sasrec", "id", t)
                for t in args.thread_sweep]
    else:
        runs = [(*case, args.threads) for case in cases(args.quick)]
    out = args.out or Path(__file__).with_name("srs_idle.json" if args.thread_sweep
                                               else "srs.json")
    results = {
        **record,
        "machine": {"torch": torch.__version__, "threads": args.thread_sweep or args.threads},
        "config": {"epochs": args.epochs, "note": "paper hyper-parameters (hidden 128, "
                   "2 blocks, batch 128, max length 200); epoch_seconds excludes validation, "
                   "which costs about one test_full_ranking_seconds"},
        "cases": {},
    }
    for label, data, backbone, encoder, threads in runs:
        print(f"[srs benchmark] {label}", flush=True)
        results["cases"][label] = run_case(data, backbone, encoder, args.epochs, threads)
        print(json.dumps(results["cases"][label]), flush=True)
        results |= run_record.finish(record)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")  # so far
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
