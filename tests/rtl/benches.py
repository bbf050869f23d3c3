"""What every RTL bench shares, so that each bench states only what is particular to its block.

After cocotb's examples/matrix_multiplier: a reusable valid/ready :class:`ValidReadyDriver`, a per-cycle
:class:`Monitor`, and checkers (:func:`check_timeline`, :func:`check_latency`, :func:`measure_latency`); the
reference model of each block stays in its bench. Also the plumbing: :func:`start` (clock and reset), lane
packing (:func:`pack`, :func:`unpack`, :func:`uval`), :func:`run_component_bench` (pytest: convert a
component and run a cocotb module on it) and :func:`simulate` (the in-process ``amaranth.sim`` benches of
the small blocks, as amaranth's own tests/test_lib_fifo.py).

The cocotb benches are cycle-stepped: each cycle begins at the falling edge, where the bench samples the
outputs that depend on state only, drives that cycle's inputs and, where an output follows an input in the
same cycle, samples again after ``ReadOnly``.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from accelsim.cosim.runner import run_bench

ROOT = Path(__file__).resolve().parents[2]
PERIOD_NS = 10


# ---- pytest side -------------------------------------------------------------------------------------------
def run_component_bench(tmp_path: Path, sim: str, component, *, toplevel: str, bench: str,
                        env: Mapping[str, str], sources: Sequence[Path] = ()) -> tuple[int, int]:
    """Convert ``component`` to ``<tmp_path>/src/<toplevel>.v`` and run the cocotb module
    ``tests.rtl.<bench>`` on it with ``sim`` (built in ``<tmp_path>/build_<sim>`` with the extra Verilog
    ``sources``, the repository on PYTHONPATH, ``env`` added to the environment); return (tests, failed)."""
    from amaranth.back import verilog

    src = tmp_path / "src" / f"{toplevel}.v"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(verilog.convert(component, name=toplevel))
    return run_bench(sim=sim, verilog_sources=[src, *sources], toplevel=toplevel,
                     test_module=f"tests.rtl.{bench}", build_dir=tmp_path / f"build_{sim}",
                     python_path=[ROOT], extra_env=env)


def simulate(dut, bench, *, clocked: bool = True) -> None:
    """Run ``bench`` (``async def bench(ctx)``: ``ctx.set``/``ctx.get``/``await ctx.tick()``) on ``dut`` in
    ``amaranth.sim``, with a clock on its ``sync`` domain when ``clocked``."""
    from amaranth.sim import Simulator

    sim = Simulator(dut)
    if clocked:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


# ---- values ------------------------------------------------------------------------------------------------
def pack(values: Iterable[int], bits: int) -> int:
    """Lanes of ``bits`` bits, lane 0 least significant (two's complement for negative values)."""
    mask = (1 << bits) - 1
    return sum((int(v) & mask) << (bits * k) for k, v in enumerate(values))


def unpack(word: int, n: int, bits: int, *, signed: bool = False) -> list[int]:
    """The ``n`` lanes of ``word`` (the inverse of :func:`pack`)."""
    mask, top = (1 << bits) - 1, 1 << (bits - 1)
    lanes = [(word >> (bits * k)) & mask for k in range(n)]
    return [v - (mask + 1) if signed and v & top else v for v in lanes]


def uval(handle) -> int:
    """A port's value as an unsigned int (1-bit ports are ``Logic``, wider ones ``LogicArray``); an X or Z
    bit fails the bench."""
    value = handle.value
    if not value.is_resolvable:
        raise AssertionError(f"{handle._name} = {value} (not 0/1)")
    return value.to_unsigned() if hasattr(value, "to_unsigned") else int(value)


def layer_regs(commands) -> dict[str, int]:
    """The layer registers (by field name) that the CONFIG commands among ``commands`` write."""
    from accelsim.commands import ConfigReg, Op, config_fields

    regs: dict[str, int] = {}
    for c in commands:
        if c.op == Op.CONFIG:
            regs |= config_fields(ConfigReg(c.reg), c.value)
    return regs


def regs_word(regs: Mapping[str, int]) -> int:
    """The value of a ``regs : Signal(LayerRegs)`` port holding these fields (each cut to its width)."""
    from accelsim.rtl.params import LayerRegs

    return sum((regs[name] & ((1 << fld.width) - 1)) << fld.offset for name, fld in LayerRegs)


# ---- cocotb: clock, reset, driver, monitor, checkers -------------------------------------------------------
async def start(dut, *, reset_cycles: int = 2, **idle: int) -> None:
    """Start ``clk`` (PERIOD_NS), drive the inputs named in ``idle`` to their values, hold ``rst`` high for
    ``reset_cycles`` rising edges (none: ``rst`` low throughout) and release it."""
    from cocotb.clock import Clock
    from cocotb.triggers import RisingEdge

    Clock(dut.clk, PERIOD_NS, unit="ns").start()
    for name, value in idle.items():
        getattr(dut, name).value = value
    dut.rst.value = int(reset_cycles > 0)
    for _ in range(reset_cycles):
        await RisingEdge(dut.clk)
    dut.rst.value = 0


class ValidReadyDriver:
    """Presents transactions on a valid/ready port, one per handshake, cycle-exactly.

    :meth:`offer` queues an item with a ``gap``: it is presented ``gap`` cycles after it first may be (the
    cycle after the previous accept, once ``allowed`` and not before :meth:`pause`'s cycle) and held until
    accepted. The bench calls :meth:`drive` once per cycle with the port's ``ready`` in that cycle (ready
    depends on state only); it drives ``valid`` and ``payload`` (``encode(item)``; while ``valid`` is low
    ``idle()``, or the last payload held when ``idle`` is None) and returns the item accepted in that cycle.
    ``accepts`` lists (cycle, item).
    """

    def __init__(self, valid, payload, encode: Callable[[object], int],
                 idle: Callable[[], int] | None = None) -> None:
        self.valid, self.payload, self.encode, self.idle = valid, payload, encode, idle
        self.queue: deque[tuple[object, int]] = deque()
        self.accepts: list[tuple[int, object]] = []
        self._at: int | None = None  # cycle the head item is presented from
        self._not_before = 0

    def offer(self, item, gap: int = 0) -> None:
        self.queue.append((item, gap))

    def pause(self, until: int) -> None:
        """Present nothing before cycle ``until``."""
        self._not_before = until

    @property
    def pending(self) -> int:
        return len(self.queue)

    def drive(self, t: int, ready: int, *, allowed: bool = True):
        presenting = False
        if self.queue and allowed and t >= self._not_before:
            if self._at is None:
                self._at = t + self.queue[0][1]
            presenting = t >= self._at
        self.valid.value = int(presenting)
        if presenting:
            self.payload.value = self.encode(self.queue[0][0])
        elif self.idle is not None:
            self.payload.value = self.idle()
        if not (presenting and ready):
            return None
        item, _ = self.queue.popleft()
        self._at = None
        self.accepts.append((t, item))
        return item


class Monitor:
    """Samples named outputs once per call (once a cycle): ``trace[name][t]`` is the value in cycle ``t``;
    :meth:`cycles` lists the cycles an output was non-zero (a 1-bit output's pulses)."""

    def __init__(self, dut, names: Iterable[str]) -> None:
        self.handles = {name: getattr(dut, name) for name in names}
        self.trace: dict[str, dict[int, int]] = defaultdict(dict)

    def sample(self, t: int) -> dict[str, int]:
        values = {name: uval(handle) for name, handle in self.handles.items()}
        for name, value in values.items():
            self.trace[name][t] = value
        return values

    def cycles(self, name: str) -> list[int]:
        return [t for t, v in sorted(self.trace[name].items()) if v]


def check_timeline(what: str, got: Mapping[int, object], want: Mapping[int, object]) -> None:
    """The same events in the same cycles as the model: the first cycle that differs fails."""
    for t in sorted(set(got) | set(want)):
        assert got.get(t) == want.get(t), f"cycle {t}: {what} {got.get(t)} != model {want.get(t)}"


def measure_latency(got: Sequence, want: Sequence, candidates: Iterable[int] = range(4)) -> int | None:
    """The smallest delay ``d`` (in cycles) at which the outputs sampled every cycle (``got[t]``) are the
    model's answers to the inputs of every cycle (``want[t]``): ``got[t + d] == want[t]`` for all ``t``."""
    return next((d for d in candidates if list(got[d:]) == list(want[:len(got) - d])), None)


def check_latency(what: str, measured: Iterable[int], contract: int) -> None:
    """Every latency the bench measured equals the contract's (the model's timing function)."""
    seen = set(measured)
    assert seen == {contract}, f"measured {what} {sorted(seen)} != contract {contract}"
