"""Closed-form layer cycles for design-space sweeps: O(1) numpy arithmetic per (layer, config), no loop over
commands or tiles, exactly equal to :func:`accelsim.timing.schedule_fast` wherever it claims to apply.

Notation (docs/microarchitecture.md, "Timing"): step ``j`` (one innermost tile iteration) issues, in program
order, ``LS_j`` (LOAD of the stationary operand, pops e2l from ``j >= 2``), ``LT_j`` (LOAD of the streamed
operand, pushes l2e at done), ``PRE_j`` (WS/IS only) and ``CO_j``, and after the last k-step of an output
tile its ``ST``. Busy times per step: ``bS, bT`` (loads), ``ld' = bS + bT``, ``ld = ld' + L``,
``ex = bP + bC`` (PRELOAD + COMPUTE; ``bP = 0`` for OS), ``bST`` per tile. ``X_j`` = end of ``CO_j``.

Two regimes, each a set of closed-form sufficient conditions under which the schedule has a closed form:

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

In both, total = ``X_{J-1} + bST_last + L`` (the last STORE starts when the last COMPUTE ends). Conditions
(all checked over the step/tile *transitions* that the loop nest can produce, 15 step and 7 tile kinds of
transition, each with a validity mask):

- the first commands (5 CONFIGs, steps 0 and 1, the dispatch of ``LS_2``) are evaluated exactly;
- EX: the load unit is free when the token comes, ``ld'_v <= ex_u`` for every transition ``u -> v``;
  LD: the token is there when the load unit is free, ``ld'_v >= ex_u + L`` (this also makes EX wait for data);
- stores: ``ST_t`` starts at the end of its last COMPUTE and ends before tile ``t+2`` needs the accumulator:
  ``bST_u <=`` the time tile ``v`` spends after tile ``u`` (EX: ``sum ex`` of tile v; LD: its ``sum ld'``
  plus the change of ``ex`` of the last steps);
- dispatch never delays a command: with ``T`` an upper bound of dispatch times, ``d_i <= T_i`` follows by
  induction from ``T_i >= T_{i-1} + HI`` and ``T_i >= start(queue[j-Q]) + 1``; the step's first LOAD gets
  ``T = (its start) - 1 - s`` for one slack ``s >= 0`` shared by all steps, the step's other commands the
  forward chain; each command needs ``T_i + 1 <= start_i`` (lower bound). Starts of blocking commands
  ``Q`` queue entries back are bounded with the smallest step gap; the feasible ``s`` is an interval;
- the FENCE is not later than the last acknowledgement: ``HI <= bST_last + L + 1``.

WS and IS with ``queue_depth == 1`` never apply (the COMPUTE of step j waits in the dispatcher for its
PRELOAD to start, which holds back the next step's loads); neither do layers of fewer than 3 steps.

Two engines evaluate it (``closed_form_breakdown(..., engine=)``). :func:`_solve` below is the documented
form: numpy over whole arrays of points, every step kind, transition and max-plus power as an array pass.
:mod:`accelsim.kernels.closed_form` is the same arithmetic, section by section, as a Numba loop over points
(imported on first use, since this package never imports Numba at module top); it is equal field for field
(tests/kernels/test_closed_form_numba.py) and ~7x faster (benchmarks/model.py, step 4), and ``"auto"``
uses it wherever accelsim.kernels imports. A change to the math here must be made there too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.arch import ArchConfig, Dataflow
from accelsim.errors import require
from accelsim.layer import ConvLayer
from accelsim.timing import CAUSE_DRAM_LOAD, CAUSE_DRAM_STORE, CAUSE_HOST, Schedule

LAYER_FIELDS = ("N", "M", "C", "H", "W", "R", "S", "stride", "pad", "groups")
ARCH_FIELDS = ("array_rows", "array_cols", "dataflow", "ifmap_spad_kib", "weight_spad_kib", "acc_kib",
               "dram_bytes_per_cycle", "dram_latency_cycles", "queue_depth", "host_issue_cycles")
DATAFLOW_CODE = {d: i for i, d in enumerate(Dataflow)}  # WS 0, OS 1, IS 2 (as in the MODE register)

REGIME_NONE, REGIME_EX, REGIME_LD = 0, 1, 2
NEG = -1e30  # max-plus -inf; valid cycle counts stay far below 2**53, so float64 is exact


# ---------------------------------------------------------------------------------------------------------
# max-plus 2x2 matrices as tuples (a, b, c, d) = [[a, b], [c, d]]; new[i] = max_k M[i][k] + old[k]

def _mp_mul(A, B):
    a0, a1, a2, a3 = A
    b0, b1, b2, b3 = B
    return (np.maximum(a0 + b0, a1 + b2), np.maximum(a0 + b1, a1 + b3),
            np.maximum(a2 + b0, a3 + b2), np.maximum(a2 + b1, a3 + b3))


def _mp_pow(A, n):
    """``A^n`` for integer ``n >= 0`` (float array). A walk of length n from node 0 back to 0 takes z >= 0
    round trips (b + c each) and n - 2z loops (a if z == 0, else the better loop m = max(a, d)); the weight is
    linear in z, so the best z is an end of its range. Walks between the two nodes take one extra edge."""
    a, b, c, d = A
    m = np.maximum(a, d)
    bc = b + c
    up = bc >= 2 * m  # round trips pay at least as much as two loops: use as many as parity allows
    half, half1 = np.floor(n / 2), np.floor((n - 1) / 2)
    z = np.where(up, half, 1.0)
    cyc = bc * z + m * (n - 2 * z)  # z >= 1 round trips (n >= 2)
    two = n >= 2
    p00 = np.where(two, np.maximum(a * n, cyc), a * n)
    p11 = np.where(two, np.maximum(d * n, cyc), d * n)
    w = np.where(up, half1, 0.0)
    off = bc * w + m * (n - 1 - 2 * w)
    zero = n == 0
    return (np.where(zero, 0.0, p00), np.where(zero, NEG, b + off), np.where(zero, NEG, c + off),
            np.where(zero, 0.0, p11))


# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClosedForm:
    """Arrays (one entry per point); the cycle fields are meaningful where ``applies``."""

    applies: np.ndarray  # bool
    regime: np.ndarray  # REGIME_*
    total_cycles: np.ndarray  # int64
    ex_stream_cycles: np.ndarray
    ex_fill_drain_cycles: np.ndarray
    ex_preload_cycles: np.ndarray
    ex_idle_cycles: np.ndarray  # (3, ...) indexed by timing.CAUSE_*


def _cdiv(a, b):
    return -(-a // b)


def _sum_tiles(n, full, last):
    """Sum of a per-tile quantity over one dimension's tiles: n-1 full tiles and one last tile."""
    return (n - 1) * full + last


def _numba_points():
    """accelsim.kernels.closed_form.closed_form_points, imported on first use (it imports Numba, which the
    model package never does at module top), or None where accelsim.kernels cannot be imported."""
    global _NUMBA_POINTS
    if _NUMBA_POINTS is None:
        try:
            from accelsim.kernels.closed_form import closed_form_points
        except ImportError:
            closed_form_points = False
        _NUMBA_POINTS = closed_form_points
    return _NUMBA_POINTS or None


_NUMBA_POINTS = None
ENGINES = ("auto", "numba", "numpy")


def closed_form_breakdown(
    layer_fields: dict, arch_fields: dict, out_bytes: int = 4, engine: str = "auto"
) -> ClosedForm:
    """The closed form over arrays of layers x configs (numpy broadcasting of every field; ``dataflow`` as
    :data:`DATAFLOW_CODE` or :class:`Dataflow`). Points where ``mapping.lower`` would reject the
    configuration do not apply.

    ``engine``: ``"numpy"`` evaluates :func:`_solve` below (the documented form) over whole arrays;
    ``"numba"`` runs the same arithmetic point by point, compiled (:mod:`accelsim.kernels.closed_form`,
    field for field equal, several times faster); ``"auto"`` is Numba when accelsim.kernels imports, else
    numpy."""
    require(engine in ENGINES, "engine", f"one of {list(ENGINES)}", engine)
    fields = {k: np.asarray(layer_fields[k]) for k in LAYER_FIELDS}
    arch = dict(arch_fields)
    df = arch["dataflow"]
    if isinstance(df, Dataflow):
        df = DATAFLOW_CODE[df]
    arch["dataflow"] = np.asarray(df)
    fields.update({k: np.asarray(arch[k]) for k in ARCH_FIELDS})
    names = list(fields)
    arrays = np.broadcast_arrays(*fields.values())
    shape = arrays[0].shape
    flat = {k: np.ascontiguousarray(a).reshape(-1).astype(np.int64)
            for k, a in zip(names, arrays, strict=True)}
    size = flat["N"].size
    points = _numba_points() if engine != "numpy" else None
    require(points is not None or engine != "numba", "engine", "'numpy' or 'auto' where accelsim.kernels "
            "(Numba) cannot be imported", engine)
    if points is not None:
        res = {"applies": np.empty(size, bool), "ex_idle_cycles": np.empty((3, size), np.int64)}
        for k in ("regime", "total_cycles", "ex_stream_cycles", "ex_fill_drain_cycles", "ex_preload_cycles"):
            res[k] = np.empty(size, np.int64)
        points(*(flat[k] for k in (*LAYER_FIELDS, *ARCH_FIELDS)), int(out_bytes), res["applies"],
               res["regime"], res["total_cycles"], res["ex_stream_cycles"], res["ex_fill_drain_cycles"],
               res["ex_preload_cycles"], res["ex_idle_cycles"])
        return ClosedForm(**{k: (v.reshape((3, *shape)) if k == "ex_idle_cycles" else v.reshape(shape))
                             for k, v in res.items()})
    out = {
        "applies": np.zeros(size, bool),
        "regime": np.zeros(size, np.int64),
        "total_cycles": np.zeros(size, np.int64),
        "ex_stream_cycles": np.zeros(size, np.int64),
        "ex_fill_drain_cycles": np.zeros(size, np.int64),
        "ex_preload_cycles": np.zeros(size, np.int64),
        "ex_idle_cycles": np.zeros((3, size), np.int64),
    }
    for code, dataflow in enumerate(Dataflow):
        sel = np.flatnonzero(flat["dataflow"] == code)
        if sel.size == 0:
            continue
        res = _solve({k: v[sel] for k, v in flat.items()}, dataflow, out_bytes)
        for k, v in res.items():
            if k == "ex_idle_cycles":
                out[k][:, sel] = v
            else:
                out[k][sel] = v
    return ClosedForm(
        **{k: (v.reshape((3, *shape)) if k == "ex_idle_cycles" else v.reshape(shape)) for k, v in out.items()}
    )


def closed_form_cycles(
    layer_fields: dict, arch_fields: dict, out_bytes: int = 4, engine: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """``(cycles, applies)``: total cycles (int64, meaningful where ``applies``) over broadcast arrays."""
    cf = closed_form_breakdown(layer_fields, arch_fields, out_bytes, engine)
    return cf.total_cycles, cf.applies


def layer_fields(layers) -> dict[str, np.ndarray]:
    """Field arrays of a sequence of ConvLayers."""
    return {k: np.array([getattr(layer, k) for layer in layers], np.int64) for k in LAYER_FIELDS}


def arch_fields(archs) -> dict[str, np.ndarray]:
    """Field arrays of a sequence of ArchConfigs (``dataflow`` as :data:`DATAFLOW_CODE`)."""
    out = {k: np.array([getattr(a, k) for a in archs], np.int64) for k in ARCH_FIELDS if k != "dataflow"}
    out["dataflow"] = np.array([DATAFLOW_CODE[a.dataflow] for a in archs], np.int64)
    return out


def closed_form_schedule(
    layer: ConvLayer, arch: ArchConfig, out_bytes: int = 4, engine: str = "auto"
) -> Schedule | None:
    """The scalar form with the breakdown, as a :class:`timing.Schedule` (no per-command cycles), or None."""
    cf = closed_form_breakdown(layer_fields([layer]), arch_fields([arch]), out_bytes, engine)
    if not cf.applies[0]:
        return None
    return Schedule(
        total_cycles=int(cf.total_cycles[0]),
        ex_stream_cycles=int(cf.ex_stream_cycles[0]),
        ex_fill_drain_cycles=int(cf.ex_fill_drain_cycles[0]),
        ex_preload_cycles=int(cf.ex_preload_cycles[0]),
        ex_idle_cycles=tuple(int(x) for x in cf.ex_idle_cycles[:, 0]),
    )  # type: ignore[arg-type]


def closed_form(layer: ConvLayer, arch: ArchConfig, out_bytes: int = 4) -> int | None:
    """A layer's total cycles on ``arch`` in closed form, or None where the closed form does not apply."""
    s = closed_form_schedule(layer, arch, out_bytes)
    return None if s is None else s.total_cycles


# ---------------------------------------------------------------------------------------------------------


def _solve(f: dict[str, np.ndarray], dataflow: Dataflow, out_bytes: int) -> dict[str, np.ndarray]:
    ws, is_, os_ = (dataflow is d for d in (Dataflow.WS, Dataflow.IS, Dataflow.OS))
    AR, AC, BW = f["array_rows"], f["array_cols"], f["dram_bytes_per_cycle"]
    HI_i, Q, L_i = f["host_issue_cycles"], f["queue_depth"], f["dram_latency_cycles"]
    groups = f["groups"]

    # --- mapping.lower, vectorised ---
    E = (f["H"] + 2 * f["pad"] - f["R"]) // f["stride"] + 1
    F = (f["W"] + 2 * f["pad"] - f["S"]) // f["stride"] + 1
    P = f["N"] * E * F
    K = (f["C"] // groups) * f["R"] * f["S"]
    Mg = f["M"] // groups
    if_lanes, w_lanes = (AC, AR) if is_ else (AR, AC)
    if_rows = f["ifmap_spad_kib"] * 1024 // if_lanes // 2
    w_rows = f["weight_spad_kib"] * 1024 // w_lanes // 2
    acc_rows = f["acc_kib"] * 1024 // (4 * AC) // 2
    valid = acc_rows >= 1
    if ws:
        valid &= (w_rows >= AR) & (if_rows >= 1)
        K_T, M_T, P_T = np.minimum(AR, K), np.minimum(AC, Mg), np.minimum(P, np.minimum(if_rows, acc_rows))
    elif is_:
        valid &= (if_rows >= AR) & (w_rows >= 1)
        K_T, P_T, M_T = np.minimum(AR, K), np.minimum(AC, P), np.minimum(Mg, np.minimum(w_rows, acc_rows))
    else:
        valid &= (acc_rows >= AR) & (if_rows >= 1) & (w_rows >= 1)
        P_T, M_T, K_T = np.minimum(AR, P), np.minimum(AC, Mg), np.minimum(K, np.minimum(if_rows, w_rows))
    P_T, M_T, K_T = (np.maximum(x, 1) for x in (P_T, M_T, K_T))
    p_tiles, m_tiles, k_tiles = _cdiv(P, P_T), _cdiv(Mg, M_T), _cdiv(K, K_T)
    P_L, M_L, K_L = P - (p_tiles - 1) * P_T, Mg - (m_tiles - 1) * M_T, K - (k_tiles - 1) * K_T
    steps = groups * p_tiles * m_tiles * k_tiles

    # --- per step kind: axis 0 outer class, 1 inner class, 2 k class (0 full / 1 last); WS/OS outer = p ---
    def axis(full, last, ax):
        shape = [1, 1, 1, full.size]
        shape[ax] = 2
        return np.stack([full, last]).reshape(shape)

    pax, max_ = (1, 0) if is_ else (0, 1)
    Pk, Mk, Kk = axis(P_T, P_L, pax), axis(M_T, M_L, max_), axis(K_T, K_L, 2)
    n_outer, n_inner = (m_tiles, p_tiles) if is_ else (p_tiles, m_tiles)
    if ws:
        (rS, lS), (rT, lT), stream, (rO, lO) = (Kk, Mk), (Pk, Kk), Pk, (Pk, Mk)
    elif is_:
        (rS, lS), (rT, lT), stream, (rO, lO) = (Kk, Pk), (Mk, Kk), Mk, (Mk, Pk)
    else:
        (rS, lS), (rT, lT), stream, (rO, lO) = (Kk, Mk), (Kk, Pk), Kk, (Pk, Mk)
    bP_i = np.zeros_like(AR) if os_ else AR + 2
    fd_i = 1 + AR + AC + 1 + (AR if os_ else 0)
    n_base = 3 if os_ else 4
    fl = np.float64
    bS8 = (1 + rS * _cdiv(lS, BW)).astype(fl)
    bT8 = (1 + rT * _cdiv(lT, BW)).astype(fl)
    ex8 = (stream + fd_i + bP_i).astype(fl)
    kc8 = np.broadcast_to(np.array([0, 1]).reshape(1, 1, 2, 1), (2, 2, 2, P.size))
    bST4 = (2 + rO * _cdiv(lO * out_bytes, BW)).astype(fl)[:, :, 0]  # per tile kind (outer, inner)
    bS8, bT8, ex8 = (np.broadcast_to(x, (2, 2, 2, P.size)).reshape(8, -1) for x in (bS8, bT8, ex8))
    ld1_8 = bS8 + bT8
    bC8 = ex8 - bP_i
    c8 = (n_base + kc8).reshape(8, -1).astype(fl)
    bST4 = np.broadcast_to(bST4, (2, 2, P.size)).reshape(4, -1)

    HI, L, bP = HI_i.astype(fl), L_i.astype(fl), bP_i.astype(fl)
    Qf, kf = Q.astype(fl), k_tiles.astype(fl)

    # --- kinds that occur, first kinds, transitions ---
    o2, i2, k2 = n_outer >= 2, n_inner >= 2, k_tiles >= 2
    fo, fi, fk = (np.where(x, 0, 1) for x in (o2, i2, k2))

    def tv(o, i):
        return (o2 if o == 0 else True) & (i2 if i == 0 else True) & np.ones(P.size, bool)

    kind_ok = np.stack([tv(o, i) & (k2 if k == 0 else True) for o in (0, 1) for i in (0, 1) for k in (0, 1)])
    tile_tr = [(2 * o, 2 * o, (n_inner >= 3) & tv(o, 0)) for o in (0, 1)]
    tile_tr += [(2 * o, 2 * o + 1, i2 & tv(o, 0)) for o in (0, 1)]
    tile_tr += [(1, fi, n_outer >= 3), (1, 2 + fi, o2), (3, 2 * fo + fi, groups >= 2)]
    step_tr = [(2 * t, 2 * t, (k_tiles >= 3) & tv(t // 2, t % 2)) for t in range(4)]
    step_tr += [(2 * t, 2 * t + 1, k2 & tv(t // 2, t % 2)) for t in range(4)]
    step_tr += [(2 * u + 1, 2 * v + fk, ok) for u, v, ok in tile_tr]

    def stack(tr):
        idx = [np.broadcast_to(np.asarray(x, np.int64), P.shape) for t in tr for x in t[:2]]
        a = np.stack(idx[0::2])
        b = np.stack(idx[1::2])
        ok = np.stack([np.broadcast_to(t[2], P.shape) for t in tr])
        return a, b, ok

    sa, sb, s_ok = stack(step_tr)
    ta, tb, t_ok = stack(tile_tr)

    def g(q, idx):
        return np.take_along_axis(q, idx, axis=0)

    def g1(q, idx):
        return np.take_along_axis(q, idx[None], axis=0)[0]

    def kmin(q):
        return np.where(kind_ok, q, np.inf).min(axis=0)

    def kmax(q):
        return np.where(kind_ok, q, -np.inf).max(axis=0)

    ex_a, ex_b = g(ex8, sa), g(ex8, sb)
    bS_a, bS_b = g(bS8, sa), g(bS8, sb)
    bC_a = g(bC8, sa)
    ld1_b = g(ld1_8, sb)
    c_b, kc_b = g(c8, sb), (sb % 2) == 1
    exmin, exmax, bCmin, bSmax, ld1min = kmin(ex8), kmax(ex8), kmin(bC8), kmax(bS8), kmin(ld1_8)
    ex_t = ex8.reshape(4, 2, -1)
    EXT4 = (kf - 1) * ex_t[:, 0] + ex_t[:, 1]  # sum of ex over a tile of each kind
    ld1_t = ld1_8.reshape(4, 2, -1)
    LDT4 = (kf - 1) * ld1_t[:, 0] + ld1_t[:, 1]

    # --- the first commands, exactly: CONFIG x5, step 0, step 1, dispatch of LS_2 ---
    k0 = 4 * fo + 2 * fi + fk
    o1 = np.where(k2 | i2, fo, np.where(o2, np.where(n_outer >= 3, 0, 1), 1))
    i1 = np.where(k2, fi, np.where(i2, np.where(n_inner >= 3, 0, 1), 1))
    kc1 = np.where(k2, np.where(k_tiles >= 3, 0, 1), 1)
    k1 = 4 * o1 + 2 * i1 + kc1
    bS0, bT0, ex0 = g1(bS8, k0), g1(bT8, k0), g1(ex8, k0)
    bS1, bT1, ex1 = g1(bS8, k1), g1(bT8, k1), g1(ex8, k1)
    q1, q2, q3, q4 = (x == Q for x in (1, 2, 3, 4))
    ninf = -np.inf
    ok = valid & (steps >= 3) & ((Q >= 2) | os_)
    sLS0 = 5 * HI + 1
    dLT0 = np.where(q1, np.maximum(6 * HI, 5 * HI + 2), 6 * HI)
    sLT0 = np.maximum(dLT0 + 1, sLS0 + bS0)
    endLT0 = sLT0 + bT0
    DT0 = endLT0 + L
    dE0 = dLT0 + HI
    S0 = np.maximum(dE0 + 1, DT0)
    load0 = dE0 + 1 <= DT0  # the first EX command's idle is charged to DRAM (else to the host)
    if os_:
        dCO0 = dE0
    else:
        dCO0 = np.where(q1, np.maximum(dE0 + HI, S0 + 1), dE0 + HI)
        ok &= dCO0 + 1 <= S0 + bP
    X0 = S0 + ex0
    st0 = k_tiles == 1
    dST0 = dCO0 + HI
    ok &= ~st0 | (dST0 + 1 <= X0)
    d = np.where(st0, dST0, dCO0)
    dLS1 = np.maximum(d + HI, np.where(q1, sLT0, np.where(q2, sLS0, ninf)) + 1)
    ok &= dLS1 + 1 <= endLT0
    sLT1 = endLT0 + bS1
    dLT1 = np.maximum(dLS1 + HI, np.where(q1, endLT0, np.where(q2, sLT0, np.where(q3, sLS0, ninf))) + 1)
    ok &= dLT1 + 1 <= sLT1
    endLT1 = sLT1 + bT1
    Y1 = np.maximum(X0, endLT1 + L)
    if os_:
        dCO1 = np.maximum(dLT1 + HI, np.where(q1, S0, ninf) + 1)
        ok &= dCO1 + 1 <= Y1
    else:
        dPRE1 = np.maximum(dLT1 + HI, np.where(q1, S0 + bP, np.where(q2, S0, ninf)) + 1)
        ok &= dPRE1 + 1 <= Y1
        dCO1 = np.maximum(dPRE1 + HI, np.where(q1, Y1, np.where(q2, S0 + bP, np.where(q3, S0, ninf))) + 1)
        ok &= dCO1 + 1 <= Y1 + bP
    X1 = Y1 + ex1
    st1 = kc1 == 1
    dST1 = np.maximum(dCO1 + HI, np.where(st0 & q1, X0, ninf) + 1)
    ok &= ~st1 | (dST1 + 1 <= X1)
    d = np.where(st1, dST1, dCO1)
    dLS2 = np.maximum(
        d + HI, np.where(q1, sLT1, np.where(q2, endLT0, np.where(q3, sLT0, np.where(q4, sLS0, ninf)))) + 1
    )

    # --- the common end ---
    bST_last = bST4[3]
    ok &= bST_last + L + 1 >= HI

    # dispatch-chain block distances (steps back) and kinds, per queue
    odd = (Q % 2) == 1
    dLS, dLT = (Q + 1) // 2, Q // 2  # LD queue, 2 entries per step: LS_j's and LT_j's blockers
    dLSf, dLTf = dLS.astype(fl), dLT.astype(fl)
    dQk = (Q * k_tiles).astype(fl)  # ST queue: one entry per tile

    def any_ok(cond):
        return np.all(cond | ~s_ok, axis=0)

    def s_max(x):
        return np.where(s_ok, x, -np.inf).max(axis=0)

    def s_min(x):
        return np.where(s_ok, x, np.inf).min(axis=0)

    def chain(rel_ls, rel_lt, unit, dl_lt, to_ex, pre_blk, co_blk, dl_pre, dl_co, dl_st, st_blk, dl_next):
        """The dispatch chain of step j for every transition (a -> b). ``rel_*`` bound the starts of the
        blocking commands (+0, the T contribution is +1); ``dl_*`` lower-bound the starts; r <= 1 relative to
        one reference, r >= 2 relative to another (``to_ex`` converts an upper bound). Returns
        (s-free condition, s lower bound, s upper bound)."""
        cond = np.ones(ex_a.shape, bool)
        s_hi = -rel_ls - 2 + unit  # T(LS_j) = start - 1 - s >= blk + 1
        s_lo = HI - bS_b  # anchor -> LT_j
        bc = np.maximum(rel_ls + 1 + HI, rel_lt + 1)
        cond &= bc + 1 <= dl_lt
        bc = bc + to_ex
        anchor = to_ex + unit - 1  # T(LS_j) + s relative to the second reference
        if pre_blk is not None:
            bc = np.maximum(bc + HI, pre_blk + 1)
            cond &= bc + 1 <= dl_pre
            s_lo = np.maximum(s_lo, anchor + 2 * HI + 1 - dl_pre)
            r_co = 3
        else:
            r_co = 2
        bc = np.maximum(bc + HI, co_blk + 1)
        cond &= bc + 1 <= dl_co
        s_lo = np.maximum(s_lo, anchor + r_co * HI + 1 - dl_co)
        bst = np.maximum(bc + HI, st_blk + 1)
        cond &= ~kc_b | (bst + 1 <= dl_st)
        s_lo = np.maximum(s_lo, np.where(kc_b, anchor + (r_co + 1) * HI + 1 - dl_st, -np.inf))
        bc = np.where(kc_b, bst, bc)
        # next step's LS: T = dl_next - 1 - s
        s_hi = np.minimum(s_hi, dl_next - bc - HI - 1)
        cond &= anchor + c_b * HI + 1 <= dl_next
        return any_ok(cond), s_max(s_lo), s_min(s_hi)

    # --- EX regime: everything relative to x2 = X_{j-2} (LOADs) and x1 = X_{j-1} (the rest) ---
    gmin = exmin
    eff = lambda dd: np.where(dd >= 2, dd - 1, dd)  # a blocker in step 0 is bounded via X_{-1}  # noqa: E731
    rel_ls = -eff(dLSf) * gmin + np.where(odd, np.where(dLS == 1, bS_a, bSmax), 0.0)
    rel_lt = -eff(dLTf) * gmin + np.where(~odd, np.where(dLT == 1, bS_a, bSmax), 0.0)
    if os_:
        pre_blk = None
        co_blk = -(Qf - 1) * gmin - np.where(Q == 1, ex_a, exmin)
    else:
        dP, dC = dLSf, dLTf  # EX queue, 2 entries per step, same arithmetic as the LD queue
        pre_blk = -(dP - 1) * gmin - np.where(
            odd, np.where(dP == 1, bC_a, bCmin), np.where(dP == 1, ex_a, exmin)
        )
        co_blk = -(dC - 1) * gmin - np.where(
            odd, np.where(dC == 1, ex_a, exmin), np.where(dC == 1, bC_a, bCmin)
        )
    st_blk = -(dQk - 1) * gmin
    zero = np.zeros_like(ex_a)
    ex_cond, ex_slo, ex_shi = chain(
        rel_ls,
        rel_lt,
        zero,
        bS_b,
        -ex_a,
        pre_blk,
        co_blk,
        zero,
        zero + (0.0 if os_ else bP),
        ex_b,
        st_blk,
        zero,
    )
    ex_ok = ok & ex_cond & np.all((ld1_b <= ex_a) | ~s_ok, axis=0)
    ex_ok &= np.all((g(bST4, ta) <= g(EXT4, tb)) | ~t_ok, axis=0)
    ex_ok &= endLT1 <= X0
    ex_ok &= np.maximum(0.0, ex_slo) <= np.minimum(ex_shi, X0 - 1 - dLS2)

    # --- LD regime: relative to e1 = D_{j-1} (data-ready time of step j-1's streamed LOAD) ---
    lam = ld1min
    rel_ls = -dLSf * lam - L + np.where(odd, np.where(dLS == 1, bS_a, bSmax), 0.0)
    rel_lt = -dLTf * lam - L + np.where(~odd, np.where(dLT == 1, bS_a, bSmax), 0.0)
    if os_:
        pre_blk = None
        co_blk = -(Qf - 1) * lam + zero
        dl_pre, dl_co = None, ld1_b
    else:
        pre_blk = -(dLSf - 1) * lam + np.where(odd, bP, 0.0)
        co_blk = -(dLTf - 1) * lam + np.where(odd, 0.0, bP)
        dl_pre, dl_co = ld1_b, ld1_b + bP
    st_blk = -(dQk - 1) * lam + np.where(dQk == 1, ex_a, exmax)
    ld_cond, ld_slo, ld_shi = chain(
        rel_ls, rel_lt, -L, bS_b - L, zero, pre_blk, co_blk, dl_pre, dl_co, ld1_b + ex_b, st_blk, ld1_b - L
    )
    ld_ok = ok & ld_cond & np.all((ld1_b >= ex_a + L) | ~s_ok, axis=0)
    exl = ex_t[:, 1]
    ld_ok &= np.all((g(bST4, ta) <= g(LDT4, tb) + g(exl, tb) - g(exl, ta)) | ~t_ok, axis=0)
    ld_ok &= (dLT0 + 1 <= sLS0 + bS0) & (dE0 + 1 <= DT0)
    ld_ok &= np.maximum(0.0, ld_slo) <= np.minimum(ld_shi, endLT1 - 1 - dLS2)

    # --- X_{J-1} ---
    # EX: nested max-plus products from the virtual state (X_{-1}, X_{-2}) = (endLT0, S0 - ld_0)
    ld8 = ld1_8 + L
    Mk8 = (ex8, ld8 + ex8, np.zeros_like(ex8), np.full_like(ex8, NEG))

    def sel(Mt, i):
        return tuple(x[i] for x in Mt)

    tiles = [_mp_mul(sel(Mk8, 2 * t + 1), _mp_pow(sel(Mk8, 2 * t), kf - 1)) for t in range(4)]
    n_in, n_out = n_inner.astype(fl), n_outer.astype(fl)
    rows = [_mp_mul(tiles[2 * o + 1], _mp_pow(tiles[2 * o], n_in - 1)) for o in (0, 1)]
    group = _mp_mul(rows[1], _mp_pow(rows[0], n_out - 1))
    lay = _mp_pow(group, groups.astype(fl))
    xm1, xm2 = endLT0, S0 - (g1(ld1_8, k0) + L)
    X_ex = np.maximum(lay[0] + xm1, lay[1] + xm2)
    ex_ok &= X_ex > -1e20
    # LD: LS_0 + L + sum ld' + ex_last
    if ws:
        sum_ld = groups * p_tiles * K * _sum_tiles(
            m_tiles, _cdiv(M_T, BW), _cdiv(M_L, BW)
        ) + groups * m_tiles * P * _sum_tiles(k_tiles, _cdiv(K_T, BW), _cdiv(K_L, BW))
        sum_stream = groups * m_tiles * k_tiles * P
    elif is_:
        sum_ld = groups * m_tiles * K * _sum_tiles(
            p_tiles, _cdiv(P_T, BW), _cdiv(P_L, BW)
        ) + groups * p_tiles * Mg * _sum_tiles(k_tiles, _cdiv(K_T, BW), _cdiv(K_L, BW))
        sum_stream = groups * p_tiles * k_tiles * Mg
    else:
        sum_ld = groups * p_tiles * K * _sum_tiles(
            m_tiles, _cdiv(M_T, BW), _cdiv(M_L, BW)
        ) + groups * m_tiles * K * _sum_tiles(p_tiles, _cdiv(P_T, BW), _cdiv(P_L, BW))
        sum_stream = groups * p_tiles * m_tiles * K
    sum_ld = sum_ld + 2 * steps
    X_ld = sLS0 + L + sum_ld.astype(fl) + ex8[7]

    # --- results ---
    ld_ok &= ~ex_ok  # both exact where both hold; report the EX regime
    applies = ex_ok | ld_ok
    X_last = np.where(ex_ok, X_ex, X_ld)
    total = X_last + bST_last + L
    sum_ex = (sum_stream + steps * (fd_i + bP_i)).astype(fl)
    idle_host = np.where(load0, 0.0, S0)
    idle = np.stack([X_last - sum_ex - idle_host, total - X_last, idle_host])
    out_idle = np.zeros_like(idle)
    out_idle[CAUSE_DRAM_LOAD], out_idle[CAUSE_DRAM_STORE], out_idle[CAUSE_HOST] = idle[0], idle[1], idle[2]

    def ints(x):
        return np.where(applies, x, 0).astype(np.int64)

    return {
        "applies": applies,
        "regime": np.where(ex_ok, REGIME_EX, np.where(ld_ok, REGIME_LD, REGIME_NONE)),
        "total_cycles": ints(total),
        "ex_stream_cycles": ints(sum_stream),
        "ex_fill_drain_cycles": ints(steps * fd_i),
        "ex_preload_cycles": ints(steps * bP_i),
        "ex_idle_cycles": np.where(applies, out_idle, 0).astype(np.int64),
    }
