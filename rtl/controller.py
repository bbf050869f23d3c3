"""Controller: the dispatcher, the three command queues, the four token counters, the layer registers, FENCE.

Mirrors the dispatch/start rules of :func:`accelsim.schedule.schedule` (docs/microarchitecture.md, "Timing"):

- **Dispatch.** The command presented on ``cmd`` is accepted (``cmd_ready`` high while ``cmd_valid``) in cycle
  ``d_i`` when its target queue has a free slot as seen at the start of the cycle, so
  ``d_i = max(presented_i, start(queue[j - Q]) + 1)`` (a slot freed by a start at the edge closing ``start``
  is seen at ``start + 1``). The queue is written at the edge closing ``d_i``; the unit sees it at
  ``d_i + 1``.
  CONFIG writes its layer register (:data:`accelsim.commands.CONFIG_LAYOUT`) at the edge closing ``d_i``.
  FENCE is accepted when presented; from then on nothing is accepted until every queue is empty and every unit
  is ``idle``; in that cycle ``done`` rises (``done_fence = max(d_fence, max(done_j))``, the layer's
  ``total_cycles``) and stays high until the next command is accepted.
- **Start.** A unit's head command is offered (``<u>_cmd_valid``) when every counter it pops is non-zero; the
  handshake (``<u>_cmd_valid & <u>_cmd_ready``) is cycle ``start``; the pops decrement and the queue slot is
  freed at the edge closing ``start``. So ``start_i = max(d_i + 1, unit ready, token visible)``.
- **Tokens.** Counters ``l2e`` (LD push_next -> EX pop_prev), ``e2l`` (EX push_prev -> LD pop_next), ``e2s``
  (EX push_next -> ST pop_prev), ``s2e`` (ST push_prev -> EX pop_next). A unit's push is a one-cycle pulse in
  cycle ``X - 1`` of the docs' push time ``X``; the counter increments at that edge and is visible at ``X``.

Ports (``<u>`` is ``ld``, ``ex``, ``st``):
    cmd : Signal(192), in            command from the host / fetcher
    cmd_valid : Signal(1), in
    cmd_ready : Signal(1), out       accepted in this cycle when ``cmd_valid`` is high too
    regs : Signal(LayerRegs), out    the layer registers written by CONFIG
    <u>_cmd : Signal(192), out       head of the unit's queue
    <u>_cmd_valid : Signal(1), out   head present and its pops available
    <u>_cmd_ready : Signal(1), in    the unit can accept
    <u>_push_prev : Signal(1), in    token push pulses (the unit that has no prev/next neighbour leaves it 0)
    <u>_push_next : Signal(1), in
    <u>_idle : Signal(1), in         the unit has nothing accepted and nothing in flight
    done : Signal(1), out            a FENCE has released (everything before it is done)
    released : Signal(1), out        a FENCE releases in this cycle (one pulse per FENCE)
    idle : Signal(1), out            no command queued and every unit idle
    l2e, e2l, e2s, s2e : Signal(TOKEN_BITS), out   the token counters (observability)
"""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from accelsim.commands import CONFIG_LAYOUT, ConfigReg, Op, Unit

from .params import CMD_BITS, AccelParams, LayerRegs, field

TOKEN_BITS = 16  # a counter never holds more than the tokens in flight between two neighbouring units
UNITS = ("ld", "ex", "st")
_UNIT_OF_OP = {Op.LOAD: Unit.LD, Op.PRELOAD: Unit.EX, Op.COMPUTE: Unit.EX, Op.STORE: Unit.ST}


class Controller(wiring.Component):
    def __init__(self, params: AccelParams) -> None:
        self.params = params
        members = {
            "cmd": In(CMD_BITS),
            "cmd_valid": In(1),
            "cmd_ready": Out(1),
            "regs": Out(LayerRegs),
            "done": Out(1),
            "released": Out(1),
            "idle": Out(1),
        }
        for u in UNITS:
            members |= {
                f"{u}_cmd": Out(CMD_BITS),
                f"{u}_cmd_valid": Out(1),
                f"{u}_cmd_ready": In(1),
                f"{u}_push_prev": In(1),
                f"{u}_push_next": In(1),
                f"{u}_idle": In(1),
            }
        for name in ("l2e", "e2l", "e2s", "s2e"):
            members[name] = Out(TOKEN_BITS)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        Q = self.params.queue_depth

        fifos = {}
        for u in UNITS:
            fifos[u] = m.submodules[f"{u}_queue"] = SyncFIFO(width=CMD_BITS, depth=Q)

        # ---- token counters and unit starts -------------------------------------------------------------
        counters = {name: getattr(self, name) for name in ("l2e", "e2l", "e2s", "s2e")}
        # counter popped by (pop_prev, pop_next) and pushed by (push_prev, push_next), as in accelsim.timing
        pops = {"ld": (None, "e2l"), "ex": ("l2e", "s2e"), "st": ("e2s", None)}
        pushes = {"ld": (None, "l2e"), "ex": ("e2l", "e2s"), "st": ("s2e", None)}
        popped = {}  # counter -> 1-bit "popped in this cycle"
        pushed = {}  # counter -> 1-bit "pushed in this cycle"
        for u in UNITS:
            q = fifos[u]
            head = q.r_data
            tokens_ok = Signal(name=f"{u}_tokens_ok")
            ok = 1
            for flag, name in zip(("pop_prev", "pop_next"), pops[u], strict=True):
                if name is not None:
                    ok = ok & (~field(head, flag) | (counters[name] != 0))
            valid, ready = getattr(self, f"{u}_cmd_valid"), getattr(self, f"{u}_cmd_ready")
            start = Signal(name=f"{u}_start")
            m.d.comb += [
                tokens_ok.eq(ok),
                getattr(self, f"{u}_cmd").eq(head),
                valid.eq(q.r_rdy & tokens_ok),
                start.eq(valid & ready),
                q.r_en.eq(start),
            ]
            for flag, name in zip(("pop_prev", "pop_next"), pops[u], strict=True):
                if name is not None:
                    popped[name] = start & field(head, flag)
            for flag, name in zip(("push_prev", "push_next"), pushes[u], strict=True):
                if name is not None:
                    pushed[name] = getattr(self, f"{u}_{flag}")
        for name, counter in counters.items():
            with m.If(pushed[name] & ~popped[name]):
                m.d.sync += counter.eq(counter + 1)
            with m.Elif(popped[name] & ~pushed[name]):
                m.d.sync += counter.eq(counter - 1)

        # ---- dispatcher ----------------------------------------------------------------------------------
        op = field(self.cmd, "op")
        accept = Signal()
        fencing = Signal()  # a FENCE was accepted and has not released yet
        done_q = Signal()  # a FENCE released and no command has been accepted since
        quiet = Signal()  # every queue empty and every unit idle
        release = Signal()  # the pending (or just accepted) FENCE releases in this cycle
        m.d.comb += [
            quiet.eq(~fifos["ld"].r_rdy & ~fifos["ex"].r_rdy & ~fifos["st"].r_rdy
                     & self.ld_idle & self.ex_idle & self.st_idle),
            accept.eq(self.cmd_valid & self.cmd_ready),
            release.eq(quiet & (fencing | (accept & (op == Op.FENCE)))),
            self.done.eq(done_q | release),
            self.released.eq(release),
            self.idle.eq(quiet),
        ]
        m.d.sync += [
            fencing.eq(~release & (fencing | (accept & (op == Op.FENCE)))),
            done_q.eq(release | (done_q & ~accept)),
        ]

        with m.If(~fencing), m.Switch(op):
            with m.Case(Op.CONFIG, Op.FENCE):
                m.d.comb += self.cmd_ready.eq(1)
            for o, unit in _UNIT_OF_OP.items():
                with m.Case(o):
                    m.d.comb += self.cmd_ready.eq(fifos[UNITS[unit]].w_rdy)
                # undefined opcodes are never accepted: the program visibly hangs instead of misbehaving

        for u in UNITS:
            m.d.comb += fifos[u].w_data.eq(self.cmd)
        with m.If(accept), m.Switch(op):
            for o, unit in _UNIT_OF_OP.items():
                with m.Case(o):
                    m.d.comb += fifos[UNITS[unit]].w_en.eq(1)
            with m.Case(Op.CONFIG):
                self._config_write(m)
        return m

    def _config_write(self, m: Module) -> None:
        reg = field(self.cmd, "reg")
        value = field(self.cmd, "value")
        with m.Switch(reg):
            for r in ConfigReg:
                with m.Case(int(r)):
                    lsb = 0
                    for name, width in CONFIG_LAYOUT[r]:
                        m.d.sync += getattr(self.regs, name).eq(value[lsb:lsb + width])
                        lsb += width


def unit_connections(ctrl: Controller, name: str, unit) -> list:
    """The statements that attach a unit (``params.unit_members`` ports) to the controller's ``<name>_*``
    ports: its queue head and handshake, token pushes, idle, and the layer registers."""
    return [
        unit.cmd.eq(getattr(ctrl, f"{name}_cmd")),
        unit.cmd_valid.eq(getattr(ctrl, f"{name}_cmd_valid")),
        getattr(ctrl, f"{name}_cmd_ready").eq(unit.cmd_ready),
        *(getattr(ctrl, f"{name}_{port}").eq(getattr(unit, port))
          for port in ("push_prev", "push_next", "idle")),
        unit.regs.eq(ctrl.regs),
    ]


__all__ = ["TOKEN_BITS", "Controller", "unit_connections"]

