"""The numbers SCALE-Sim 3.0 reports for one layer (COMPUTE_REPORT.csv and DETAILED_ACCESS_REPORT.csv)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScaleSimLayerResult:
    """SCALE-Sim 3.0's report numbers for one layer.

    Cycle names follow SCALE-Sim's console output: ``total_cycles`` is its COMPUTE_REPORT column "Total
    Cycles (incl. prefetch)" (first DRAM prefetch to last OFMAP drain), ``compute_cycles`` its column
    "Total Cycles" (array cycles, stalls included, minus one: SCALE-Sim reports the index of the last
    cycle). Ratios are fractions in [0, 1]; SCALE-Sim reports them in percent (the ``*_percent``
    properties reproduce its floats bit for bit). Reads and writes are element (word) counts.
    """

    total_cycles: int
    compute_cycles: int
    stall_cycles: int
    macs: int  # SCALE-Sim's MAC count: its (ceil-sized) output pixels x filters x R*S*C
    pes: int
    mapping_efficiency: float
    compute_utilization: float
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int
    ifmap_dram_reads: int
    filter_dram_reads: int
    ofmap_dram_writes: int
    ifmap_sram_start_cycle: int
    ifmap_sram_stop_cycle: int
    filter_sram_start_cycle: int
    filter_sram_stop_cycle: int
    ofmap_sram_start_cycle: int
    ofmap_sram_stop_cycle: int
    ifmap_dram_start_cycle: int
    ifmap_dram_stop_cycle: int
    filter_dram_start_cycle: int
    filter_dram_stop_cycle: int
    ofmap_dram_start_cycle: int
    ofmap_dram_stop_cycle: int

    @property
    def overall_utilization(self) -> float:
        """MACs / (PEs x compute_cycles) ("Overall Util %" / 100); inf when "Total Cycles" is 0
        (a one-MAC layer on a 1 x 1 array, where SCALE-Sim itself divides by zero)."""
        return self.macs / (self.compute_cycles * self.pes) if self.compute_cycles else math.inf

    @property
    def overall_utilization_percent(self) -> float:
        return (self.macs * 100) / (self.compute_cycles * self.pes) if self.compute_cycles else math.inf

    @property
    def mapping_efficiency_percent(self) -> float:
        return self.mapping_efficiency * 100

    @property
    def compute_utilization_percent(self) -> float:
        return self.compute_utilization * 100

