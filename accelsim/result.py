"""Per-layer and per-network results. Every number carries its unit in its name (or is a count/ratio).

Results are immutable all the way down (a frozen :class:`Breakdown`, read-only mappings): the model caches
and shares a :class:`LayerResult` among every layer of the same shape, so nothing a caller does to one may
change another.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from accelsim.arch import ArchConfig, Dataflow


class Timing(enum.Enum):
    """Whose cycle model produced a result: accelsim's microarchitecture, or SCALE-Sim 3.0's numbers."""

    ACCELSIM = "accelsim"
    SCALESIM = "scalesim"


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Where a layer's cycles went (docs/microarchitecture.md, "Cycle breakdown"); the terms sum to the
    layer's cycles."""

    ideal_compute: float
    spatial_underfill: float
    fill_drain: float
    preload: float
    dram_stall: float
    host_stall: float

    @property
    def total(self) -> float:
        return sum(self.to_dict().values())

    def to_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in BREAKDOWN_KEYS}

    @classmethod
    def sum(cls, parts) -> Breakdown:
        parts = list(parts)
        return cls(**{k: sum(getattr(p, k) for p in parts) for k in BREAKDOWN_KEYS})


BREAKDOWN_KEYS = tuple(f.name for f in fields(Breakdown))


def frozen_map(d: dict[str, Any]) -> MappingProxyType:
    """A read-only view of a private copy of ``d``."""
    return MappingProxyType(dict(d))


@dataclass(frozen=True, slots=True)
class LayerResult:
    name: str
    layer: str  # the --layer spec that rebuilds it
    dataflow: Dataflow
    timing: Timing
    macs: int
    cycles: int
    breakdown: Breakdown  # cycle counts, summing to cycles
    utilization: float  # MACs / (PEs x cycles)
    mapping_efficiency: float  # MACs / (PEs x compute-stream cycles)
    dram_read_bytes: int
    dram_write_bytes: int
    sram_reads: MappingProxyType  # per buffer name, element accesses
    sram_writes: MappingProxyType
    operational_intensity_macs_per_byte: float
    energy_pj: float
    time_us: float
    tile: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # P_T, K_T, M_T, folds
    commands: int = 0

    def __post_init__(self) -> None:
        for name in ("sram_reads", "sram_writes", "tile"):  # callers may pass plain dicts: keep copies
            value = getattr(self, name)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, frozen_map(value))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (enums as their strings)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: Any) -> Any:
    """A result field as a JSON-ready value (enums as their strings, mappings as dicts)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Breakdown):
        return value.to_dict()
    if isinstance(value, MappingProxyType):
        return dict(value)
    return value


@dataclass(frozen=True, slots=True)
class NetworkTotals:
    """Sums over a network's layers (sram_* sum every buffer)."""

    layers: int
    macs: int
    cycles: int
    utilization: float
    breakdown: Breakdown
    dram_read_bytes: int
    dram_write_bytes: int
    sram_reads: int
    sram_writes: int
    operational_intensity_macs_per_byte: float
    energy_pj: float
    time_us: float

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class NetworkResult:
    arch: ArchConfig
    layers: tuple[LayerResult, ...]

    @property
    def totals(self) -> NetworkTotals:
        macs = sum(r.macs for r in self.layers)
        cycles = sum(r.cycles for r in self.layers)
        dram = sum(r.dram_read_bytes + r.dram_write_bytes for r in self.layers)
        return NetworkTotals(
            layers=len(self.layers),
            macs=macs,
            cycles=cycles,
            utilization=macs / (self.arch.macs_per_cycle * cycles) if cycles else 0.0,
            breakdown=Breakdown.sum(r.breakdown for r in self.layers),
            dram_read_bytes=sum(r.dram_read_bytes for r in self.layers),
            dram_write_bytes=sum(r.dram_write_bytes for r in self.layers),
            sram_reads=sum(sum(r.sram_reads.values()) for r in self.layers),
            sram_writes=sum(sum(r.sram_writes.values()) for r in self.layers),
            operational_intensity_macs_per_byte=macs / dram if dram else 0.0,
            energy_pj=sum(r.energy_pj for r in self.layers),
            time_us=sum(r.time_us for r in self.layers),
        )

    @property
    def area(self):
        """accelsim.area's estimate of the accelerator (iCE40 cells of the build running all three
        dataflows; docs/synthesis.md)."""
        from accelsim.area import estimate_area

        return estimate_area(self.arch)

    def to_dict(self) -> dict[str, Any]:
        return {"arch": self.arch.to_dict(), "layers": [r.to_dict() for r in self.layers],
                "totals": self.totals.to_dict(), "area": self.area.to_dict()}
