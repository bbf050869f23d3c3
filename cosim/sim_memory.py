"""SimMemory: a memory of the simulation harness whose contents the simulator loads and saves from files.

An Amaranth ``Instance`` of the Verilog module ``accelsim_sim_memory`` (:data:`SOURCE`, ``sim_memory.v``,
which every build that contains a SimMemory must compile too). At time 0 the simulator zeroes it and, when
run with the plusarg ``+<name>_init=<file>``, loads that file with ``$readmemh``; when the simulation ends it
saves the contents with ``$writememh`` to the file of ``+<name>_dump=<file>`` (``+<name>_init_words=N`` and
``+<name>_dump_words=N``: only the first N words). Both are standard Verilog
system tasks that Icarus and Verilator implement, so a bench places a layer's data in memory and reads its
outputs back without moving a byte through the ports, and without initial contents in the netlist (which
Amaranth would describe bit by bit: 40 s of conversion for a MB-sized DRAM). :func:`write_init` and
:func:`read_dump` write and read those files; :func:`plusargs` builds the arguments.

Ports (``A`` = ceil_log2(depth), ``R`` = read_ports, ``W`` = write_ports):
    rd_addr : Signal(R*A), in           port ``p``'s address in bits ``A*p .. A*p+A-1``
    rd_data : Signal(R*width), out      port ``p``'s word addressed one cycle earlier (read before write)
    wr_en : Signal(W), in
    wr_addr : Signal(W*A), in
    wr_data : Signal(W*width), in       written at the edge closing the cycle (a later port wins a tie)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from amaranth import ClockSignal, Instance, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accelsim.errors import require

SOURCE = Path(__file__).with_name("sim_memory.v")
MODULE = "accelsim_sim_memory"


class SimMemory(wiring.Component):
    def __init__(self, *, width: int, depth: int, name: str, read_ports: int = 1,
                 write_ports: int = 1) -> None:
        require(depth >= 2 and depth & (depth - 1) == 0, "SimMemory depth", "a power of two >= 2", depth)
        require(re.fullmatch(r"[a-z][a-z0-9_]*", name) is not None, "SimMemory name",
                "a lower-case identifier (it prefixes the plusargs)", name)
        require(read_ports >= 1 and write_ports >= 1, "SimMemory ports", ">= 1 of each",
                (read_ports, write_ports))
        self.width, self.depth, self.name = width, depth, name
        self.read_ports, self.write_ports = read_ports, write_ports
        self.addr_bits = ceil_log2(depth)
        a = self.addr_bits
        super().__init__({
            "rd_addr": In(read_ports * a), "rd_data": Out(read_ports * width),
            "wr_en": In(write_ports), "wr_addr": In(write_ports * a), "wr_data": In(write_ports * width),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.storage = Instance(
            MODULE,
            p_WIDTH=self.width, p_DEPTH=self.depth, p_ABITS=self.addr_bits, p_RD_PORTS=self.read_ports,
            p_WR_PORTS=self.write_ports, p_NAME=self.name,
            i_clk=ClockSignal("sync"), i_rd_addr=self.rd_addr, o_rd_data=self.rd_data,
            i_wr_en=self.wr_en, i_wr_addr=self.wr_addr, i_wr_data=self.wr_data,
        )
        return m


def plusargs(name: str, *, init: Path | None = None, dump: Path | None = None, init_words: int | None = None,
             dump_words: int | None = None) -> list[str]:
    """The plusargs that load memory ``name`` from ``init`` (its first ``init_words`` words, from
    :func:`write_init`; default all) and save it to ``dump`` (its first ``dump_words`` words; default all)."""
    out = []
    if init is not None:
        out.append(f"+{name}_init={Path(init).resolve()}")
        require(init_words is None or init_words >= 1, "init_words", ">= 1", init_words)
        out += [] if init_words is None else [f"+{name}_init_words={init_words}"]
    if dump is not None:
        out.append(f"+{name}_dump={Path(dump).resolve()}")
        require(dump_words is None or dump_words >= 1, "dump_words", ">= 1", dump_words)
        out += [] if dump_words is None else [f"+{name}_dump_words={dump_words}"]
    return out


def write_init(path: Path, words: np.ndarray, *, width: int, depth: int) -> int:
    """A ``$readmemh`` file of ``words`` (unsigned integers, or rows of uint32 least significant first when
    ``width`` > 64) from address 0, 1 to ``depth`` of them; returns how many, the ``init_words`` of
    :func:`plusargs` (the memory is zeroed before the load, so the words after them need no place in the
    file: a MiB-sized DRAM holding a few KiB loads in a few ms)."""
    words = np.asarray(words)
    require(1 <= len(words) <= depth, "memory contents", f"1 to {depth} words", len(words))
    digits = -(-width // 4)
    if words.ndim == 2:  # rows of uint32 limbs -> one hex string per row, most significant limb first
        limbs = np.ascontiguousarray(words[:, ::-1], dtype=">u4")
        text = limbs.tobytes().hex()
        per = 8 * limbs.shape[1]
        rows = [text[i * per + per - digits:(i + 1) * per] for i in range(len(words))]
    elif digits == 2:  # bytes: vectorised, a MB-sized DRAM image in milliseconds
        hexd = np.frombuffer(b"0123456789abcdef", np.uint8)
        b = words.astype(np.uint8)
        out = np.empty((len(b), 3), np.uint8)
        out[:, 0], out[:, 1], out[:, 2] = hexd[b >> 4], hexd[b & 15], ord("\n")
        Path(path).write_bytes(out.tobytes())
        return len(b)
    else:
        rows = [format(int(v), f"0{digits}x") for v in words]
    Path(path).write_text("\n".join(rows) + "\n")
    return len(rows)


def read_dump(path: Path) -> np.ndarray:
    """The bytes of a ``$writememh`` file of a ``width`` = 8 memory (Icarus adds ``// 0x...`` address
    comments, Verilator does not)."""
    text = Path(path).read_text()
    if "//" in text:
        text = re.sub(r"//[^\n]*", "", text)
    return np.frombuffer(bytes.fromhex(text), np.uint8)


__all__ = ["MODULE", "SOURCE", "SimMemory", "plusargs", "read_dump", "write_init"]
