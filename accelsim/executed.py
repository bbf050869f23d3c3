"""The executed-mapping check: run a layer's command stream on a functional model of the machine and count.

:func:`execute_mapping` builds the layer's program (:func:`accelsim.mapping.program`), round-trips every
command through its 128-bit encoding, reads the layer registers back from the CONFIG commands and hands the
rest to :func:`run_program`, which executes them one by one in program order on explicit state
(docs/microarchitecture.md, "Blocks"):

* DRAM: one byte array, the input at ``x_base``, the weights at ``w_base`` (both int8, the layouts of
  :func:`accelsim.reference.conv2d`), the outputs written by STOREs at ``out_base`` (int32 little-endian, or
  int8 when the MODE register asks for requantization).
* ifmap and weight scratchpads: ``(2 buffers, rows_per_buffer, lanes)`` int8, and an accumulator
  ``(2, acc_rows_per_buffer, AC)`` int32, all filled with garbage at the start: nothing is read that no
  command wrote, or the outputs come out wrong.
* the PE grid: the stationary ``AR*V x AC`` tile of WS/IS (V = ``pe_dot_width``: a PE holds V of its
  rows; PRELOAD fills rows ``< K_t``, zeros the rest) and the ``AR x AC`` output registers of OS (which
  reduce V k-rows a cycle: a COMPUTE streams ``ceil(K_t / V)`` cycles). COMPUTE runs the whole grid, stale
  lanes included; only the valid part of a tile reaches a STORE.
* the four dependency-token counters: a pop of an empty counter, or a counter left non-zero at the FENCE,
  is an error.

While it executes it counts, as the "Traffic" section defines them: DRAM bytes read by LOADs (padding
positions are written to the scratchpad as zeros, not read), scratchpad element writes (padding included)
and reads (elements preloaded or streamed into the grid), accumulator element writes and reads (accumulating
COMPUTEs and STOREs), DRAM bytes written, and MACs (PE operations whose two operands are both valid). Valid
means written by the LOAD that filled the buffer: every buffer remembers the rows x lanes its last LOAD
wrote, and consuming rows or lanes that were not loaded is an error. tests/kernels/test_executed.py holds
these counts equal to :func:`accelsim.memory.traffic` and the outputs to
:func:`accelsim.reference.conv2d_numpy`.

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
COLUMNS = ("op", "pop_prev", "pop_next", "push_prev", "push_next", "buf", "acc_buf", "accumulate", "operand",
           "rows", "lanes", "n0", "e0", "f0", "c0", "r0", "s0", "m0", "k0")
(_OP, _POP_PREV, _POP_NEXT, _PUSH_PREV, _PUSH_NEXT, _BUF, _ACC_BUF, _ACCUMULATE, _OPERAND, _ROWS, _LANES,
 _N0, _E0, _F0, _C0, _R0, _S0, _M0, _K0) = range(len(COLUMNS))
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
    3: "a LOAD fits its scratchpad buffer (rows_per_buffer x lanes)",
    4: ("PRELOAD/COMPUTE consume exactly the rows and lanes their buffers' last LOADs wrote, fit the grid "
        "and the accumulator buffer, and accumulate onto a tile of their own extent"),
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
def _load_input(cmd, regs, dram, spad, ext, counts):
    """LOAD of the input (implicit im2col): rows x lanes of (pixel, reduction) pairs; WS: rows are pixels,
    lanes reductions; IS/OS: rows reductions, lanes pixels. Padding positions are written as zeros and not
    read from DRAM. Returns False if the tile does not fit the buffer."""
    rows, lanes, buf = cmd[_ROWS], cmd[_LANES], cmd[_BUF]
    if rows > spad.shape[1] or lanes > spad.shape[2]:
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
            spad[buf, i, j] = value
            counts[_IF_W] += 1
            if pixel_rows:
                la, lb, lc = _next3(la, lb, lc, R, S)
            else:
                la, lb, lc = _next3(la, lb, lc, E, F)
        if pixel_rows:
            ra, rb, rc = _next3(ra, rb, rc, E, F)
        else:
            ra, rb, rc = _next3(ra, rb, rc, R, S)
    ext[buf, 0] = rows
    ext[buf, 1] = lanes
    return True


@compilable
def _load_weight(cmd, regs, dram, spad, ext, counts):
    """LOAD of weights ``B[k][m] = w[m][k]`` (w is (M, K) in DRAM): WS/OS rows are k, lanes m; IS rows m,
    lanes k. Every element is read from DRAM."""
    rows, lanes, buf = cmd[_ROWS], cmd[_LANES], cmd[_BUF]
    if rows > spad.shape[1] or lanes > spad.shape[2]:
        return False
    K, base, m0, k0 = regs[_RK], regs[_RWB], cmd[_M0], cmd[_K0]
    k_rows = regs[_RDF] != DF_IS
    for i in range(rows):
        for j in range(lanes):
            k, m = (k0 + i, m0 + j) if k_rows else (k0 + j, m0 + i)
            spad[buf, i, j] = _int8_at(dram, base + m * K + k)
            counts[_DRAM_W] += 1
            counts[_W_W] += 1
    ext[buf, 0] = rows
    ext[buf, 1] = lanes
    return True


@compilable
def _preload(K_t, spad, ext, buf, grid, grid_ext, counts, read_counter):
    """PRELOAD (WS: weights, IS: inputs): rows ``< K_t`` of the buffer into the grid, zeros below.
    The grid's valid extent becomes (K_t rows, the buffer's lanes)."""
    AR, AC = grid.shape
    if K_t > AR or K_t != ext[buf, 0] or ext[buf, 1] > AC:
        return False
    for i in range(AR):
        for j in range(AC):
            grid[i, j] = spad[buf, i, j] if i < K_t else 0
    counts[read_counter] += K_t * ext[buf, 1]
    grid_ext[0] = K_t
    grid_ext[1] = ext[buf, 1]
    return True


@compilable
def _accumulate(acc, a, row, j, value, accumulate):
    """Write one accumulator element (the read-add-write of an accumulating COMPUTE)."""
    if accumulate:
        acc[a, row, j] = np.int64(acc[a, row, j]) + value  # int32 store: wraps modulo 2**32
    else:
        acc[a, row, j] = value


@compilable
def _accumulated(counts, acc_ext, a, rows, cols, macs, accumulate):
    """A COMPUTE wrote rows x cols of accumulator buffer ``a`` (reading them first if ``accumulate``)."""
    counts[_MACS] += macs
    counts[_ACC_W] += rows * cols
    if accumulate:
        counts[_ACC_R] += rows * cols
    acc_ext[a, 0] = rows
    acc_ext[a, 1] = cols


@compilable
def _compute_stream(cmd, spad, ext, grid, grid_ext, acc, acc_ext, counts, read_counter):
    """COMPUTE of WS/IS: T rows of the streamed buffer through the stationary grid into accumulator rows
    0..T-1. ``acc[t][j] (+)= sum_i row_t[i] * grid[i][j]`` over the whole grid; valid extent: T rows x the
    grid's valid columns, MACs where the streamed lane and the grid element are both valid."""
    T, buf, a, accumulate = cmd[_ROWS], cmd[_BUF], cmd[_ACC_BUF], cmd[_ACCUMULATE]
    AR, AC = grid.shape
    k_valid, cols = grid_ext[0], grid_ext[1]
    if ext[buf, 0] != T or ext[buf, 1] != k_valid or acc.shape[1] < T:
        return False
    if accumulate and (acc_ext[a, 0] != T or acc_ext[a, 1] != cols):
        return False
    for t in range(T):
        for j in range(AC):
            s = np.int64(0)
            for i in range(AR):
                s += np.int64(spad[buf, t, i]) * grid[i, j]
            _accumulate(acc, a, t, j, s, accumulate)
    counts[read_counter] += T * k_valid
    _accumulated(counts, acc_ext, a, T, cols, T * k_valid * cols, accumulate)
    return True


@compilable
def _compute_os(cmd, V, x_spad, x_ext, w_spad, w_ext, grid, acc, acc_ext, counts):
    """COMPUTE of OS: K_t rows of both buffers reduced in the output-stationary grid,
    ``grid[i][j] = sum_t x_row_t[i] * w_row_t[j]``, then the AR x AC outputs shift out into accumulator rows
    0..AR-1. Valid extent: the ifmap buffer's lanes (pixels) x the weight buffer's lanes (channels). With
    V-wide dot-product PEs the command streams ``ceil(K_t / V)`` cycles of V rows each."""
    S, buf, a, accumulate = cmd[_ROWS], cmd[_BUF], cmd[_ACC_BUF], cmd[_ACCUMULATE]
    T = x_ext[buf, 0]  # K_t: the rows both buffers' last LOADs wrote
    AR, AC = grid.shape
    rows, cols = x_ext[buf, 1], w_ext[buf, 1]
    if (S != -(-T // V) or w_ext[buf, 0] != T or rows > AR or cols > AC
            or acc.shape[1] < AR):
        return False
    if accumulate and (acc_ext[a, 0] != rows or acc_ext[a, 1] != cols):
        return False
    for i in range(AR):
        for j in range(AC):
            grid[i, j] = 0
    for t in range(T):
        for i in range(AR):
            xv = np.int64(x_spad[buf, t, i])
            for j in range(AC):
                grid[i, j] += xv * w_spad[buf, t, j]
    for i in range(AR):
        for j in range(AC):
            _accumulate(acc, a, i, j, grid[i, j], accumulate)
    counts[_IF_R] += T * rows
    counts[_W_R] += T * cols
    _accumulated(counts, acc_ext, a, rows, cols, T * rows * cols, accumulate)
    return True


@compilable
def _store(cmd, regs, acc, acc_ext, dram, counts):
    """STORE: rows x lanes of accumulator buffer ``acc_buf`` to the output (N, M, E, F) in DRAM; WS/OS rows
    are pixels from (n0, e0, f0) and lanes channels from m0, IS the transpose. int32 little-endian, or
    requantized to int8 (round-half-up shift, saturate: accelsim.reference.requantize)."""
    rows, lanes, a, m0 = cmd[_ROWS], cmd[_LANES], cmd[_ACC_BUF], cmd[_M0]
    if rows > acc_ext[a, 0] or lanes > acc_ext[a, 1]:
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
            v = np.int64(acc[a, i, j])
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
    x_ext = np.zeros((2, 2), np.int64)  # per buffer: rows, lanes written by its last LOAD
    w_ext = np.zeros((2, 2), np.int64)
    acc_ext = np.zeros((2, 2), np.int64)  # per accumulator buffer: rows, lanes written by COMPUTEs
    grid_ext = np.zeros(2, np.int64)  # valid rows, cols of the stationary tile
    tokens = np.zeros(4, np.int64)
    df = regs[_RDF]
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
                ok = _load_input(cmd, regs, dram, x_spad, x_ext, counts)
            else:
                ok = _load_weight(cmd, regs, dram, w_spad, w_ext, counts)
            status = 3
        elif op == _PRELOAD:
            if df == DF_IS:
                ok = _preload(cmd[_LANES], x_spad, x_ext, cmd[_BUF], grid, grid_ext, counts, _IF_R)
            else:
                ok = _preload(cmd[_LANES], w_spad, w_ext, cmd[_BUF], grid, grid_ext, counts, _W_R)
            status = 4
        elif op == _COMPUTE:
            if df == DF_OS:
                ok = _compute_os(cmd, regs[_RV], x_spad, x_ext, w_spad, w_ext, grid, acc, acc_ext, counts)
            elif df == DF_IS:
                ok = _compute_stream(cmd, w_spad, w_ext, grid, grid_ext, acc, acc_ext, counts, _W_R)
            else:
                ok = _compute_stream(cmd, x_spad, x_ext, grid, grid_ext, acc, acc_ext, counts, _IF_R)
            status = 4
        else:
            ok = _store(cmd, regs, acc, acc_ext, dram, counts)
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

def program_tables(m: mapping.Mapping, *,
                   requantize_shift: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The layer's command stream as (commands table, layer registers), both decoded from the 128-bit
    encoding of :func:`accelsim.mapping.program`."""
    decoded = [Command.unpack(c.pack()) for c in mapping.program(m, requantize_shift=requantize_shift)]
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
    """Fresh machine state for :func:`run_program`: DRAM holding x and w, garbage-filled buffers and grid."""
    layer, buf = m.layer, mapping.Buffers.of(arch)
    AR, AC = arch.array_rows, arch.array_cols
    rng = np.random.default_rng(seed)
    dram = np.zeros(m.out_base + layer.output_elems * out_bytes, np.uint8)
    dram[m.x_base:m.x_base + x.size] = np.ascontiguousarray(x).reshape(-1).view(np.uint8)
    dram[m.w_base:m.w_base + w.size] = np.ascontiguousarray(w).reshape(-1).view(np.uint8)
    return {
        "dram": dram,
        "x_spad": rng.integers(-128, 128, (2, buf.ifmap_rows, buf.ifmap_lanes), dtype=np.int8),
        "w_spad": rng.integers(-128, 128, (2, buf.weight_rows, buf.weight_lanes), dtype=np.int8),
        "acc": rng.integers(-(2**31), 2**31, (2, buf.acc_rows, AC), dtype=np.int32),
        # a V-wide dot-product PE (pe_dot_width) of WS/IS holds V stationary elements of V consecutive
        # reduction lanes: the grid as the arithmetic sees it has AR*V rows (docs: "Dot-product PEs"); an OS
        # PE holds one output whatever V
        "grid": rng.integers(-(2**31), 2**31, (AR * (1 if m.dataflow is Dataflow.OS else m.pe_dot_width), AC),
                             dtype=np.int64),
    }


def execute_mapping(x: np.ndarray, w: np.ndarray, m: mapping.Mapping, arch: ArchConfig, *,
                    requantize_shift: int | None = None,
                    interpreted: bool = False) -> tuple[np.ndarray, Counts]:
    """Execute layer ``m.layer`` exactly as mapping ``m`` tiles it on ``arch``: returns the outputs
    (N, M, E, F), int32 or int8 when ``requantize_shift`` is given, and the :class:`Counts` measured.
    :func:`run_program` runs compiled by Numba, or ``interpreted`` (the same code, for the tests)."""
    layer = m.layer
    N, M, C, H, W, R, S, E, F = check_operands(x, w, layer.stride, layer.pad, layer.groups)
    require(x.dtype == np.int8, "x.dtype", "int8 (the machine's operands)", str(x.dtype))
    require((N, M, C, H, W, R, S) == (layer.N, layer.M, layer.C, layer.H, layer.W, layer.R, layer.S),
            "operand shapes", f"those of the mapped layer {layer.spec()}", (x.shape, w.shape))
    require(arch.dataflow is m.dataflow, "arch.dataflow", f"the mapping's ({m.dataflow.name})", arch.dataflow)
    ob = 4 if requantize_shift is None else 1
    cmds, regs = program_tables(m, requantize_shift=requantize_shift)
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
