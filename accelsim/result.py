"""Per-layer and per-network results. Every number carries its unit in its name (or is a count/ratio)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

BREAKDOWN_KEYS = ("ideal_compute", "spatial_underfill", "fill_drain", "preload", "dram_stall", "host_stall")


@dataclass(frozen=True, slots=True)
class LayerResult:
    name: str
    layer: str  # the --layer spec that rebuilds it
    dataflow: str
    timing: str  # "accelsim" or "scalesim"
    macs: int
    cycles: int
    breakdown: dict[str, float]  # cycle counts, keys BREAKDOWN_KEYS, summing to cycles
    utilization: float  # MACs / (PEs x cycles)
    mapping_efficiency: float  # MACs / (PEs x compute-stream cycles)
    dram_read_bytes: int
    dram_write_bytes: int
    sram_reads: dict[str, int]  # per buffer, element accesses
    sram_writes: dict[str, int]
    operational_intensity_macs_per_byte: float
    energy_pj: float
    time_us: float
    tile: dict[str, int] = field(default_factory=dict)  # P_T, K_T, M_T and fold counts
    commands: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class NetworkResult:
    arch: dict[str, Any]
    layers: tuple[LayerResult, ...]

    @property
    def totals(self) -> dict[str, Any]:
        pes = self.arch["array_rows"] * self.arch["array_cols"]
        macs = sum(r.macs for r in self.layers)
        cycles = sum(r.cycles for r in self.layers)
        dram = sum(r.dram_read_bytes + r.dram_write_bytes for r in self.layers)
        return {
            "layers": len(self.layers),
            "macs": macs,
            "cycles": cycles,
            "utilization": macs / (pes * cycles) if cycles else 0.0,
            "breakdown": {k: sum(r.breakdown[k] for r in self.layers) for k in BREAKDOWN_KEYS},
            "dram_read_bytes": sum(r.dram_read_bytes for r in self.layers),
            "dram_write_bytes": sum(r.dram_write_bytes for r in self.layers),
            "sram_reads": sum(sum(r.sram_reads.values()) for r in self.layers),
            "sram_writes": sum(sum(r.sram_writes.values()) for r in self.layers),
            "operational_intensity_macs_per_byte": macs / dram if dram else 0.0,
            "energy_pj": sum(r.energy_pj for r in self.layers),
            "time_us": sum(r.time_us for r in self.layers),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"arch": self.arch, "layers": [r.to_dict() for r in self.layers], "totals": self.totals}
