"""The layer driver's interface: the descriptor the loader writes into firmware/conv.c's ELF.

One ELF serves every layer: conv.c reads the layer shape and the architecture from a struct at the ELF
symbol :data:`DESCRIPTOR_SYMBOL` (``.data``, so it is part of the loaded image) and computes the tiling
itself (tile sizes, DRAM placement, loop nest, dependency flags), as accelsim.mapping does. The loader
validates the pair with :func:`accelsim.mapping.lower` first, so the firmware never meets a layer the
encoding or the buffers cannot hold; :func:`descriptor` packs the fields little-endian, in
:data:`DESCRIPTOR_FIELDS` order, which is also the order of the generated C struct (accelsim.host.header).
"""

from __future__ import annotations

import struct
from pathlib import Path

from accelsim.arch import ArchConfig
from accelsim.errors import require
from accelsim.layer import ConvLayer

DESCRIPTOR_SYMBOL = "accel_layer"
DESCRIPTOR_MAGIC = 0xACCE1001  # the C initialiser writes it too: keeps the struct in .data, marks a version
DESCRIPTOR_FIELDS = (
    "magic",
    "N", "M", "C", "H", "W", "R", "S", "stride", "pad", "groups",
    "array_rows", "array_cols", "ifmap_spad_kib", "weight_spad_kib", "acc_kib", "dataflow",
    "requantize", "shift",
)
U32 = 1 << 32


def check_arch(arch: ArchConfig) -> None:
    """A one-line error if the driver cannot run ``arch``: firmware/conv.c tiles for MAC PEs (the descriptor
    has no pe_dot_width; issue 10)."""
    require(arch.pe_dot_width == 1, f"arch {arch.name!r}: pe_dot_width",
            "1 with --host riscv (the firmware driver tiles for MAC PEs, issue 10)", arch.pe_dot_width)


def descriptor(layer: ConvLayer, arch: ArchConfig, *, requantize_shift: int | None = None) -> bytes:
    """The descriptor bytes for ``layer`` on ``arch``; a one-line error if the driver cannot run it."""
    from accelsim.mapping import lower

    check_arch(arch)

    m = lower(layer, arch)  # the buffers hold the tiles and the encoding holds the layer
    require(layer.gemm_P < U32, f"layer {layer.name}: N*E*F", "< 2**32 (the driver's 32-bit loop counters)",
            layer.gemm_P)
    require(m.steps < U32 // 4, f"layer {layer.name}: tile steps", "< 2**30 (the driver's step counter)",
            m.steps)
    require(requantize_shift is None or 0 <= requantize_shift <= 31, "requantize shift", "in [0, 31]",
            requantize_shift)
    values = {"magic": DESCRIPTOR_MAGIC, "dataflow": arch.dataflow.code,
              "requantize": int(requantize_shift is not None), "shift": requantize_shift or 0}
    for name in DESCRIPTOR_FIELDS:
        if name not in values:
            values[name] = getattr(layer, name) if hasattr(layer, name) else getattr(arch, name)
    return struct.pack(f"<{len(DESCRIPTOR_FIELDS)}I", *(values[name] for name in DESCRIPTOR_FIELDS))


def run_layer(elf: bytes | str | Path, layer: ConvLayer, arch: ArchConfig, *,
              requantize_shift: int | None = None, max_cycles: int = 1 << 40, sink=None):
    """Run the layer driver ELF on the ISS for one layer; returns the ISS's RunResult."""
    from accelsim.host.iss import Iss

    iss = Iss(elf)
    iss.poke(DESCRIPTOR_SYMBOL, descriptor(layer, arch, requantize_shift=requantize_shift))
    return iss.run(max_cycles=max_cycles, sink=sink)
