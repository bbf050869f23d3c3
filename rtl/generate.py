"""Write the synthesizable Accelerator's Verilog for a configuration (``accelsim rtl generate``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from accelsim.arch import ArchConfig

TOP_NAME = "accelerator"


def generate_verilog(arch: ArchConfig, out_dir: str | Path) -> list[Path]:
    """Write ``accelerator.v`` (the Accelerator of ``arch``; ports ``clk``, ``rst``, the command port and
    the DRAM interface) and ``accelerator.json`` (its elaboration parameters and port widths) into
    ``out_dir``; return their paths. Raises AccelsimError for a configuration the RTL cannot build."""
    from amaranth import Shape
    from amaranth.back import verilog

    from .accelerator import Accelerator
    from .params import AccelParams

    params = AccelParams.from_arch(arch)
    top = Accelerator(params)
    # emit_src=False: no source-file attributes, so the Verilog is the same bytes from any checkout
    text = verilog.convert(top, name=TOP_NAME, emit_src=False)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    v = out / f"{TOP_NAME}.v"
    v.write_text(text)
    ports = {name: {"dir": member.flow.value.lower(), "width": Shape.cast(member.shape).width}
             for name, member in top.signature.members.items()}
    manifest = {"top": TOP_NAME, "arch": arch.to_dict(), "params": asdict(params), "ports": ports,
                "clock": "clk (rising edge)", "reset": "rst (synchronous, active high)"}
    j = out / f"{TOP_NAME}.json"
    j.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return [v, j]


__all__ = ["generate_verilog"]
