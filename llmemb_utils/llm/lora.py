"""LoRA adapters through peft (docs/method.md §3.2), saved with what they were trained on.

An adapter folder holds peft's ``adapter_config.json`` and ``adapter_model.safetensors`` plus
``scft.json``: the base model's name and shape signature and the trained temperature, so that
loading the adapter onto another base model fails with a clear message.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from torch import nn

from ..config import SCFTConfig
from ..io import read_json, sha256_file, write_json
from .models import ModelError, layers_of, layers_path, signature

ADAPTER_INFO = "scft.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def add_lora(model: nn.Module, config: SCFTConfig):
    """Wrap ``model`` with fresh LoRA adapters on ``config.lora_targets`` of the top
    ``config.lora_layers`` layers (all layers when None)."""
    from peft import LoraConfig, get_peft_model

    total = len(layers_of(model))
    top = config.lora_layers or total
    check_targets(model, config.lora_targets)
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout, target_modules=list(config.lora_targets),
                      layers_to_transform=list(range(total - top, total)),
                      layers_pattern=layers_path(model).rsplit(".", 1)[-1])
    with _peft_wrapping():
        return get_peft_model(model, lora)


def check_targets(model: nn.Module, targets: list[str]) -> None:
    """Refuse LoRA targets that name no linear layer of ``model`` (say a decoder's ``q_proj``
    on a BERT encoder, whose attention calls it ``query``), listing the names it has."""
    linear = sorted({name.rsplit(".", 1)[-1] for name, module in layers_of(model).named_modules()
                     if isinstance(module, nn.Linear)})
    unknown = [target for target in targets if target not in linear]
    if unknown:
        raise ModelError(f"scft.lora_targets {unknown} name no linear layer of "
                         f"{type(model).__name__}; its layers have {linear}")


def save_adapter(model, folder: str | Path, base_name: str, temperature: float,
                 extra: dict[str, Any] | None = None) -> Path:
    """Save the LoRA weights in peft format plus ``scft.json`` (base model, temperature)."""
    folder = Path(folder)
    model.save_pretrained(folder)
    write_json(folder / ADAPTER_INFO, {"base_model": base_name, "signature": signature(model),
                                       "temperature": temperature, **(extra or {})})
    return folder


def load_adapter(model: nn.Module, folder: str | Path, base_name: str):
    """Attach the adapter in ``folder`` to ``model`` for inference, checking the base model."""
    from peft import PeftModel

    folder = Path(folder)
    if not (folder / "adapter_config.json").is_file():
        raise ModelError(f"LoRA folder {folder} has no adapter_config.json")
    info_path = folder / ADAPTER_INFO
    if info_path.is_file():
        info = read_json(info_path)
        if info["signature"] != signature(model):
            raise ModelError(f"LoRA folder {folder} was trained on base model "
                             f"{info['base_model']!r} {info['signature']}, not on {base_name!r} "
                             f"{signature(model)}")
    with _peft_wrapping():
        return PeftModel.from_pretrained(model, folder).eval()


@contextlib.contextmanager
def _peft_wrapping() -> Iterator[None]:
    """peft reads transformers' ``is_gradient_checkpointing``, renamed in transformers 5; the
    deprecation notice concerns that read only (the value is still right), so it is hidden."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"`is_gradient_checkpointing` is deprecated",
                                FutureWarning)
        yield


def adapter_checksum(folder: str | Path | None) -> str | None:
    """SHA-256 of an adapter's weights (None without adapter), for cache keys and manifests."""
    return None if folder is None else sha256_file(Path(folder) / ADAPTER_WEIGHTS)
