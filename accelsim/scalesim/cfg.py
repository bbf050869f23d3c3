"""SCALE-Sim 3.0 config files: the fields that decide its CALC-mode numbers, read and checked.

Key names, kinds and defaults are SCALE-Sim 3.0's own (scale_config.py); every value is checked once, here,
and a bad one raises :class:`AccelsimError` in one line.
"""

from __future__ import annotations

import configparser
import enum
from dataclasses import dataclass
from pathlib import Path

from accelsim import inputs
from accelsim.arch import Dataflow
from accelsim.errors import AccelsimError, require


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
    if kind == "mode":  # USER is read (Bandwidth -> dram_bytes_per_cycle); --timing scalesim needs CALC
        require(text in ("CALC", "USER"), what, "CALC or USER", text)
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
    switch on what compatibility mode does not reproduce: custom SRAM layouts and sparsity.
    ``InterfaceBandwidth: USER`` is read (accelsim's own timing takes its Bandwidth as DRAM bytes per
    cycle); compatibility mode itself (:func:`simulate_layer_scalesim`) requires CALC.
    """
    path = Path(path)
    name = path.name
    parser = configparser.ConfigParser(strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the spelling for messages
    text = inputs.read_text(path, "SCALE-Sim config file", limit=inputs.CONFIG_LIMIT_BYTES)
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

