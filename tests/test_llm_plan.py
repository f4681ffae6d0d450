"""``llmemb plan``: the memory arithmetic on a hand-computed shape, and the command's verdicts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmemb_utils.cli import main
from llmemb_utils.llm.plan import (
    NF4_BYTES,
    ModelShape,
    Precision,
    lora_params,
    model_shape,
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


@pytest.mark.parametrize(("checkpointing", "activations"), [
    (False, 2 * 480 * 30),  # 2 layers x 480 bytes per token x (2 views x 3 pairs x 5 tokens)
    (True, 2 * 30 * 8 * 2 + 480 * 30),  # each layer's bf16 input kept, one layer recomputed
])
def test_scft_estimate_by_hand(checkpointing: bool, activations: int):
    # per token and layer: 2 bytes x (14 x 8 + 4 x 4 + 5 x 16) + 1-byte masks (6 x 8 + 16)
    plan = scft_plan(SHAPE, Precision(four_bit=True, weight_bytes=2, compute_bytes=2), pairs=3,
                     tokens=5, rank=2, trained_layers=2, checkpointing=checkpointing)
    assert plan.parts == {
        "weights": pytest.approx(1152 * NF4_BYTES + 120 * 2),  # norms, embeddings in bf16
        "LoRA + grads + AdamW": 16 * 512,
        "activations": activations,
        "backward transients": 2 * (4 * 8 + 2 * 16) * 30,
    }
    assert NF4_BYTES == pytest.approx(0.5 + 1 / 64 + 4 / 16384)


def test_scft_time_by_hand():
    # per token and layer: 2 x 576 projection weights + 4 x 5 tokens x 8 attention width = 1312;
    # 30 tokens (2 views x 3 pairs x 5) through 2 layers, forward + backward (+ recompute)
    assert scft_step_flops(SHAPE, pairs=3, tokens=5, trained_layers=2,
                           checkpointing=True) == 3 * 2 * 1312 * 30
    assert scft_step_flops(SHAPE, 3, 5, 2, checkpointing=False) == 2 * 2 * 1312 * 30
    # 10 steps of 4 micro-batches at 1000 FLOP/s: accumulation multiplies the time
    assert scft_seconds(236160, steps=10, grad_accumulation=4, flops_per_second=1e3) == \
        pytest.approx(236160 * 40 / 1e3)


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
