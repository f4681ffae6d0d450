"""A check that bitsandbytes dequantizes a model's NF4 weights correctly on this CPU.

bitsandbytes stores a 4-bit weight as blocks of ``blocksize`` consecutive values of the
flattened matrix, each with its own scale. Some CPU builds (its AVX-512 kernel, seen with
bitsandbytes 0.50 on an Intel Xeon) dequantize such blocks wrongly when a row of the matrix
is not a whole number of blocks, silently (docs/design.md §9.3). Real LLM widths (576, 4096, ...)
are multiples of the block size; small test models may not be. The check dequantizes a probe
matrix of each such width and compares it with the definition of NF4 written in plain torch.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

BLOCKSIZE = 64  # bitsandbytes' default for 4-bit weights, the one transformers loads with


def reference_dequantize(packed: torch.Tensor, code: torch.Tensor, absmax: torch.Tensor,
                         shape: torch.Size, blocksize: int = BLOCKSIZE) -> torch.Tensor:
    """NF4 by its definition: two 4-bit indices per byte (high nibble first) into ``code``,
    each block of ``blocksize`` values of the flattened matrix times its ``absmax``."""
    data = packed.flatten()
    indices = torch.stack([data >> 4, data & 15], 1).flatten().long()[:shape.numel()]
    values = code.float()[indices]
    scales = absmax.float().repeat_interleave(blocksize)[:shape.numel()]
    return (values * scales).view(shape)


def dequantizes_exactly(width: int, blocksize: int = BLOCKSIZE) -> bool:
    """Whether bitsandbytes' CPU dequantization of a ``blocksize`` x ``width`` NF4 matrix
    equals :func:`reference_dequantize`."""
    import bitsandbytes.functional as bnb

    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(blocksize, width, generator=generator)
    packed, state = bnb.quantize_4bit(weights, blocksize=blocksize, quant_type="nf4")
    expected = reference_dequantize(packed, state.code, state.absmax, weights.shape, blocksize)
    return torch.allclose(bnb.dequantize_4bit(packed, state), expected, rtol=1e-5, atol=1e-6)


def wrongly_dequantized_widths(model: nn.Module, blocksize: int = BLOCKSIZE) -> list[int]:
    """The input widths of ``model``'s 4-bit layers that this CPU dequantizes wrongly."""
    return [width for width in _partial_block_widths(model.modules(), blocksize)
            if not dequantizes_exactly(width, blocksize)]


def _partial_block_widths(modules: Iterable[nn.Module], blocksize: int) -> list[int]:
    from bitsandbytes.nn import Linear4bit

    return sorted({module.in_features for module in modules
                   if isinstance(module, Linear4bit) and module.in_features % blocksize})
