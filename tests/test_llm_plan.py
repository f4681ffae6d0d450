"""``llmemb plan``: the memory arithmetic on a hand-computed shape, and the command's verdicts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llmemb_utils.cli import main
from llmemb_utils.llm.plan import (
    NF4_BYTES,
    ModelShape,
    Precision,
    extraction_plan,
    extraction_seconds,
    lora_params,
    model_shape,
    rat_plan,
    scft_plan,
    scft_seconds,
    scft_step_flops,
    shape_from_config,
    trunk_cache_plan,
)

ROOT = Path(__file__).resolve().parent.parent
# q, o: 8 -> 8; k, v: 8 -> 4 (one KV head of 4); gate, up: 8 -> 16; down: 16 -> 8
SHAPE = ModelShape(layers=2, hidden=8, intermediate=16, heads=2, kv_heads=1, head_dim=4,
                   vocab=10, source="by hand")


def test_parameter_counts_by_hand():
    assert SHAPE.linear_params == 2 * (64 + 32 + 32 + 64 + 128 + 128 + 128)  # 1152
    assert SHAPE.other_params == 10 * 8 + 5 * 8  # embeddings, 2 norms per layer + final norm
    # rank 2: r * (in + out) summed over the 7 projections = 32 + 24 + 24 + 32 + 48 + 48 + 48
    assert lora_params(SHAPE, rank=2, layers=2) == 2 * 256


# SCFT on SHAPE in 4-bit with bf16 compute, 3 pairs of 5 tokens, LoRA rank 2 on both layers.
# A batch is 2 views x 3 pairs x 5 tokens = 30 tokens. By hand:
#   weights     1152 linear weights x (1/2 code + 1/64 block scale + 4/16384 second-level
#               scale) = 576 + 18 + 0.28125 = 594.28125; 120 embedding and norm weights
#               at the bf16 compute precision: 240                          -> 834.28125
#   LoRA        512 weights x (4 weight + 4 gradient + 8 AdamW moments)     -> 8192
#   activations per token and layer: 2 bytes x (14 x 8 + 4 x 4 + 5 x 16 = 208 elements)
#               = 416, plus one-byte dropout masks over 6 x 8 + 16 = 64 elements: 480 bytes;
#               x 30 tokens x 2 layers                                      -> 28800
#               checkpointing: 2 layers x 30 tokens x 8 x 2 bytes of layer inputs = 960,
#               plus one layer recomputed, 480 x 30 = 14400                 -> 15360
#   transients  2 bytes x (4 x 8 + 2 x 16 = 64) = 128 per token x 30        -> 3840
SCFT_BY_HAND = {
    False: ({"weights": 834.28125, "LoRA + grads + AdamW": 8192, "activations": 28800,
             "backward transients": 3840}, 41666.28125),
    True: ({"weights": 834.28125, "LoRA + grads + AdamW": 8192, "activations": 15360,
            "backward transients": 3840}, 28226.28125),
}


@pytest.mark.parametrize("checkpointing", [False, True])
def test_scft_estimate_by_hand(checkpointing: bool):
    plan = scft_plan(SHAPE, Precision(four_bit=True, weight_bytes=2, compute_bytes=2), pairs=3,
                     tokens=5, rank=2, trained_layers=2, checkpointing=checkpointing)
    parts, total = SCFT_BY_HAND[checkpointing]
    assert plan.parts == parts
    assert plan.total == total
    assert NF4_BYTES == 0.515869140625  # 1/2 + 1/64 + 1/4096, exact in binary


def test_extraction_estimate_by_hand():
    # SHAPE in bf16, batch 4 x 5 tokens, LoRA rank 2 merged on both layers. By hand:
    #   weights      (1152 + 120) x 2 bytes                                  -> 2544
    #   LoRA         512 weights x 4 bytes (fp32)                            -> 2048
    #   activations  2 bytes x (4 x 8 + 3 x 16 = 80) = 160 per token x 20    -> 3200
    plan = extraction_plan(SHAPE, Precision(four_bit=False, weight_bytes=2, compute_bytes=2),
                           batch=4, tokens=5, rank=2)
    assert plan.parts == {"weights": 2544, "LoRA": 2048, "activations": 3200}
    assert plan.total == 7792
    # in 4-bit the embeddings and norms stay at the compute precision: 594.28125 + 120 x 2
    four_bit = extraction_plan(SHAPE, Precision(four_bit=True, weight_bytes=2, compute_bytes=2),
                               batch=4, tokens=5, rank=2)
    assert four_bit.parts["weights"] == 834.28125


def test_rat_estimate_by_hand():
    # 100 items, an 8-wide LLM table, hidden 4, 2 blocks, batch 3 of length 5. By hand:
    #   tables       4 bytes x 100 items x (8 LLM + 4 teacher)               -> 4800
    #   weights      adapter 8 x 4 + 4 x 4 = 48; recommender 2 blocks x 12 x 4 x 4 = 384
    #                + (5 + 1) positions x 4 = 24; (48 + 408) x 16 bytes     -> 7296
    #   activations  4 bytes x 3 x 5 x 4 x (16 x 2 blocks + 8 = 40)          -> 9600
    plan = rat_plan(items=100, table_width=8, hidden=4, blocks=2, batch=3, length=5)
    assert plan.parts == {"LLM + teacher tables": 4800, "weights + grads + AdamW": 7296,
                          "activations": 9600}
    assert plan.total == 21696


# The tiny LLaMA of benchmarks/plan_check.py (save_tiny_llama(layers=4, hidden=64)): 4 heads
# of 16, 2 KV heads, MLP 128, the default tokenizer's 49152 tokens.
TINY_LLAMA = ModelShape(layers=4, hidden=64, intermediate=128, heads=4, kv_heads=2,
                        head_dim=16, vocab=49152, source="benchmarks/plan_check.py")


@pytest.mark.parametrize("checkpointing", [False, True])
def test_scft_estimate_is_near_the_peak_measured_on_a_tiny_llama(checkpointing: bool):
    """The planner against a measurement it did not make: the peak of one SCFT step (8 pairs
    of 64 tokens, 4-bit, fp32 compute, LoRA rank 8 on every layer) that the benchmark
    recorded from the torch profiler, within the benchmark's tolerance."""
    record = json.loads((ROOT / "benchmarks" / "plan_check.json").read_text())
    name = "SCFT tiny LLaMA" + (" checkpointing" if checkpointing else "")
    (case,) = [case for case in record["cases"] if case["case"] == name]
    plan = scft_plan(TINY_LLAMA, Precision(four_bit=True, weight_bytes=4, compute_bytes=4),
                     pairs=8, tokens=64, rank=8, trained_layers=4, checkpointing=checkpointing)
    assert abs(plan.total / case["measured_bytes"] - 1) <= record["tolerance"]


def test_scft_time_by_hand():
    # per token and layer: 2 x 576 projection weights + 4 x 5 tokens x 8 attention width = 1312;
    # 30 tokens (2 views x 3 pairs x 5) through 2 layers, forward + backward (+ recompute)
    assert scft_step_flops(SHAPE, pairs=3, tokens=5, trained_layers=2,
                           checkpointing=True) == 3 * 2 * 1312 * 30
    assert scft_step_flops(SHAPE, 3, 5, 2, checkpointing=False) == 2 * 2 * 1312 * 30
    # 10 steps of 4 micro-batches at 1000 FLOP/s: accumulation multiplies the time
    assert scft_seconds(236160, steps=10, grad_accumulation=4, flops_per_second=1e3) == \
        pytest.approx(236160 * 40 / 1e3)


def test_extraction_time_by_hand():
    # 7 prompts of 5 tokens, forward only, through both layers at 1312 FLOP per token and layer
    assert extraction_seconds(SHAPE, items=7, tokens=5, flops_per_second=1e3) == \
        pytest.approx(2 * 1312 * 7 * 5 / 1e3)


def test_trunk_cache_by_hand():
    plan = trunk_cache_plan(SHAPE, items=7, tokens=5, trunk_layers=1, element_bytes=2)
    assert plan.total == 2 * 7 * 5 * 8 * 2  # both views of 7 items, 5 tokens, 8 wide, bf16
    assert trunk_cache_plan(SHAPE, 7, 5, trunk_layers=0, element_bytes=2).total == 0


def test_plan_refuses_a_trunk_cache_the_host_cannot_hold(capsys, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # 100,000 items assumed: 2 x 1e5 x 128 x 4096 x 2 B = 195 GiB
    config = tmp_path / "top4.yaml"
    config.write_text(f"extends: {ROOT / 'configs' / 'yelp_llama7b.yaml'}\n"
                      "scft:\n  lora_layers: 4\n")
    args = ["plan", "--config", str(config), "--gpu-memory", "16", "--tokens", "128"]
    assert main([*args, "--host-memory", "100"]) == 1
    out = capsys.readouterr().out
    assert "trunk cache (host RAM): 195.31 GiB" in out
    assert "the trunk cache does not fit" in out and "scft.cache_trunk: false" in out
    assert main([*args, "--host-memory", "300"]) == 0
    assert "195.31 GiB (2 views x 100000 items x 128 tokens x 4096 wide) of 279.4 GiB host " \
        "RAM" in capsys.readouterr().out
    uncached = tmp_path / "uncached.yaml"
    uncached.write_text(f"extends: {config}\nscft:\n  cache_trunk: false\n")
    assert main(["plan", "--config", str(uncached), "--gpu-memory", "16", "--tokens", "128",
                 "--host-memory", "100"]) == 0
    assert "trunk cache" not in capsys.readouterr().out


def test_shape_from_a_config_and_the_known_table():
    config = {"num_hidden_layers": 30, "hidden_size": 576, "intermediate_size": 1536,
              "num_attention_heads": 9, "num_key_value_heads": 3, "vocab_size": 49152}
    shape = shape_from_config(config, "test")
    assert (shape.head_dim, shape.kv_width) == (64, 192)
    llama = model_shape("meta-llama/Llama-2-7b-hf")
    assert "known shape table" in llama.source
    assert round(llama.params / 1e9, 2) == 6.61  # 6.74 B with the LM head, absent here


def test_plan_command_verdicts(capsys, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no prepared data under ./artifacts: lengths are assumed
    config = str(ROOT / "configs" / "yelp_llama7b.yaml")
    assert main(["plan", "--config", config, "--gpu-memory", "16", "--tokens", "128"]) == 0
    out = capsys.readouterr().out
    assert "SCFT (checkpointing)" in out and "extraction" in out and "RAT" in out
    assert "NO (not configured)" in out  # the same batch without checkpointing
    # 4 micro-batches of 64 pairs a step, the official four-GPU step of 256 pairs
    assert "4000 optimiser steps x 4 micro-batch(es) of 64 pairs (256 pairs a step)" in out
    assert main(["plan", "--config", config, "--gpu-memory", "16"]) == 1
    out = capsys.readouterr().out
    assert "assumed llm.max_tokens = 1024 tokens" in out
    assert "SCFT (checkpointing) does not fit" in out
    # the suggestion keeps the config's 4 x 64 = 256 pairs a step, and it fits
    advice = re.search(r"set scft.batch_size: (\d+) with scft.grad_accumulation: (\d+) "
                       r"\(about the same 256 pairs a step", out)
    pairs, accumulation = map(int, advice.groups())
    assert pairs < 64 and accumulation == -(-256 // pairs)
    followed = tmp_path / "followed.yaml"
    followed.write_text(f"extends: {config}\nscft:\n  batch_size: {pairs}\n"
                        f"  grad_accumulation: {accumulation}\n")
    assert main(["plan", "--config", str(followed), "--gpu-memory", "16"]) == 0
