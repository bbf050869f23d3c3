"""Exact int8 convolution as an implicit GEMM on pairs of 16-bit integers (the ``"igemm"`` route).

Why: a float32 FMA does 8 multiply-adds per AVX2 instruction; ``vpmaddwd`` multiplies 16 pairs of int16 and
adds each pair into an int32 lane, 16 multiply-adds per instruction, exact. On these machines one core runs
this kernel at about 1.6x OpenBLAS's single-core sgemm.

Layout. The reduction index k = (channel c, filter row r, column s) is taken two channels at a time, so
every 32-bit word holds a pair (channel 2p, channel 2p+1) of int16 values:

* ``xpair[n, p, h, v]`` = (x[n, 2p, h, v], x[n, 2p+1, h, v]) of the zero-padded input (a zero channel
  completes an odd count), stored flat per image with the padded row pitch Wp;
* ``wpair[m, k]`` = (w[m, 2p, r, s], w[m, 2p+1, r, s]) for the pair-tap k = (p*R + r)*S + s, zero rows
  completing the last panel of MR output channels.

Implicit GEMM with "wide" rows: output pixel (e, f) lives at index ``i = e*Wp + f`` of a plane of pitch Wp,
and its pair-tap k reads ``xpair`` at ``i + offs[k]`` with ``offs[k] = (p*Hp + r)*Wp + s``. So for 16
consecutive output indices each tap is ONE contiguous 64-byte load -- no unfolded matrix is ever written.
The Wp - F columns between rows are garbage and are dropped when the wide result is cropped into ``out``.
A stride > 1 is first turned into stride 1 by space-to-depth: phase (a, b) of channel c becomes channel
``(c*U + a)*U + b`` of an input of (E + R' - 1) x (F + S' - 1) pixels, with R' = ceil(R/U), S' = ceil(S/U),
and the filter taps regrouped the same way (taps beyond R x S are zero).

The tile kernel :func:`_tile` is LLVM IR built through a Numba intrinsic (Numba has no vector type): MR x 16
int32 accumulators live in registers (MR = 6: 12 of the 16 AVX2 registers), and per pair-tap it does two
64-byte loads, MR broadcasts and 2*MR ``pmaddwd`` + adds. On AVX2 hosts ``pmaddwd`` is the instruction
(``llvm.x86.avx2.pmadd.wd``); elsewhere it is portable IR (sign-extend even and odd lanes, multiply, add),
correct everywhere but slower.

Exactness. |int8 * int8| <= 2**14, so a pair sum is <= 2**15 in magnitude: exact in an int32 lane. The lanes
then accumulate with 32-bit two's-complement adds, i.e. modulo 2**32, which is associative: each output is
the exact sum reduced modulo 2**32, what :func:`accelsim.reference.wrap_int32` gives. The zero padding
(pixels, channels, output channels, taps) contributes exact zeros.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import binding, ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .workspace import scratch

MR = 6  # output channels per register tile
NR = 16  # output pixels per register tile (two vectors of 8 int32)


def _host_has_avx2() -> bool:
    """Whether Numba compiles for this machine's CPU and that CPU has AVX2 (NUMBA_CPU_NAME unset)."""
    if numba.config.CPU_NAME not in (None, "host"):
        return False
    try:
        return bool(binding.get_host_cpu_features().get("avx2", False))
    except RuntimeError:  # llvmlite cannot query the host
        return False


# LLVM's x86 backend turns the portable even/odd multiply-add into vpmaddwd only in simple code; inside the
# tile loop it emits vpmulld and shuffles (3x slower), so on AVX2 hosts the tile calls the instruction.
USE_VPMADDWD = _host_has_avx2()


@intrinsic
def _tile(typingctx, wflat, w_start, xflat, x_start, offs, kpairs, cflat, c_start, ldc):
    """c[c_start + i*ldc + j] = sum_k pmaddwd(w[w_start + i*kpairs + k], x[x_start + offs[k] + j]) for i < MR,
    j < NR. All arrays are flat; w, x and c are int32 (w and x words are int16 pairs), offs is int64.
    """
    sig = types.void(wflat, w_start, xflat, x_start, offs, kpairs, cflat, c_start, ldc)

    def codegen(context, builder, signature, args):
        w_v, w_start_v, x_v, x_start_v, offs_v, kp_v, c_v, c_start_v, ldc_v = args
        wty, _, xty, _, oty, _, cty, _, _ = signature.args
        i16, i32, i64 = ir.IntType(16), ir.IntType(32), ir.IntType(64)
        v8, v16 = ir.VectorType(i32, 8), ir.VectorType(i16, 16)
        w_base = builder.gep(context.make_array(wty)(context, builder, w_v).data, [w_start_v])
        x_base = builder.gep(context.make_array(xty)(context, builder, x_v).data, [x_start_v])
        o_data = context.make_array(oty)(context, builder, offs_v).data
        c_base = builder.gep(context.make_array(cty)(context, builder, c_v).data, [c_start_v])
        undef16 = ir.Constant(v16, ir.Undefined)
        even = ir.Constant(v8, list(range(0, 16, 2)))
        odd = ir.Constant(v8, list(range(1, 16, 2)))
        broadcast = ir.Constant(v8, [0] * 8)
        zero = ir.Constant(v8, None)

        vpmaddwd = None
        if USE_VPMADDWD:
            fnty = ir.FunctionType(v8, [v16, v16])
            vpmaddwd = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.avx2.pmadd.wd")

        def pmaddwd(a, b):  # lane l: a[2l]*b[2l] + a[2l+1]*b[2l+1], exact in int32
            if vpmaddwd is not None:
                return builder.call(vpmaddwd, [a, b])

            def widen(v, lanes):
                return builder.sext(builder.shuffle_vector(v, undef16, lanes), v8)

            lo = builder.mul(widen(a, even), widen(b, even))
            return builder.add(lo, builder.mul(widen(a, odd), widen(b, odd)))

        w_rows = [builder.gep(w_base, [builder.mul(kp_v, ir.Constant(i64, i))]) for i in range(MR)]
        entry = builder.basic_block
        loop = builder.append_basic_block("tile.loop")
        done = builder.append_basic_block("tile.done")
        builder.cbranch(builder.icmp_signed(">", kp_v, ir.Constant(i64, 0)), loop, done)

        builder.position_at_end(loop)
        k = builder.phi(i64)
        k.add_incoming(ir.Constant(i64, 0), entry)
        acc = [builder.phi(v8) for _ in range(2 * MR)]
        for a in acc:
            a.add_incoming(zero, entry)
        src = builder.bitcast(builder.gep(x_base, [builder.load(builder.gep(o_data, [k]))]), v16.as_pointer())
        x_lo = builder.load(src, align=4)
        x_hi = builder.load(builder.gep(src, [ir.Constant(i64, 1)]), align=4)
        new = []
        for i in range(MR):
            pair = builder.load(builder.gep(w_rows[i], [k]), align=4)
            lanes = builder.insert_element(ir.Constant(v8, ir.Undefined), pair, ir.Constant(i32, 0))
            wv = builder.bitcast(builder.shuffle_vector(lanes, ir.Constant(v8, ir.Undefined), broadcast), v16)
            new.append(builder.add(acc[2 * i], pmaddwd(wv, x_lo)))
            new.append(builder.add(acc[2 * i + 1], pmaddwd(wv, x_hi)))
        k_next = builder.add(k, ir.Constant(i64, 1))
        latch = builder.basic_block
        k.add_incoming(k_next, latch)
        for a, value in zip(acc, new, strict=True):
            a.add_incoming(value, latch)
        builder.cbranch(builder.icmp_signed("<", k_next, kp_v), loop, done)

        builder.position_at_end(done)
        final = []
        for value in new:  # all phis first: LLVM wants them at the top of the block
            phi = builder.phi(v8)
            phi.add_incoming(zero, entry)
            phi.add_incoming(value, latch)
            final.append(phi)
        for i in range(MR):
            row = builder.gep(c_base, [builder.mul(ldc_v, ir.Constant(i64, i))])
            row = builder.bitcast(row, v8.as_pointer())
            for half in range(2):
                builder.store(final[2 * i + half], builder.gep(row, [ir.Constant(i64, half)]), align=4)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def pack_input(x, c0, Cg, pad, stride, Hs, Ws, xpair):
    """xpair (N, P, Hs, Ws, 2) int16 = channel pairs of the padded, space-to-depth input of channels
    c0 .. c0+Cg of x. Space-to-depth channel q = (c*U + a)*U + b holds x[n, c0 + c, U*h + a - pad,
    U*v + b - pad] (zero outside x); q >= Cg*U*U is a zero channel completing the last pair.

    Serial: it is a small fraction of the work, and each Numba parallel region costs tens of microseconds
    to start with the workqueue layer. Stride 1 (no space-to-depth) interleaves two contiguous input rows
    in one loop; other strides fill each half of the pair over its valid columns [v_lo, v_hi).
    """
    N, _, H, W = x.shape
    U = stride
    P = xpair.shape[1]
    for job in range(N * P):
        n = job // P
        p = job - n * P
        plane = xpair[n, p]
        if U == 1:
            flat = plane.reshape(Hs * Ws * 2)
            flat[:] = 0
            c = 2 * p
            for h in range(H):
                dst = flat[((pad + h) * Ws + pad) * 2:]
                src0 = x[n, c0 + c, h]
                if c + 1 < Cg:
                    src1 = x[n, c0 + c + 1, h]
                    for v in range(W):
                        dst[2 * v] = src0[v]
                        dst[2 * v + 1] = src1[v]
                else:
                    for v in range(W):
                        dst[2 * v] = src0[v]
            continue
        for t in range(2):
            q = 2 * p + t
            c, a, b = q // (U * U), (q // U) % U, q % U
            v_lo = min(max(0, (pad - b + U - 1) // U), Ws)
            v_hi = max(min(Ws, (W - 1 + pad - b) // U + 1), v_lo)
            for h in range(Hs):
                row = plane[h]
                hx = U * h + a - pad
                lo, hi = v_lo, v_hi
                if c >= Cg or hx < 0 or hx >= H:
                    lo = hi = Ws
                for v in range(lo):
                    row[v, t] = 0
                if hi > lo:
                    src = x[n, c0 + c, hx, U * lo + b - pad:]
                    dst = row[lo:hi, t]
                    for j in range(hi - lo):
                        dst[j] = src[U * j]
                for v in range(hi, Ws):
                    row[v, t] = 0


@njit(cache=True)
def pack_weights(w, m0, Mg, stride, Rs, Ss, wpair):
    """wpair (Mpad, P*Rs*Ss, 2) int16 = filter pairs of output channels m0 .. m0+Mg, regrouped for the
    space-to-depth input: channel q = (c*U + a)*U + b, tap (r, s) holds w[m, c, U*r + a, U*s + b] (zero
    where that tap is outside R x S, for q >= Cg*U*U and for the rows m >= Mg completing the last panel).

    Serial, like :func:`pack_input`. Stride 1 interleaves two contiguous filter planes in one loop.
    """
    Cg, R, S = w.shape[1], w.shape[2], w.shape[3]
    U = stride
    Mpad, K = wpair.shape[0], wpair.shape[1]
    P = K // (Rs * Ss)
    for m in range(Mpad):
        dst = wpair[m]
        if m >= Mg:
            dst[:, :] = 0
            continue
        if U == 1:
            RS = R * S
            flat = w[m0 + m].reshape(Cg * RS)
            pairs = dst.reshape(K * 2)
            for p in range(Cg // 2):  # pair p of taps k: pairs[2*(p*RS + k) + t] = flat[(2*p + t)*RS + k]
                base = 2 * p * RS
                for k in range(RS):
                    pairs[base + 2 * k] = flat[base + k]
                    pairs[base + 2 * k + 1] = flat[base + RS + k]
            if Cg % 2:  # the last channel pairs with a zero channel
                base = (Cg - 1) * RS
                for k in range(RS):
                    pairs[base + 2 * k] = flat[base + k]
                    pairs[base + 2 * k + 1] = 0
            continue
        for q in range(2 * P):
            p, t = q // 2, q % 2
            c, a, b = q // (U * U), (q // U) % U, q % U
            for r in range(Rs):
                ry = U * r + a
                for s in range(Ss):
                    sx = U * s + b
                    value = 0
                    if c < Cg and ry < R and sx < S:
                        value = w[m0 + m, c, ry, sx]
                    dst[(p * Rs + r) * Ss + s, t] = value


@njit(parallel=True, cache=True)
def igemm(xflat, image_words, wflat, Mpan, offs, L, Wp, m0, Mg, outw, out):
    """out[n, m0 + m, e, f] for m < Mg, through the wide int32 result outw (N, Mpan*MR, npan*NR).

    First one parallel job per (image, pixel tile, MR output channels), consecutive jobs sharing a pixel
    tile so its input words stay in L1; then the valid columns of the wide rows (pitch Wp) are cropped
    into ``out``. Both loops live in this one function, so Python starts the threads once.
    """
    N, ldc = outw.shape[0], outw.shape[2]
    _, _, E, F = out.shape
    K = offs.shape[0]
    npan = (L + NR - 1) // NR
    cflat = outw.reshape(outw.size)
    plane = Mpan * MR * ldc
    for job in prange(N * npan * Mpan):
        n = job // (npan * Mpan)
        rest = job - n * npan * Mpan
        pan = rest // Mpan
        mp = rest - pan * Mpan
        _tile(wflat, mp * MR * K, xflat, n * image_words + pan * NR, offs, K, cflat,
              n * plane + mp * MR * ldc + pan * NR, ldc)
    for job in prange(N * Mg):
        n = job // Mg
        m = job - n * Mg
        src = outw[n, m]
        for e in range(E):
            row = src[e * Wp:]
            dst = out[n, m0 + m, e]
            for f in range(F):
                dst[f] = row[f]


def conv2d_igemm(x: np.ndarray, w: np.ndarray, stride: int, pad: int, groups: int, out: np.ndarray) -> None:
    """Fill the int32 ``out`` (N, M, E, F) with the exact int8 convolution, one implicit GEMM per group."""
    N, M, E, F = out.shape
    C, R, S = x.shape[1], w.shape[2], w.shape[3]
    Cg, Mg, U = C // groups, M // groups, stride
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    Rs, Ss = -(-R // U), -(-S // U)  # filter size after space-to-depth
    Hs, Ws = E + Rs - 1, F + Ss - 1  # its input size (stride 1, no padding)
    P = -(-Cg * U * U // 2)  # channel pairs
    Mpan = -(-Mg // MR)
    L = (E - 1) * Ws + F  # wide output length; the last tile reads up to NR - 1 words past it
    npan = -(-L // NR)
    image_words = P * Hs * Ws
    taps = [(p * Hs + r) * Ws + s for p in range(P) for r in range(Rs) for s in range(Ss)]
    offs = np.array(taps, dtype=np.int64)
    # The last image's last tile reads at most NR - 1 words past its plane (see L above): a zeroed tail.
    words = scratch("igemm.words", (N * image_words + NR,), np.int32)
    words[N * image_words:] = 0
    xpair = words[:N * image_words].view(np.int16).reshape(N, P, Hs, Ws, 2)
    wpair = scratch("igemm.wpair", (Mpan * MR, P * Rs * Ss, 2), np.int16)
    outw = scratch("igemm.outw", (N, Mpan * MR, npan * NR), np.int32)
    for g in range(groups):
        pack_input(x, g * Cg, Cg, pad, U, Hs, Ws, xpair)
        pack_weights(w, g * Mg, Mg, U, Rs, Ss, wpair)
        igemm(words, image_words, wpair.reshape(-1).view(np.int32), Mpan, offs, L, Ws, g * Mg, Mg, outw, out)
