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
from llmemb_utils.llm.models import decoder_of, load_model
from llmemb_utils.llm.processes import training_accelerator
from llmemb_utils.llm.scft import ViewBatches, train_scft
from llmemb_utils.llm.stack import Trunk
from llmemb_utils.llm.tiny import save_tiny_llama
from llmemb_utils.llm.views import batch_items, fixed_views, micro_batch_index, step_views

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
    assert step_views(PROMPTS, [0, 1], 0.4, 1, 5) == step_views(PROMPTS, [0, 1], 0.4, 1, 5)


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
    before = scft_module.Spent(seconds=1e4, cpu_seconds=2e4, cache_seconds=1e3,
                               train_seconds=5e3)  # what the interrupted part "cost"
    saved_at = []

    def save_then_stop(path, step, *args):
        save(path, step, *args[:-1], before)
        saved_at.append(step)
        raise KeyboardInterrupt

    monkeypatch.setattr(scft_module, "_save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train_scft(PROMPTS, settings, tmp_path / "resumed", progress=False)
    monkeypatch.setattr(scft_module, "_save_checkpoint", save)
    resumed = train_scft(PROMPTS, settings, tmp_path / "resumed", progress=False)
    assert [h["step"] for h in resumed.history] == list(range(1, 7))
    assert resumed.resumed_from == saved_at[0] and 0 < saved_at[0] < 6
    for name in ("seconds", "cpu_seconds", "cache_seconds", "train_seconds"):
        carried = getattr(before, name)  # the rest took seconds, not thousands
        assert carried < getattr(resumed, name) < carried + 600, name
    summary = json.loads((tmp_path / "resumed" / "summary.json").read_text())
    assert summary["resumed_from"] == saved_at[0] and summary["cpu_seconds"] > 2e4
    weights = [load_file(tmp_path / run / "adapter" / "adapter_model.safetensors")
               for run in ("straight", "resumed")]
    assert weights[0].keys() == weights[1].keys() and len(weights[0]) == 2 * 7 * 2
    for name, tensor in weights[0].items():
        assert torch.equal(tensor, weights[1][name]), name


def test_accumulated_gradient_is_the_mean_of_the_micro_batch_gradients(tiny):
    """One optimiser step over 2 micro-batches applies the mean of the gradients each
    micro-batch gives alone (computed one by one here), with each micro-batch's own in-batch
    negatives."""
    settings = config(tiny, **{"scft.grad_accumulation": 2, "scft.lora_dropout": 0.0,
                               "scft.max_grad_norm": 1e9})
    accelerator = training_accelerator()
    parts = scft_module.build_parts(settings, str(accelerator.device))
    batches = ViewBatches(PROMPTS, settings, parts.tokenizer, parts.trunk, parts.max_tokens)
    trained = [p for p in parts.objective.parameters() if p.requires_grad]

    def gradient(index: int) -> list[torch.Tensor]:
        parts.objective.zero_grad(set_to_none=True)
        parts.objective(*batches(batch_items(len(PROMPTS), 8, settings.seed, index), index))\
            .backward()
        return [p.grad.clone() for p in trained]

    expected = [(a + b) / 2 for a, b in zip(gradient(0), gradient(1), strict=True)]
    parts.objective.zero_grad(set_to_none=True)

    class Capture:
        """An optimiser that keeps the gradients it is asked to apply."""

        def step(self):
            self.grads = [p.grad.clone() for p in trained]

        def zero_grad(self, set_to_none: bool = True):
            parts.objective.zero_grad(set_to_none=set_to_none)

    capture = Capture()
    scft_module._step(0, settings, len(PROMPTS), batches, accelerator, parts.objective, capture)
    assert len(capture.grads) == len(expected) > 0
    for got, want in zip(capture.grads, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    assert any(not torch.allclose(a, b) for a, b in zip(gradient(0), gradient(1), strict=True))


def test_resume_refuses_another_config(tiny, tmp_path: Path):
    train_scft(PROMPTS, config(tiny, **{"scft.steps": 3}), tmp_path, progress=False)
    with pytest.raises(ValueError, match="checkpoint.pt was written with a different config"):
        train_scft(PROMPTS, config(tiny, **{"scft.steps": 4}), tmp_path, progress=False)


def test_all_layers_need_no_trunk_cache(tiny):
    """lora_layers: null (the paper's setting) keeps no per-view hidden states in memory."""
    model, tokenizer = load_model(tiny, dtype="float32")
    settings = config(tiny, **{"scft.lora_layers": None})
    every_layer = ViewBatches(PROMPTS, settings, tokenizer, Trunk(model, 0), 64)
    assert every_layer.cached is None and every_layer.tokens is not None
    ids, mask = every_layer(np.array([0, 1]), 0)
    assert ids.dtype == torch.long and ids.shape[0] == mask.shape[0] == 4
    top_two = ViewBatches(PROMPTS, config(tiny), tokenizer, Trunk(model, 2), 64)
    assert len(top_two.cached) == 2 * len(PROMPTS)


def test_gradient_checkpointing_is_on_by_default_and_changes_no_number(tiny, tmp_path: Path):
    assert load_config().llm.gradient_checkpointing
    runs = {}
    for checkpointing in (True, False):
        settings = config(tiny, **{"scft.steps": 2, "scft.lora_layers": None,
                                   "llm.gradient_checkpointing": checkpointing})
        result = train_scft(PROMPTS, settings, tmp_path / str(checkpointing), progress=False)
        layer = decoder_of(result.model).layers[0]
        assert getattr(layer, "gradient_checkpointing", False) == checkpointing
        runs[checkpointing] = load_file(tmp_path / str(checkpointing) / "adapter" /
                                        "adapter_model.safetensors")
    assert len(runs[True]) == 2 * 7 * 4  # every layer
    for name, tensor in runs[True].items():
        torch.testing.assert_close(tensor, runs[False][name], rtol=1e-4, atol=1e-6)


def test_resampled_views_differ_across_micro_batches_and_processes(tiny, tmp_path: Path,
                                                                   monkeypatch):
    drawn = []

    def spy(prompts, items, drop_ratio, seed, index):
        drawn.append(index)
        return step_views(prompts, items, drop_ratio, seed, index)

    monkeypatch.setattr(scft_module, "step_views", spy)
    train_scft(PROMPTS, config(tiny, **{"scft.steps": 2, "scft.grad_accumulation": 2,
                                        "scft.resample_views": True}), tmp_path, progress=False)
    assert drawn == [0, 1, 2, 3]
    keys = {micro_batch_index(step, micro, 2, 3, rank)
            for step in range(4) for micro in range(2) for rank in range(3)}
    assert keys == set(range(4 * 2 * 3))
    items = list(range(8))
    assert step_views(PROMPTS, items, 0.4, 1, 0) != step_views(PROMPTS, items, 0.4, 1, 1)


def test_a_finished_run_is_reused_without_loading_the_model(tiny, tmp_path: Path, monkeypatch,
                                                            capsys):
    settings = config(tiny, **{"scft.steps": 3})
    data = {"data": {"files": {"items.parquet": "abc"}}}
    first = train_scft(PROMPTS, settings, tmp_path, progress=False, inputs=data)

    def refuse(*args, **kwargs):
        raise AssertionError("model loaded for a finished run")

    monkeypatch.setattr(scft_module, "load_model", refuse)
    capsys.readouterr()
    again = train_scft(PROMPTS, settings, tmp_path, progress=False, inputs=data)
    assert "reusing it" in capsys.readouterr().out
    assert again.history == first.history and again.steps == 3 and again.model is None
    assert again.seconds == pytest.approx(first.seconds)  # the recorded run, not a new one
    for stale in ({"data": {"files": {"items.parquet": "xyz"}}}, None):
        with pytest.raises(AssertionError, match="model loaded"):
            train_scft(PROMPTS, settings, tmp_path, progress=False, inputs=stale)
    with pytest.raises(AssertionError, match="model loaded"):
        train_scft(PROMPTS, config(tiny, **{"scft.steps": 3, "seed": 7}), tmp_path,
                   progress=False, inputs=data)
