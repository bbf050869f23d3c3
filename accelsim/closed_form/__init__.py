"""Closed-form layer cycles for design-space sweeps: O(1) arithmetic per (layer, config) (O(log n) in the MIX
regime), no loop over commands or tiles, exactly equal to :func:`accelsim.schedule.schedule_fast` wherever it
claims to apply.

Notation (docs/microarchitecture.md, "Timing"): step ``j`` (one innermost tile iteration) issues, in program
order, ``LS_j`` (LOAD of the stationary operand, pops e2l from ``j >= 2``), ``LT_j`` (LOAD of the streamed
operand, pushes l2e at done), ``PRE_j`` (WS/IS only) and ``CO_j``, and after the last k-step of an output
tile its ``ST``. Busy times per step: ``bS, bT`` (loads), ``ld' = bS + bT``, ``ld = ld' + L``,
``ex = bP + bC`` (PRELOAD + COMPUTE; ``bP = 0`` for OS), ``bST`` per tile. ``X_j`` = end of ``CO_j``.

Three regimes, each a set of closed-form sufficient conditions under which the schedule has a closed form:

**EX regime** (execute- or double-buffer-latency bound; the load unit keeps up). ``LS_j`` starts at the
e2l token ``X_{j-2}``, ``LT_j`` right after it, so the data lands at ``X_{j-2} + ld_j`` and

    X_j = max(X_{j-1}, X_{j-2} + ld_j) + ex_j            (j >= 0; virtual X_{-1}, X_{-2} fit steps 0, 1)

i.e. ``(X_j, X_{j-1}) = [[ex_j, ld_j + ex_j], [0, -inf]] (x) (X_{j-1}, X_{j-2})`` in max-plus algebra. The
step matrices depend only on the step's edge class (last p-, m-, k-tile or not), so the product over the
whole layer follows the loop nest: tile = M_last_k (x) M_k^(k_tiles-1), row = tile^(inner-1), group =
row^(outer-1), layer = group^groups, each power of a 2x2 max-plus matrix in closed form (a walk of length n
in a two-node graph uses the better of the loops and the 2-cycle as often as parity allows). When every
``ld_j <= ex_{j-1}`` this is the pure EX-bound case ``X_{J-1} = start of the first EX + sum ex``.

**LD regime** (the load unit never idles after the first LOAD). ``LS_j`` starts when ``LT_{j-1}`` ends, EX
always waits for data: ``X_{J-1} = LS_0 + L + sum ld' + ex_{J-1}``.

**MIX regime** (tried only where neither holds: the layer mixes load-bound and execute-bound steps). With
``A_j`` the start of ``LS_j`` and ``E_j = A_j + ld'_j`` the end of ``LT_j`` (the load unit's chain), and no
command delayed by its dispatch or by a STORE token,

    A_j = max(E_{j-1}, X_{j-2}),   E_j = A_j + ld'_j,   X_j = max(X_{j-1}, E_j + L) + ex_j

i.e. ``(E_j, X_j, X_{j-1}) = [[ld', -inf, ld'], [ld + ex, ex, ld + ex], [-inf, 0, -inf]] (x) (E_{j-1},
X_{j-1}, X_{j-2})``: a 3x3 max-plus step matrix per edge class, multiplied over the loop nest as above with
each power taken by repeated squaring (``log2 n`` products). Started from the virtual state ``(E_0 - ld'_0,
-inf, -inf)`` it gives steps 0 and 1 exactly when the first EX starts as its data lands (``S0 = E_0 + L``, a
condition of this regime); EX and LD are the special cases where one path of the product always wins.

In all three, total = ``X_{J-1} + bST_last + L`` (the last STORE starts when the last COMPUTE ends).
Conditions (all checked over the step/tile *transitions* that the loop nest can produce, 15 step and 7 tile
kinds of transition, each with a validity mask):

- the first commands (5 CONFIGs, steps 0 and 1, the dispatch of ``LS_2``) are evaluated exactly;
- EX: the load unit is free when the token comes, ``ld'_v <= ex_u`` for every transition ``u -> v``;
  LD: the token is there when the load unit is free, ``ld'_v >= ex_u + L`` (this also makes EX wait for data);
- stores: ``ST_t`` starts at the end of its last COMPUTE and ends before tile ``t+2`` needs the accumulator:
  ``bST_u <=`` the time tile ``v`` spends after tile ``u`` (EX: ``sum ex`` of tile v; LD: its ``sum ld'``
  plus the change of ``ex`` of the last steps; MIX: the ``(X, X)`` entry of tile v's matrix, a lower bound
  of ``X_last(v) - X_last(u)`` whatever the state);
- dispatch never delays a command: with ``T`` an upper bound of dispatch times, ``d_i <= T_i`` follows by
  induction from ``T_i >= T_{i-1} + HI`` and ``T_i >= start(queue[j-Q]) + 1``; the step's first LOAD gets
  ``T = (its start) - 1 - s`` for one slack ``s >= 0`` shared by all steps, the step's other commands the
  forward chain; each command needs ``T_i + 1 <= start_i`` (lower bound). Starts of blocking commands
  ``Q`` queue entries back are bounded with the smallest step gap; the feasible ``s`` is an interval. MIX
  anchors every command of step j at ``A_j``: lower bounds ``start(LT_j) = A_j + bS_j``, ``P_j >= A_j +
  ld_j`` (``P_j`` the first EX start), ``X_j >= P_j + ex_j``, ``A_{j+1} >= A_j + ld'_j``; upper bounds of the
  blockers ``m`` steps back from ``A_j >= A_{j-m} + m min ld'``, ``P_{j-1} <= A_j + L`` and, for ``m >= 2``,
  ``P_{j-m} <= A_j - (m-1) min ex`` (``X_{j-2} <= A_j``), whichever is smaller;
- the FENCE is not later than the last acknowledgement: ``HI <= bST_last + L + 1``.

The idle breakdown holds in every regime for the same reason: each is a max-plus linear system started from
step 0, and the host's instant-issue shadow follows the same system (or later) from its own start, so no
EX start is later against the shadow than the first one, ``S0``: that lateness is the host stall, the rest
of the EX idle time before ``X_{J-1}`` is the loads' (STORE tokens never bind), and the tail the stores'.

WS and IS with ``queue_depth == 1`` never apply (the COMPUTE of step j waits in the dispatcher for its
PRELOAD to start, which holds back the next step's loads); neither do layers of fewer than 3 steps.

Everything the closed form knows of the machine it takes from the one copy: the layer's GEMM
(:func:`accelsim.layer.gemm_dims`), the tiling (:func:`accelsim.mapping.tile_fit`, ``tile_sizes``,
``step_loads``, ``store_shape``) and every block latency (accelsim.timing). What is written here is only the
max-plus algebra of the schedule. It is one scalar function per point, :func:`closed_form_point`, run two
ways (``Engine``): compiled by Numba (:func:`accelsim.jit.compiled`, the default, millions of points a
second) or by the interpreter (the same code, for checking and where Numba is missing).

The package: :mod:`accelsim.closed_form.chains` holds the regimes' dispatch and store chains (one step kind's
max-plus matrices and the conditions under which a regime holds), :mod:`accelsim.closed_form.tiled` the
per-point function built on them (:func:`closed_form_point`, :func:`closed_form_tiled`), and this module the
array API (:func:`closed_form_breakdown`, :class:`ClosedForm`) and the field names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from accelsim.arch import ArchConfig
from accelsim.closed_form.chains import REGIME_EX, REGIME_LD, REGIME_MIX, REGIME_NONE
from accelsim.closed_form.tiled import closed_form_point, closed_form_points, closed_form_tiled
from accelsim.errors import require
from accelsim.jit import compiled
from accelsim.layer import SHAPE_FIELDS, ConvLayer
from accelsim.schedule import Schedule

__all__ = ["ARCH_FIELDS", "ARCH_FIELD_DEFAULTS", "LAYER_FIELDS", "REGIME_EX", "REGIME_LD", "REGIME_MIX",
           "REGIME_NONE", "ClosedForm", "Engine", "arch_fields", "closed_form_breakdown", "closed_form_point",
           "closed_form_points", "closed_form_schedule", "closed_form_tiled", "layer_fields"]

LAYER_FIELDS = SHAPE_FIELDS
ARCH_FIELDS = ("array_rows", "array_cols", "dataflow", "ifmap_spad_kib", "weight_spad_kib", "acc_kib",
               "dram_bytes_per_cycle", "dram_latency_cycles", "queue_depth", "host_issue_cycles",
               "pe_dot_width")

# ARCH_FIELDS a caller may leave out (a field added after the others: issue 10's dot-product PEs)
ARCH_FIELD_DEFAULTS = {"pe_dot_width": 1}


class Engine(enum.Enum):
    """How :func:`closed_form_point` runs: compiled by Numba, or interpreted (same code, ~1000x slower)."""

    COMPILED = "compiled"
    PYTHON = "python"



@dataclass(frozen=True)
class ClosedForm:
    """Arrays (one entry per point); the cycle fields are meaningful where ``applies``."""

    applies: np.ndarray  # bool
    regime: np.ndarray  # REGIME_*
    total_cycles: np.ndarray  # int64
    ex_stream_cycles: np.ndarray
    ex_fill_drain_cycles: np.ndarray
    ex_preload_cycles: np.ndarray
    commands: np.ndarray  # the layer's command count, CONFIGs and FENCE included
    ex_idle_cycles: np.ndarray  # (3, ...) indexed by schedule.CAUSE_*

    def schedule(self, i: int) -> Schedule | None:
        """Point ``i`` (flat index) as a :class:`Schedule` without per-command cycles, or None where the
        closed form does not apply."""
        if not self.applies.flat[i]:
            return None
        idle = self.ex_idle_cycles.reshape(3, -1)[:, i]
        return Schedule(
            total_cycles=int(self.total_cycles.flat[i]), ex_stream_cycles=int(self.ex_stream_cycles.flat[i]),
            ex_fill_drain_cycles=int(self.ex_fill_drain_cycles.flat[i]),
            ex_preload_cycles=int(self.ex_preload_cycles.flat[i]),
            ex_idle_cycles=(int(idle[0]), int(idle[1]), int(idle[2])), commands=int(self.commands.flat[i]),
        )


def closed_form_breakdown(
    layer_fields: dict, arch_fields: dict, out_bytes: int = 4, engine: Engine = Engine.COMPILED
) -> ClosedForm:
    """The closed form over arrays of layers x configs (numpy broadcasting of every field of
    :data:`LAYER_FIELDS` and :data:`ARCH_FIELDS`; ``dataflow`` as its code or a :class:`Dataflow`). Points
    where ``mapping.lower`` would reject the configuration do not apply."""
    require(isinstance(engine, Engine), "closed-form engine", f"one of {[e.value for e in Engine]}", engine)
    arch = {**ARCH_FIELD_DEFAULTS, **arch_fields}
    df = arch["dataflow"]
    arch["dataflow"] = df.code if hasattr(df, "code") else df
    fields = {k: np.asarray(layer_fields[k]) for k in LAYER_FIELDS}
    fields.update({k: np.asarray(arch[k]) for k in ARCH_FIELDS})
    arrays = np.broadcast_arrays(*fields.values())
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).reshape(-1).astype(np.int64) for a in arrays]
    size = flat[0].size
    res = {"applies": np.empty(size, bool)}
    for k in ("regime", "total_cycles", "ex_stream_cycles", "ex_fill_drain_cycles", "ex_preload_cycles",
              "commands"):
        res[k] = np.empty(size, np.int64)
    res["ex_idle_cycles"] = np.empty((3, size), np.int64)
    points = compiled(closed_form_points) if engine is Engine.COMPILED else closed_form_points
    points(*flat, int(out_bytes), *res.values())
    return ClosedForm(**{k: (v.reshape((3, *shape)) if k == "ex_idle_cycles" else v.reshape(shape))
                         for k, v in res.items()})


def layer_fields(layers) -> dict[str, np.ndarray]:
    """Field arrays of a sequence of ConvLayers."""
    return {k: np.array([getattr(layer, k) for layer in layers], np.int64) for k in LAYER_FIELDS}


def arch_fields(archs) -> dict[str, np.ndarray]:
    """Field arrays of a sequence of ArchConfigs (``dataflow`` as its code)."""
    out = {k: np.array([getattr(a, k) for a in archs], np.int64) for k in ARCH_FIELDS if k != "dataflow"}
    out["dataflow"] = np.array([a.dataflow.code for a in archs], np.int64)
    return out


def closed_form_schedule(
    layer: ConvLayer, arch: ArchConfig, out_bytes: int = 4, engine: Engine = Engine.COMPILED
) -> Schedule | None:
    """One layer's schedule totals and breakdown (no per-command cycles), or None where the closed form
    does not apply."""
    return closed_form_breakdown(layer_fields([layer]), arch_fields([arch]), out_bytes, engine).schedule(0)
