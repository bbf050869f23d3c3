"""Workload loaders: a zoo network, a SCALE-Sim topology CSV or an ONNX model -> ``tuple[ConvLayer, ...]``.

``load("resnet50")``, ``load("topology.csv")`` and ``load("model.onnx")`` all return the network's layers
with MACs (convolutions and fully-connected layers) in execution order; see :mod:`.zoo`,
:mod:`.scalesim_csv` and :mod:`.onnx_loader` for what each source can express.
"""

from __future__ import annotations

from pathlib import Path

from accelsim.errors import AccelsimError
from accelsim.layer import ConvLayer
from accelsim.workloads.onnx_loader import load_onnx
from accelsim.workloads.scalesim_csv import load_scalesim_csv, write_scalesim_csv
from accelsim.workloads.zoo import ZOO_NAMES, zoo

__all__ = ["ZOO_NAMES", "load", "load_onnx", "load_scalesim_csv", "write_scalesim_csv", "zoo"]

_LOADERS = {".csv": load_scalesim_csv, ".onnx": load_onnx}


def load(spec: str | Path) -> tuple[ConvLayer, ...]:
    """The layers named by ``spec``: a zoo name (:data:`ZOO_NAMES`), or a path ending ``.csv`` or ``.onnx``.

    A string equal to a zoo name is the built-in network even if a file of that name exists.
    """
    if isinstance(spec, str) and spec in ZOO_NAMES:
        return zoo(spec)
    loader = _LOADERS.get(Path(spec).suffix.lower())
    if loader is None:
        raise AccelsimError(
            f"workload must be a zoo network ({', '.join(ZOO_NAMES)}) or a path ending "
            f"{' or '.join(_LOADERS)}, not {str(spec)!r}"
        )
    return loader(spec)
