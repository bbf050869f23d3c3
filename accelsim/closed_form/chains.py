"""The closed form's chains (accelsim.closed_form has the notation): per step kind, the 3x3 max-plus step
matrix of the MIX regime and a tile's product of them, the dispatch chains that bound a step's start in
the EX/LD regimes and in MIX, and the condition that the stores keep up. Compilable scalar functions over
the per-kind table ``kin`` (rows _BS .. _OK, one column per step kind 4*o + 2*i + k)."""


from __future__ import annotations

import math

from accelsim.jit import compilable
from accelsim.maxplus import NEG, fmax, fmin, mul2, mul3, pow2, pow3

REGIME_NONE, REGIME_EX, REGIME_LD, REGIME_MIX = 0, 1, 2, 3

# scratch rows of the per-kind table (one column per step kind 4*o + 2*i + k)
_BS, _BT, _EX, _LD1, _BC, _C, _OK = range(7)
_N_KIND_ROWS = 7
_INF = math.inf


@compilable
def _m3_step(kin, j, L):
    """The mixed regime's step matrix of step kind ``j``: ``E_j = max(E_{j-1}, X_{j-2}) + ld'_j``,
    ``X_j = max(X_{j-1}, E_j + L) + ex_j``, ``X_{j-1}`` shifts down."""
    ld1, ex = kin[_LD1, j], kin[_EX, j]
    lx = ld1 + L + ex
    return (ld1, NEG, ld1, lx, ex, lx, NEG, 0.0, NEG)


@compilable
def _m3_tile(kin, t, L, kf):
    """Tile kind ``t``: ``M_last_k (x) M_k^(k_tiles-1)``."""
    return mul3(_m3_step(kin, 2 * t + 1, L), pow3(_m3_step(kin, 2 * t, L), kf - 1))


@compilable
def _tile(kin, t, L, kf):
    """tiles[t] = M_last_k (x) M_k^(k_tiles-1) for tile kind t, step matrices [[ex, ld + ex], [0, NEG]]."""
    f0, f1 = kin[_EX, 2 * t], kin[_EX, 2 * t + 1]
    l0, l1 = kin[_LD1, 2 * t] + L, kin[_LD1, 2 * t + 1] + L
    p0, p1, p2, p3 = pow2(f0, l0 + f0, 0.0, NEG, kf - 1)
    return mul2(f1, l1 + f1, 0.0, NEG, p0, p1, p2, p3)


@compilable
def _chain(HI, kc_b, c_b, bS_b, rel_ls, rel_lt, unit, dl_lt, to_ex, has_pre, pre_blk, co_blk, dl_pre, dl_co,
           dl_st, st_blk, dl_next):
    """The dispatch chain of one transition (a -> b): the interval ``(s_lo, s_hi)`` of slacks ``s`` it
    allows, empty (``s_lo = inf``) where a condition that does not involve ``s`` fails. ``rel_*`` bound the
    starts of the blocking commands, ``dl_*`` lower-bound the starts; ``has_pre`` is False for OS (no
    PRELOAD; ``pre_blk`` and ``dl_pre`` unused)."""
    cond = True
    s_hi = -rel_ls - 2 + unit
    s_lo = HI - bS_b
    bc = fmax(rel_ls + 1 + HI, rel_lt + 1)
    cond = cond and (bc + 1 <= dl_lt)
    bc = bc + to_ex
    anchor = to_ex + unit - 1
    if has_pre:
        bc = fmax(bc + HI, pre_blk + 1)
        cond = cond and (bc + 1 <= dl_pre)
        s_lo = fmax(s_lo, anchor + 2 * HI + 1 - dl_pre)
        r_co = 3
    else:
        r_co = 2
    bc = fmax(bc + HI, co_blk + 1)
    cond = cond and (bc + 1 <= dl_co)
    s_lo = fmax(s_lo, anchor + r_co * HI + 1 - dl_co)
    bst = fmax(bc + HI, st_blk + 1)
    cond = cond and ((not kc_b) or (bst + 1 <= dl_st))
    s_lo = fmax(s_lo, (anchor + (r_co + 1) * HI + 1 - dl_st) if kc_b else -_INF)
    if kc_b:
        bc = bst
    s_hi = fmin(s_hi, dl_next - bc - HI - 1)
    cond = cond and (anchor + c_b * HI + 1 <= dl_next)
    return (s_lo if cond else _INF), s_hi


@compilable
def _chain_mix(HI, kc_b, c_b, bS_b, ld1_b, ex_a, ex_b, L, bP, has_pre, rel_ls, rel_lt, pre_blk, co_blk,
               st_blk):
    """The MIX regime's dispatch chain of step j (kind b, after kind a): the slacks ``(s_lo, s_hi)`` it
    allows, ``s_lo = inf`` where a condition without ``s`` fails. Each dispatch bound is ``max(A_j - 1 - s +
    r HI, A_j + al, P_{j-1} + be)`` (the HI chain from ``LS_j``, then blockers of the LD queue against
    ``A_j`` in ``al`` and of the EX and ST queues against ``P_{j-1}`` in ``be``), and each start is at least
    ``A_j + (lower bound)`` and ``P_{j-1} + (lower bound)``: the term against the start bound of its anchor.
    ``rel_ls, rel_lt`` bound the blocking LOADs' starts against ``A_j``, ``pre_blk, co_blk, st_blk`` the
    blocking EX commands' and STORE's against ``P_{j-1}``."""
    s_hi = -rel_ls - 2  # T(LS_j) = A_j - 1 - s >= its blocker's start + 1
    s_lo = HI - bS_b
    al = rel_lt + 1
    cond = al + 1 <= bS_b
    be = -_INF
    dA, dP = ld1_b + L, ex_a  # PRE_j (OS: CO_j) starts >= A_j + ld_j and >= X_{j-1} = P_{j-1} + ex_a
    r = 2
    if has_pre:
        al, be = al + HI, fmax(be + HI, pre_blk + 1)
        cond = cond and al + 1 <= dA and be + 1 <= dP
        s_lo = fmax(s_lo, r * HI - dA)
        dA, dP, r = dA + bP, dP + bP, 3
    al, be = al + HI, fmax(be + HI, co_blk + 1)
    cond = cond and al + 1 <= dA and be + 1 <= dP
    s_lo = fmax(s_lo, r * HI - dA)
    if kc_b:  # ST_j starts at X_j >= A_j + ld_j + ex_j and >= P_{j-1} + ex_a + ex_b
        al, be = al + HI, fmax(be + HI, st_blk + 1)
        cond = cond and al + 1 <= ld1_b + L + ex_b and be + 1 <= ex_a + ex_b
        s_lo = fmax(s_lo, (r + 1) * HI - (ld1_b + L + ex_b))
    # LS_{j+1}: T = A_{j+1} - 1 - s >= every term + HI, with A_{j+1} >= A_j + ld'_j and >= X_{j-1}
    cond = cond and c_b * HI <= ld1_b
    s_hi = fmin(s_hi, fmin(ld1_b - al - HI - 1, ex_a - be - HI - 1))
    return (s_lo if cond else _INF), s_hi


@compilable
def _stores_keep_up(kin, bST4, ta, tb, t_ok, kf, ld_regime):
    """Every tile transition u -> v: the STORE of tile u ends before tile v+1 needs its accumulator
    buffer, i.e. within the time tile v takes (EX regime: its sum of ex; LD: its sum of ld' plus the
    change of ex of the tiles' last steps)."""
    for x in range(7):
        if t_ok[x]:
            u, v = ta[x], tb[x]
            if ld_regime:
                room = ((kf - 1) * kin[_LD1, 2 * v] + kin[_LD1, 2 * v + 1] + kin[_EX, 2 * v + 1]
                        - kin[_EX, 2 * u + 1])
            else:
                room = (kf - 1) * kin[_EX, 2 * v] + kin[_EX, 2 * v + 1]
            if not bST4[u] <= room:
                return False
    return True


