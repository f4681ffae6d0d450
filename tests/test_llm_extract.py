"""Extraction, the trunk/head split, the embedding cache and PCA, on a tiny LLaMA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers.models.gemma import modeling_gemma

from llmemb_utils.llm import embed as embed_module
from llmemb_utils.llm.embed import embed_items
from llmemb_utils.llm.extract import extract, forward_pooled
from llmemb_utils.llm.models import ModelError, load_model
from llmemb_utils.llm.pca import reduce
from llmemb_utils.llm.stack import Trunk, split_point, trained_part
from llmemb_utils.llm.tiny import save_tiny_llama
from llmemb_utils.llm.tokens import encode, pad

GEMMA_SCALES_IN_ITS_EMBEDDING = hasattr(modeling_gemma, "GemmaTextScaledWordEmbedding")
PROMPTS = [f"The movie has the following attributes: \n title is Movie {i}; "
           f"year is {1950 + 3 * i}" + "; genres is Drama" * (i % 4) for i in range(11)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple:
    folder = save_tiny_llama(tmp_path_factory.mktemp("tiny"))
    return (str(folder), *load_model(str(folder), dtype="float32"))


def test_extraction_builds_no_kv_cache(tiny, tmp_path: Path):
    """Every forward call of an extraction asks for no cache and gets none back."""
    _, model, tokenizer = tiny
    calls = []

    def record(module, args, kwargs, output):
        calls.append((kwargs.get("use_cache"), output.past_key_values))

    handle = model.register_forward_hook(record, with_kwargs=True)
    try:
        extract(model, tokenizer, PROMPTS, tmp_path / "e.npy", batch_size=4, progress=False)
    finally:
        handle.remove()
    assert calls == [(False, None)] * 3  # 11 prompts in batches of 4


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_extraction_equals_one_by_one_forward(tiny, tmp_path: Path, pooling: str):
    _, model, tokenizer = tiny
    table = extract(model, tokenizer, PROMPTS, tmp_path / "e.npy", pooling, batch_size=4,
                    progress=False)
    assert isinstance(table, np.memmap) and table.shape == (len(PROMPTS), 32)
    for row, ids in enumerate(encode(tokenizer, PROMPTS, 1024)):
        single = forward_pooled(model, torch.tensor([ids]), torch.ones(1, len(ids), dtype=bool),
                                pooling)
        np.testing.assert_allclose(table[row], single[0].numpy(), atol=1e-5)


def test_encode_appends_eos_without_bos(tiny):
    _, _, tokenizer = tiny
    ids = encode(tokenizer, ["title is Heat"], 1024)[0]
    assert ids[-1] == tokenizer.eos_token_id and ids[0] != tokenizer.bos_token_id
    assert ids[:-1] == tokenizer("title is Heat", add_special_tokens=False)["input_ids"]


def test_long_prompts_are_truncated_with_a_count(tiny):
    _, _, tokenizer = tiny
    with pytest.warns(UserWarning, match=r"^truncated 2 of 3 prompts to 5 tokens"):
        ids = encode(tokenizer, ["a b c d e f g h", "x", "one two three four five six"], 5)
    assert [len(s) for s in ids] == [5, 2, 5]


def test_empty_prompt_is_an_error(tiny):
    _, _, tokenizer = tiny
    with pytest.raises(ValueError, match=r"^1 empty prompt\(s\), first at index 1 \(item id 2\)$"):
        encode(tokenizer, ["fine", "  "], 1024)


@pytest.mark.parametrize(("family", "lora_layers"), [("llama", 2), ("llama", None),
                                                    ("gemma", 2), ("gemma", None),
                                                    ("gemma2", None)])
def test_scft_forward_equals_the_models_own_forward(tmp_path: Path, family: str,
                                                     lora_layers: int | None):
    """What SCFT trains on is what extraction embeds: Gemma scales its input embeddings,
    Gemma 2 adds sliding-window attention and soft-capping."""
    model, tokenizer = load_model(str(save_tiny_llama(tmp_path, family=family)), dtype="float32")
    ids, mask = pad(encode(tokenizer, PROMPTS[:4], 1024), 0)
    assert ids.shape[1] > 8  # longer than Gemma 2's sliding window
    split = split_point(model, lora_layers)
    if family == "gemma" and split and not GEMMA_SCALES_IN_ITS_EMBEDDING:
        # before transformers 5 Gemma scales its embeddings in the model's forward, which
        # the trunk does not re-run: the shortcut must refuse rather than train on another input
        with pytest.raises(ModelError, match="GemmaModel: the frozen-trunk shortcut"):
            trained_part(model, split)
        return
    with torch.no_grad():
        pooled = trained_part(model, split)(Trunk(model, split)(ids), mask)
    torch.testing.assert_close(pooled, forward_pooled(model, ids, mask), atol=1e-5, rtol=0)


def test_trunk_shortcut_refuses_a_decoder_it_cannot_reproduce(tmp_path: Path):
    model, _ = load_model(str(save_tiny_llama(tmp_path, family="gemma2")), dtype="float32")
    with pytest.raises(ModelError, match="Gemma2Model: the frozen-trunk shortcut does not "
                                         r"reproduce .*\(scft.lora_layers: null\)"):
        trained_part(model, split_point(model, 2))


def test_embed_items_caches_by_model_and_prompts(tiny, tmp_path: Path, monkeypatch):
    folder, _, _ = tiny
    monkeypatch.setenv("LLMEMB_CACHE", str(tmp_path))
    first = np.asarray(embed_items(PROMPTS, folder, dtype="float32", progress=False)).copy()

    def refuse(*args, **kwargs):
        raise AssertionError("model loaded although the embeddings are cached")

    monkeypatch.setattr(embed_module, "load_model", refuse)
    np.testing.assert_array_equal(embed_items(PROMPTS, folder, dtype="float32"), first)
    with pytest.raises(AssertionError, match="model loaded"):
        embed_items(PROMPTS[:3], folder, dtype="float32")


@pytest.mark.parametrize("rows", [50, 5])  # more items than features, and fewer
def test_pca_is_the_svd_of_the_centred_table(rows: int, pca_by_svd):
    # columns of very different spread, so that the components are well separated
    vectors = np.random.default_rng(0).normal(size=(rows, 8)) * np.arange(8, 0, -1) + 5.0
    reduced = reduce(vectors, 3)
    assert reduced.vectors.shape == (rows, 3)
    scores, ratios = pca_by_svd(vectors, 3, like=reduced.vectors)
    np.testing.assert_allclose(reduced.vectors, scores, atol=1e-4)
    np.testing.assert_allclose(reduced.explained_variance_ratio, ratios, rtol=1e-6)
    np.testing.assert_array_equal(reduce(vectors, 3).vectors, reduced.vectors)  # deterministic
    full = min(rows, 8)
    np.testing.assert_allclose(np.abs(reduce(vectors).vectors),
                               np.abs(pca_by_svd(vectors, full)[0]), atol=1e-4)


def test_pca_refuses_a_dimension_beyond_the_table():
    vectors = np.random.default_rng(0).normal(size=(50, 8)) + 5.0
    with pytest.raises(ValueError, match="pca dim must be between 1 and 8 .* got 9"):
        reduce(vectors, 9)


@pytest.mark.parametrize("rows", [50, 5])
def test_pca_fixes_each_component_sign_by_its_largest_loading(rows: int):
    # the convention that makes a rerun give the same table: in each component, the feature
    # with the largest absolute loading loads positively; loadings recovered by least squares
    vectors = np.random.default_rng(1).normal(size=(rows, 8)) * np.arange(8, 0, -1) + 5.0
    reduced = reduce(vectors, 3).vectors.astype(np.float64)
    centred = vectors - vectors.mean(axis=0)
    loadings = np.linalg.lstsq(centred, reduced, rcond=None)[0]  # (features, components)
    largest = np.abs(loadings).argmax(axis=0)
    assert (loadings[largest, np.arange(3)] > 0).all()
    flipped = reduced * np.array([1.0, -1.0, 1.0])  # what a different convention would give
    assert not (np.linalg.lstsq(centred, flipped, rcond=None)[0][largest, np.arange(3)] > 0).all()
