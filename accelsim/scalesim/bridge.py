"""Bridges between SCALE-Sim configs and accelsim's own types (``--scalesim-cfg``, ``--timing scalesim``)."""

from __future__ import annotations

from pathlib import Path

from accelsim.arch import ArchConfig
from accelsim.errors import require
from accelsim.layer import ConvLayer
from accelsim.result import Breakdown, LayerResult, Timing
from accelsim.scalesim.cfg import InterfaceBandwidth, ScaleSimConfig, parse_scalesim_cfg
from accelsim.scalesim.model import simulate_layer_scalesim


def arch_from_scalesim_cfg(path: str | Path, *, for_scalesim_timing: bool = False) -> ArchConfig:
    """An :class:`ArchConfig` for a SCALE-Sim ``.cfg`` (``accelsim simulate --scalesim-cfg``).

    ArrayHeight/ArrayWidth -> array_rows/array_cols, Dataflow -> dataflow, IfmapSramSzkB/FilterSramSzkB
    -> ifmap_spad_kib/weight_spad_kib, OfmapSramSzkB -> acc_kib, run_name -> name, and in USER bandwidth
    mode the first Bandwidth entry (words = bytes) -> dram_bytes_per_cycle; everything else keeps
    accelsim's defaults. ``--timing scalesim`` maps these fields back (:func:`scalesim_config`), so
    ``for_scalesim_timing`` requires the CALC bandwidth mode, the one whose numbers it reproduces.
    """
    cfg = parse_scalesim_cfg(path)
    if for_scalesim_timing:
        require(cfg.interface_bandwidth is InterfaceBandwidth.CALC, f"{path}: InterfaceBandwidth",
                "CALC with --timing scalesim (the mode whose numbers it reproduces)",
                cfg.interface_bandwidth.value)
    extra: dict[str, object] = {}
    if cfg.interface_bandwidth is not InterfaceBandwidth.CALC and cfg.bandwidth_words_per_cycle:
        extra["dram_bytes_per_cycle"] = cfg.bandwidth_words_per_cycle[0]
    return ArchConfig(
        name=cfg.run_name, array_rows=cfg.array_height, array_cols=cfg.array_width, dataflow=cfg.dataflow,
        ifmap_spad_kib=cfg.ifmap_sram_kib, weight_spad_kib=cfg.filter_sram_kib, acc_kib=cfg.ofmap_sram_kib,
        **extra,  # type: ignore[arg-type]
    )


def scalesim_config(arch: ArchConfig) -> ScaleSimConfig:
    """The CALC-mode SCALE-Sim config an :class:`ArchConfig` stands for (the inverse of the mapping above)."""
    return ScaleSimConfig(
        array_height=arch.array_rows, array_width=arch.array_cols, ifmap_sram_kib=arch.ifmap_spad_kib,
        filter_sram_kib=arch.weight_spad_kib, ofmap_sram_kib=arch.acc_kib, dataflow=arch.dataflow,
        run_name=arch.name,
    )


def simulate_layer_result(layer: ConvLayer, arch: ArchConfig) -> LayerResult:
    """``--timing scalesim``: SCALE-Sim 3.0's numbers for ``layer`` as an accelsim :class:`LayerResult`.

    ``cycles`` is SCALE-Sim's "Total Cycles" (the compute report's column its "Overall Util %" divides
    by), so ``utilization`` and ``mapping_efficiency`` are SCALE-Sim's own. Breakdown: ideal compute
    (MACs / PEs), spatial under-fill (the folds' streaming cycles, MACs / (PEs x mapping efficiency), less
    the ideal), fill/drain (the rest: skew and weight/input preload rows); no stalls in CALC mode. SRAM
    counts are per SCALE-Sim buffer (ifmap, filter, ofmap), DRAM bytes its words (one byte each).
    """
    r = simulate_layer_scalesim(layer, scalesim_config(arch))
    require(r.compute_cycles > 0, f"layer {layer.name}: SCALE-Sim Total Cycles", "positive (SCALE-Sim "
            "itself divides by zero for a one-MAC fold on a 1 x 1 array)", r.compute_cycles)
    cycles = r.compute_cycles
    ideal = r.macs / r.pes
    stream = r.macs / (r.pes * r.mapping_efficiency)
    breakdown = Breakdown(ideal_compute=ideal, spatial_underfill=stream - ideal, fill_drain=cycles - stream,
                          preload=0.0, dram_stall=0.0, host_stall=0.0)
    reads = {"ifmap": r.ifmap_sram_reads, "filter": r.filter_sram_reads}
    writes = {"ofmap": r.ofmap_sram_writes}
    dram_read, dram_write = r.ifmap_dram_reads + r.filter_dram_reads, r.ofmap_dram_writes
    energy = arch.energy.energy_pj(macs=r.macs, spad_bytes=sum(reads.values()) + sum(writes.values()),
                                   acc_words=0, dram_bytes=dram_read + dram_write)
    return LayerResult(
        name=layer.name, layer=layer.spec(), dataflow=arch.dataflow, timing=Timing.SCALESIM,
        macs=r.macs, cycles=cycles, breakdown=breakdown, utilization=r.overall_utilization,
        mapping_efficiency=r.mapping_efficiency, dram_read_bytes=dram_read, dram_write_bytes=dram_write,
        sram_reads=reads, sram_writes=writes,
        operational_intensity_macs_per_byte=r.macs / (dram_read + dram_write),
        energy_pj=energy, time_us=cycles / arch.clock_mhz,
    )
