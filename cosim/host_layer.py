"""Co-simulation of a layer with the host in the loop (``accelsim cosim --host riscv``).

The layer driver firmware (firmware/conv.c, its descriptor written over the ELF symbol ``accel_layer``) runs
on the RTL SoC, whose DRAM holds the layer's tensors where accelsim.mapping places them (the driver places
them the same way: its CONFIG commands equal mapping.program's). The model runs the same ELF on its ISS
coupled to the scheduler (accelsim.host.coupling). Outputs are compared with the kernels bit for bit, and the
program's end (mcycle in the EXIT store's execute cycle) with the model's: zero difference expected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accelsim.arch import ArchConfig
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer

from .layer import CosimResult, prepare


@dataclass(frozen=True)
class HostCosimResult(CosimResult):
    """A :class:`CosimResult` whose cycles run from reset to the firmware's EXIT, with the host's count."""

    host_instructions: int = 0
    model_host_instructions: int = 0


def ram_image(elf: Path, layer: ConvLayer, arch: ArchConfig, requantize_shift: int | None = None
              ) -> np.ndarray:
    """The SoC's RAM words: the driver ELF with ``layer``'s descriptor written over ``accel_layer``, loaded
    and patched exactly as the model's ISS loads it (:meth:`accelsim.host.iss.Iss.poke`)."""
    from accelsim.host.driver import DESCRIPTOR_SYMBOL, descriptor
    from accelsim.host.iss import Iss

    machine = Iss(elf)
    machine.poke(DESCRIPTOR_SYMBOL, descriptor(layer, arch, requantize_shift=requantize_shift))
    return machine.mem.view("<u4").astype(np.uint32)


def dram_bytes_for(layers, arch: ArchConfig, requantize_shift: int | None = None) -> int:
    """The SoC DRAM size (a power of two, at least the SoC tests') that holds every layer's tensors where
    accelsim.mapping places them: one size, so one simulator build, for a whole network."""
    from accelsim.mapping import lower

    from .layer import _pow2_at_least
    from .soc import DRAM_BYTES

    out_bytes = 4 if requantize_shift is None else 1
    need = max(lower(layer, arch).out_base + layer.N * layer.M * layer.E * layer.F * out_bytes
               for layer in layers)
    return _pow2_at_least(need, DRAM_BYTES)


def cosim_layer_host(layer: ConvLayer, arch: ArchConfig, *, sim: str = "icarus", seed: int = 0,
                     requantize_shift: int | None = None, build_root: Path | None = None,
                     dram_bytes: int | None = None) -> HostCosimResult:
    """Run ``layer`` with conv.c on the RTL SoC; compare outputs (bit-exact) and cycles with the model.
    ``dram_bytes``: the SoC's DRAM size (default :func:`dram_bytes_for` the layer)."""
    from accelsim.rtl.params import AccelParams

    from accelsim.host.coupling import conv_elf, run_layer_coupled

    from .soc import run_programs

    t0 = time.perf_counter()
    job, want = prepare(layer, arch, seed=seed, requantize_shift=requantize_shift)
    elf = conv_elf()
    model = run_layer_coupled(layer, arch, requantize_shift=requantize_shift, elf=elf)
    dram_bytes = dram_bytes_for([layer], arch, requantize_shift) if dram_bytes is None else dram_bytes
    require(dram_bytes >= len(job.image), "dram_bytes", f">= the layer's {len(job.image):,} bytes",
            dram_bytes)
    (res,) = run_programs([ram_image(elf, layer, arch, requantize_shift)], AccelParams.from_arch(arch),
                          sim=sim, max_cycles=2 * model.cycles + 10_000, dram=job.image,
                          dram_bytes=dram_bytes, build_root=build_root)
    if res.status != "exit" or res.exit_code != 0:
        raise AccelsimError(f"layer driver on the RTL SoC must exit 0, not {res.status} {res.exit_code} "
                            f"after {res.cycles} cycles")
    dtype = np.int8 if requantize_shift is not None else np.dtype("<i4")
    got = res.dram[job.read_base:job.read_base + job.read_len].copy().view(dtype).reshape(want.shape)
    mismatches = int(np.count_nonzero(got != want))
    return HostCosimResult(
        outputs_match=mismatches == 0, rtl_cycles=res.cycles, model_cycles=model.cycles, macs=layer.macs,
        wall_seconds=time.perf_counter() - t0, simulator=sim, sim_seconds=res.sim_seconds,
        mismatches=mismatches, host_instructions=res.instret, model_host_instructions=model.instret,
    )


__all__ = ["HostCosimResult", "cosim_layer_host", "ram_image"]
