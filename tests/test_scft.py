"""SCFT on a tiny LLaMA: views, batches, training, adapter format and exact resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from llmemb_utils.config import load_config
from llmemb_utils.llm import scft as scft_module
from llmemb_utils.llm.scft import train_scft
from llmemb_utils.llm.tiny import save_tiny_llama
from llmemb_utils.llm.views import batch_items, fixed_views, step_views

GENRES = ["Drama", "Comedy", "Action", "Horror", "Romance", "War"]
PROMPTS = [f"The movie has the following attributes: \n title is Film {i}; year is {1960 + i}; "
           f"genres is {GENRES[i % 6]}; rating is {i % 5}" for i in range(24)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return str(save_tiny_llama(tmp_path_factory.mktemp("tiny")))


def config(model: str, **overrides):
    return load_config(**{"llm.model": model, "llm.dtype": "float32", "scft.batch_size": 8,
                          "scft.lora_layers": 2, "scft.save_every": 3, **overrides})


def test_views_are_seeded_subsets():
    first, again = fixed_views(PROMPTS, 0.4, seed=1), fixed_views(PROMPTS, 0.4, seed=1)
    assert first == again and first != fixed_views(PROMPTS, 0.4, seed=2)
    instruction, body = PROMPTS[0].split("\n")
    for view in first[0]:
        head, kept = view.split("\n")
        assert head == instruction
        assert len(kept.split(";")) == 3 and set(kept.split(";")) <= set(body.split(";"))
    assert step_views(PROMPTS, [0, 1], 0.4, 1, step=5) == step_views(PROMPTS, [0, 1], 0.4, 1, 5)


def test_batches_cover_each_epoch_once():
    epoch = np.concatenate([batch_items(24, 8, seed=0, index=i) for i in range(3)])
    assert sorted(epoch) == list(range(24))
    assert not np.array_equal(batch_items(24, 8, 0, 3), batch_items(24, 8, 0, 0))
    assert len(batch_items(5, 8, 0, 0)) == 5


@pytest.mark.parametrize("loss", ["soft-target", "infonce"])
def test_tiny_llama_loss_decreases(tiny, tmp_path: Path, loss: str):
    result = train_scft(PROMPTS, config(tiny, **{"scft.steps": 12, "scft.loss": loss,
                                                 "scft.learning_rate": 1e-2}),
                        tmp_path, progress=False)
    losses = [h["loss"] for h in result.history]
    assert np.mean(losses[-4:]) < np.mean(losses[:4])
    info = json.loads((tmp_path / "adapter" / "scft.json").read_text())
    assert info["temperature"] == pytest.approx(result.temperature)
    assert info["loss"] == loss
    expected = pytest.approx(0.05) if loss == "infonce" else pytest.approx(3.0)
    assert (result.temperature == expected) == (loss == "infonce")  # only soft-target learns t
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()


def test_resume_gives_identical_weights(tiny, tmp_path: Path, monkeypatch):
    settings = config(tiny, **{"scft.steps": 6, "scft.grad_accumulation": 2})
    train_scft(PROMPTS, settings, tmp_path / "straight", progress=False)

    save = scft_module._save_checkpoint

    def save_then_stop(*args, **kwargs):
        save(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(scft_module, "_save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train_scft(PROMPTS, settings, tmp_path / "resumed", progress=False)
    monkeypatch.setattr(scft_module, "_save_checkpoint", save)
    resumed = train_scft(PROMPTS, settings, tmp_path / "resumed", progress=False)
    assert [h["step"] for h in resumed.history] == list(range(1, 7))
    weights = [load_file(tmp_path / run / "adapter" / "adapter_model.safetensors")
               for run in ("straight", "resumed")]
    assert weights[0].keys() == weights[1].keys() and len(weights[0]) == 2 * 7 * 2
    for name, tensor in weights[0].items():
        assert torch.equal(tensor, weights[1][name]), name


def test_resume_refuses_another_config(tiny, tmp_path: Path):
    train_scft(PROMPTS, config(tiny, **{"scft.steps": 3}), tmp_path, progress=False)
    with pytest.raises(ValueError, match="checkpoint.pt was written with a different config"):
        train_scft(PROMPTS, config(tiny, **{"scft.steps": 4}), tmp_path, progress=False)
