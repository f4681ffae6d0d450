"""``llmemb plan``'s memory estimates against peaks measured on CPU runs; writes
benchmarks/plan_check.json.

Each case loads a model as the kit does (4-bit NF4 through bitsandbytes, LoRA on every layer),
runs one SCFT step to create the optimiser state, then measures a second step: the resident
tensors (weights, 4-bit scales, LoRA, AdamW moments) are counted directly and the step's own
peak (activations, gradients, transients) is read from the torch profiler's allocation
events. Extraction is one inference batch measured the same way. The cases: a tiny random
LLaMA and SmolLM2-135M (the kit's default), with and without gradient checkpointing, in fp32
compute; and the tiny LLaMA in bf16 compute, the GPU recipe's precision.

    .venv/bin/python benchmarks/plan_check.py [--out benchmarks/plan_check.json] [--only TEXT]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from functools import partial
from pathlib import Path

import run_record  # this folder is on the path when run as a script
import torch

from llmemb_utils.config import load_config
from llmemb_utils.io import read_json, write_json
from llmemb_utils.llm.extract import forward_pooled
from llmemb_utils.llm.models import DEFAULT_MODEL, converted_default, load_model
from llmemb_utils.llm.plan import extraction_plan, model_shape, scft_plan
from llmemb_utils.llm.plan_commands import precision
from llmemb_utils.llm.probe import (
    SCFTProbe,
    profiled_peak,
    resident_tensors,
    synthetic_batch,
    tensor_bytes,
)
from llmemb_utils.llm.tiny import save_tiny_llama

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 0.25


def scft_case(name: str, model: str, pairs: int, tokens: int, checkpointing: bool,
              dtype: str = "float32") -> dict:
    config = load_config(**{"llm.model": model, "llm.dtype": dtype,
                            "llm.load_in_4bit": "always",
                            "llm.gradient_checkpointing": checkpointing,
                            "scft.lora_layers": None, "scft.batch_size": pairs})
    probe = SCFTProbe.load(config, "cpu")
    shape = model_shape(model)
    ids, mask = synthetic_batch(shape.vocab, 2 * pairs, tokens)
    probe.step(ids, mask)  # creates AdamW's moments
    resident = tensor_bytes(resident_tensors(probe.objective, probe.optimizer))
    step_peak = profiled_peak(lambda: probe.step(ids, mask))
    plan = scft_plan(shape, precision(config, "cpu"), pairs, tokens, config.scft.lora_r,
                     shape.layers, checkpointing)
    compute = "" if dtype == "float32" else f" {dtype} compute"
    return compared(f"SCFT {name}{compute}{' checkpointing' if checkpointing else ''}", plan,
                    resident + step_peak, {"resident": resident, "step peak": step_peak,
                                           "pairs": pairs, "tokens": tokens})


def extraction_case(name: str, model: str, batch: int, tokens: int) -> dict:
    llm, _ = load_model(model, "float32", "always", device="cpu")
    shape = model_shape(model)
    ids, mask = synthetic_batch(shape.vocab, batch, tokens)
    resident = tensor_bytes(resident_tensors(llm))
    step_peak = profiled_peak(lambda: forward_pooled(llm, ids, mask))
    plan = extraction_plan(shape, precision(load_config(**{"llm.dtype": "float32",
                                                           "llm.load_in_4bit": "always"}),
                                            "cpu"), batch, tokens, rank=0)
    return compared(f"extraction {name}", plan, resident + step_peak,
                    {"resident": resident, "step peak": step_peak, "batch": batch,
                     "tokens": tokens})


def compared(case: str, plan, measured: int, details: dict) -> dict:
    ratio = plan.total / measured
    print(f"{case:<40} plan {plan.total / 2**20:9.1f} MiB  measured {measured / 2**20:9.1f} MiB"
          f"  plan/measured {ratio:.2f}")
    return {"case": case, "plan_bytes": plan.total, "plan_parts": plan.parts,
            "measured_bytes": measured, "plan_over_measured": ratio,
            "within_tolerance": abs(ratio - 1) <= TOLERANCE, **details}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "plan_check.json")
    run_record.add_load_option(parser)
    parser.add_argument("--only", metavar="TEXT",
                        help="run only the cases whose name contains TEXT and update them in "
                             "--out, keeping its other cases")
    args = parser.parse_args()
    record = run_record.start(args)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        tiny = str(save_tiny_llama(Path(folder) / "tiny", layers=4, hidden=64))
        smollm2 = str(converted_default())
        cases = {}
        for checkpointing in (False, True):
            suffix = " checkpointing" if checkpointing else ""
            cases[f"SCFT tiny LLaMA{suffix}"] = partial(scft_case, "tiny LLaMA", tiny, 8, 64,
                                                        checkpointing)
            cases[f"SCFT tiny LLaMA bfloat16 compute{suffix}"] = partial(
                scft_case, "tiny LLaMA", tiny, 8, 64, checkpointing, "bfloat16")
            cases[f"SCFT {DEFAULT_MODEL}{suffix}"] = partial(scft_case, DEFAULT_MODEL, smollm2,
                                                             4, 64, checkpointing)
        cases["extraction tiny LLaMA"] = partial(extraction_case, "tiny LLaMA", tiny, 16, 64)
        cases[f"extraction {DEFAULT_MODEL}"] = partial(extraction_case, DEFAULT_MODEL, smollm2,
                                                       16, 64)
        kept = (read_json(args.out)["cases"] if args.only and args.out.is_file() else [])
        measured = {name: run() for name, run in cases.items()
                    if args.only is None or args.only in name}
    results = [measured.pop(case["case"], case) for case in kept] + list(measured.values())
    write_json(args.out, {**run_record.finish(record), "tolerance": TOLERANCE,
                          "precision": "4-bit NF4 weights, fp32 compute unless a case says "
                                       "bfloat16 compute",
                          "torch": torch.__version__, "machine": platform.machine(),
                          "cases": results})
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
