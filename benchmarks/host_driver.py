"""The layer driver's own speed: firmware/conv.c on the ISS with an accelerator that accepts every command at
once (accelsim.host.driver.run_layer), reset to EXIT, summed over a network's layers.

    python benchmarks/host_driver.py [--network resnet18] [--preset gemmini] [--pe-dot-width V]
                                     [--dataflow ws|os|is] [--elf conv.elf]

Prints instructions and cycles per command (docs/host.md quotes them; tests/firmware/test_conv.py bounds the
instructions). ``--pe-dot-width`` replaces the preset's V (the arch must still hold the tiles).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from accelsim.arch import Dataflow, preset
from accelsim.host.build import build, firmware_dir
from accelsim.host.driver import run_layer
from accelsim.workloads import zoo


def measure(elf: Path, network: str, arch) -> tuple[int, int, int]:
    """(commands, instructions, cycles) of every layer of ``network`` driven by ``elf`` on ``arch``."""
    commands = instructions = cycles = 0
    for layer in zoo(network):
        r = run_layer(elf, layer, arch)
        assert r.exit_code == 0 and r.traps == 0, (layer.name, r.exit_code, r.traps)
        commands += len(r.commands)
        instructions += r.instret
        cycles += r.cycles
    return commands, instructions, cycles


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet18")
    ap.add_argument("--preset", default="gemmini")
    ap.add_argument("--pe-dot-width", type=int)
    ap.add_argument("--dataflow", choices=[d.value for d in Dataflow])
    ap.add_argument("--elf", type=Path, help="a prebuilt driver (default: build firmware/conv.c)")
    a = ap.parse_args()
    arch = preset(a.preset)
    if a.pe_dot_width:
        arch = replace(arch, pe_dot_width=a.pe_dot_width)
    if a.dataflow:
        arch = replace(arch, dataflow=Dataflow(a.dataflow))
    with tempfile.TemporaryDirectory() as tmp:
        elf = a.elf or build([firmware_dir() / "conv.c"], Path(tmp) / "conv.elf")
        n, instret, cycles = measure(elf, a.network, arch)
    print(f"{a.network} on {arch.name} ({arch.dataflow.name}, V={arch.pe_dot_width}): {n:,} commands, "
          f"{instret:,} instructions, {cycles:,} cycles: {instret / n:.2f} instructions and "
          f"{cycles / n:.2f} cycles per command")


if __name__ == "__main__":
    main()
