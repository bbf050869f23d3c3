"""The layer driver's interface: the descriptor the loader writes into firmware/conv.c's ELF.

One ELF serves every layer: conv.c reads the layer shape, the dataflow and the tiling from a struct at the ELF
symbol :data:`DESCRIPTOR_SYMBOL` (``.data``, so it is part of the loaded image). The tiling rules are
:func:`accelsim.mapping.lower`'s alone: the loader calls it (so the firmware never meets a layer the encoding
or the buffers cannot hold) and passes its tile sizes and counts (:func:`tiling_fields`); the firmware derives
the rest (edge tiles, DRAM placement, loop nest, dependency flags) as accelsim.mapping does.
:func:`descriptor` packs the fields little-endian, in :data:`DESCRIPTOR_FIELDS` order, which is also the
order of the generated C struct (accelsim.host.header).
"""

from __future__ import annotations

import struct
from pathlib import Path

from accelsim.arch import DF_OS, ArchConfig, Dataflow
from accelsim.errors import require
from accelsim.layer import ConvLayer
from accelsim.mapping import Mapping, lower, slot_rows, step_loads

DESCRIPTOR_SYMBOL = "accel_layer"
DESCRIPTOR_MAGIC = 0xACCE1003  # the C initialiser writes it too: keeps the struct in .data, marks a version
DESCRIPTOR_FIELDS = (
    "magic",
    "N", "M", "C", "H", "W", "R", "S", "stride", "pad", "groups",
    "dataflow", "P_T", "K_T", "M_T", "p_tiles", "k_tiles", "m_tiles", "os_rows_T", "os_rows_L",
    "ifmap_slot", "weight_slot", "acc_slot",
    "requantize", "shift",
)
U32 = 1 << 32


def tiling_fields(m: Mapping) -> dict[str, int]:
    """What the driver takes from :func:`accelsim.mapping.lower` rather than compute again: the full tile
    sizes and tile counts (mapping.buffer_rows, tile_sizes, so the PE width V = pe_dot_width, the scratchpad
    sizes and the array shape reach the firmware only through them) and, for OS, the COMPUTE's stream over
    k of a full and of the last k-tile (``ceil(K_t / V)`` rows, mapping.step_loads; 0 in WS and IS, whose
    COMPUTE streams pixels or channels), and each memory's slot (buffer b starts at row b * slot:
    :func:`accelsim.mapping.slot_rows`)."""
    K_L = m.layer.gemm_K - (m.k_tiles - 1) * m.K_T
    os_rows = [step_loads(DF_OS, m.pe_dot_width, 0, 0, K_t)[4] if m.dataflow is Dataflow.OS else 0
               for K_t in (m.K_T, K_L)]
    slots = dict(zip(("ifmap_slot", "weight_slot", "acc_slot"), slot_rows(m), strict=True))
    return {"P_T": m.P_T, "K_T": m.K_T, "M_T": m.M_T, "p_tiles": m.p_tiles, "k_tiles": m.k_tiles,
            "m_tiles": m.m_tiles, "os_rows_T": os_rows[0], "os_rows_L": os_rows[1], **slots}


def descriptor(layer: ConvLayer, arch: ArchConfig, *, requantize_shift: int | None = None) -> bytes:
    """The descriptor bytes for ``layer`` on ``arch``; a one-line error if the driver cannot run it."""
    m = lower(layer, arch)  # the buffers hold the tiles and the encoding holds the layer
    require(layer.gemm_P < U32, f"layer {layer.name}: N*E*F", "< 2**32 (the driver's 32-bit loop counters)",
            layer.gemm_P)
    require(m.steps < U32 // 4, f"layer {layer.name}: tile steps", "< 2**30 (the driver's step counter)",
            m.steps)
    require(requantize_shift is None or 0 <= requantize_shift <= 31, "requantize shift", "in [0, 31]",
            requantize_shift)
    values = {"magic": DESCRIPTOR_MAGIC, "dataflow": arch.dataflow.code,
              "requantize": int(requantize_shift is not None), "shift": requantize_shift or 0,
              **tiling_fields(m)}
    for name in DESCRIPTOR_FIELDS:
        if name not in values:
            values[name] = getattr(layer, name)
    return struct.pack(f"<{len(DESCRIPTOR_FIELDS)}I", *(values[name] for name in DESCRIPTOR_FIELDS))


def run_layer(elf: bytes | str | Path, layer: ConvLayer, arch: ArchConfig, *,
              requantize_shift: int | None = None, max_cycles: int = 1 << 40, sink=None):
    """Run the layer driver ELF on the ISS for one layer; returns the ISS's RunResult."""
    from accelsim.host.iss import Iss

    iss = Iss(elf)
    iss.poke(DESCRIPTOR_SYMBOL, descriptor(layer, arch, requantize_shift=requantize_shift))
    return iss.run(max_cycles=max_cycles, sink=sink)
