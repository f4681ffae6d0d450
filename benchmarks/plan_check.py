"""``llmemb plan``'s memory estimates against peaks measured on CPU runs; writes
benchmarks/plan_check.json.

Each case loads a model as the kit does (4-bit NF4 through bitsandbytes, LoRA on every layer),
runs one SCFT step to create the optimiser state, then measures a second step: the resident
tensors (weights, 4-bit scales, LoRA, AdamW moments) are counted directly and the step's own
peak (activations, gradients, transients) is read from the torch profiler's allocation
events. Extraction is one inference batch measured the same way. The cases: a tiny random
LLaMA and SmolLM2-135M (the kit's default), with and without gradient checkpointing.

    .venv/bin/python benchmarks/plan_check.py [--out benchmarks/plan_check.json]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import run_record  # this folder is on the path when run as a script
import torch

from llmemb_utils.config import load_config
from llmemb_utils.io import write_json
from llmemb_utils.llm.extract import forward_pooled
from llmemb_utils.llm.models import DEFAULT_MODEL, converted_default, load_model
from llmemb_utils.llm.plan import (
    Precision,
    extraction_plan,
    model_shape,
    scft_plan,
)
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


def scft_case(name: str, model: str, pairs: int, tokens: int, checkpointing: bool) -> dict:
    config = load_config(**{"llm.model": model, "llm.dtype": "float32",
                            "llm.load_in_4bit": "always",
                            "llm.gradient_checkpointing": checkpointing,
                            "scft.lora_layers": None, "scft.batch_size": pairs})
    probe = SCFTProbe.load(config, "cpu")
    shape = model_shape(model)
    ids, mask = synthetic_batch(shape.vocab, 2 * pairs, tokens)
    probe.step(ids, mask)  # creates AdamW's moments
    resident = tensor_bytes(resident_tensors(probe.objective, probe.optimizer))
    step_peak = profiled_peak(lambda: probe.step(ids, mask))
    plan = scft_plan(shape, Precision(True, 4, 4), pairs, tokens, config.scft.lora_r,
                     shape.layers, checkpointing)
    return compared(f"SCFT {name}{' checkpointing' if checkpointing else ''}", plan,
                    resident + step_peak, {"resident": resident, "step peak": step_peak,
                                           "pairs": pairs, "tokens": tokens})


def extraction_case(name: str, model: str, batch: int, tokens: int) -> dict:
    llm, _ = load_model(model, "float32", "always", device="cpu")
    shape = model_shape(model)
    ids, mask = synthetic_batch(shape.vocab, batch, tokens)
    resident = tensor_bytes(resident_tensors(llm))
    step_peak = profiled_peak(lambda: forward_pooled(llm, ids, mask))
    plan = extraction_plan(shape, Precision(True, 4, 4), batch, tokens, rank=0)
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
    args = parser.parse_args()
    record = run_record.start(args)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        tiny = str(save_tiny_llama(Path(folder) / "tiny", layers=4, hidden=64))
        smollm2 = str(converted_default())
        cases = [scft_case("tiny LLaMA", tiny, 8, 64, checkpointing)
                 for checkpointing in (False, True)]
        cases += [scft_case(DEFAULT_MODEL, smollm2, 4, 64, checkpointing)
                  for checkpointing in (False, True)]
        cases += [extraction_case("tiny LLaMA", tiny, 16, 64),
                  extraction_case(DEFAULT_MODEL, smollm2, 16, 64)]
    write_json(args.out, {**run_record.finish(record), "tolerance": TOLERANCE,
                          "precision": "4-bit NF4 weights, fp32 compute",
                          "torch": torch.__version__, "machine": platform.machine(),
                          "cases": cases})
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
