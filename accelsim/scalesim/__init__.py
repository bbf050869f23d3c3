"""SCALE-Sim 3.0 compatibility mode (docs/scalesim_compat.md), split by job.

- :mod:`~accelsim.scalesim.cfg`: config files (:func:`parse_scalesim_cfg` -> :class:`ScaleSimConfig`);
- :mod:`~accelsim.scalesim.result`: the report numbers of one layer (:class:`ScaleSimLayerResult`);
- :mod:`~accelsim.scalesim.model`: :func:`simulate_layer_scalesim`, with the layer's geometry and folds in
  :mod:`~accelsim.scalesim.geometry` and SCALE-Sim's buffers in :mod:`~accelsim.scalesim.read_buffer` and
  :mod:`~accelsim.scalesim.write_buffer`;
- :mod:`~accelsim.scalesim.bridge`: to and from accelsim's :class:`~accelsim.arch.ArchConfig` and
  :class:`~accelsim.result.LayerResult` (``--scalesim-cfg``, ``--timing scalesim``).
"""

from accelsim.scalesim.bridge import arch_from_scalesim_cfg, scalesim_config, simulate_layer_result
from accelsim.scalesim.cfg import InterfaceBandwidth, ScaleSimConfig, parse_scalesim_cfg
from accelsim.scalesim.model import simulate_layer_scalesim
from accelsim.scalesim.result import ScaleSimLayerResult

__all__ = [
    "InterfaceBandwidth",
    "ScaleSimConfig",
    "ScaleSimLayerResult",
    "arch_from_scalesim_cfg",
    "parse_scalesim_cfg",
    "scalesim_config",
    "simulate_layer_result",
    "simulate_layer_scalesim",
]
