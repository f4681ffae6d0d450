"""Model loading: names, GGUF files, the converted default, adapters on the wrong base."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from llmemb_utils import assets
from llmemb_utils.config import SCFTConfig
from llmemb_utils.llm.embed import cache_key
from llmemb_utils.llm.extract import extract
from llmemb_utils.llm.lora import add_lora, load_adapter, save_adapter
from llmemb_utils.llm.models import (
    ModelError,
    choose_dtype,
    converted_default,
    load_model,
    precision,
    resolve,
)
from llmemb_utils.llm.tiny import save_tiny_llama

PROMPTS = ["The movie has the following attributes: \n title is Kolya; year is 1996",
           "The movie has the following attributes: \n title is Heat; genres is Action, Crime",
           "The movie has the following attributes: \n title is Fargo"]


def test_unknown_model_name():
    with pytest.raises(ModelError, match=r"^unknown model 'no-such-model': not a kit asset "
                                         r"\('smollm2-135m-instruct', 'all-minilm-l6-v2'\), "
                                         r"an existing folder"):
        resolve("no-such-model")


def test_missing_gguf_file(tmp_path: Path):
    with pytest.raises(ModelError, match="^GGUF file not found: .*missing.gguf$"):
        resolve(str(tmp_path / "missing.gguf"))


def test_folder_without_config(tmp_path: Path):
    with pytest.raises(ModelError, match=f"^model folder {tmp_path} has no config.json$"):
        resolve(str(tmp_path))


def test_gguf_of_unsupported_architecture(tmp_path: Path):
    import gguf

    path = tmp_path / "rwkv.gguf"
    writer = gguf.GGUFWriter(path, arch="rwkv6")
    writer.add_block_count(1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelError, match=r"rwkv.gguf: GGUF architecture 'rwkv6' is not "
                                         r"supported by transformers; supported: \["):
        resolve(str(path))


@pytest.mark.slow
def test_converted_default_matches_gguf_load(tmp_path: Path):
    gguf_file = assets.fetch("smollm2-135m-instruct-gguf", verbose=False) / assets.SMOLLM2_GGUF
    vectors = []
    for name in (str(converted_default()), str(gguf_file)):
        model, tokenizer = load_model(name, dtype="float32")
        vectors.append(np.asarray(extract(model, tokenizer, PROMPTS, tmp_path / "e.npy",
                                          progress=False)).copy())
    np.testing.assert_allclose(vectors[0], vectors[1], rtol=0, atol=1e-5)


def test_lora_from_another_base_model(tmp_path: Path):
    small = str(save_tiny_llama(tmp_path / "small", hidden=32))
    wide = str(save_tiny_llama(tmp_path / "wide", hidden=48))
    model, _ = load_model(small, dtype="float32")
    save_adapter(add_lora(model, SCFTConfig(lora_layers=2)), tmp_path / "adapter", small, 3.0)
    other, _ = load_model(wide, dtype="float32")
    with pytest.raises(ModelError, match=f"^LoRA folder {tmp_path / 'adapter'} was trained on "
                                         f"base model '{small}' .*'hidden_size': 32.*, not on "
                                         f"'{wide}' .*'hidden_size': 48"):
        load_adapter(other, tmp_path / "adapter", wide)


def test_lora_folder_without_adapter(tmp_path: Path):
    model, _ = load_model(str(save_tiny_llama(tmp_path / "tiny")), dtype="float32")
    with pytest.raises(ModelError, match=f"^LoRA folder {tmp_path} has no adapter_config.json$"):
        load_adapter(model, tmp_path, "tiny")


def test_auto_dtype_falls_back_to_float16_without_bf16(monkeypatch):
    """A T4 (Colab's free GPU) has no bf16: compute, and 4-bit compute, use float16."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert choose_dtype("auto", "cuda") == torch.float16
    assert precision("auto", "auto", "cuda") == "nf4+float16"


def test_cpus_compute_in_float32_unless_asked(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert choose_dtype("auto", "cpu") == torch.float32
    assert choose_dtype("auto", "cuda") == torch.bfloat16
    assert choose_dtype("bfloat16", "cpu") == torch.bfloat16
    assert choose_dtype("float32", "cuda") == torch.float32
    assert precision("auto", "auto", "cpu") == "float32"
    assert precision("auto", "auto", "cuda") == "nf4+bfloat16"
    assert precision("float32", "never", "cuda") == "float32"


def test_embedding_cache_key_follows_the_precision_actually_used():
    def key(**changes):
        settings = {"model": "m", "lora": None, "prompts": ["a"], "pooling": "mean",
                    "dtype": "auto", "max_tokens": 64, "load_in_4bit": "auto",
                    "device": "cpu", **changes}
        return cache_key(**settings)

    assert key() == key(dtype="float32")  # auto resolves to float32 on the CPU
    assert key() == key(load_in_4bit="never")  # auto means full precision on the CPU
    distinct = {key(), key(dtype="bfloat16"), key(load_in_4bit="always"), key(device="cuda"),
                key(device="cuda", load_in_4bit="never")}
    assert len(distinct) == 5
