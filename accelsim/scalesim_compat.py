"""SCALE-Sim 3.0 compatibility mode: SCALE-Sim's per-layer numbers in closed form, quirks included.

SCALE-Sim 3.0 (``pip install scalesim==3.0.0``) builds a cycle-by-cycle address trace per operand and
replays it through its SRAM models. In ``InterfaceBandwidth: CALC`` mode the reads never stall, so every
number it reports follows from the shape of those traces; this module computes them without building
them. Formulas, reproduced quirks and limits: docs/scalesim_compat.md. Checked against SCALE-Sim itself
on every case of tests/golden/scalesim_compat.json (benchmarks/scalesim_golden.py), with zero difference.

The layer is seen as SCALE-Sim sees a topology row written by accelsim: IFMAP ``H+2*pad x W+2*pad``, no
padding, output ``ceil((H - R + U) / U)`` (one more than accelsim's E when ``H - R`` is not a multiple of
``U``; the extra windows read past the input and those reads are ``-1``, i.e. skipped).
"""

from __future__ import annotations

import bisect
import configparser
import enum
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accelsim.arch import ArchConfig, Dataflow
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer
from accelsim.result import Breakdown, LayerResult, Timing

# --------------------------------------------------------------------------------------------- config


class InterfaceBandwidth(enum.Enum):
    """``[run_presets] InterfaceBandwidth``: CALC lets DRAM keep up (reads never stall), USER models
    ``Bandwidth`` words per cycle. Only CALC is reproduced."""

    CALC = "CALC"
    USER = "USER"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class ScaleSimConfig:
    """The SCALE-Sim 3.0 config fields that can change its CALC-mode numbers (defaults: SCALE-Sim's own).

    SCALE-Sim's "kB" is KiB and its word is one byte, so an SRAM of ``k`` kB holds ``1024*k`` words.
    The offsets only shift addresses (they never change a count); ``bandwidth_words_per_cycle`` is used
    by USER mode only.
    """

    array_height: int = 4  # ArrayHeight: PE rows
    array_width: int = 4  # ArrayWidth: PE columns
    ifmap_sram_kib: int = 256  # IfmapSramSzkB
    filter_sram_kib: int = 256  # FilterSramSzkB
    ofmap_sram_kib: int = 128  # OfmapSramSzkB
    dataflow: Dataflow = Dataflow.WS
    interface_bandwidth: InterfaceBandwidth = InterfaceBandwidth.CALC
    bandwidth_words_per_cycle: tuple[int, ...] = ()  # Bandwidth
    ifmap_offset: int = 0
    filter_offset: int = 10_000_000
    ofmap_offset: int = 20_000_000
    run_name: str = "scale_run"

    def __post_init__(self) -> None:
        for name in ("array_height", "array_width", "ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib"):
            value = getattr(self, name)
            require(_is_int(value) and value > 0, f"ScaleSimConfig {name}", "a positive integer", value)
        for name in ("ifmap_offset", "filter_offset", "ofmap_offset"):
            value = getattr(self, name)
            require(_is_int(value) and value >= 0, f"ScaleSimConfig {name}", "a non-negative integer", value)
        require(isinstance(self.dataflow, Dataflow), "ScaleSimConfig dataflow", "a Dataflow", self.dataflow)
        require(
            isinstance(self.interface_bandwidth, InterfaceBandwidth),
            "ScaleSimConfig interface_bandwidth",
            "an InterfaceBandwidth",
            self.interface_bandwidth,
        )
        bws = self.bandwidth_words_per_cycle
        require(
            isinstance(bws, tuple) and all(_is_int(b) and b > 0 for b in bws),
            "ScaleSimConfig bandwidth_words_per_cycle",
            "a tuple of positive integers",
            bws,
        )

    @classmethod
    def from_cfg_fields(cls, fields: dict[str, object]) -> ScaleSimConfig:
        """From the cfg keys that vary in the golden data (ArrayHeight ... Dataflow)."""
        return cls(
            array_height=int(fields["ArrayHeight"]),  # type: ignore[call-overload]
            array_width=int(fields["ArrayWidth"]),  # type: ignore[call-overload]
            ifmap_sram_kib=int(fields["IfmapSramSzkB"]),  # type: ignore[call-overload]
            filter_sram_kib=int(fields["FilterSramSzkB"]),  # type: ignore[call-overload]
            ofmap_sram_kib=int(fields["OfmapSramSzkB"]),  # type: ignore[call-overload]
            dataflow=Dataflow.parse(fields["Dataflow"]),
        )


# (section, key) -> (required, kind). Required: the keys that decide CALC-mode numbers. The others are
# keys SCALE-Sim 3.0 reads that cannot change them; they are checked when present.
_CFG_KEYS: dict[tuple[str, str], tuple[bool, str]] = {
    ("general", "run_name"): (False, "text"),
    ("architecture_presets", "ArrayHeight"): (True, "positive"),
    ("architecture_presets", "ArrayWidth"): (True, "positive"),
    ("architecture_presets", "IfmapSramSzkB"): (True, "positive"),
    ("architecture_presets", "FilterSramSzkB"): (True, "positive"),
    ("architecture_presets", "OfmapSramSzkB"): (True, "positive"),
    ("architecture_presets", "IfmapOffset"): (True, "offset"),
    ("architecture_presets", "FilterOffset"): (True, "offset"),
    ("architecture_presets", "OfmapOffset"): (True, "offset"),
    ("architecture_presets", "Dataflow"): (True, "dataflow"),
    ("architecture_presets", "Bandwidth"): (False, "bandwidths"),
    ("architecture_presets", "ReadRequestBuffer"): (False, "positive"),
    ("architecture_presets", "WriteRequestBuffer"): (False, "positive"),
    ("architecture_presets", "MemoryBanks"): (False, "positive"),
    ("architecture_presets", "TopologyCsvLoc"): (False, "text"),
    ("network_presets", "TopologyCsvLoc"): (False, "text"),
    ("run_presets", "InterfaceBandwidth"): (True, "mode"),
    ("run_presets", "UseRamulatorTrace"): (False, "bool"),
    ("layout", "IfmapCustomLayout"): (False, "off"),
    ("layout", "FilterCustomLayout"): (False, "off"),
    ("layout", "IfmapSRAMBankBandwidth"): (False, "positive"),
    ("layout", "IfmapSRAMBankNum"): (False, "positive"),
    ("layout", "IfmapSRAMBankPort"): (False, "positive"),
    ("layout", "FilterSRAMBankBandwidth"): (False, "positive"),
    ("layout", "FilterSRAMBankNum"): (False, "positive"),
    ("layout", "FilterSRAMBankPort"): (False, "positive"),
    ("sparsity", "SparsitySupport"): (False, "off"),
    ("sparsity", "SparseRep"): (False, "text"),
    ("sparsity", "OptimizedMapping"): (False, "bool"),
    ("sparsity", "BlockSize"): (False, "positive"),
    ("sparsity", "RandomNumberGeneratorSeed"): (False, "int"),
}
_BOOLEAN_WORDS = {"1": True, "yes": True, "true": True, "on": True}
_BOOLEAN_WORDS |= {"0": False, "no": False, "false": False, "off": False}


def _cfg_value(what: str, kind: str, text: str) -> object:
    """One value of a cfg file, converted and checked (``what`` names it in errors)."""
    if kind == "text":
        return text
    if kind in ("positive", "offset", "int"):
        lowest, constraint = {
            "positive": (1, "a positive integer"),
            "offset": (0, "a non-negative integer"),
            "int": (None, "an integer"),
        }[kind]
        try:
            value = int(text)  # as SCALE-Sim reads it
        except ValueError:
            value = None
        require(value is not None and (lowest is None or value >= lowest), what, constraint, text)
        return value
    if kind == "dataflow":  # SCALE-Sim compares the exact text (case-sensitive)
        require(text in ("os", "ws", "is"), what, "one of 'os', 'ws', 'is'", text)
        return Dataflow(text)
    if kind == "mode":
        require(text in ("CALC", "USER"), what, "CALC or USER", text)
        require(
            text == "CALC",
            what,
            "CALC in SCALE-Sim compatibility mode (USER mode's DRAM-bandwidth stalls are not reproduced)",
            text,
        )
        return InterfaceBandwidth(text)
    if kind == "bandwidths":
        items = [item.strip() for item in text.split(",")]
        ok = all(item.isdigit() and int(item) > 0 for item in items)
        require(ok, what, "comma-separated positive integers", text)
        return tuple(int(item) for item in items)
    require(text.lower() in _BOOLEAN_WORDS, what, "True or False", text)
    if kind == "off":
        require(not _BOOLEAN_WORDS[text.lower()], what, "False in SCALE-Sim compatibility mode", text)
    return _BOOLEAN_WORDS[text.lower()]


def parse_scalesim_cfg(path: str | Path) -> ScaleSimConfig:
    """Read a SCALE-Sim 3.0 config file; raise :class:`AccelsimError` on any key or value it cannot use.

    Section and key names are matched case-insensitively (as configparser does for SCALE-Sim). Unknown
    sections and keys are errors (a typo must not silently fall back to a default); so are keys that
    switch on what compatibility mode does not reproduce: ``InterfaceBandwidth: USER``, custom SRAM
    layouts and sparsity.
    """
    path = Path(path)
    name = path.name
    parser = configparser.ConfigParser(strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the spelling for messages
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AccelsimError(f"SCALE-Sim config file must exist, not {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise AccelsimError(f"SCALE-Sim config file {str(path)!r} must be readable text ({err})") from None
    try:
        parser.read_string(text, source=name)
    except configparser.Error as err:
        first = str(err).strip().splitlines()[0]
        raise AccelsimError(f"{name} must be a valid INI file ({first})") from None

    canonical_sections = {section for section, _ in _CFG_KEYS}
    by_lower = {(s.lower(), k.lower()): (s, k) for s, k in _CFG_KEYS}
    values: dict[tuple[str, str], object] = {}
    for section in parser.sections():
        require(
            section.lower() in canonical_sections,
            f"{name} section",
            "one of " + ", ".join(f"[{s}]" for s in sorted(canonical_sections)),
            section,
        )
        for key, raw in parser.items(section, raw=True):
            found = by_lower.get((section.lower(), key.lower()))
            known = sorted(k for s, k in _CFG_KEYS if s == section.lower())
            require(found is not None, f"{name} [{section}] key", "one of " + ", ".join(known), key)
            assert found is not None
            require(found not in values, f"{name} [{section}] {found[1]}", "given once", key)
            required, kind = _CFG_KEYS[found]
            values[found] = _cfg_value(f"{name} [{found[0]}] {found[1]}", kind, raw.strip())
    for (section, key), (required, _) in _CFG_KEYS.items():
        if required and (section, key) not in values:
            present = sorted(k for s, k in values if s == section)
            raise AccelsimError(f"{name} [{section}] keys must include {key}, not {present!r}")

    arch = "architecture_presets"
    return ScaleSimConfig(
        array_height=values[arch, "ArrayHeight"],  # type: ignore[arg-type]
        array_width=values[arch, "ArrayWidth"],  # type: ignore[arg-type]
        ifmap_sram_kib=values[arch, "IfmapSramSzkB"],  # type: ignore[arg-type]
        filter_sram_kib=values[arch, "FilterSramSzkB"],  # type: ignore[arg-type]
        ofmap_sram_kib=values[arch, "OfmapSramSzkB"],  # type: ignore[arg-type]
        dataflow=values[arch, "Dataflow"],  # type: ignore[arg-type]
        interface_bandwidth=values["run_presets", "InterfaceBandwidth"],  # type: ignore[arg-type]
        bandwidth_words_per_cycle=values.get((arch, "Bandwidth"), ()),  # type: ignore[arg-type]
        ifmap_offset=values[arch, "IfmapOffset"],  # type: ignore[arg-type]
        filter_offset=values[arch, "FilterOffset"],  # type: ignore[arg-type]
        ofmap_offset=values[arch, "OfmapOffset"],  # type: ignore[arg-type]
        run_name=values.get(("general", "run_name"), "scale_run"),  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------------------------- result


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


# ------------------------------------------------------------------------------------------- geometry


@dataclass(frozen=True, slots=True)
class _Layer:
    """The layer as a SCALE-Sim topology row: no padding, SCALE-Sim's ceil output size."""

    H: int
    W: int
    R: int
    S: int
    C: int
    M: int
    U: int

    @property
    def E(self) -> int:
        return -(-(self.H - self.R + self.U) // self.U)

    @property
    def F(self) -> int:
        return -(-(self.W - self.S + self.U) // self.U)

    @property
    def K(self) -> int:  # window: GEMM reduction length
        return self.R * self.S * self.C

    @property
    def P(self) -> int:  # output pixels per filter
        return self.E * self.F

    def covered(self, size: int, window: int, out: int) -> int:
        """Input rows (or columns) that at least one of the ``out`` windows touches."""
        if window >= self.U:  # windows overlap or abut: one run from 0
            return min(size, (out - 1) * self.U + window)
        inside = (size - window) // self.U + 1  # windows wholly inside; at most one more, cut short
        return inside * window + (max(0, size - inside * self.U) if out > inside else 0)

    @property
    def ifmap_footprint(self) -> int:
        """Distinct IFMAP words read (SCALE-Sim reads no word that no window covers)."""
        return self.covered(self.H, self.R, self.E) * self.covered(self.W, self.S, self.F) * self.C


class _IfmapMatrix:
    """SCALE-Sim's IFMAP operand matrix (pixel p x window element k), offset 0, -1 past the input edge;
    entries are gathered from per-pixel and per-element tables."""

    def __init__(self, layer: _Layer) -> None:
        er, ec = np.divmod(np.arange(layer.P, dtype=np.int32), layer.F)
        r, rest = np.divmod(np.arange(layer.K, dtype=np.int32), layer.S * layer.C)
        s, ch = np.divmod(rest, layer.C)
        self.y0, self.x0, self.r, self.s = er * layer.U, ec * layer.U, r, s
        self.base = (self.y0 * layer.W + self.x0) * layer.C
        self.offset = (r * layer.W + s) * layer.C + ch
        self.H, self.W = layer.H, layer.W
        # SCALE-Sim's ceil output size reads past the edge only when a stride does not divide H-R (W-S).
        self.edge = (layer.H - layer.R) % layer.U != 0 or (layer.W - layer.S) % layer.U != 0

    def __call__(self, p: np.ndarray, k: np.ndarray) -> np.ndarray:
        addresses = self.base[p] + self.offset[k]
        if not self.edge:
            return addresses
        inside = (self.y0[p] + self.r[k] < self.H) & (self.x0[p] + self.s[k] < self.W)
        return np.where(inside, addresses, -1)


@dataclass(frozen=True, slots=True)
class _Folds:
    """An Sr x Sc operand mapped onto an Ra x Ca array, T cycles of streaming per fold.

    SCALE-Sim visits the folds column fold outermost (``for fc: for fr:``); every fold takes ``rows``
    cycles of its demand matrices."""

    Sr: int
    Sc: int
    T: int
    Ra: int
    Ca: int
    rows: int

    @property
    def rf(self) -> int:
        return -(-self.Sr // self.Ra)

    @property
    def cf(self) -> int:
        return -(-self.Sc // self.Ca)

    @property
    def count(self) -> int:
        return self.rf * self.cf

    def used_rows(self, fr: int) -> int:
        return min(self.Ra, self.Sr - fr * self.Ra)

    def used_cols(self, fc: int) -> int:
        return min(self.Ca, self.Sc - fc * self.Ca)

    def per_fold(self, full: float, last_row: float, last_col: float, last_both: float) -> np.ndarray:
        """A value per fold, in SCALE-Sim's fold order, from the four fold shapes."""
        column = np.full(self.rf, full)
        column[-1] = last_row
        values = np.tile(column, self.cf)
        values[(self.cf - 1) * self.rf :] = last_col
        values[-1] = last_both
        return values


def _folds(layer: _Layer, cfg: ScaleSimConfig) -> _Folds:
    Ra, Ca = cfg.array_height, cfg.array_width
    if cfg.dataflow is Dataflow.OS:
        return _Folds(Sr=layer.P, Sc=layer.M, T=layer.K, Ra=Ra, Ca=Ca, rows=layer.K + Ra + Ca - 2)
    if cfg.dataflow is Dataflow.WS:
        return _Folds(Sr=layer.K, Sc=layer.M, T=layer.P, Ra=Ra, Ca=Ca, rows=2 * Ra + Ca + layer.P - 2)
    return _Folds(Sr=layer.K, Sc=layer.P, T=layer.M, Ra=Ra, Ca=Ca, rows=2 * Ra + Ca + layer.M - 2)


def _sequential_mean(values: np.ndarray) -> float:
    """``sum(list) / len(list)`` as Python <= 3.11 evaluates it: left-to-right double additions."""
    return float(np.add.accumulate(values)[-1]) / len(values)


# ------------------------------------------------------------------------------------- OFMAP write buffer


def _skewed_rows_before(h: int, w: int, x: int) -> int:
    """Elements of an h x w block skewed one row per column (element (r, c) on row r + c) on rows < x."""
    a, b = min(h, w), max(h, w)
    x = max(0, min(x, h + w - 1))
    if x <= a:
        return x * (x + 1) // 2
    if x <= b:
        return a * (a + 1) // 2 + (x - a) * a
    return a * b - (a + b - 1 - x) * (a + b - x) // 2


@dataclass(frozen=True, slots=True)
class _Writes:
    """Where SCALE-Sim's OFMAP demand matrix puts its writes: per fold an h x w block, skewed, from row o.

    OS: h = rows used, w = columns used, o = T - 1 + (Ra - h) (the block is flipped, padding on top);
    WS and IS: h = T, w = columns used, o = 2*Ra - 1."""

    folds: _Folds
    os: bool

    def block(self, fr: int, fc: int) -> tuple[int, int, int]:
        f = self.folds
        if self.os:
            h = f.used_rows(fr)
            return h, f.used_cols(fc), f.T - 1 + f.Ra - h
        return f.T, f.used_cols(fc), 2 * f.Ra - 1

    @property
    def height(self) -> int:  # block height of a fold that is not the last row fold
        return self.folds.Ra if self.os else self.folds.T

    @property
    def per_column_fold(self) -> int:  # writes of one full-width column fold
        f = self.folds
        return (f.Sr if self.os else f.rf * f.T) * f.Ca

    @property
    def total(self) -> int:
        f = self.folds
        return (f.Sr if self.os else f.rf * f.T) * f.Sc

    def before_row(self, row: int) -> int:
        """Writes on demand rows < row."""
        f = self.folds
        row = max(0, min(row, f.count * f.rows))
        fold, j = divmod(row, f.rows)
        if fold == f.count:
            return self.total
        fc, fr = divmod(fold, f.rf)
        h, w, o = self.block(fr, fc)
        return fc * self.per_column_fold + fr * self.height * w + _skewed_rows_before(h, w, j - o)

    def row_of(self, k: int) -> int:
        """Demand row of write k (0-based)."""
        f = self.folds
        fc = min(k // self.per_column_fold, f.cf - 1)
        k -= fc * self.per_column_fold
        w = f.used_cols(fc)
        fr = min(k // (self.height * w), f.rf - 1)
        k -= fr * self.height * w
        h, w, o = self.block(fr, fc)
        lo, hi = 0, h + w - 1  # smallest x with more than k elements on rows <= x
        while lo < hi:
            mid = (lo + hi) // 2
            if _skewed_rows_before(h, w, mid + 1) > k:
                hi = mid
            else:
                lo = mid + 1
        return (fc * f.rf + fr) * f.rows + o + lo


@dataclass(frozen=True, slots=True)
class _OfmapTraffic:
    dram_writes: int
    dram_start_cycle: int
    dram_stop_cycle: int


def _ofmap_write_buffer(writes: _Writes, size_words: int, last_row: int) -> _OfmapTraffic:
    """SCALE-Sim's ``write_buffer`` replayed drain by drain (a handful of integer steps per drain).

    Writes are packed into lines of ``bw`` = ArrayWidth words. Once more than ``D`` = floor(size/2) words
    are held and the previous drain is over, the write buffer closes its partial line and drains the
    next ceil(D/bw) lines, one line per cycle. A drain credits back a full line for every line but the
    last, even a partial one (SCALE-Sim subtracts only the last line's empty slots): those phantom words
    are counted as DRAM writes too. SCALE-Sim would stall the array on a write that finds the buffer full
    before the current drain ends; with at most ``bw`` writes per cycle that never happens (see
    docs/scalesim_compat.md), and the replay checks it.
    """
    f = writes.folds
    bw = f.Ca
    active = math.ceil(size_words * 0.5)
    drain = size_words - active
    lines_per_drain = math.ceil(drain / bw)
    total = writes.total

    segments: list[list[int]] = []  # closed lines not yet drained: [full lines, partial-line words]
    closed = 0  # writes already packed into closed lines
    credited = 0  # words a drain has given back (phantom words included)
    drain_end = 0
    first_start: int | None = None
    last_end = 0
    k = 0  # next write that may start a drain

    def take_lines(cycle: int) -> int:
        """Drain up to lines_per_drain lines at ``cycle``; return the drain's last cycle."""
        nonlocal credited, first_start, last_end
        lines, last_partial = 0, 0
        while segments and lines < lines_per_drain:
            seg = segments[0]
            take = min(seg[0], lines_per_drain - lines)
            seg[0] -= take
            lines += take
            last_partial = 0
            if seg[0] == 0 and lines < lines_per_drain:
                if seg[1]:
                    lines += 1
                    last_partial = seg[1]
                segments.pop(0)
            elif seg[0] == 0 and seg[1] == 0:
                segments.pop(0)
        credited += lines * bw - (bw - last_partial if last_partial else 0)
        end = cycle + lines - 1
        first_start = cycle if first_start is None else first_start
        last_end = max(last_end, end)
        return end

    def close(upto: int) -> None:
        nonlocal closed
        if upto > closed:
            segments.append([(upto - closed) // bw, (upto - closed) % bw])
            closed = upto

    while k < total:
        after_drain = max(k, writes.before_row(drain_end))  # first write on a cycle >= drain_end
        full = max(k, size_words + credited - 1)  # first write that leaves no free space
        if full < min(after_drain, total):
            raise AccelsimError("SCALE-Sim's OFMAP buffer must not fill mid-drain (a stall not reproduced)")
        trigger = max(after_drain, drain + credited)  # a drain starts once more than D words are held
        if trigger >= total:
            break
        close(trigger + 1)
        drain_end = take_lines(writes.row_of(trigger))
        k = trigger + 1

    # empty_all_buffers: from the last demand row's cycle, drain everything left, chunk after chunk.
    close(total)
    cycle = last_row
    while segments:
        cycle = take_lines(cycle) + 1
    assert first_start is not None
    return _OfmapTraffic(credited, first_start, last_end)


# ------------------------------------------------------------------------------- IFMAP / filter reads


def _skew_order(T: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, c) of a T x w block skewed one row per column, in the order SCALE-Sim reads them: by demand
    row t + c, then by column c."""
    d = np.arange(T + w - 1, dtype=np.int32)
    c_lo = np.maximum(0, d - T + 1)
    counts = np.minimum(d, w - 1) - c_lo + 1
    starts = np.cumsum(counts, dtype=np.int32) - counts
    c = np.arange(T * w, dtype=np.int32) - np.repeat(starts - c_lo, counts)
    return np.repeat(d, counts) - c, c


Fold = tuple[np.ndarray, np.ndarray]  # a fold's read addresses (no -1) and their demand rows
Batch = tuple[np.ndarray, np.ndarray, list[int], int]


@dataclass(frozen=True, slots=True)
class _Pass:
    """Reads made fold after fold: ``fold(i)`` for i < ``folds``; the whole pass is repeated ``repeats``
    times, each repeat ``row_step`` demand rows after the previous one. Folds are built when scanned, a
    batch at a time, so memory stays a few batches whatever the layer."""

    folds: int
    fold: Callable[[int], Fold]
    repeats: int
    row_step: int
    sizes: tuple[int, ...] = ()  # reads per fold, when every address is read once per pass (filters)

    def row(self, read: int) -> int:
        """Demand row of read ``read`` of the (repeated) pass; needs ``sizes``."""
        rep, read = divmod(read, sum(self.sizes))
        for fold, size in enumerate(self.sizes):
            if read < size:
                return int(self.fold(fold)[1][read]) + rep * self.row_step
            read -= size
        raise AssertionError("read index past the pass")

    def batches(self, fold: int, offset: int, size: int) -> Iterator[Batch]:
        """From read ``offset`` of fold ``fold`` on, whole folds joined to at least ``size`` reads:
        (addresses, rows, where each fold starts, first fold); the first fold starts at ``-offset``."""
        addresses: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        starts: list[int] = []
        first, held = fold, -offset
        for i in range(fold, self.folds):
            a, r = self.fold(i)
            starts.append(held)
            addresses.append(a[offset:] if i == fold else a)
            rows.append(r[offset:] if i == fold else r)
            held += len(a)
            if held >= size or i == self.folds - 1:
                yield np.concatenate(addresses), np.concatenate(rows), starts, first
                addresses, rows, starts, first, held = [], [], [], i + 1, 0


def _read_passes(layer: _Layer, f: _Folds, dataflow: Dataflow, operand: str) -> list[_Pass]:
    """The reads SCALE-Sim's demand matrix holds for ``operand`` ("ifmap" or "filter"), in its order.

    A skewed T x w block puts element (t, c) on demand row ``at + t + c``; a flipped block (WS filter, IS
    IFMAP) puts the used rows of its Ra x Ca slice on rows ``Ra - h .. Ra - 1`` in reverse order. What
    SCALE-Sim repeats (the same slices for every column fold, or for every row fold) is one repeated pass.
    """
    Ra, Ca, K = f.Ra, f.Ca, layer.K
    column_fold_rows = f.rf * f.rows
    ifmap = _IfmapMatrix(layer) if operand == "ifmap" else None

    skews: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    t_col = np.arange(f.T, dtype=np.int32)[:, None]

    def filt(m: np.ndarray, k: np.ndarray) -> np.ndarray:  # filter m, window element k
        return m * K + k

    def skewed(block: np.ndarray, first_row: int) -> tuple[np.ndarray, np.ndarray]:
        """A T x w block's entries in skewed reading order, and their demand rows."""
        w = block.shape[1]
        if w not in skews:
            t, c = _skew_order(f.T, w)
            skews[w] = t * w + c, t + c
        order, diagonal = skews[w]
        return block.ravel()[order], first_row + diagonal

    def columns(first: int, w: int) -> np.ndarray:
        return first + np.arange(w, dtype=np.int32)[None, :]

    def flipped(fold: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """(fc, window element k, column c, demand row) of a fold's flipped Ra x Ca slice."""
        fc, fr = divmod(fold, f.rf)
        h, w = f.used_rows(fr), f.used_cols(fc)
        r, c = np.divmod(np.arange(h * w, dtype=np.int32), w)
        return fc, fr * Ra + h - 1 - r, c, fold * f.rows + Ra - h + r

    def valid(addresses: np.ndarray, rows: np.ndarray) -> Fold:
        keep = addresses >= 0  # SCALE-Sim skips -1 (reads past the IFMAP edge)
        return addresses[keep], rows[keep]

    def os_ifmap(fr: int) -> Fold:  # pixels fr*Ra + c, window t
        return valid(*skewed(ifmap(columns(fr * Ra, f.used_rows(fr)), t_col), fr * f.rows))

    def ws_ifmap(fr: int) -> Fold:  # pixel t, window fr*Ra + c
        return valid(*skewed(ifmap(t_col, columns(fr * Ra, f.used_rows(fr))), fr * f.rows + Ra))

    def is_ifmap(fold: int) -> Fold:  # pixels fc*Ca + c, window fr*Ra..
        fc, k, c, rows = flipped(fold)
        return valid(ifmap(fc * Ca + c, k), rows)

    def ws_filter(fold: int) -> Fold:  # filters fc*Ca + c, window fr*Ra..
        fc, k, c, rows = flipped(fold)
        return filt(fc * Ca + c, k), rows

    def is_filter(fr: int) -> Fold:  # filter t, window fr*Ra + c
        return skewed(filt(t_col, columns(fr * Ra, f.used_rows(fr))), fr * f.rows + Ra)

    def os_filter(fc: int) -> Callable[[int], Fold]:  # filters fc*Ca + c, window t; the same every row fold
        def fold(_: int) -> Fold:
            return skewed(filt(columns(fc * Ca, f.used_cols(fc)), t_col), fc * column_fold_rows)

        return fold

    if dataflow is Dataflow.OS and operand == "ifmap":
        return [_Pass(f.rf, os_ifmap, f.cf, column_fold_rows)]
    if dataflow is Dataflow.OS:
        return [_Pass(1, os_filter(fc), f.rf, f.rows, (K * f.used_cols(fc),)) for fc in range(f.cf)]
    if dataflow is Dataflow.WS and operand == "ifmap":
        return [_Pass(f.rf, ws_ifmap, f.cf, column_fold_rows)]
    if dataflow is Dataflow.WS:
        sizes = tuple(f.used_rows(fr) * f.used_cols(fc) for fc in range(f.cf) for fr in range(f.rf))
        return [_Pass(f.count, ws_filter, 1, 0, sizes)]
    if operand == "ifmap":
        return [_Pass(f.count, is_ifmap, 1, 0)]
    sizes = tuple(f.T * f.used_rows(fr) for fr in range(f.rf))
    return [_Pass(f.rf, is_filter, f.cf, column_fold_rows, sizes)]


@dataclass(frozen=True, slots=True)
class _ReadTraffic:
    dram_reads: int
    dram_start_cycle: int
    dram_stop_cycle: int


def _first_occurrences(part: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of each value in ``part`` (``scratch`` is indexable by every value)."""
    index = np.arange(len(part), dtype=np.int32)
    scratch[part[::-1]] = index[::-1]  # repeated indices: numpy keeps the last assignment, the first index
    first = scratch[part]
    if not np.all(first <= index):  # not that numpy: sort instead
        mask = np.zeros(len(part), dtype=bool)
        mask[np.unique(part, return_index=True)[1]] = True
        return mask
    return first == index


def _misses(passes: list[_Pass], capacity: int, space: int) -> tuple[int, int]:
    """Misses of SCALE-Sim's estimate-bandwidth read buffer, and the demand row of its last flush.

    ``ReadBufferEstimateBw`` files each new address into sets of ``items`` words; an address is a hit if
    it is in a set filled since the last flush, and the buffer flushes whenever 50 sets (``capacity`` =
    50 * items misses) have filled. Every miss is one DRAM read. The passes are scanned with numpy, a
    chunk at a time; a repeat of a pass that starts from the same flush position as an earlier repeat
    is not scanned again, nor one after a repeat without misses.

    A pass that reads each address once (``sizes``) and at least ``capacity`` of them misses on every
    read: an address read again was read a pass earlier, and since then at least ``capacity - 1`` other
    reads have missed, so the buffer has flushed in between.
    """
    stamp = np.zeros(space, dtype=np.int32)  # stamp[a] == epoch: a was read since the last flush
    scratch = np.empty(space, dtype=np.int32)
    epoch, held, misses, last_flush = 1, 0, 0, -1
    batch = max(1 << 16, 2 * capacity)
    reads_per_miss = 1.0  # running estimate, to size the chunks
    for run in passes:
        reads = sum(run.sizes)
        if reads >= capacity:  # every read misses
            total = reads * run.repeats
            last = (held + total) // capacity * capacity - held - 1  # the read that filled the last flush
            misses += total
            held = (held + total) % capacity
            if last >= 0:
                last_flush = run.row(last)
            epoch += 1  # the addresses still held are never read again
            continue
        # (fold, read) of the previous repeat's last flush -> flushes, words held at the end, last flush
        memo: dict[tuple[int, int], tuple[int, int, tuple[int, int], int]] = {}
        resume: tuple[int, int] | None = None
        for rep in range(run.repeats):
            if resume is not None and resume in memo:
                flushes, held_out, resume, row = memo[resume]
                misses += flushes * capacity - held + held_out
                held, last_flush = held_out, row + rep * run.row_step
                if not (rep + 1 < run.repeats and resume in memo):  # rebuild the state it left
                    epoch += 1
                    tail = 0
                    for x, _, _, _ in run.batches(resume[0], resume[1] + 1, batch):
                        x = np.unique(x[stamp[x] != epoch])
                        stamp[x] = epoch
                        tail += len(x)
                    assert tail == held
                continue
            key, held_in, flushes, last = resume, held, 0, None
            for x, rows, starts, first in run.batches(0, 0, batch):
                pos = 0
                while pos < len(x):
                    need = capacity - held
                    part = x[pos : pos + max(4096, int(1.25 * need * reads_per_miss))]
                    fresh = np.flatnonzero(stamp[part] != epoch)  # not read since the last flush
                    new = fresh[_first_occurrences(part[fresh], scratch)]
                    if len(new) >= need:
                        at = pos + int(new[need - 1])
                        reads_per_miss = (at + 1 - pos) / need
                        j = bisect.bisect_right(starts, at) - 1
                        last = (first + j, at - starts[j]), int(rows[at])
                        flushes, held, epoch, pos = flushes + 1, 0, epoch + 1, at + 1
                    else:
                        stamp[part[new]] = epoch
                        held += len(new)
                        pos += len(part)
            misses += flushes * capacity - held_in + held
            if last is None and held == held_in:  # nothing missed: neither will the remaining repeats
                break
            if last is not None:
                (resume, row) = last
                last_flush = row + rep * run.row_step
                if key is not None:
                    memo[key] = (flushes, held, resume, row)
            else:
                resume = None
    return misses, last_flush


def _read_buffer(
    layer: _Layer, f: _Folds, dataflow: Dataflow, operand: str, size_kib: int, first_row: int
) -> _ReadTraffic:
    """DRAM reads and the DRAM trace's first and last cycle of one read buffer (CALC mode)."""
    items = (1024 * size_kib) // 100  # words per set
    capacity = 50 * items  # misses between flushes: the active half of the buffer
    distinct = layer.ifmap_footprint if operand == "ifmap" else layer.K * layer.M
    if distinct < capacity:  # never flushes: every word is read from DRAM once, all before cycle 0
        prefetch_cycles = math.ceil(-(-distinct // items) * items / 10)
        return _ReadTraffic(distinct, -prefetch_cycles, -1)
    space = layer.H * layer.W * layer.C if operand == "ifmap" else layer.K * layer.M
    misses, last_flush = _misses(_read_passes(layer, f, dataflow, operand), capacity, space)
    # The first flush prefetched the first 50 sets at 10 words/cycle, ending two cycles before the first
    # request; the last one ends on the cycle of the last flush (plus the one-cycle port latency).
    return _ReadTraffic(misses, first_row - 5 * items, last_flush + 1)


def _last_ifmap_row(layer: _Layer, f: _Folds, dataflow: Dataflow) -> int:
    """The last demand row holding an IFMAP read (reads past the input edge are -1: not requests)."""
    Ra, U = f.Ra, layer.U
    matrix = _IfmapMatrix(layer) if dataflow is Dataflow.IS else None
    for fold in range(f.count - 1, -1, -1):  # the last fold, unless all its reads are past the edge
        fc, fr = divmod(fold, f.rf)
        base = fold * f.rows
        if dataflow is Dataflow.WS:  # column c: window element k, down every pixel; its last valid pixel
            k = fr * Ra + np.arange(f.used_rows(fr))
            r, s = (k // layer.C) // layer.S, (k // layer.C) % layer.S
            last_er = np.minimum(layer.E - 1, (layer.H - 1 - r) // U)
            last_ec = np.minimum(layer.F - 1, (layer.W - 1 - s) // U)
            return base + Ra + int(np.max(last_er * layer.F + last_ec + np.arange(len(k))))
        if dataflow is Dataflow.OS:  # column c: pixel p, along its window; its last valid element
            p = fr * Ra + np.arange(f.used_rows(fr))
            y0, x0 = (p // layer.F) * U, (p % layer.F) * U
            inside = (y0 < layer.H) & (x0 < layer.W)
            if inside.any():
                r_max = np.minimum(layer.R - 1, layer.H - 1 - y0)
                s_max = np.minimum(layer.S - 1, layer.W - 1 - x0)
                k_max = (r_max * layer.S + s_max + 1) * layer.C - 1
                return base + int(np.max((k_max + np.arange(len(p)))[inside]))
            continue
        h, w = f.used_rows(fr), f.used_cols(fc)  # IS: row Ra-h+j holds window element fr*Ra+h-1-j
        assert matrix is not None
        k = fr * Ra + h - 1 - np.arange(h)
        valid = matrix(fc * f.Ca + np.arange(w)[None, :], k[:, None]) >= 0
        rows = np.flatnonzero(valid.any(axis=1))
        if len(rows):
            return base + Ra - h + int(rows[-1])
    raise AssertionError("a layer reads its first IFMAP word")


def _sram_rows(layer: _Layer, f: _Folds, dataflow: Dataflow, writes: _Writes) -> tuple[int, ...]:
    """First and last demand row holding a request: IFMAP, filter, OFMAP."""
    Ra, T = f.Ra, f.T
    last = (f.count - 1) * f.rows  # first row of the last fold
    last_r, last_c = f.used_rows(f.rf - 1), f.used_cols(f.cf - 1)
    if dataflow is Dataflow.OS:
        ifmap_first, filter_first, filter_last = 0, 0, last + T + last_c - 2
    elif dataflow is Dataflow.WS:
        ifmap_first, filter_first, filter_last = Ra, Ra - f.used_rows(0), last + Ra - 1
    else:
        ifmap_first, filter_first, filter_last = Ra - f.used_rows(0), Ra, last + Ra + T + last_r - 2
    ifmap_last = _last_ifmap_row(layer, f, dataflow)
    ofmap_first, ofmap_last = writes.row_of(0), writes.row_of(writes.total - 1)
    return ifmap_first, ifmap_last, filter_first, filter_last, ofmap_first, ofmap_last


# ---------------------------------------------------------------------------------------------- layer


def simulate_layer_scalesim(layer: ConvLayer, cfg: ScaleSimConfig) -> ScaleSimLayerResult:
    """SCALE-Sim 3.0's numbers for ``layer`` on ``cfg`` (CALC mode), as its reports would show them."""
    what = f"layer {layer.name}"
    require(layer.groups == 1, f"{what}: groups", "1 in SCALE-Sim compatibility mode", layer.groups)
    require(layer.N == 1, f"{what}: N", "1 in SCALE-Sim compatibility mode", layer.N)
    require(
        cfg.interface_bandwidth is InterfaceBandwidth.CALC,
        "ScaleSimConfig interface_bandwidth",
        "CALC in SCALE-Sim compatibility mode",
        cfg.interface_bandwidth.value,
    )
    view = _Layer(
        H=layer.H + 2 * layer.pad, W=layer.W + 2 * layer.pad, R=layer.R, S=layer.S, C=layer.C, M=layer.M,
        U=layer.stride,
    )
    f = _folds(view, cfg)
    Ra, Ca, T = f.Ra, f.Ca, f.T
    dataflow = cfg.dataflow
    last_r, last_c = f.used_rows(f.rf - 1), f.used_cols(f.cf - 1)

    # Compute report: per-fold ratios averaged the way SCALE-Sim does.
    shapes = ((Ra, Ca), (last_r, Ca), (Ra, last_c), (last_r, last_c))
    mapping = f.per_fold(*((r * c) / (Ra * Ca) for r, c in shapes))
    util_cycles = T + Ra + Ca - 2 if dataflow is Dataflow.OS else 2 * Ra + 2 * Ca + T - 3
    compute_util = f.per_fold(*((r * c * T) / (Ra * Ca * util_cycles) for r, c in shapes))

    # SRAM accesses: SCALE-Sim counts every entry of each fold's operand slice, -1 entries included.
    if dataflow is Dataflow.OS:
        sram = (f.cf * T * f.Sr, f.rf * T * f.Sc, f.Sr * f.Sc + f.count * (Ra + Ca))
    elif dataflow is Dataflow.WS:
        sram = (f.cf * T * f.Sr, f.Sr * f.Sc, f.rf * T * f.Sc)
    else:
        sram = (f.Sr * f.Sc, f.cf * f.Sr * T, f.rf * f.Sc * T)
    # First and last rows with a request; a read is served (and traced) one cycle after its row.
    writes = _Writes(f, dataflow is Dataflow.OS)
    rows = _sram_rows(view, f, dataflow, writes)

    last_row = f.count * f.rows - 1
    ofmap = _ofmap_write_buffer(writes, 1024 * cfg.ofmap_sram_kib, last_row)
    ifmap = _read_buffer(view, f, dataflow, "ifmap", cfg.ifmap_sram_kib, rows[0])
    filt = _read_buffer(view, f, dataflow, "filter", cfg.filter_sram_kib, rows[2])

    return ScaleSimLayerResult(
        total_cycles=ofmap.dram_stop_cycle - min(ifmap.dram_start_cycle, filt.dram_start_cycle),
        compute_cycles=last_row,  # SCALE-Sim reports the index of the last cycle
        stall_cycles=0,  # CALC mode: reads always hit and the OFMAP buffer never fills (checked above)
        macs=view.P * view.M * view.K,
        pes=Ra * Ca,
        mapping_efficiency=_sequential_mean(mapping),
        compute_utilization=_sequential_mean(compute_util),
        ifmap_sram_reads=sram[0],
        filter_sram_reads=sram[1],
        ofmap_sram_writes=sram[2],
        ifmap_dram_reads=ifmap.dram_reads,
        filter_dram_reads=filt.dram_reads,
        ofmap_dram_writes=ofmap.dram_writes,
        ifmap_sram_start_cycle=rows[0] + 1,
        ifmap_sram_stop_cycle=rows[1] + 1,
        filter_sram_start_cycle=rows[2] + 1,
        filter_sram_stop_cycle=rows[3] + 1,
        ofmap_sram_start_cycle=rows[4],
        ofmap_sram_stop_cycle=rows[5],
        ifmap_dram_start_cycle=ifmap.dram_start_cycle,
        ifmap_dram_stop_cycle=ifmap.dram_stop_cycle,
        filter_dram_start_cycle=filt.dram_start_cycle,
        filter_dram_stop_cycle=filt.dram_stop_cycle,
        ofmap_dram_start_cycle=ofmap.dram_start_cycle,
        ofmap_dram_stop_cycle=ofmap.dram_stop_cycle,
    )


# ------------------------------------------------------------------ bridges to accelsim's own types


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
