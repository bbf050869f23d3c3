"""simulate_layer / simulate_network: layer -> mapping -> command stream -> schedule + traffic -> result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

from accelsim import mapping, memory, schedule
from accelsim.arch import ArchConfig
from accelsim.errors import require
from accelsim.layer import ConvLayer
from accelsim.result import Breakdown, LayerResult, NetworkResult, Timing


def out_bytes_of(requantize_shift: int | None) -> int:
    return 4 if requantize_shift is None else 1


def simulate_layer(layer: ConvLayer, arch: ArchConfig, *, requantize_shift: int | None = None) -> LayerResult:
    """Our own microarchitecture, scheduled command by command (docs/microarchitecture.md)."""
    result = _simulate_shape(replace(layer, name=""), arch, requantize_shift)
    return replace(result, name=layer.name)


@lru_cache(maxsize=4096)
def _simulate_shape(layer: ConvLayer, arch: ArchConfig, requantize_shift: int | None) -> LayerResult:
    m = mapping.lower(layer, arch)
    sched = schedule.schedule_fast(m, arch, out_bytes_of(requantize_shift))
    return _layer_result(m, arch, requantize_shift, sched)


def _layer_result(m: mapping.Mapping, arch: ArchConfig, requantize_shift: int | None,
                  sched: schedule.Schedule) -> LayerResult:
    tile = {"P_T": m.P_T, "K_T": m.K_T, "M_T": m.M_T, "p_tiles": m.p_tiles, "k_tiles": m.k_tiles,
            "m_tiles": m.m_tiles}
    tr = memory.traffic(m, out_bytes_of(requantize_shift))
    return layer_result(m.layer, arch, requantize_shift, sched, tr, tile)


def layer_result(layer: ConvLayer, arch: ArchConfig, requantize_shift: int | None, sched: schedule.Schedule,
                 tr: memory.Traffic, tile: dict) -> LayerResult:
    """A layer's result from its schedule and traffic (the fixed lowering's, or a mapper's nest's)."""
    pes = arch.macs_per_cycle  # MACs the grid can do a cycle (PEs x pe_dot_width)
    ideal = layer.macs / pes
    idle = sched.ex_idle_cycles
    breakdown = Breakdown(
        ideal_compute=ideal,
        spatial_underfill=sched.ex_stream_cycles - ideal,
        fill_drain=float(sched.ex_fill_drain_cycles),
        preload=float(sched.ex_preload_cycles),
        dram_stall=float(idle[schedule.CAUSE_DRAM_LOAD] + idle[schedule.CAUSE_DRAM_STORE]),
        host_stall=float(idle[schedule.CAUSE_HOST]),
    )
    cycles = sched.total_cycles
    dram = tr.dram_read_bytes + tr.dram_write_bytes
    energy = arch.energy.energy_pj(
        macs=layer.macs,
        spad_bytes=tr.ifmap_spad_reads + tr.ifmap_spad_writes + tr.weight_spad_reads + tr.weight_spad_writes,
        acc_words=tr.acc_reads + tr.acc_writes, dram_bytes=dram)
    return LayerResult(
        name=layer.name, layer=layer.spec(), dataflow=arch.dataflow, timing=Timing.ACCELSIM,
        macs=layer.macs, cycles=cycles, breakdown=breakdown,
        utilization=layer.macs / (pes * cycles),
        mapping_efficiency=layer.macs / (pes * sched.ex_stream_cycles),
        dram_read_bytes=tr.dram_read_bytes, dram_write_bytes=tr.dram_write_bytes,
        sram_reads=tr.sram_reads(), sram_writes=tr.sram_writes(),
        operational_intensity_macs_per_byte=layer.macs / dram,
        energy_pj=energy, time_us=cycles / arch.clock_mhz,
        tile=tile,
        commands=sched.commands,
    )


# Distinct layer shapes in one network from which the closed form is evaluated for all of them at once
# before the scheduler runs on the rest: loading its compiled code costs ~0.5 s, the compiled scheduler
# ~0.1-1 ms a shape, the closed form ~1 us, and both give the same numbers wherever the closed form applies
# (tests/model/test_sim.py).
CLOSED_FORM_MIN_SHAPES = 256


def _shape_results(shapes: list[ConvLayer], arch: ArchConfig,
                   requantize_shift: int | None) -> dict[ConvLayer, LayerResult]:
    """Results of distinct unnamed shapes: the closed form in one batch where it applies (for many
    shapes), the command-level scheduler for the others."""
    out: dict[ConvLayer, LayerResult] = {}
    if len(shapes) >= CLOSED_FORM_MIN_SHAPES:
        from accelsim.closed_form import arch_fields, closed_form_breakdown, layer_fields

        cf = closed_form_breakdown(layer_fields(shapes), arch_fields([arch]), out_bytes_of(requantize_shift))
        for i, shape in enumerate(shapes):
            sched = cf.schedule(i)
            if sched is not None:
                out[shape] = _layer_result(mapping.lower(shape, arch), arch, requantize_shift, sched)
    for shape in shapes:
        if shape not in out:
            out[shape] = _simulate_shape(shape, arch, requantize_shift)
    return out


HOSTS = ("fixed", "riscv")


@lru_cache(maxsize=4096)
def _simulate_shape_riscv(layer: ConvLayer, arch: ArchConfig, requantize_shift: int | None) -> LayerResult:
    """The layer with the firmware in the loop (accelsim.host.coupling): the layer driver runs on the ISS,
    the scheduler answers it. Cycles run from reset to the program's EXIT; the firmware's time after the
    FENCE released (its poll noticing, the exit) is host time, so the breakdown still sums to the cycles."""
    from accelsim.host.coupling import run_layer_coupled

    run = run_layer_coupled(layer, arch, requantize_shift=requantize_shift)
    s = run.schedule
    idle = list(s.ex_idle_cycles)
    idle[schedule.CAUSE_HOST] += run.cycles - s.total_cycles
    sched = replace(s, total_cycles=run.cycles, ex_idle_cycles=tuple(idle))
    return _layer_result(mapping.lower(layer, arch), arch, requantize_shift, sched)


def simulate_network(layers: Iterable[ConvLayer], arch: ArchConfig, *, timing: Timing = Timing.ACCELSIM,
                     requantize_shift: int | None = None, host: str = "fixed") -> NetworkResult:
    """Every layer's result. ``host``: ``fixed`` (a command every ``host_issue_cycles``, the fast model
    for sweeps) or ``riscv`` (the layer driver firmware on the instruction-level host model, docs/host.md)."""
    require(isinstance(timing, Timing), "timing", f"one of {[t.value for t in Timing]}", timing)
    require(host in HOSTS, "--host", f"one of {', '.join(HOSTS)}", host)
    require(host == "fixed" or timing is Timing.ACCELSIM, "--host riscv", "used with --timing accelsim",
            timing.value)
    require(arch.pe_dot_width == 1 or timing is Timing.ACCELSIM, f"arch {arch.name!r}: pe_dot_width",
            "1 with --timing scalesim (SCALE-Sim models MAC PEs)", arch.pe_dot_width)
    layers = tuple(layers)
    if timing is Timing.SCALESIM:
        from accelsim.scalesim import simulate_layer_result

        results = tuple(simulate_layer_result(layer, arch) for layer in layers)
    else:
        unnamed = [replace(layer, name="") for layer in layers]
        shapes = list(dict.fromkeys(unnamed))
        if host == "riscv":
            by_shape = {shape: _simulate_shape_riscv(shape, arch, requantize_shift) for shape in shapes}
        else:
            by_shape = _shape_results(shapes, arch, requantize_shift)
        results = tuple(replace(by_shape[shape], name=layer.name)
                        for shape, layer in zip(unnamed, layers, strict=True))
    return NetworkResult(arch=arch, layers=results)
