"""The check that refuses 4-bit weights this CPU's bitsandbytes would dequantize wrongly: NF4
written out by its definition on a hand-built example, bitsandbytes agreeing with it on rows
of whole blocks, and the loader refusing a model by the widths that need the probe."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from llmemb_utils.llm import nf4_check
from llmemb_utils.llm.models import ModelError, load_model
from llmemb_utils.llm.tiny import save_tiny_llama


def test_reference_dequantize_reads_two_indices_per_byte_and_scales_each_block() -> None:
    code = torch.linspace(-1.0, 1.0, 16)  # code[i] = -1 + 2 i / 15
    packed = torch.tensor([0x0F, 0x80, 0x3C], dtype=torch.uint8)  # indices 0 15 8 0 3 12
    absmax = torch.tensor([2.0, 0.5])
    values = nf4_check.reference_dequantize(packed, code, absmax, torch.Size([2, 3]),
                                            blocksize=4)
    by_hand = [[-2.0, 2.0, 2 * (1 / 15)], [-2.0, 0.5 * (-9 / 15), 0.5 * (9 / 15)]]
    assert torch.allclose(values, torch.tensor(by_hand))


@pytest.mark.parametrize("width", [64, 128, 576])
def test_bitsandbytes_matches_the_definition_on_rows_of_whole_blocks(width: int) -> None:
    assert nf4_check.dequantizes_exactly(width)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("nf4")
    return {hidden: save_tiny_llama(folder / f"hidden{hidden}", layers=1, hidden=hidden)
            for hidden in (32, 64)}


def test_a_model_whose_widths_this_cpu_gets_wrong_is_refused_by_width(
        tiny_models: dict[int, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    probed = []
    monkeypatch.setattr(nf4_check, "dequantizes_exactly",
                        lambda width, blocksize=64: probed.append(width) or False)
    with pytest.raises(ModelError, match=r"not a multiple of 64 \(widths 32\); load it "
                                         r"without 4-bit"):
        load_model(str(tiny_models[32]), "float32", "always", device="cpu")
    assert probed == [32]  # every projection but down_proj (64) reads 32 values a row
    model, _ = load_model(str(tiny_models[64]), "float32", "always", device="cpu")
    assert probed == [32]  # every width a multiple of the block: nothing to probe
    assert type(model.layers[0].mlp.down_proj).__name__ == "Linear4bit"
