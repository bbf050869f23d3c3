"""simulate_layer / simulate_network: layer -> mapping -> command stream -> schedule + traffic -> result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

from accelsim import mapping, memory, timing
from accelsim.arch import ArchConfig, Dataflow
from accelsim.errors import require
from accelsim.layer import ConvLayer
from accelsim.result import LayerResult, NetworkResult

TIMINGS = ("accelsim", "scalesim")


def out_bytes_of(requantize_shift: int | None) -> int:
    return 4 if requantize_shift is None else 1


def simulate_layer(layer: ConvLayer, arch: ArchConfig, *, requantize_shift: int | None = None) -> LayerResult:
    """Our own microarchitecture, scheduled command by command (docs/microarchitecture.md)."""
    result = _simulate_shape(replace(layer, name=""), arch, requantize_shift)
    return replace(result, name=layer.name)


@lru_cache(maxsize=4096)
def _simulate_shape(layer: ConvLayer, arch: ArchConfig, requantize_shift: int | None) -> LayerResult:
    ob = out_bytes_of(requantize_shift)
    m = mapping.lower(layer, arch)
    sched = timing.schedule_fast(m, arch, ob, requantize_shift=requantize_shift)
    tr = memory.traffic(m, ob)
    pes = arch.pes
    ideal = layer.macs / pes
    idle = sched.ex_idle_cycles
    breakdown = {
        "ideal_compute": ideal,
        "spatial_underfill": sched.ex_stream_cycles - ideal,
        "fill_drain": float(sched.ex_fill_drain_cycles),
        "preload": float(sched.ex_preload_cycles),
        "dram_stall": float(idle[timing.CAUSE_DRAM_LOAD] + idle[timing.CAUSE_DRAM_STORE]),
        "host_stall": float(idle[timing.CAUSE_HOST]),
    }
    cycles = sched.total_cycles
    dram = tr.dram_read_bytes + tr.dram_write_bytes
    energy = arch.energy.energy_pj(
        macs=layer.macs,
        spad_bytes=tr.ifmap_spad_reads + tr.ifmap_spad_writes + tr.weight_spad_reads + tr.weight_spad_writes,
        acc_words=tr.acc_reads + tr.acc_writes, dram_bytes=dram)
    return LayerResult(
        name=layer.name, layer=layer.spec(), dataflow=arch.dataflow.value, timing="accelsim",
        macs=layer.macs, cycles=cycles, breakdown=breakdown,
        utilization=layer.macs / (pes * cycles),
        mapping_efficiency=layer.macs / (pes * sched.ex_stream_cycles),
        dram_read_bytes=tr.dram_read_bytes, dram_write_bytes=tr.dram_write_bytes,
        sram_reads=tr.sram_reads(), sram_writes=tr.sram_writes(),
        operational_intensity_macs_per_byte=layer.macs / dram,
        energy_pj=energy, time_us=cycles / arch.clock_mhz,
        tile={"P_T": m.P_T, "K_T": m.K_T, "M_T": m.M_T, "p_tiles": m.p_tiles, "k_tiles": m.k_tiles,
              "m_tiles": m.m_tiles},
        commands=5 + m.steps * (3 if arch.dataflow is Dataflow.OS else 4) + m.output_tiles + 1,
    )


def simulate_network(layers: Iterable[ConvLayer], arch: ArchConfig, *, timing_mode: str = "accelsim",
                     requantize_shift: int | None = None) -> NetworkResult:
    require(timing_mode in TIMINGS, "timing", f"one of {list(TIMINGS)}", timing_mode)
    if timing_mode == "scalesim":
        from accelsim.scalesim import simulate_layer_result

        results = tuple(simulate_layer_result(layer, arch) for layer in layers)
    else:
        results = tuple(simulate_layer(layer, arch, requantize_shift=requantize_shift) for layer in layers)
    return NetworkResult(arch=arch.to_dict(), layers=results)
