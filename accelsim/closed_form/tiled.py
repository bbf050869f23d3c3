"""One (layer, configuration) point in closed form (accelsim.closed_form has the notation and the regimes):
:func:`closed_form_point` lowers the layer with accelsim.mapping's rules and calls
:func:`closed_form_tiled`, which builds the per-kind table, picks the regime and returns the cycles and
their breakdown; :func:`closed_form_points` runs it over 1-D field arrays."""

from __future__ import annotations

import numpy as np

from accelsim.arch import DF_IS, DF_OS, DF_WS
from accelsim.closed_form.chains import (
    _BC,
    _BS,
    _BT,
    _C,
    _EX,
    _INF,
    _LD1,
    _N_KIND_ROWS,
    _OK,
    REGIME_EX,
    REGIME_LD,
    REGIME_MIX,
    REGIME_NONE,
    _chain,
    _chain_mix,
    _m3_tile,
    _stores_keep_up,
    _tile,
)
from accelsim.jit import compilable
from accelsim.layer import gemm_dims
from accelsim.mapping import (
    FIT_OK,
    MAX_STEP_COMMANDS,
    N_CONFIG,
    SP_COLUMNS,
    buffer_rows,
    has_preload,
    step_loads,
    step_program,
    store_shape,
    tile_fit,
    tile_loops,
    tile_sizes,
)
from accelsim.maxplus import fmax, fmin, mul2, mul3, pow2, pow3
from accelsim.schedule import CAUSE_DRAM_LOAD, CAUSE_DRAM_STORE, CAUSE_HOST
from accelsim.timing import (
    ceil_div,
    load_unit_cycles,
    store_unit_cycles,
    systolic_array_cycles,
    systolic_array_fill_drain_cycles,
    systolic_array_preload_cycles,
)


@compilable
def closed_form_point(N, M, C, H, W, R, S, stride, pad, groups, AR, AC, df, if_kib, w_kib, acc_kib, BW, L_i,
                      Q, HI_i, V, out_bytes, kin, bST4, sa, sb, s_ok, ta, tb, t_ok, prog, idle):
    """One (layer, config) point (int64 fields in the order of LAYER_FIELDS + ARCH_FIELDS, ``df`` the
    dataflow's code). ``kin`` (7, 8), ``bST4`` (4,), ``sa sb s_ok`` (15,), ``ta tb t_ok`` (7,) are scratch;
    ``prog`` (MAX_STEP_COMMANDS, SP_COLUMNS) too;
    ``idle`` (3,) receives ex_idle_cycles. Returns (regime, total, stream, fill_drain, preload, commands) with
    regime REGIME_EX, REGIME_LD or REGIME_MIX, or REGIME_NONE (and zeros everywhere) where the closed form
    does not apply."""
    idle[0] = idle[1] = idle[2] = 0
    if df not in (DF_WS, DF_OS, DF_IS):
        return REGIME_NONE, 0, 0, 0, 0, 0
    # --- mapping.lower ---
    P, K, Mg = gemm_dims(N, M, C, H, W, R, S, stride, pad, groups)
    _, _, if_rows, w_rows, acc_rows = buffer_rows(df, AR, AC, V, if_kib, w_kib, acc_kib)
    if tile_fit(df, AR, V, if_rows, w_rows, acc_rows) != FIT_OK:
        return REGIME_NONE, 0, 0, 0, 0, 0
    P_T, K_T, M_T = tile_sizes(df, AR, AC, V, P, K, Mg, if_rows, w_rows, acc_rows)
    return closed_form_tiled(groups, P, K, Mg, P_T, K_T, M_T, AR, AC, df, BW, L_i, Q, HI_i, V, out_bytes, kin,
                             bST4, sa, sb, s_ok, ta, tb, t_ok, prog, idle)


@compilable
def closed_form_tiled(groups, P, K, Mg, P_T, K_T, M_T, AR, AC, df, BW, L_i, Q, HI_i, V, out_bytes, kin, bST4,
                      sa, sb, s_ok, ta, tb, t_ok, prog, idle):
    """:func:`closed_form_point` after the lowering: the layer's GEMM (``groups`` x ``P, K, Mg``) and its
    tiles (``P_T, K_T, M_T``, which fit the buffers) on a configuration of dataflow code ``df`` (WS, OS or
    IS). The sweep's evaluator, which lowers the layer anyway, calls this directly."""
    idle[0] = idle[1] = idle[2] = 0
    os_, is_ = df == DF_OS, df == DF_IS
    p_tiles, m_tiles, k_tiles = ceil_div(P, P_T), ceil_div(Mg, M_T), ceil_div(K, K_T)
    P_L, M_L, K_L = P - (p_tiles - 1) * P_T, Mg - (m_tiles - 1) * M_T, K - (k_tiles - 1) * K_T
    steps = groups * p_tiles * m_tiles * k_tiles
    # the common conditions that need no per-kind table
    ok = steps >= 3 and (Q >= 2 or not has_preload(df))
    if not ok:
        return REGIME_NONE, 0, 0, 0, 0, 0

    # --- per step kind 4*o + 2*i + k (0 full / 1 last on each axis); WS/OS outer = p, IS outer = m ---
    n_outer, n_inner = tile_loops(df, p_tiles, m_tiles)
    bP_i = systolic_array_preload_cycles(AR) if has_preload(df) else 0
    fd_i = systolic_array_fill_drain_cycles(df, AR, AC)
    o2, i2, k2 = n_outer >= 2, n_inner >= 2, k_tiles >= 2
    fo, fi, fk = 0 if o2 else 1, 0 if i2 else 1, 0 if k2 else 1
    # commands of a step: its program for a middle k-step and for a tile's last (which also STOREs)
    # kinds that no step has (an axis of one tile has no full tile) are skipped: nothing reads them but
    # through a power 0 (the identity whatever the matrix) or a zero count
    n_full = step_program(df, V, P_T, M_T, K_T, 1, 1, 0, 0, 0, 0, prog) if k2 else 0
    n_last = step_program(df, V, P_T, M_T, K_L, 1, 0, 0, 0, 0, 0, prog)
    sum_ld, sum_stream = 0, 0  # over all steps: LOAD busy cycles, COMPUTE stream cycles
    n_commands = N_CONFIG + 1  # the CONFIGs and the FENCE, then every step's commands
    for o in range(2):
        n_o = 1 if o == 1 else n_outer - 1  # steps of each kind: the last tile on an axis, or the others
        for i in range(2):
            n_oi = n_o * (1 if i == 1 else n_inner - 1)
            tv = (o2 or o == 1) and (i2 or i == 1)
            kin[_OK, 4 * o + 2 * i] = kin[_OK, 4 * o + 2 * i + 1] = 0.0
            if not tv:
                continue
            pl = (i if is_ else o) == 1
            ml = (o if is_ else i) == 1
            Pk = P_L if pl else P_T
            Mk = M_L if ml else M_T
            rO, lO = store_shape(df, Pk, Mk)
            bST4[2 * o + i] = float(store_unit_cycles(rO, lO, out_bytes, BW))
            for k in range(2):
                if not (k2 or k == 1):
                    continue
                Kk = K_L if k == 1 else K_T
                rS, lS, rT, lT, stream = step_loads(df, V, Pk, Mk, Kk)
                j = 4 * o + 2 * i + k
                bS_j, bT_j = load_unit_cycles(rS, lS, BW), load_unit_cycles(rT, lT, BW)
                kin[_BS, j] = float(bS_j)
                kin[_BT, j] = float(bT_j)
                kin[_EX, j] = float(systolic_array_cycles(stream, df, AR, AC) + bP_i)
                kin[_LD1, j] = kin[_BS, j] + kin[_BT, j]
                kin[_BC, j] = kin[_EX, j] - bP_i
                n_step = n_last if k == 1 else n_full
                kin[_C, j] = float(n_step)
                kin[_OK, j] = 1.0
                n_j = groups * n_oi * (1 if k == 1 else k_tiles - 1)
                sum_ld += n_j * (bS_j + bT_j)
                sum_stream += n_j * stream
                n_commands += n_j * n_step

    HI, L, bP = float(HI_i), float(L_i), float(bP_i)
    Qf, kf = float(Q), float(k_tiles)

    # --- transitions: 7 tile kinds (u -> v), 15 step kinds (a -> b), each with a validity flag ---
    for o in range(2):
        tv0 = o2 or o == 1  # tv(o, 0)
        ta[o], tb[o], t_ok[o] = 2 * o, 2 * o, n_inner >= 3 and tv0 and i2
        ta[2 + o], tb[2 + o], t_ok[2 + o] = 2 * o, 2 * o + 1, i2 and tv0
    ta[4], tb[4], t_ok[4] = 1, fi, n_outer >= 3
    ta[5], tb[5], t_ok[5] = 1, 2 + fi, o2
    ta[6], tb[6], t_ok[6] = 3, 2 * fo + fi, groups >= 2
    for t in range(4):
        tvt = (o2 or t // 2 == 1) and (i2 or t % 2 == 1)
        sa[t], sb[t], s_ok[t] = 2 * t, 2 * t, k_tiles >= 3 and tvt
        sa[4 + t], sb[4 + t], s_ok[4 + t] = 2 * t, 2 * t + 1, k2 and tvt
    for u in range(7):
        sa[8 + u], sb[8 + u], s_ok[8 + u] = 2 * ta[u] + 1, 2 * tb[u] + fk, t_ok[u]

    exmin, exmax, bCmin, bSmax, ld1min = _INF, -_INF, _INF, -_INF, _INF
    for j in range(8):
        if kin[_OK, j] != 0.0:
            exmin = fmin(exmin, kin[_EX, j])
            exmax = fmax(exmax, kin[_EX, j])
            bCmin = fmin(bCmin, kin[_BC, j])
            bSmax = fmax(bSmax, kin[_BS, j])
            ld1min = fmin(ld1min, kin[_LD1, j])

    # --- the first commands, exactly: CONFIG x5, step 0, step 1, dispatch of LS_2 ---
    k0 = 4 * fo + 2 * fi + fk
    if k2 or i2:
        o1 = fo
    elif o2:
        o1 = 0 if n_outer >= 3 else 1
    else:
        o1 = 1
    if k2:
        i1 = fi
    elif i2:
        i1 = 0 if n_inner >= 3 else 1
    else:
        i1 = 1
    kc1 = (0 if k_tiles >= 3 else 1) if k2 else 1
    k1 = 4 * o1 + 2 * i1 + kc1
    bS0, bT0, ex0 = kin[_BS, k0], kin[_BT, k0], kin[_EX, k0]
    bS1, bT1, ex1 = kin[_BS, k1], kin[_BT, k1], kin[_EX, k1]
    q1, q2, q3, q4 = Q == 1, Q == 2, Q == 3, Q == 4
    ninf = -_INF
    sLS0 = N_CONFIG * HI + 1
    dLT0 = fmax((N_CONFIG + 1) * HI, N_CONFIG * HI + 2) if q1 else (N_CONFIG + 1) * HI
    sLT0 = fmax(dLT0 + 1, sLS0 + bS0)
    endLT0 = sLT0 + bT0
    DT0 = endLT0 + L
    dE0 = dLT0 + HI
    S0 = fmax(dE0 + 1, DT0)
    if os_:
        dCO0 = dE0
    else:
        dCO0 = fmax(dE0 + HI, S0 + 1) if q1 else dE0 + HI
        ok = ok and dCO0 + 1 <= S0 + bP
    X0 = S0 + ex0
    st0 = k_tiles == 1
    dST0 = dCO0 + HI
    ok = ok and ((not st0) or dST0 + 1 <= X0)
    d = dST0 if st0 else dCO0
    dLS1 = fmax(d + HI, (sLT0 if q1 else (sLS0 if q2 else ninf)) + 1)
    ok = ok and dLS1 + 1 <= endLT0
    sLT1 = endLT0 + bS1
    dLT1 = fmax(dLS1 + HI, (endLT0 if q1 else (sLT0 if q2 else (sLS0 if q3 else ninf))) + 1)
    ok = ok and dLT1 + 1 <= sLT1
    endLT1 = sLT1 + bT1
    Y1 = fmax(X0, endLT1 + L)
    if os_:
        dCO1 = fmax(dLT1 + HI, (S0 if q1 else ninf) + 1)
        ok = ok and dCO1 + 1 <= Y1
    else:
        dPRE1 = fmax(dLT1 + HI, ((S0 + bP) if q1 else (S0 if q2 else ninf)) + 1)
        ok = ok and dPRE1 + 1 <= Y1
        dCO1 = fmax(dPRE1 + HI, (Y1 if q1 else ((S0 + bP) if q2 else (S0 if q3 else ninf))) + 1)
        ok = ok and dCO1 + 1 <= Y1 + bP
    X1 = Y1 + ex1
    st1 = kc1 == 1
    dST1 = fmax(dCO1 + HI, (X0 if (st0 and q1) else ninf) + 1)
    ok = ok and ((not st1) or dST1 + 1 <= X1)
    d = dST1 if st1 else dCO1
    dLS2 = fmax(d + HI, (sLT1 if q1 else (endLT0 if q2 else (sLT0 if q3 else (sLS0 if q4 else ninf)))) + 1)

    # --- the common end ---
    bST_last = bST4[3]
    ok = ok and bST_last + L + 1 >= HI
    if not ok:
        return REGIME_NONE, 0, 0, 0, 0, 0

    # dispatch-chain block distances (steps back) and kinds, per queue
    odd = (Q % 2) == 1
    dLS, dLT = (Q + 1) // 2, Q // 2
    dLSf, dLTf = float(dLS), float(dLT)
    dQk = float(Q * k_tiles)

    # --- EX regime: relative to X_{j-2} (LOADs) and X_{j-1} (the rest), over the valid transitions ---
    gmin = exmin
    eff_ls = dLSf - 1 if dLSf >= 2 else dLSf
    eff_lt = dLTf - 1 if dLTf >= 2 else dLTf
    st_blk = -(dQk - 1) * gmin
    ex_ok = endLT1 <= X0
    ex_slo, ex_shi = -_INF, _INF
    for x in range(15):
        if not ex_ok:
            break
        if not s_ok[x]:
            continue
        a, b = sa[x], sb[x]
        ex_a, ex_b, bS_a, bS_b = kin[_EX, a], kin[_EX, b], kin[_BS, a], kin[_BS, b]
        bC_a, ld1_b, c_b, kc_b = kin[_BC, a], kin[_LD1, b], kin[_C, b], b % 2 == 1
        if not ld1_b <= ex_a:
            ex_ok = False
            break
        rel_ls = -eff_ls * gmin + (((bS_a if dLS == 1 else bSmax)) if odd else 0.0)
        rel_lt = -eff_lt * gmin + (0.0 if odd else (bS_a if dLT == 1 else bSmax))
        if os_:
            pre_blk = 0.0
            co_blk = -(Qf - 1) * gmin - (ex_a if Q == 1 else exmin)
        else:
            dP, dC = dLSf, dLTf
            if odd:
                pre_blk = -(dP - 1) * gmin - (bC_a if dP == 1 else bCmin)
                co_blk = -(dC - 1) * gmin - (ex_a if dC == 1 else exmin)
            else:
                pre_blk = -(dP - 1) * gmin - (ex_a if dP == 1 else exmin)
                co_blk = -(dC - 1) * gmin - (bC_a if dC == 1 else bCmin)
        s_lo, s_hi = _chain(HI, kc_b, c_b, bS_b, rel_ls, rel_lt, 0.0, bS_b, -ex_a, not os_, pre_blk, co_blk,
                            0.0, 0.0 + (0.0 if os_ else bP), ex_b, st_blk, 0.0)
        ex_slo, ex_shi = fmax(ex_slo, s_lo), fmin(ex_shi, s_hi)
    ex_ok = ex_ok and _stores_keep_up(kin, bST4, ta, tb, t_ok, kf, False)
    ex_ok = ex_ok and fmax(0.0, ex_slo) <= fmin(ex_shi, X0 - 1 - dLS2)

    # --- X_{J-1}, EX: nested max-plus products from the virtual state (X_{-1}, X_{-2}) ---
    X_ex = 0.0
    if ex_ok:
        a0, a1, a2, a3 = _tile(kin, 0, L, kf)
        b0, b1, b2, b3 = _tile(kin, 1, L, kf)
        c0, c1, c2, c3 = _tile(kin, 2, L, kf)
        e0, e1, e2, e3 = _tile(kin, 3, L, kf)
        n_in, n_out = float(n_inner), float(n_outer)
        p0, p1, p2, p3 = pow2(a0, a1, a2, a3, n_in - 1)  # rows[o] = tiles[2o+1] (x) tiles[2o]^(inner-1)
        r00, r01, r02, r03 = mul2(b0, b1, b2, b3, p0, p1, p2, p3)
        p0, p1, p2, p3 = pow2(c0, c1, c2, c3, n_in - 1)
        r10, r11, r12, r13 = mul2(e0, e1, e2, e3, p0, p1, p2, p3)
        p0, p1, p2, p3 = pow2(r00, r01, r02, r03, n_out - 1)
        g0, g1, g2, g3 = mul2(r10, r11, r12, r13, p0, p1, p2, p3)
        lay = pow2(g0, g1, g2, g3, float(groups))
        xm1, xm2 = endLT0, S0 - (kin[_LD1, k0] + L)
        X_ex = fmax(lay[0] + xm1, lay[1] + xm2)
        ex_ok = X_ex > -1e20

    # --- LD regime (only where EX does not hold: both exact where both hold; EX is reported) ---
    ld_ok = not ex_ok
    if ld_ok:
        ld_ok = (dLT0 + 1 <= sLS0 + bS0) and (dE0 + 1 <= DT0)
    lam = ld1min
    ld_slo, ld_shi = -_INF, _INF
    if ld_ok:
        if os_:
            pre_blk = 0.0
            co_blk = -(Qf - 1) * lam + 0.0
        else:
            pre_blk = -(dLSf - 1) * lam + (bP if odd else 0.0)
            co_blk = -(dLTf - 1) * lam + (0.0 if odd else bP)
        for x in range(15):
            if not s_ok[x]:
                continue
            a, b = sa[x], sb[x]
            ex_a, ex_b, bS_a, bS_b = kin[_EX, a], kin[_EX, b], kin[_BS, a], kin[_BS, b]
            ld1_b, c_b, kc_b = kin[_LD1, b], kin[_C, b], b % 2 == 1
            if not ld1_b >= ex_a + L:
                ld_ok = False
                break
            rel_ls = -dLSf * lam - L + ((bS_a if dLS == 1 else bSmax) if odd else 0.0)
            rel_lt = -dLTf * lam - L + (0.0 if odd else (bS_a if dLT == 1 else bSmax))
            st_blk = -(dQk - 1) * lam + (ex_a if dQk == 1 else exmax)
            dl_co = ld1_b if os_ else ld1_b + bP
            s_lo, s_hi = _chain(HI, kc_b, c_b, bS_b, rel_ls, rel_lt, -L, bS_b - L, 0.0, not os_, pre_blk,
                                co_blk, ld1_b, dl_co, ld1_b + ex_b, st_blk, ld1_b - L)
            ld_slo, ld_shi = fmax(ld_slo, s_lo), fmin(ld_shi, s_hi)
    ld_ok = ld_ok and _stores_keep_up(kin, bST4, ta, tb, t_ok, kf, True)
    ld_ok = ld_ok and fmax(0.0, ld_slo) <= fmin(ld_shi, endLT1 - 1 - dLS2)

    # --- MIX regime (only where neither holds): the state (E_j, X_j, X_{j-1}), anchored at A_j ---
    mx_ok = not (ex_ok or ld_ok)
    X_mx = 0.0
    if mx_ok:
        mx_ok = dE0 + 1 <= DT0  # the first EX starts when its data lands (S0 = DT0)
    if mx_ok:
        tm0 = _m3_tile(kin, 0, L, kf)
        tm1 = _m3_tile(kin, 1, L, kf)
        tm2 = _m3_tile(kin, 2, L, kf)
        tm3 = _m3_tile(kin, 3, L, kf)
        # stores keep up: ST_u ends before X_last(v) >= X_last(u) + room. From the state (E, X, X') after
        # tile u, X_last(v) >= X + T_v[X, X]; and X = max(X', E + L) + ex_u, so X' = X - ex_u or
        # E = X - L - ex_u: X_last(v) >= X + min(T_v[X, X'] - ex_u, T_v[X, E] - L - ex_u) too
        for x in range(7):
            if t_ok[x]:
                v = tb[x]
                tv = tm0 if v == 0 else (tm1 if v == 1 else (tm2 if v == 2 else tm3))
                ex_u = kin[_EX, 2 * ta[x] + 1]
                room = fmax(tv[4], fmin(tv[5] - ex_u, tv[3] - L - ex_u))
                if not bST4[ta[x]] <= room:
                    mx_ok = False
    mx_slo, mx_shi = -_INF, _INF
    if mx_ok:
        lam, bTmin = ld1min, _INF
        for j in range(8):
            if kin[_OK, j] != 0.0:
                bTmin = fmin(bTmin, kin[_BT, j])
        # EX-queue blockers against P_{j-1} (step j-1's first EX start): P_{j-m} <= P_{j-1} - (m-1) min ex
        rp_ls, rp_lt = -(dLSf - 1) * exmin, -(dLTf - 1) * exmin
        if os_:
            pre_blk, co_blk = 0.0, -(Qf - 1) * exmin
        elif odd:  # PRE_j waits for the slot of CO_{j-dLS}, CO_j for that of PRE_{j-dLT}
            pre_blk, co_blk = rp_ls + bP, rp_lt
        else:  # PRE_j for PRE_{j-dLS}, CO_j for CO_{j-dLT}
            pre_blk, co_blk = rp_ls, rp_lt + bP
        # the STORE Q tiles (m = Q k_tiles steps) back ends step j-m: X_{j-m} <= P_{j-1} - (m-2) min ex
        st_blk0 = -(dQk - 2) * exmin
        for x in range(15):
            if not s_ok[x]:
                continue
            a, b = sa[x], sb[x]
            ex_a, ex_b, bT_a, bS_b = kin[_EX, a], kin[_EX, b], kin[_BT, a], kin[_BS, b]
            ld1_a, ld1_b, c_b, kc_b = kin[_LD1, a], kin[_LD1, b], kin[_C, b], b % 2 == 1
            # LD-queue blockers against A_j: A_{j-m} <= A_j - ld'_a - (m-1) min ld'; LT_{j-m} starts bT
            # before A_{j-m+1}
            if odd:  # LS_j waits for the slot of LT_{j-dLS}, LT_j for that of LS_{j-dLT}
                rel_ls = -bT_a if dLS == 1 else -bTmin - ld1_a - (dLSf - 2) * lam
                rel_lt = 0.0 if dLT == 0 else (-ld1_a - (dLTf - 1) * lam)
            else:  # LS_j for LS_{j-dLS}, LT_j for LT_{j-dLT}
                rel_ls = -ld1_a - (dLSf - 1) * lam
                rel_lt = -bT_a if dLT == 1 else -bTmin - ld1_a - (dLTf - 2) * lam
            st_blk = ex_a if dQk <= 1 else st_blk0
            s_lo, s_hi = _chain_mix(HI, kc_b, c_b, bS_b, ld1_b, ex_a, ex_b, L, bP, not os_, rel_ls, rel_lt,
                                    pre_blk, co_blk, st_blk)
            mx_slo, mx_shi = fmax(mx_slo, s_lo), fmin(mx_shi, s_hi)
        mx_ok = fmax(0.0, mx_slo) <= fmin(mx_shi, fmax(endLT1, X0) - 1 - dLS2)
    if mx_ok:
        n_in, n_out = float(n_inner), float(n_outer)
        row0 = mul3(tm1, pow3(tm0, n_in - 1))
        row1 = mul3(tm3, pow3(tm2, n_in - 1))
        lay = pow3(mul3(row1, pow3(row0, n_out - 1)), float(groups))
        # virtual start (E_{-1}, X_{-1}, X_{-2}) = (endLT0 - ld'_0, -inf, -inf): steps 0 and 1 come out exact
        X_mx = lay[3] + endLT0 - kin[_LD1, k0]
        mx_ok = X_mx > -1e20
    if not (ex_ok or ld_ok or mx_ok):
        return REGIME_NONE, 0, 0, 0, 0, 0

    # --- results ---
    if ex_ok:
        X_last = X_ex
        regime = REGIME_EX
    elif ld_ok:
        X_last = sLS0 + L + float(sum_ld) + kin[_EX, 7]
        regime = REGIME_LD
    else:
        X_last = X_mx
        regime = REGIME_MIX
    total = X_last + bST_last + L
    sum_ex = float(sum_stream + steps * (fd_i + bP_i))
    # the first EX's start S0 against the shadow's (an instant host: the two LOADs from cycle 1, back to
    # back); every later lateness is at most this one (nothing after it waits for its dispatch)
    idle_host = S0 - (1.0 + bS0 + bT0 + L)
    idle[CAUSE_DRAM_LOAD] = np.int64(X_last - sum_ex - idle_host)
    idle[CAUSE_DRAM_STORE] = np.int64(total - X_last)
    idle[CAUSE_HOST] = np.int64(idle_host)
    return regime, np.int64(total), sum_stream, steps * fd_i, steps * bP_i, n_commands


@compilable
def closed_form_points(N, M, C, H, W, R, S, stride, pad, groups, AR, AC, df, if_kib, w_kib, acc_kib, BW, L,
                       Q, HI, V, out_bytes, applies, regime, total, stream, fill_drain, preload, commands,
                       idle):
    """The closed form at every point ``i`` of the 1-D int64 field arrays (LAYER_FIELDS then ARCH_FIELDS,
    ``df`` = dataflow code), into caller-allocated ``applies`` (bool), ``regime``, ``total``, ``stream``,
    ``fill_drain``, ``preload``, ``commands`` (int64, n) and ``idle`` (int64, (3, n))."""
    kin = np.zeros((_N_KIND_ROWS, 8))
    bST4 = np.zeros(4)
    sa, sb, s_ok = np.zeros(15, np.int64), np.zeros(15, np.int64), np.zeros(15, np.bool_)
    ta, tb, t_ok = np.zeros(7, np.int64), np.zeros(7, np.int64), np.zeros(7, np.bool_)
    one = np.zeros(3, np.int64)
    prog = np.zeros((MAX_STEP_COMMANDS, SP_COLUMNS), np.int64)
    for i in range(N.size):
        r, tot, st, fd, pre, n = closed_form_point(
            N[i], M[i], C[i], H[i], W[i], R[i], S[i], stride[i], pad[i], groups[i], AR[i], AC[i], df[i],
            if_kib[i], w_kib[i], acc_kib[i], BW[i], L[i], Q[i], HI[i], V[i], out_bytes,
            kin, bST4, sa, sb, s_ok, ta, tb, t_ok, prog, one)
        applies[i] = r != REGIME_NONE
        regime[i], total[i], stream[i], fill_drain[i], preload[i], commands[i] = r, tot, st, fd, pre, n
        idle[0, i], idle[1, i], idle[2, i] = one[0], one[1], one[2]
