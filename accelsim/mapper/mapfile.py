"""Mapping files: a network's loop nests as a TOML file, written by ``accelsim map --save`` and read by
``simulate``, ``report`` and ``cosim --mapping`` (as Timeloop and ZigZag take a mapping as input).

One table per layer, under ``layers``, with the keys of :meth:`LoopNest.to_dict`::

    [layers."layer2.0.conv2"]
    dataflow = "os"            # optional: the architecture's when left out
    P_T = 16
    K_T = 288
    M_T = 16
    order = "p>m"              # "p>m" (p-tiles outer) or "m>p"
    x_residency = "keep"       # "step" (reloaded by every step) or "keep" (kept for the group)
    w_residency = "step"
    x_depth = 1                # slots (step) or blocks (keep) of each operand's region
    w_depth = 2
    acc_depth = 2              # accumulator slots

A layer without a table runs the fixed lowering. Every nest is checked against its layer and architecture
(:func:`accelsim.mapper.nest.check`: tiles within the array and the encoding, every memory holding its slots);
a key, a value or a layer name the file gets wrong is one line naming it.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from accelsim.arch import ArchConfig, Dataflow
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer
from accelsim.mapper.nest import ORDER_NAMES, RES_NAMES, LoopNest, check

KEYS = ("dataflow", "P_T", "K_T", "M_T", "order", "x_residency", "w_residency", "x_depth", "w_depth",
        "acc_depth")
REQUIRED = ("P_T", "K_T", "M_T")


def nest_from_dict(doc: dict, where: str) -> LoopNest:
    """The nest a layer's table describes (defaults as :class:`LoopNest`'s); one-line errors."""
    require(isinstance(doc, dict), where, "a table of mapping keys", doc)
    for key in doc:
        require(key in KEYS, f"{where} key", f"one of {', '.join(KEYS)}", key)
    for key in REQUIRED:
        require(key in doc, f"{where}", f"a table with {key}", "missing")
    for key in ("P_T", "K_T", "M_T", "x_depth", "w_depth", "acc_depth"):
        if key in doc:
            value = doc[key]
            require(isinstance(value, int) and not isinstance(value, bool) and value >= 1, f"{where}.{key}",
                    "a positive integer", value)
    residency = {v: k for k, v in RES_NAMES.items()}
    order = {v: k for k, v in ORDER_NAMES.items()}
    names = {"order": order, "x_residency": residency, "w_residency": residency}
    codes = {}
    for key, allowed in names.items():
        value = doc.get(key, next(iter(allowed)))
        require(isinstance(value, str) and value in allowed, f"{where}.{key}",
                f"one of {', '.join(map(repr, allowed))}", value)
        codes[key] = allowed[value]
    dataflow = doc.get("dataflow")
    if dataflow is not None:
        values = [d.value for d in Dataflow]
        require(isinstance(dataflow, str) and dataflow in values, f"{where}.dataflow",
                f"one of {', '.join(values)}", dataflow)
        dataflow = Dataflow(dataflow)
    return LoopNest(doc["P_T"], doc["K_T"], doc["M_T"], order=codes["order"], x_res=codes["x_residency"],
                    w_res=codes["w_residency"], x_depth=doc.get("x_depth", 2), w_depth=doc.get("w_depth", 2),
                    acc_depth=doc.get("acc_depth", 2), dataflow=dataflow)


def load_mapping(path: str | Path) -> dict[str, LoopNest]:
    """Layer name -> nest, from a mapping file."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as err:
        raise AccelsimError(f"--mapping file must be readable, not {str(path)!r} ({err.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise AccelsimError(f"{path} must be valid TOML, not malformed ({err})") from None
    require(set(doc) <= {"layers"}, f"{path} key", "'layers' only (a table per layer)",
            next(iter(set(doc) - {"layers"}), None))
    layers = doc.get("layers")
    require(isinstance(layers, dict) and layers, f"{path}", "a [layers.NAME] table per mapped layer", "none")
    return {name: nest_from_dict(table, f"{path}: layers.{_toml_key(name)}")
            for name, table in layers.items()}


def _toml_key(name: str) -> str:
    """``name`` as TOML writes a key: bare when it can be, else quoted (control characters escaped, so an
    error naming it stays one line)."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def nests_for(layers: tuple[ConvLayer, ...] | list[ConvLayer], arch: ArchConfig,
              mapping: dict[str, LoopNest]) -> list[LoopNest | None]:
    """Each layer's nest from ``mapping`` (None: the fixed lowering), checked; a name the workload does not
    have is an error."""
    names = {layer.name for layer in layers}
    for name in mapping:
        require(name in names, "--mapping layer", f"a layer of the workload ({len(names)} layers)", name)
    out = []
    for layer in layers:
        nest = mapping.get(layer.name)
        if nest is not None:
            check(layer, arch, nest)
        out.append(nest)
    return out


def dumps(nests: dict[str, LoopNest]) -> str:
    """A mapping file's text for ``nests`` (layer name -> nest; the order kept)."""
    import tomli_w

    return tomli_w.dumps({"layers": {name: {k: v for k, v in nest.to_dict().items() if v is not None}
                                     for name, nest in nests.items()}})


__all__ = ["KEYS", "dumps", "load_mapping", "nest_from_dict", "nests_for"]
