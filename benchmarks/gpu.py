"""4-bit QLoRA SCFT and extraction on one CUDA GPU; writes benchmarks/gpu.json.

For (a) SmolLM2-135M with its real weights (the kit's default) and (b) a model of LLaMA-2-7B's
shape with random weights (no 7B weights are reachable offline; memory and speed depend on
the shapes, not the values), with and without gradient checkpointing, at the paper's batch
(64 pairs, LoRA on every layer, NF4 weights): peak GPU memory and seconds per optimiser step,
next to ``llmemb plan``'s estimate (flagged when not within 25 %); then extraction items per
second. Every prompt is ``--tokens`` long (synthetic token ids), the padded length a batch of
real prompts would have.
A case that runs out of memory is recorded as such.

    python benchmarks/gpu.py [--tokens 128] [--steps 3] [--out benchmarks/gpu.json]
    python benchmarks/gpu.py --cpu-smoke --out /tmp/gpu.json   # the same code, tiny, on CPU
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from llmemb_utils.config import load_config
from llmemb_utils.io import write_json
from llmemb_utils.llm.extract import forward_pooled
from llmemb_utils.llm.models import choose_dtype, converted_default, load_model
from llmemb_utils.llm.plan import KNOWN_SHAPES, ModelShape, extraction_plan, model_shape, scft_plan
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
LLAMA_7B = "meta-llama/Llama-2-7b-hf"
TOLERANCE = 0.25  # plan vs measured peak, as benchmarks/plan_check.py
RANDOM_NOTE = ("random weights in LLaMA-2-7B's shape: no 7B weights are reachable offline; "
               "memory and speed depend on the shapes only")


def random_llama(folder: Path, shape: ModelShape, dtype: torch.dtype, device: str) -> Path:
    """A decoder of ``shape`` with random weights built directly in ``dtype`` on ``device``
    (a 7B model built in float32 first would need some 26 GB before any cast), saved with the
    default tokenizer (the benchmark feeds synthetic token ids)."""
    from transformers import AutoModel, AutoTokenizer, LlamaConfig

    config = LlamaConfig(vocab_size=shape.vocab, hidden_size=shape.hidden,
                         intermediate_size=shape.intermediate, num_hidden_layers=shape.layers,
                         num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads,
                         head_dim=shape.head_dim, max_position_embeddings=4096)
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModel.from_config(config, dtype=dtype)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(converted_default()).save_pretrained(folder)
    del model
    release(device)
    return folder


class Meter:
    """Peak memory of a callable: CUDA's allocator statistics, or the CPU profiler."""

    def __init__(self, device: str) -> None:
        self.device = device

    def peak(self, run: Callable[[], object], resident: int) -> int:
        if self.device == "cpu":
            return resident + profiled_peak(run)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        run()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated()

    def seconds(self, run: Callable[[], object], repeats: int) -> float:
        if self.device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeats):
            run()
        if self.device == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / repeats


def scft_case(name: str, folder: Path, shape_name: str, meter: Meter, pairs: int, tokens: int,
              steps: int, checkpointing: bool) -> dict:
    """Peak memory and seconds per step of QLoRA SCFT on ``2 * pairs`` views."""
    shape = model_shape(shape_name)
    case = {"model": name, "gradient_checkpointing": checkpointing, "pairs": pairs,
            "tokens": tokens}
    config = load_config(**{"llm.model": str(folder), "llm.load_in_4bit": "always",
                            "llm.gradient_checkpointing": checkpointing,
                            "scft.lora_layers": None, "scft.batch_size": pairs})
    case["plan_bytes"] = scft_plan(shape, precision(config, meter.device), pairs, tokens,
                                   config.scft.lora_r, shape.layers, checkpointing).total
    probe = None
    try:
        probe = SCFTProbe.load(config, meter.device)
        ids, mask = synthetic_batch(shape.vocab, 2 * pairs, tokens)
        probe.step(ids, mask)  # creates AdamW's moments
        resident = tensor_bytes(resident_tensors(probe.objective, probe.optimizer))
        step = partial(probe.step, ids, mask)
        case["peak_bytes"] = meter.peak(step, resident)
        case["seconds_per_step"] = meter.seconds(step, steps)
        case.update(against_plan(case))
    except torch.cuda.OutOfMemoryError:
        case["error"] = "out of memory"
    finally:
        del probe
        release(meter.device)
    print(case)
    return case


def extraction_case(name: str, folder: Path, shape_name: str, meter: Meter, batch: int,
                    tokens: int, batches: int) -> dict:
    """Items per second and peak memory of 4-bit extraction in batches of ``batch``."""
    shape = model_shape(shape_name)
    model, _ = load_model(str(folder), load_in_4bit="always", device=meter.device)
    ids, mask = synthetic_batch(shape.vocab, batch, tokens)
    resident = tensor_bytes(resident_tensors(model))
    embed = partial(forward_pooled, model, ids, mask)
    peak = meter.peak(embed, resident)
    seconds = meter.seconds(embed, batches)
    config = load_config(**{"llm.model": str(folder), "llm.load_in_4bit": "always"})
    case = {"model": name, "batch": batch, "tokens": tokens, "peak_bytes": peak,
            "items_per_second": batch / seconds,
            "plan_bytes": extraction_plan(shape, precision(config, meter.device), batch, tokens,
                                          rank=0).total}
    case.update(against_plan(case))
    del model, embed
    release(meter.device)
    print(case)
    return case


def against_plan(case: dict) -> dict:
    """The plan's estimate over the measured peak, and whether it is within the tolerance."""
    ratio = case["plan_bytes"] / case["peak_bytes"]
    return {"plan_over_measured": ratio, "within_tolerance": abs(ratio - 1) <= TOLERANCE}


def release(device: str) -> None:
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "gpu.json")
    parser.add_argument("--tokens", type=int, default=128, help="tokens per prompt")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per case")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="a tiny random LLaMA on the CPU (checks the code path, not a GPU)")
    args = parser.parse_args()
    if not args.cpu_smoke and not torch.cuda.is_available():
        print("benchmarks/gpu.py measures a CUDA GPU and none is available here; "
              "--cpu-smoke runs the same code with a tiny model on the CPU", file=sys.stderr)
        return 2
    meter = Meter("cpu" if args.cpu_smoke else "cuda")
    pairs, batch = (4, 8) if args.cpu_smoke else (64, 32)  # the paper's SCFT and embed batches
    with tempfile.TemporaryDirectory() as scratch:
        if args.cpu_smoke:
            tiny = save_tiny_llama(Path(scratch) / "tiny", hidden=64)  # whole NF4 blocks a row
            models = [("tiny LLaMA (random weights)", tiny, str(tiny))]
        else:
            models = [("SmolLM2-135M-Instruct (real weights)", converted_default(),
                       str(converted_default())),
                      (f"LLaMA-2-7B shape ({RANDOM_NOTE})",
                       random_llama(Path(scratch) / "7b", KNOWN_SHAPES[LLAMA_7B],
                                    choose_dtype("auto", "cuda"), "cuda"), LLAMA_7B)]
        scft = [scft_case(name, folder, shape, meter, pairs, args.tokens, args.steps, on)
                for name, folder, shape in models for on in (True, False)]
        extraction = [extraction_case(name, folder, shape, meter, batch, args.tokens,
                                      args.steps) for name, folder, shape in models]
    device = ("cpu (smoke run, tiny model)" if args.cpu_smoke
              else torch.cuda.get_device_name(0))
    import bitsandbytes
    import transformers

    write_json(args.out, {
        "gpu": device, "torch": torch.__version__, "transformers": transformers.__version__,
        "bitsandbytes": bitsandbytes.__version__, "weights": "4-bit NF4, double quantisation",
        "lora": "r 8 on the seven projections of every layer", "scft": scft,
        "extraction": extraction})
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
