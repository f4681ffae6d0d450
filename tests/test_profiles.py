"""Run profiles: chosen by name, never by the presence of CUDA, each printing its plan first."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from llmemb_utils import notebook as nb
from llmemb_utils.config import load_config
from llmemb_utils.profiles import ProfileError, load_profile

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "ml100k_smollm2.yaml"


def test_cuda_alone_changes_nothing(capsys, tmp_path: Path):
    config = nb.load_profile(CONFIG, cuda=True, artifacts=str(tmp_path))  # the default profile
    assert config == load_config(CONFIG, artifacts=str(tmp_path))
    out = capsys.readouterr().out
    assert out.startswith("profile cpu-recipe: smollm2-135m-instruct, LoRA on the top 2 of 30 "
                          "layers, 200 steps x 32 pairs")
    assert "SCFT peak memory" in out and "SCFT time about" in out
    assert "prompts of 45 tokens (longest prompt of" in out  # the data, prepared first


@pytest.mark.parametrize("profile", ["t4-demo", "paper"])
def test_gpu_profiles_need_cuda(profile: str, tmp_path: Path):
    with pytest.raises(ProfileError, match=f"profile '{profile}' is sized for a CUDA GPU"):
        load_profile(CONFIG, profile, cuda=False, artifacts=str(tmp_path))


def test_unknown_profile():
    with pytest.raises(ProfileError, match="unknown profile 'gpu'; choose one of"):
        load_profile(CONFIG, "gpu")


def test_paper_profile_applies_the_gpu_overlay(tmp_path: Path, capsys):
    config = load_profile(CONFIG, "paper", cuda=True, artifacts=str(tmp_path))
    assert config == load_config(CONFIG, gpu=True, artifacts=str(tmp_path))
    assert "4000 steps x 64 pairs" in capsys.readouterr().out


@pytest.mark.slow
def test_t4_demo_trains_every_layer_for_twenty_planned_minutes(tmp_path: Path, capsys):
    config = load_profile(CONFIG, "t4-demo", cuda=True, artifacts=str(tmp_path))
    assert config.name == "ml100k_smollm2_t4demo"
    assert config.llm.load_in_4bit == "always" and config.llm.gradient_checkpointing
    assert config.scft.lora_layers is None and config.scft.batch_size == 64
    # SmolLM2-135M by hand: projections of one layer 2 x 576^2 (q, o) + 2 x 576 x 192 (k, v)
    # + 3 x 576 x 1536 (MLP) = 3,538,944 weights; ML-100k's longest prompt is 44 tokens + EOS.
    # FLOPs per token and layer: 2 x weights + 4 x 45 tokens x 576 (attention); 3 passes
    # (forward, backward, recompute) of 128 views x 45 tokens through 30 layers
    step = 3 * 30 * (2 * 3_538_944 + 4 * 45 * 576) * 128 * 45
    fitting = 20 * 60 * 8e12 / step  # 20 minutes at the assumed 8 TFLOPS of a T4
    assert config.scft.steps == 50 * math.floor(fitting / 50)
    out = capsys.readouterr().out
    assert f"LoRA on all 30 layers, {config.scft.steps} steps x 64 pairs" in out
    assert "GiB usable on a 16 GB T4: fits" in out and "SCFT time about 20 min" in out
    fast = load_profile(CONFIG, "t4-demo", fast=True, cuda=True, artifacts=str(tmp_path))
    assert fast.name == "ml100k_smollm2_fast_t4demo" and fast.scft.steps == 8  # CI stays small
    assert fast.scft.lora_layers is None
