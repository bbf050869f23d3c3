"""The executed-mapping check: run a layer's command stream on a functional model of the machine and count.

:func:`execute_mapping` builds the layer's program (:func:`accelsim.mapping.program`), round-trips every
command through its 192-bit encoding, reads the layer registers back from the CONFIG commands and hands the
rest to :func:`run_program`, which executes them one by one in program order on explicit state
(docs/microarchitecture.md, "Blocks"):

* DRAM: one byte array, the input at ``x_base``, the weights at ``w_base`` (both int8, the layouts of
  :func:`accelsim.reference.conv2d`), the outputs written by STOREs at ``out_base`` (int32 little-endian, or
  int8 when the MODE register asks for requantization).
* ifmap and weight scratchpads: flat ``(BUFFERS * rows_per_buffer, lanes)`` int8 row arrays (the memories
  of an RTL build of this dataflow, :func:`accelsim.mapping.built_buffers`), and an accumulator
  ``(BUFFERS * acc_rows, AC)`` int32, all filled with garbage at the start: nothing is read that no command
  wrote, or the outputs come out wrong. Commands name rows (``addr``, ``addr2``, ``acc_addr``); rows past a
  memory's end, or a read (PRELOAD, COMPUTE) that does not start on a V-row word, are errors.
* the PE grid: the stationary ``AR*V x AC`` tile of WS/IS (V = ``pe_dot_width``: a PE holds V of its
  rows; PRELOAD fills rows ``< K_t``, zeros the rest) and the ``AR x AC`` output registers of OS (which
  reduce V k-rows a cycle: a COMPUTE streams ``ceil(K_t / V)`` cycles; K_t is its ``k_rows``), all AR of
  which an OS COMPUTE writes into the accumulator. COMPUTE runs the whole grid, stale
  lanes included; only the valid part of a tile reaches a STORE.
* the four dependency-token counters: a pop of an empty counter, or a counter left non-zero at the FENCE,
  is an error.

While it executes it counts, as the "Traffic" section defines them: DRAM bytes read by LOADs (padding
positions are written to the scratchpad as zeros, not read), scratchpad element writes (padding included)
and reads (elements preloaded or streamed into the grid), accumulator element writes and reads (accumulating
COMPUTEs and STOREs), DRAM bytes written, and MACs (PE operations whose two operands are both valid). Valid
means written by a LOAD: every scratchpad row remembers the lanes its last LOAD wrote (every accumulator
row the columns its last COMPUTE wrote), and consuming rows or lanes that were not loaded is an error.
tests/model/test_executed.py holds these counts equal to :func:`accelsim.memory.traffic` and the outputs
to :func:`accelsim.reference.conv2d_numpy`.

This is a checker, not a fast kernel: it runs every command, the full grid included. It is written in the
subset Numba compiles (accelsim.jit) and runs compiled, or interpreted for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from accelsim import mapping
from accelsim.arch import DF_IS, DF_OS, DF_WS, ArchConfig, Dataflow
from accelsim.commands import Command, ConfigReg, Op, config_fields
from accelsim.errors import require
from accelsim.jit import compilable, compiled
from accelsim.memory import Traffic
from accelsim.reference import check_operands

# Columns of the command table the kernel reads (Command field names).
COLUMNS = ("op", "pop_prev", "pop_next", "push_prev", "push_next", "addr", "addr2", "k_rows", "acc_addr",
           "accumulate", "operand", "rows", "lanes", "n0", "e0", "f0", "c0", "r0", "s0", "m0", "k0")
(_OP, _POP_PREV, _POP_NEXT, _PUSH_PREV, _PUSH_NEXT, _ADDR, _ADDR2, _K_ROWS, _ACC_ADDR, _ACCUMULATE, _OPERAND,
 _ROWS, _LANES, _N0, _E0, _F0, _C0, _R0, _S0, _M0, _K0) = range(len(COLUMNS))
_LOAD, _PRELOAD, _COMPUTE, _STORE, _FENCE = (int(o) for o in
                                             (Op.LOAD, Op.PRELOAD, Op.COMPUTE, Op.STORE, Op.FENCE))

# Layer registers, in the order of the regs vector (CONFIG sub-field names, accelsim.commands.CONFIG_LAYOUT),
# then the build's pe_dot_width (a parameter of the grid, not a register: it comes from the mapping).
REGS = ("N", "C", "H", "W", "M", "R", "S", "E", "F", "stride", "pad", "Cg", "Mg", "K", "x_base", "w_base",
        "out_base", "dataflow", "requantize", "shift", "pe_dot_width")
(_RN, _RC, _RH, _RW, _RM, _RR, _RS, _RE, _RF, _RSTRIDE, _RPAD, _RCG, _RMG, _RK, _RX, _RWB, _ROUT, _RDF, _RREQ,
 _RSHIFT, _RV) = range(len(REGS))

# Counters, in the order of the counts vector: MACs, then accelsim.memory.Traffic's fields in order.
COUNTS = ("macs", "dram_input_read_bytes", "dram_weight_read_bytes", "dram_write_bytes", "ifmap_spad_reads",
          "ifmap_spad_writes", "weight_spad_reads", "weight_spad_writes", "acc_reads", "acc_writes")
(_MACS, _DRAM_X, _DRAM_W, _DRAM_OUT, _IF_R, _IF_W, _W_R, _W_W, _ACC_R, _ACC_W) = range(len(COUNTS))
assert COUNTS[1:] == tuple(f.name for f in fields(Traffic))

# Token counters; which one each flag of each unit pops/pushes (docs: "Dependency tokens").
_L2E, _E2L, _E2S, _S2E = range(4)

# Errors run_program reports (status, index of the offending command).
OK = 0
ERRORS = {
    1: "a dependency-token pop finds its counter at zero",
    2: "every dependency-token counter is zero at the FENCE",
    3: "a LOAD's rows and lanes lie inside its scratchpad",
    4: ("PRELOAD/COMPUTE read rows inside their scratchpads from a V-row word, consume rows whose last LOADs "
        "wrote exactly the lanes they use, fit the grid and the accumulator, and accumulate onto rows of "
        "their own extent"),
    5: "a STORE reads only accumulator rows and lanes its tile's COMPUTEs wrote",
    6: "every command has a known opcode and the stream ends with the FENCE",
}


@dataclass(frozen=True, slots=True)
class Counts:
    """What executing a layer's commands computed (MACs) and moved (the model's own :class:`Traffic`
    record, counted here instead of derived)."""

    macs: int
    moved: Traffic

    def traffic(self) -> Traffic:
        return self.moved

    @property
    def dram_read_bytes(self) -> int:
        return self.moved.dram_read_bytes

    @property
    def dram_write_bytes(self) -> int:
        return self.moved.dram_write_bytes


# ---------------------------------------------------------------------------------------------- helpers

@compilable
def _next3(a, b, c, B, C):
    """Advance the mixed-radix counter (a, b, c) with digits b < B, c < C by one (hardware counters)."""
    c += 1
    if c == C:
        c = 0
        b += 1
        if b == B:
            b = 0
            a += 1
    return a, b, c


@compilable
def _int8_at(dram, addr):
    v = np.int64(dram[addr])
    return v - 256 if v >= 128 else v


@compilable
def _fits(first, rows, memory_rows):
    """Rows ``first .. first + rows - 1`` lie inside a memory of ``memory_rows`` rows."""
    return first >= 0 and first + rows <= memory_rows


@compilable
def _rows_hold(row_lanes, first, rows, lanes):
    """Every row ``first .. first + rows - 1`` was last written with exactly ``lanes`` lanes."""
    held = True  # a loop Numba compiles (no generator)
    for i in range(rows):
        held = held and row_lanes[first + i] == lanes
    return held


@compilable
def _load_input(cmd, regs, dram, spad, row_lanes, counts):
    """LOAD of the input (implicit im2col): rows x lanes of (pixel, reduction) pairs into spad rows
    ``addr ..``; WS: rows are pixels, lanes reductions; IS/OS: rows reductions, lanes pixels. Padding
    positions are written as zeros and not read from DRAM. Returns False if the tile does not fit the spad."""
    rows, lanes, a0 = cmd[_ROWS], cmd[_LANES], cmd[_ADDR]
    if not _fits(a0, rows, spad.shape[0]) or lanes > spad.shape[1]:
        return False
    C, H, W = regs[_RC], regs[_RH], regs[_RW]
    E, F, R, S = regs[_RE], regs[_RF], regs[_RR], regs[_RS]
    U, pad, base = regs[_RSTRIDE], regs[_RPAD], regs[_RX]
    pixel_rows = regs[_RDF] == DF_WS
    # row counters
    ra, rb, rc = (cmd[_N0], cmd[_E0], cmd[_F0]) if pixel_rows else (cmd[_C0], cmd[_R0], cmd[_S0])
    for i in range(rows):
        la, lb, lc = (cmd[_C0], cmd[_R0], cmd[_S0]) if pixel_rows else (cmd[_N0], cmd[_E0], cmd[_F0])
        for j in range(lanes):
            if pixel_rows:
                n, e, f, c, r, s = ra, rb, rc, la, lb, lc
            else:
                n, e, f, c, r, s = la, lb, lc, ra, rb, rc
            h = U * e + r - pad
            v = U * f + s - pad
            value = 0
            if 0 <= h < H and 0 <= v < W:
                value = _int8_at(dram, base + ((n * C + c) * H + h) * W + v)
                counts[_DRAM_X] += 1
            spad[a0 + i, j] = value
            counts[_IF_W] += 1
            if pixel_rows:
                la, lb, lc = _next3(la, lb, lc, R, S)
            else:
                la, lb, lc = _next3(la, lb, lc, E, F)
        if pixel_rows:
            ra, rb, rc = _next3(ra, rb, rc, E, F)
        else:
            ra, rb, rc = _next3(ra, rb, rc, R, S)
        row_lanes[a0 + i] = lanes
    return True


@compilable
def _load_weight(cmd, regs, dram, spad, row_lanes, counts):
    """LOAD of weights ``B[k][m] = w[m][k]`` (w is (M, K) in DRAM) into spad rows ``addr ..``: WS/OS rows are
    k, lanes m; IS rows m, lanes k. Every element is read from DRAM."""
    rows, lanes, a0 = cmd[_ROWS], cmd[_LANES], cmd[_ADDR]
    if not _fits(a0, rows, spad.shape[0]) or lanes > spad.shape[1]:
        return False
    K, base, m0, k0 = regs[_RK], regs[_RWB], cmd[_M0], cmd[_K0]
    k_rows = regs[_RDF] != DF_IS
    for i in range(rows):
        for j in range(lanes):
            k, m = (k0 + i, m0 + j) if k_rows else (k0 + j, m0 + i)
            spad[a0 + i, j] = _int8_at(dram, base + m * K + k)
            counts[_DRAM_W] += 1
            counts[_W_W] += 1
        row_lanes[a0 + i] = lanes
    return True


@compilable
def _preload(K_t, a0, V, spad, row_lanes, grid, grid_ext, counts, read_counter):
    """PRELOAD (WS: weights, IS: inputs): spad rows ``a0 .. a0 + K_t - 1`` into grid rows ``< K_t``, zeros
    below. The grid's valid extent becomes (K_t rows, the rows' lanes)."""
    AR, AC = grid.shape
    lanes = row_lanes[a0] if 0 <= a0 < spad.shape[0] else 0
    if (K_t < 1 or K_t > AR or a0 % V != 0 or not _fits(a0, K_t, spad.shape[0])
            or not _rows_hold(row_lanes, a0, K_t, lanes) or lanes > AC):
        return False
    for i in range(AR):
        for j in range(AC):
            grid[i, j] = spad[a0 + i, j] if i < K_t else 0
    counts[read_counter] += K_t * lanes
    grid_ext[0] = K_t
    grid_ext[1] = lanes
    return True


@compilable
def _accumulate(acc, row, j, value, accumulate):
    """Write one accumulator element (the read-add-write of an accumulating COMPUTE)."""
    if accumulate:
        acc[row, j] = np.int64(acc[row, j]) + value  # int32 store: wraps modulo 2**32
    else:
        acc[row, j] = value


@compilable
def _accumulated(counts, acc_cols, a0, rows, cols, macs, accumulate):
    """A COMPUTE wrote rows x cols from accumulator row ``a0`` (reading them first if ``accumulate``)."""
    counts[_MACS] += macs
    counts[_ACC_W] += rows * cols
    if accumulate:
        counts[_ACC_R] += rows * cols
    for i in range(rows):
        acc_cols[a0 + i] = cols


@compilable
def _compute_stream(cmd, V, spad, row_lanes, grid, grid_ext, acc, acc_cols, counts, read_counter):
    """COMPUTE of WS/IS: T streamed spad rows from ``addr`` through the stationary grid into accumulator rows
    from ``acc_addr``. ``acc[t][j] (+)= sum_i row_t[i] * grid[i][j]`` over the whole grid; valid extent: T
    rows x the grid's valid columns, MACs where the streamed lane and the grid element are both valid."""
    T, a0, c0, accumulate = cmd[_ROWS], cmd[_ADDR], cmd[_ACC_ADDR], cmd[_ACCUMULATE]
    AR, AC = grid.shape
    k_valid, cols = grid_ext[0], grid_ext[1]
    if (a0 % V != 0 or not _fits(a0, T, spad.shape[0]) or not _rows_hold(row_lanes, a0, T, k_valid)
            or not _fits(c0, T, acc.shape[0])):
        return False
    if accumulate and not _rows_hold(acc_cols, c0, T, cols):
        return False
    for t in range(T):
        for j in range(AC):
            s = np.int64(0)
            for i in range(AR):
                s += np.int64(spad[a0 + t, i]) * grid[i, j]
            _accumulate(acc, c0 + t, j, s, accumulate)
    counts[read_counter] += T * k_valid
    _accumulated(counts, acc_cols, c0, T, cols, T * k_valid * cols, accumulate)
    return True


@compilable
def _compute_os(cmd, V, x_spad, x_lanes, w_spad, w_lanes, grid, acc, acc_cols, counts):
    """COMPUTE of OS: K_t (``k_rows``) rows of both spads (from ``addr`` and ``addr2``) reduced in the
    output-stationary grid, ``grid[i][j] = sum_t x_row_t[i] * w_row_t[j]``, then all AR x AC outputs shift
    out into accumulator rows ``acc_addr ..  + AR - 1``. Valid extent: the ifmap rows' lanes (pixels) x the
    weight rows' lanes (channels). With V-wide dot-product PEs the command streams ``ceil(K_t / V)``
    cycles of V rows each."""
    S, T, xa, wa = cmd[_ROWS], cmd[_K_ROWS], cmd[_ADDR], cmd[_ADDR2]
    c0, accumulate = cmd[_ACC_ADDR], cmd[_ACCUMULATE]
    AR, AC = grid.shape
    if (T < 1 or S != -(-T // V) or xa % V != 0 or wa % V != 0 or not _fits(xa, T, x_spad.shape[0])
            or not _fits(wa, T, w_spad.shape[0]) or not _fits(c0, AR, acc.shape[0])):
        return False
    rows, cols = x_lanes[xa], w_lanes[wa]
    if (not _rows_hold(x_lanes, xa, T, rows) or not _rows_hold(w_lanes, wa, T, cols) or rows > AR
            or cols > AC):
        return False
    if accumulate and not _rows_hold(acc_cols, c0, rows, cols):
        return False
    for i in range(AR):
        for j in range(AC):
            grid[i, j] = 0
    for t in range(T):
        for i in range(AR):
            xv = np.int64(x_spad[xa + t, i])
            for j in range(AC):
                grid[i, j] += xv * w_spad[wa + t, j]
    for i in range(AR):
        for j in range(AC):
            _accumulate(acc, c0 + i, j, grid[i, j], accumulate)
    for i in range(rows, AR):  # rows written with no valid pixel
        acc_cols[c0 + i] = 0
    counts[_IF_R] += T * rows
    counts[_W_R] += T * cols
    _accumulated(counts, acc_cols, c0, rows, cols, T * rows * cols, accumulate)
    return True


@compilable
def _store(cmd, regs, acc, acc_cols, dram, counts):
    """STORE: rows x lanes from accumulator row ``acc_addr`` to the output (N, M, E, F) in DRAM; WS/OS rows
    are pixels from (n0, e0, f0) and lanes channels from m0, IS the transpose. int32 little-endian, or
    requantized to int8 (round-half-up shift, saturate: accelsim.reference.requantize)."""
    rows, lanes, a0, m0 = cmd[_ROWS], cmd[_LANES], cmd[_ACC_ADDR], cmd[_M0]
    if not _fits(a0, rows, acc.shape[0]):
        return False
    for i in range(rows):
        if lanes > acc_cols[a0 + i]:
            return False
    M, E, F, base = regs[_RM], regs[_RE], regs[_RF], regs[_ROUT]
    requant, shift = regs[_RREQ], regs[_RSHIFT]
    ob = 1 if requant else 4
    pixel_rows = regs[_RDF] != DF_IS
    pn, pe, pf = cmd[_N0], cmd[_E0], cmd[_F0]
    for i in range(rows):
        ln, le, lf = cmd[_N0], cmd[_E0], cmd[_F0]
        for j in range(lanes):
            if pixel_rows:
                n, e, f, m = pn, pe, pf, m0 + j
            else:
                n, e, f, m = ln, le, lf, m0 + i
            v = np.int64(acc[a0 + i, j])
            counts[_ACC_R] += 1
            addr = base + (((n * M + m) * E + e) * F + f) * ob
            if requant:
                if shift:
                    v = (v + (np.int64(1) << (shift - 1))) >> shift
                v = min(max(v, -128), 127)
                dram[addr] = v & 0xFF
            else:
                u = v & 0xFFFFFFFF
                for b in range(4):
                    dram[addr + b] = (u >> (8 * b)) & 0xFF
            counts[_DRAM_OUT] += ob
            if not pixel_rows:
                ln, le, lf = _next3(ln, le, lf, E, F)
        if pixel_rows:
            pn, pe, pf = _next3(pn, pe, pf, E, F)
    return True


@compilable
def _pop(tokens, counter):
    if tokens[counter] == 0:
        return False
    tokens[counter] -= 1
    return True


@compilable
def run_program(cmds, regs, dram, x_spad, w_spad, acc, grid, counts):
    """Execute the command table ``cmds`` (one row per command, columns :data:`COLUMNS`; no CONFIGs: their
    values are ``regs``, columns :data:`REGS`) in program order on the given state, adding to ``counts``
    (:data:`COUNTS`). Returns ``(status, command index)``: status 0 when every command ran, else a key of
    :data:`ERRORS` and the command that broke it."""
    x_lanes = np.zeros(x_spad.shape[0], np.int64)  # per spad row: lanes its last LOAD wrote (0: none)
    w_lanes = np.zeros(w_spad.shape[0], np.int64)
    acc_cols = np.zeros(acc.shape[0], np.int64)  # per accumulator row: valid columns its last COMPUTE wrote
    grid_ext = np.zeros(2, np.int64)  # valid rows, cols of the stationary tile
    tokens = np.zeros(4, np.int64)
    df, V = regs[_RDF], regs[_RV]
    for idx in range(cmds.shape[0]):
        cmd = cmds[idx]
        op = cmd[_OP]
        if op == _FENCE:
            if idx != cmds.shape[0] - 1:
                return 6, idx
            for c in range(4):
                if tokens[c] != 0:
                    return 2, idx
            return OK, idx
        # pops (LD: pop_next e2l; EX: pop_prev l2e, pop_next s2e; ST: pop_prev e2s)
        ok = True
        if op == _LOAD:
            if cmd[_POP_NEXT]:
                ok = _pop(tokens, _E2L)
        elif op in (_PRELOAD, _COMPUTE):
            if cmd[_POP_PREV]:
                ok = _pop(tokens, _L2E)
            if ok and cmd[_POP_NEXT]:
                ok = _pop(tokens, _S2E)
        elif op == _STORE:
            if cmd[_POP_PREV]:
                ok = _pop(tokens, _E2S)
        else:
            return 6, idx
        if not ok:
            return 1, idx
        # execute
        if op == _LOAD:
            if cmd[_OPERAND] == 0:
                ok = _load_input(cmd, regs, dram, x_spad, x_lanes, counts)
            else:
                ok = _load_weight(cmd, regs, dram, w_spad, w_lanes, counts)
            status = 3
        elif op == _PRELOAD:
            if df == DF_IS:
                ok = _preload(cmd[_LANES], cmd[_ADDR], V, x_spad, x_lanes, grid, grid_ext, counts, _IF_R)
            else:
                ok = _preload(cmd[_LANES], cmd[_ADDR], V, w_spad, w_lanes, grid, grid_ext, counts, _W_R)
            status = 4
        elif op == _COMPUTE:
            if df == DF_OS:
                ok = _compute_os(cmd, V, x_spad, x_lanes, w_spad, w_lanes, grid, acc, acc_cols, counts)
            elif df == DF_IS:
                ok = _compute_stream(cmd, V, w_spad, w_lanes, grid, grid_ext, acc, acc_cols, counts, _W_R)
            else:
                ok = _compute_stream(cmd, V, x_spad, x_lanes, grid, grid_ext, acc, acc_cols, counts, _IF_R)
            status = 4
        else:
            ok = _store(cmd, regs, acc, acc_cols, dram, counts)
            status = 5
        if not ok:
            return status, idx
        # pushes (LD: push_next l2e; EX: push_prev e2l, push_next e2s; ST: push_prev s2e)
        if op == _LOAD:
            tokens[_L2E] += cmd[_PUSH_NEXT]
        elif op == _STORE:
            tokens[_S2E] += cmd[_PUSH_PREV]
        else:
            tokens[_E2L] += cmd[_PUSH_PREV]
            tokens[_E2S] += cmd[_PUSH_NEXT]
    return 6, cmds.shape[0]


# ---------------------------------------------------------------------------------------------- driver

def program_tables(m: mapping.Mapping, *, requantize_shift: int | None = None,
                   commands: list[Command] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The layer's command stream as (commands table, layer registers), both decoded from the 192-bit
    encoding of ``commands`` (default: :func:`accelsim.mapping.program`; CONFIGs first, as it emits
    them)."""
    if commands is None:
        commands = mapping.program(m, requantize_shift=requantize_shift)
    decoded = [Command.unpack(c.pack()) for c in commands]
    regs: dict[str, int] = {}
    for c in decoded:
        if c.op == Op.CONFIG:
            regs.update(config_fields(ConfigReg(c.reg), c.value))
    for name in ("x_base", "w_base", "out_base"):  # bits 32-47 of the addresses live in MODE
        regs[name] |= regs.pop(f"{name}_hi") << 32
    regs["pe_dot_width"] = m.pe_dot_width
    table = np.array([[int(getattr(c, f)) for f in COLUMNS] for c in decoded if c.op != Op.CONFIG], np.int64)
    return table, np.array([regs[name] for name in REGS], np.int64)


def machine_state(m: mapping.Mapping, arch: ArchConfig, x: np.ndarray, w: np.ndarray, *, out_bytes: int,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """Fresh machine state for :func:`run_program`: DRAM holding x and w, garbage-filled memories (those of
    an RTL build of ``arch``'s dataflow: :func:`accelsim.mapping.built_buffers`) and grid."""
    layer = m.layer
    if_lanes, w_lanes, if_rows, w_rows, acc_rows = map(int, mapping.built_buffers(
        (arch.dataflow.code,), arch.array_rows, arch.array_cols, arch.pe_dot_width, arch.ifmap_spad_kib,
        arch.weight_spad_kib, arch.acc_kib))
    B = mapping.BUFFERS
    AR, AC = arch.array_rows, arch.array_cols
    rng = np.random.default_rng(seed)
    dram = np.zeros(m.out_base + layer.output_elems * out_bytes, np.uint8)
    dram[m.x_base:m.x_base + x.size] = np.ascontiguousarray(x).reshape(-1).view(np.uint8)
    dram[m.w_base:m.w_base + w.size] = np.ascontiguousarray(w).reshape(-1).view(np.uint8)
    return {
        "dram": dram,
        "x_spad": rng.integers(-128, 128, (B * if_rows, if_lanes), dtype=np.int8),
        "w_spad": rng.integers(-128, 128, (B * w_rows, w_lanes), dtype=np.int8),
        "acc": rng.integers(-(2**31), 2**31, (B * acc_rows, AC), dtype=np.int32),
        # a V-wide dot-product PE (pe_dot_width) of WS/IS holds V stationary elements of V consecutive
        # reduction lanes: the grid as the arithmetic sees it has AR*V rows (docs: "Dot-product PEs"); an OS
        # PE holds one output whatever V
        "grid": rng.integers(-(2**31), 2**31, (AR * (1 if m.dataflow is Dataflow.OS else m.pe_dot_width), AC),
                             dtype=np.int64),
    }


def execute_mapping(x: np.ndarray, w: np.ndarray, m: mapping.Mapping, arch: ArchConfig, *,
                    requantize_shift: int | None = None, interpreted: bool = False,
                    commands: list[Command] | None = None) -> tuple[np.ndarray, Counts]:
    """Execute layer ``m.layer`` exactly as mapping ``m`` tiles it on ``arch``: returns the outputs
    (N, M, E, F), int32 or int8 when ``requantize_shift`` is given, and the :class:`Counts` measured.
    ``commands`` replaces :func:`accelsim.mapping.program`'s stream (e.g. the same program with its rows
    placed elsewhere). :func:`run_program` runs compiled by Numba, or ``interpreted`` (the same code, for
    the tests)."""
    layer = m.layer
    N, M, C, H, W, R, S, E, F = check_operands(x, w, layer.stride, layer.pad, layer.groups)
    require(x.dtype == np.int8, "x.dtype", "int8 (the machine's operands)", str(x.dtype))
    require((N, M, C, H, W, R, S) == (layer.N, layer.M, layer.C, layer.H, layer.W, layer.R, layer.S),
            "operand shapes", f"those of the mapped layer {layer.spec()}", (x.shape, w.shape))
    require(arch.dataflow is m.dataflow, "arch.dataflow", f"the mapping's ({m.dataflow.name})", arch.dataflow)
    ob = 4 if requantize_shift is None else 1
    cmds, regs = program_tables(m, requantize_shift=requantize_shift, commands=commands)
    state = machine_state(m, arch, x, w, out_bytes=ob)
    counts = np.zeros(len(COUNTS), np.int64)
    kernel = run_program if interpreted else compiled(run_program)
    status, idx = kernel(cmds, regs, state["dram"], state["x_spad"], state["w_spad"],
                                          state["acc"], state["grid"], counts)
    if status != OK:
        fields = dict(zip(COLUMNS, cmds[min(idx, len(cmds) - 1)].tolist(), strict=True))
        raise AssertionError(f"command {idx} {fields}: expected {ERRORS[status]}")
    raw = state["dram"][m.out_base:m.out_base + layer.output_elems * ob]
    out = raw.view("<i4" if ob == 4 else np.int8).astype(np.int32 if ob == 4 else np.int8)
    values = [int(v) for v in counts]
    return out.reshape(N, M, E, F), Counts(values[_MACS], Traffic(*values[_MACS + 1:]))


__all__ = ["COUNTS", "Counts", "execute_mapping", "program_tables", "run_program"]
