"""Accelerator configuration: frozen dataclasses, loaded and validated once from TOML (tomllib).

Field names and their meaning are fixed by docs/microarchitecture.md. Presets ship inside the package
(accelsim/presets/*.toml) and are found with importlib.resources, never relative to the cwd.
"""

from __future__ import annotations

import enum
import functools
import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from accelsim import inputs
from accelsim.errors import AccelsimError, is_name, name_rule, require
from accelsim.jit import compilable


class Dataflow(enum.Enum):
    """Which operand stays in the PEs: weights (WS), outputs (OS) or inputs (IS)."""

    WS = "ws"
    OS = "os"
    IS = "is"

    @property
    def code(self) -> int:
        """The dataflow's code: the MODE register field, and what compilable formulas branch on."""
        return _DATAFLOW_CODES[self]

    @classmethod
    def from_code(cls, code: int) -> Dataflow:
        return _DATAFLOWS_BY_CODE[int(code)]

    @classmethod
    def parse(cls, value: object, what: str = "dataflow") -> Dataflow:
        if isinstance(value, Dataflow):
            return value
        text = str(value).strip().lower()
        require(text in {d.value for d in cls}, what, "one of ws, os, is", value)
        return cls(text)


# The one table of dataflow codes (CONFIG MODE.dataflow, docs/microarchitecture.md). Compilable formulas
# compare against these module constants (Numba folds them), everything else uses Dataflow.code.
DF_WS, DF_OS, DF_IS = 0, 1, 2
ALL_DATAFLOWS = (DF_WS, DF_OS, DF_IS)  # every dataflow code (an RTL build runs all three by default)
_DATAFLOW_CODES = {Dataflow.WS: DF_WS, Dataflow.OS: DF_OS, Dataflow.IS: DF_IS}
_DATAFLOWS_BY_CODE = {code: d for d, code in _DATAFLOW_CODES.items()}


@compilable
def energy_pj(macs, spad_bytes, acc_words, dram_bytes, mac_pj, spad_byte_pj, acc_word_pj, dram_byte_pj):
    """Energy: every count times its per-access energy (docs: "Traffic")."""
    return macs * mac_pj + spad_bytes * spad_byte_pj + acc_words * acc_word_pj + dram_bytes * dram_byte_pj


@dataclass(frozen=True, slots=True)
class EnergyTable:
    """Energy per access in pJ. Defaults follow Eyeriss's normalised ratios (MAC 1 : buffer 6 : DRAM 200)
    scaled to an 8-bit MAC of 0.2 pJ; per byte for the int8 scratchpads and DRAM, per int32 word for the
    accumulator."""

    mac_pj: float = 0.2
    spad_byte_pj: float = 1.2
    acc_word_pj: float = 2.4
    dram_byte_pj: float = 40.0

    def energy_pj(self, *, macs: int, spad_bytes: int, acc_words: int, dram_bytes: int) -> float:
        """A layer's energy: every count times its per-access energy (docs: "Traffic")."""
        return energy_pj(macs, spad_bytes, acc_words, dram_bytes, self.mac_pj, self.spad_byte_pj,
                         self.acc_word_pj, self.dram_byte_pj)


@dataclass(frozen=True, slots=True)
class ArchConfig:
    """One accelerator configuration (see docs/microarchitecture.md for every field's role)."""

    name: str = "custom"
    array_rows: int = 16
    array_cols: int = 16
    dataflow: Dataflow = Dataflow.WS
    ifmap_spad_kib: int = 128
    weight_spad_kib: int = 128
    acc_kib: int = 64
    dram_bytes_per_cycle: int = 16
    dram_latency_cycles: int = 100
    queue_depth: int = 8
    host_issue_cycles: int = 8
    clock_mhz: float = 1000.0
    input_bits: int = 8
    weight_bits: int = 8
    acc_bits: int = 32
    pe_dot_width: int = 1
    energy: EnergyTable = field(default_factory=EnergyTable)

    def __post_init__(self) -> None:
        require(is_name(self.name, max_chars=100), "arch name", name_rule(100), self.name)
        where = f"arch {self.name!r}"
        for name, highest in _INT_LIMITS.items():
            value = getattr(self, name)
            lowest = 0 if name == "dram_latency_cycles" else 1
            kind = "a non-negative" if lowest == 0 else "a positive"
            require(_is_int(value) and lowest <= value <= highest, f"{where}: {name}",
                    f"{kind} integer <= {highest:,}", value)
        require(_is_real(self.clock_mhz) and _CLOCK_MHZ[0] <= self.clock_mhz <= _CLOCK_MHZ[1],
                f"{where}: clock_mhz", f"a number in [{_CLOCK_MHZ[0]:g}, {_CLOCK_MHZ[1]:g}]", self.clock_mhz)
        for name, bits, what in (("input_bits", 8, "int8 activations"), ("weight_bits", 8, "int8 weights"),
                                 ("acc_bits", 32, "int32 accumulators")):
            value = getattr(self, name)
            require(_is_int(value) and value == bits, f"{where}: {name}", f"{bits} ({what})", value)
        require(isinstance(self.dataflow, Dataflow), f"{where}: dataflow", "a Dataflow", self.dataflow)
        require(_is_int(self.pe_dot_width) and self.pe_dot_width in PE_DOT_WIDTHS, f"{where}: pe_dot_width",
                f"{PE_DOT_WIDTHS_RULE} (int8 pairs per PE per cycle)",
                self.pe_dot_width)
        require(isinstance(self.energy, EnergyTable), f"{where}: energy", "an EnergyTable", self.energy)
        low, high = _ENERGY_PJ
        for f in fields(EnergyTable):
            value = getattr(self.energy, f.name)
            require(_is_real(value) and (value == 0 or low <= value <= high),
                    f"{where}: energy_pj.{f.name.removesuffix('_pj')}",
                    f"0 or a number in [{low:g}, {high:g}]", value)

    @property
    def pes(self) -> int:
        return self.array_rows * self.array_cols

    @property
    def macs_per_cycle(self) -> int:
        """The grid's peak: every PE multiplies ``pe_dot_width`` int8 pairs a cycle."""
        return self.pes * self.pe_dot_width

    @property
    def grid_text(self) -> str:
        """``16x16 WS``, or ``4x16 WS V=4`` for dot-product PEs: the grid and dataflow in reports."""
        dot = f" V={self.pe_dot_width}" if self.pe_dot_width != 1 else ""
        return f"{self.array_rows}x{self.array_cols} {self.dataflow.name}{dot}"

    def with_dataflow(self, dataflow: Dataflow | str | None) -> ArchConfig:
        if dataflow is None or dataflow is self.dataflow:
            return self
        return _with_dataflow(self, Dataflow.parse(dataflow))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "energy"}
        out["dataflow"] = self.dataflow.value
        if self.pe_dot_width == 1:  # the default MAC PE: reports of V = 1 machines read as before issue 10
            del out["pe_dot_width"]
        out["energy_pj"] = {
            f.name.removesuffix("_pj"): getattr(self.energy, f.name) for f in fields(EnergyTable)
        }
        return out


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@functools.lru_cache(maxsize=256)
def _with_dataflow(arch: ArchConfig, dataflow: Dataflow) -> ArchConfig:
    return arch if dataflow is arch.dataflow else replace(arch, dataflow=dataflow)


def _is_real(value: object) -> bool:
    """A finite int or float (not a bool): TOML's inf and nan, and 1e309 (= inf), are not."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# Upper bounds far above any real accelerator, low enough that every count the model forms stays exact
# in 64-bit integers (and in the compiled closed form) and every time and energy finite.
_INT_LIMITS = {
    "array_rows": 1024, "array_cols": 1024,
    "ifmap_spad_kib": 1 << 22, "weight_spad_kib": 1 << 22, "acc_kib": 1 << 22,  # 4 GiB each
    "dram_bytes_per_cycle": 1 << 16, "dram_latency_cycles": 1 << 20,
    "queue_depth": 1 << 10, "host_issue_cycles": 1 << 20,
}
# pe_dot_width V: int8 pairs each PE multiplies and adds into its int32 sum per cycle (1: a MAC PE;
# docs/microarchitecture.md, "Dot-product PEs").
PE_DOT_WIDTHS = (1, 2, 4, 8)
PE_DOT_WIDTHS_RULE = f"one of {', '.join(map(str, PE_DOT_WIDTHS))}"  # the rule every check of V states
_CLOCK_MHZ = (1e-3, 1e6)  # 1 kHz .. 1 THz
_ENERGY_PJ = (1e-6, 1e6)  # per access; subnormal or astronomical values are typos


_TOP_KEYS = {f.name for f in fields(ArchConfig)} - {"energy"} | {"energy_pj"}
_ENERGY_KEYS = {f.name.removesuffix("_pj") for f in fields(EnergyTable)}


def from_dict(data: dict[str, Any], *, source: str = "arch") -> ArchConfig:
    """Build an ArchConfig from a TOML-shaped dict; unknown keys and bad values raise AccelsimError."""
    for key in data:
        require(key in _TOP_KEYS, f"{source}: key", f"one of {sorted(_TOP_KEYS)}", key)
    kwargs = {k: v for k, v in data.items() if k != "energy_pj"}
    kwargs.setdefault("name", Path(source).stem if source != "arch" else "custom")
    if "dataflow" in kwargs:
        kwargs["dataflow"] = Dataflow.parse(kwargs["dataflow"], f"{source}: dataflow")
    energy = data.get("energy_pj", {})
    require(isinstance(energy, dict), f"{source}: energy_pj", "a table", energy)
    for key in energy:
        require(key in _ENERGY_KEYS, f"{source}: energy_pj key", f"one of {sorted(_ENERGY_KEYS)}", key)
    kwargs["energy"] = EnergyTable(**{f"{k}_pj": v for k, v in energy.items()})
    return ArchConfig(**kwargs)


def load(path: str | Path) -> ArchConfig:
    """Load an ArchConfig from a TOML file."""
    path = Path(path)
    text = inputs.read_text(path, "arch file", limit=inputs.CONFIG_LIMIT_BYTES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise AccelsimError(f"{path.name} must be valid TOML, not malformed ({err})") from None
    except RecursionError:
        raise AccelsimError(f"{path.name} must be valid TOML, not nested this deeply") from None
    return from_dict(data, source=path.name)


@functools.cache
def preset_names() -> tuple[str, ...]:
    return tuple(
        sorted(
            p.name.removesuffix(".toml")
            for p in resources.files("accelsim.presets").iterdir()
            if p.name.endswith(".toml")
        )
    )


@functools.cache
def preset(name: str = "gemmini") -> ArchConfig:
    """A configuration shipped with the package: gemmini (16x16 WS, default), eyeriss (12x14), tpu_v1,
    tensorcore (4x16 dot-product PEs of width 4)."""
    names = preset_names()
    require(name in names, "preset", f"one of {list(names)}", name)
    text = resources.files("accelsim.presets").joinpath(f"{name}.toml").read_text()
    return from_dict(tomllib.loads(text), source=f"{name}.toml")
