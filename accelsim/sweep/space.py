"""A design space: swept ArchConfig keys x workloads, parsed and validated once from TOML.

The space is the Cartesian product of every swept key's values (keys in ArchConfig's field order, the first
one most significant), so a configuration is named by its index in that product (``config_id``) and any
range of indices is decoded into field arrays without building the product (:meth:`Space.configs`).
Constraints drop configurations; the indices of the others do not change, so a chunk of the sweep is
simply a range of ``config_id`` (docs/sweep.md has the file format).
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accelsim import arch as arch_mod
from accelsim.arch import ArchConfig, Dataflow
from accelsim.closed_form import layer_fields
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer
from accelsim.mapper.search import MAPPERS
from accelsim.sim import HOSTS

# Keys a space may sweep: every ArchConfig field the model times (the fixed int8/int32 widths and the
# energy table come from the base configuration), and ``host``: how commands are issued, accelsim.sim's
# HOSTS (``fixed``, the default: one every host_issue_cycles, the closed form or the scheduler; ``riscv``:
# the layer driver firmware on the instruction-level host model, a few thousand times slower), and
# ``mapper``: accelsim.mapper's MAPPERS (``fixed``, the default: the fixed lowering; ``search``: each
# distinct layer's mapping searched, objective EDP in the configuration's dataflow, as `simulate --mapper
# search` does; tens to hundreds of milliseconds a layer).
SWEEP_KEYS = ("array_rows", "array_cols", "dataflow", "ifmap_spad_kib", "weight_spad_kib", "acc_kib",
              "dram_bytes_per_cycle", "dram_latency_cycles", "queue_depth", "host_issue_cycles", "clock_mhz",
              "pe_dot_width", "host", "mapper")
MODE_KEYS = {"host": HOSTS, "mapper": MAPPERS}  # keys that choose how a configuration is simulated
# Keys the constraints read (the rest of a configuration never changes whether it is feasible).
SIZE_KEYS = ("array_rows", "array_cols", "pe_dot_width", "ifmap_spad_kib", "weight_spad_kib", "acc_kib")
# Constraints: PEs (array_rows x array_cols); the MAC budget, int8 MACs a cycle (PEs x pe_dot_width); SRAM,
# ifmap + weight scratchpads + accumulator; area, accelsim.area's estimate in LUT4-equivalents.
CONSTRAINT_KEYS = ("max_pes", "min_pes", "max_macs_per_cycle", "min_macs_per_cycle", "max_sram_kib",
                   "max_area")
# Objectives the Pareto front may minimise (columns of the points table).
OBJECTIVES = ("cycles", "time_us", "energy_pj", "dram_bytes", "pes", "sram_kib", "area")
TOP_KEYS = ("base", "workloads", "objectives", "chunk_configs", "space", "constraints")
MAX_VALUES = 100_000  # values of one key (a typo in a range should not allocate gigabytes)
# Distinct (layer shape, config) evaluations in a default chunk: ~0.1 s of closed-form work and ~20 MB of
# arrays a worker; smaller chunks spend a larger share on per-chunk costs (files, markers, numpy calls):
# on ResNet-50's fully covered space (benchmarks/sweep.py) 20 k a chunk gave ~80 %, 100 k ~92 % of the time
# to evaluation. A smaller space gets smaller chunks, down to MIN_CHUNK_EVALUATIONS, so that it has at least
# MIN_CHUNKS of them to share among workers; and a chunk has at most MAX_CHUNK_ROWS rows (configurations x
# workloads: a one-layer workload's table rows, not its evaluations, are what a chunk's memory holds).
CHUNK_EVALUATIONS = 100_000
MIN_CHUNK_EVALUATIONS = 20_000
MIN_CHUNKS = 16
MAX_CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class Workload:
    """A named network: its layers' shape fields (LAYER_FIELDS arrays) of the distinct shapes, and for each
    layer of the network (in order) the index of its shape."""

    name: str
    shapes: dict  # LAYER_FIELDS -> int64 array (distinct shapes)
    layer_shape: np.ndarray  # int64 (layers,)


@dataclass(frozen=True)
class Space:
    """A parsed space. ``keys``/``values``: the swept keys and their values (dataflow as Dataflow codes);
    ``base``: every other field; ``workloads``: the networks; ``constraints``: the bounds given."""

    base: ArchConfig
    keys: tuple[str, ...]
    values: tuple[tuple, ...]
    constraints: tuple[tuple[str, float], ...]
    workloads: tuple[Workload, ...]
    objectives: tuple[str, ...]
    chunk_configs: int
    digest: str

    @property
    def size(self) -> int:
        """Configurations in the product, before constraints."""
        return math.prod(len(v) for v in self.values)

    def configs(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Field arrays (SWEEP_KEYS, plus ``config_id``) of the configurations ``start <= id < stop`` that
        meet the constraints."""
        ids = np.arange(start, min(stop, self.size), dtype=np.int64)
        out = {"config_id": ids}
        digits = np.unravel_index(ids, [len(v) for v in self.values]) if self.keys else ()
        for key in SWEEP_KEYS:
            if key in self.keys:
                i = self.keys.index(key)
                out[key] = np.asarray(self.values[i])[digits[i]]
            else:
                value = 0 if key in MODE_KEYS else getattr(self.base, key)  # a mode: its index
                value = value.code if isinstance(value, Dataflow) else value
                out[key] = np.full(ids.size, value, np.float64 if key == "clock_mhz" else np.int64)
        keep = feasible(out, self.constraints)
        return {k: v[keep] for k, v in out.items()}

    def feasible_count(self) -> int:
        """How many configurations meet the constraints, from the product of the constrained keys only."""
        involved = [k for k in SIZE_KEYS if k in self.keys]
        sub = {k: np.asarray(self.values[self.keys.index(k)]) for k in involved}
        grids = np.meshgrid(*sub.values(), indexing="ij") if sub else []
        cols = {k: g.reshape(-1) for k, g in zip(sub, grids, strict=True)}
        n = max((c.size for c in cols.values()), default=1)
        for key in SIZE_KEYS:
            cols.setdefault(key, np.full(n, getattr(self.base, key), np.int64))
        rest = math.prod(len(v) for k, v in zip(self.keys, self.values, strict=True) if k not in involved)
        return int(feasible(cols, self.constraints).sum()) * rest


def area_of(cols: dict[str, np.ndarray]) -> np.ndarray:
    """accelsim.area's estimate (LUT4-equivalents, of the build running all three dataflows) of each
    configuration (field arrays)."""
    from accelsim.area import area_arrays

    return area_arrays(*(cols[k] for k in SIZE_KEYS))["area"]


def feasible(cols: dict[str, np.ndarray], constraints) -> np.ndarray:
    """Which configurations (field arrays) meet every constraint."""
    pes = cols["array_rows"] * cols["array_cols"]
    macs = pes * cols["pe_dot_width"]
    sram = cols["ifmap_spad_kib"] + cols["weight_spad_kib"] + cols["acc_kib"]
    keep = np.ones(pes.shape, bool)
    for name, bound in constraints:
        if name == "max_pes":
            keep &= pes <= bound
        elif name == "min_pes":
            keep &= pes >= bound
        elif name == "max_macs_per_cycle":
            keep &= macs <= bound
        elif name == "min_macs_per_cycle":
            keep &= macs >= bound
        elif name == "max_area":
            keep &= area_of(cols) <= bound
        else:  # max_sram_kib
            keep &= sram <= bound
    return keep


def _values(key: str, spec: Any, where: str) -> tuple:
    """The values of one key: a list, a scalar, or a range table (``start``, ``stop`` inclusive, and
    ``step`` for an arithmetic or ``factor`` for a geometric series; integer ends and step give integers)."""
    if isinstance(spec, dict):
        allowed = ({"start", "stop", "step"} if "step" in spec else {"start", "stop", "factor"})
        for k in spec:
            require(k in allowed, f"{where}.{key} range key", f"one of {sorted(allowed)}", k)
        for k in allowed:
            require(k in spec, f"{where}.{key} range", f"a table with {sorted(allowed)}", spec)
        start, stop = spec["start"], spec["stop"]
        if "step" in spec:
            step = spec["step"]
            require(isinstance(step, (int, float)) and step > 0, f"{where}.{key} step", "positive", step)
            require(start <= stop, f"{where}.{key} range", "non-empty (start <= stop)", spec)
            n = math.floor((stop - start) / step + 1e-9) + 1
            require(n <= MAX_VALUES, f"{where}.{key} range", f"at most {MAX_VALUES} values", spec)
            values = [start + i * step for i in range(n)]
        else:
            factor = spec["factor"]
            require(isinstance(factor, (int, float)) and factor > 1, f"{where}.{key} factor", "> 1", factor)
            require(isinstance(start, (int, float)) and start > 0, f"{where}.{key} start",
                    "positive for a geometric range", start)
            require(start <= stop, f"{where}.{key} range", "non-empty (start <= stop)", spec)
            values, v = [], start
            while v <= stop * (1 + 1e-12):
                values.append(v)
                v = v * factor
        if all(isinstance(x, int) for x in (start, stop, spec.get("step", 1))):  # integer ends: integers
            values = list(dict.fromkeys(round(v) for v in values))  # (a factor of 1.5 rounds, then dedupes)
    elif isinstance(spec, list):
        require(len(spec) > 0, f"{where}.{key}", "a non-empty list", spec)
        values = list(spec)
    else:
        values = [spec]
    require(len(set(map(str, values))) == len(values), f"{where}.{key}", "a list of distinct values", spec)
    return tuple(values)


def _check_value(base: ArchConfig, key: str, value: Any, where: str) -> Any:
    """``value`` of ``key`` as ArchConfig validates it (dataflow as its code, host and mapper as their index
    in MODE_KEYS)."""
    if key == "dataflow":
        return Dataflow.parse(value, f"{where}.dataflow").code
    if key in MODE_KEYS:
        names = MODE_KEYS[key]
        require(value in names, f"{where}.{key}", f"one of {', '.join(names)}", value)
        return names.index(value)
    data = base.to_dict()
    data[key] = value
    data["name"] = f"{where}.{key}"  # names the space entry in ArchConfig's error
    arch_mod.from_dict(data, source=f"{where}.{key}")
    return value


def load_workload(spec: str, root: Path) -> Workload:
    """A zoo name, or a CSV/ONNX path (relative to ``root``, the space file's folder)."""
    from accelsim import workloads

    require(isinstance(spec, str), "space: workloads entry", "a zoo name or a path", spec)
    path = spec if spec in workloads.ZOO_NAMES else root / spec
    layers: tuple[ConvLayer, ...] = workloads.load(path)
    require(len(layers) > 0, "workload", "a network with at least one layer", spec)
    unnamed = [ConvLayer(**{k: getattr(layer, k) for k in layer_fields([layer])}) for layer in layers]
    shapes = list(dict.fromkeys(unnamed))
    index = {s: i for i, s in enumerate(shapes)}
    return Workload(name=Path(spec).stem if spec not in workloads.ZOO_NAMES else spec,
                    shapes=layer_fields(shapes),
                    layer_shape=np.array([index[s] for s in unnamed], np.int64))


def parse(doc: dict, *, root: Path = Path("."), source: str = "space") -> Space:
    """A Space from a TOML-shaped dict; every error is one AccelsimError naming the key and the rule."""
    for key in doc:
        require(key in TOP_KEYS, f"{source}: key", f"one of {list(TOP_KEYS)}", key)
    base_spec = doc.get("base", "gemmini")
    require(isinstance(base_spec, str), f"{source}: base", "a preset name or an arch TOML path", base_spec)
    if base_spec in arch_mod.preset_names():
        base = arch_mod.preset(base_spec)
    else:
        base = arch_mod.load(root / base_spec)
    table = doc.get("space", {})
    require(isinstance(table, dict), f"{source}: space", "a table of key = values", table)
    for key in table:
        require(key in SWEEP_KEYS, f"{source}: space key", f"one of {list(SWEEP_KEYS)}", key)
    keys = tuple(k for k in SWEEP_KEYS if k in table)
    values = tuple(tuple(_check_value(base, k, v, f"{source}: space")
                         for v in _values(k, table[k], f"{source}: space")) for k in keys)
    modes = dict(zip(keys, values, strict=True))
    riscv, searched = HOSTS.index("riscv") in modes.get("host", ()), MAPPERS.index("search") in modes.get(
        "mapper", ())
    require(not (riscv and searched), f"{source}: space.mapper", "only fixed where host includes riscv (the "
            "firmware runs the fixed lowering: sweep the two in separate spaces)", "search")
    cons = doc.get("constraints", {})
    require(isinstance(cons, dict), f"{source}: constraints", "a table", cons)
    for key, bound in cons.items():
        require(key in CONSTRAINT_KEYS, f"{source}: constraints key", f"one of {list(CONSTRAINT_KEYS)}", key)
        require(isinstance(bound, (int, float)) and not isinstance(bound, bool) and bound >= 0,
                f"{source}: constraints.{key}", "a non-negative number", bound)
    names = doc.get("workloads", [])
    require(isinstance(names, list) and len(names) > 0, f"{source}: workloads",
            "a non-empty list of zoo names or CSV/ONNX paths", names)
    require(len(set(names)) == len(names), f"{source}: workloads", "distinct", names)
    objectives = parse_objectives(doc.get("objectives", ["cycles", "energy_pj"]), f"{source}: objectives")
    chunk = doc.get("chunk_configs", 0)
    require(isinstance(chunk, int) and chunk >= 0, f"{source}: chunk_configs", "a non-negative integer",
            chunk)
    loaded = tuple(load_workload(n, root) for n in names)
    require(len({w.name for w in loaded}) == len(loaded), f"{source}: workloads", "of distinct names", names)
    if chunk == 0:
        shapes = sum(len(w.shapes["N"]) for w in loaded)
        evaluations = math.prod(len(v) for v in values) * shapes
        target = min(CHUNK_EVALUATIONS, max(MIN_CHUNK_EVALUATIONS, evaluations // MIN_CHUNKS))
        chunk = max(1, min(target // shapes, MAX_CHUNK_ROWS // len(loaded)))
    digest = _digest(base, keys, values, cons, loaded, chunk)
    space = Space(base=base, keys=keys, values=values, constraints=tuple(sorted(cons.items())),
                  workloads=loaded, objectives=objectives, chunk_configs=chunk, digest=digest)
    require(space.feasible_count() > 0, f"{source}: constraints", "met by at least one configuration",
            dict(cons))
    return space


def parse_objectives(value: Any, what: str = "--objectives") -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    require(isinstance(items, list) and len(items) > 0, what, f"a non-empty list of {list(OBJECTIVES)}",
            value)
    items = [str(x).strip() for x in items]
    for item in items:
        require(item in OBJECTIVES, f"{what} entry", f"one of {list(OBJECTIVES)}", item)
    require(len(set(items)) == len(items), what, "distinct", value)
    return tuple(items)


def _digest(base, keys, values, cons, loaded, chunk) -> str:
    """What identifies a sweep's results (a resumed sweep must have the same)."""
    doc = {"base": base.to_dict(), "keys": keys, "values": [list(map(str, v)) for v in values],
           "constraints": sorted(cons.items()), "chunk_configs": chunk,
           "workloads": [[w.name, {k: v.tolist() for k, v in w.shapes.items()}, w.layer_shape.tolist()]
                         for w in loaded]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def load(path: str | Path) -> Space:
    """Parse a space TOML file (relative paths inside it are relative to its folder)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise AccelsimError(f"space file must be readable, not {str(path)!r} ({err.strerror})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise AccelsimError(f"{path.name} must be valid TOML, not malformed ({err})") from None
    return parse(doc, root=path.resolve().parent, source=path.name)


def config(space: Space, row: dict) -> ArchConfig:
    """The ArchConfig of one point (a dict of SWEEP_KEYS values, as the table stores them)."""
    data = space.base.to_dict()
    for key in SWEEP_KEYS:
        value = row[key]
        if key in MODE_KEYS:
            continue  # not a field of the configuration: how the simulation drives it
        if key == "dataflow":
            data[key] = value if isinstance(value, str) else Dataflow.from_code(value).value
        elif key != "clock_mhz":
            data[key] = int(value)
    data["clock_mhz"] = float(row["clock_mhz"])
    data["name"] = f"config{int(row['config_id'])}" if "config_id" in row else "config"
    return arch_mod.from_dict(data)

