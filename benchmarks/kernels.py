"""Convolution throughput of accelsim.kernels against numpy im2col + BLAS and PyTorch, in one run.

    python benchmarks/kernels.py [--reps 7] [--shapes conv2_x,alexnet_conv1] [--no-torch]

For each layer shape it times every route of :func:`accelsim.kernels.conv2d` on float32 and on int8 (exact
int8 -> int32), the automatic dispatch, a plain numpy im2col (strided slice copies) + ``matmul`` (OpenBLAS
sgemm) on float32, and ``torch.nn.functional.conv2d`` on float32 NCHW (oneDNN) when torch is importable
(it is optional: ``pip install torch==2.13.0``). Throughput is GFLOP/s = 2 * MACs / second.

Timing: every contender is run once to compile and warm up, then the contenders take turns, one call each,
for ``--reps`` rounds, so a burst of load from other processes hits all of them alike; the best time of
each is reported (the machine is shared, so the best is the least disturbed measurement). Ratios are
against numpy im2col + BLAS float32 and against torch float32 measured in the same round-robin.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from accelsim.kernels import FLOAT32_ROUTES, ROUTES, choose_route, conv2d, rule_route

from accelsim import ConvLayer

SHAPES = {
    "conv2_x": ConvLayer(N=1, C=64, M=64, H=56, W=56, R=3, S=3, pad=1, name="ResNet-50 conv2_x 3x3"),
    "conv4_x": ConvLayer(N=1, C=256, M=256, H=14, W=14, R=3, S=3, pad=1, name="ResNet-50 conv4_x 3x3"),
    "1x1": ConvLayer(N=1, C=256, M=64, H=56, W=56, R=1, S=1, name="ResNet-50 1x1 256->64"),
    "alexnet_conv1": ConvLayer(N=1, C=3, M=96, H=227, W=227, R=11, S=11, stride=4, name="AlexNet conv1"),
    "conv2_x_n8": ConvLayer(N=8, C=64, M=64, H=56, W=56, R=3, S=3, pad=1, name="ResNet-50 conv2_x 3x3, N=8"),
}


def numpy_im2col(x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """The textbook numpy convolution: pad, R*S strided slice copies into columns, one batched sgemm."""
    N, C, H, W = x.shape
    M, _, R, S = w.shape
    E, F = (H + 2 * pad - R) // stride + 1, (W + 2 * pad - S) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    col = np.empty((N, C, R, S, E, F), dtype=x.dtype)
    for r in range(R):
        for s in range(S):
            col[:, :, r, s] = xp[:, :, r:r + stride * (E - 1) + 1:stride, s:s + stride * (F - 1) + 1:stride]
    return np.matmul(w.reshape(M, -1), col.reshape(N, C * R * S, E * F)).reshape(N, M, E, F)


def torch_conv2d(x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> Callable[[], object] | None:
    """A zero-argument callable running torch's conv2d on these operands, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_grad_enabled(False)
    tx, tw = torch.from_numpy(x), torch.from_numpy(w)
    return lambda: torch.nn.functional.conv2d(tx, tw, stride=stride, padding=pad)


def race(contenders: dict[str, Callable[[], object]], rounds: int, block: int) -> dict[str, float]:
    """Best wall time (s) of each contender: ``rounds`` turns each, ``block`` back-to-back calls a turn.

    Back-to-back calls let each thread pool (OpenBLAS, OpenMP, Numba) settle before it is timed; taking
    turns spreads bursts of load from other processes over all contenders.
    """
    for run in contenders.values():
        run()
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, run in contenders.items():
            for _ in range(block):
                start = time.perf_counter()
                run()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def bench_layer(layer: ConvLayer, rounds: int, block: int, use_torch: bool) -> list[tuple[str, float]]:
    """(contender, GFLOP/s) for one layer, all measured in one round-robin."""
    rng = np.random.default_rng(0)
    shape_x = (layer.N, layer.C, layer.H, layer.W)
    shape_w = (layer.M, layer.C // layer.groups, layer.R, layer.S)
    xf, wf = rng.standard_normal(shape_x, dtype=np.float32), rng.standard_normal(shape_w, dtype=np.float32)
    xi, wi = rng.integers(-128, 128, shape_x, dtype=np.int8), rng.integers(-128, 128, shape_w, dtype=np.int8)
    kw = dict(stride=layer.stride, pad=layer.pad, groups=layer.groups)
    contenders: dict[str, Callable[[], object]] = {
        "numpy im2col+BLAS f32": lambda: numpy_im2col(xf, wf, layer.stride, layer.pad),
    }
    peer = torch_conv2d(xf, wf, layer.stride, layer.pad) if use_torch else None
    if peer is not None:
        contenders["torch conv2d f32"] = peer
    for route in FLOAT32_ROUTES:
        contenders[f"{route} f32"] = lambda route=route: conv2d(xf, wf, route=route, **kw)
    for route in ROUTES:
        contenders[f"{route} int8"] = lambda route=route: conv2d(xi, wi, route=route, **kw)
    best = race(contenders, rounds, block)
    return [(name, 2 * layer.macs / seconds / 1e9) for name, seconds in best.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="turns each contender takes per layer")
    parser.add_argument("--block", type=int, default=3, help="back-to-back timed calls per turn (best kept)")
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated, from {list(SHAPES)}")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is importable")
    args = parser.parse_args(argv)
    names = args.shapes.split(",")
    unknown = [name for name in names if name not in SHAPES]
    if unknown:
        parser.error(f"--shapes must name layers from {list(SHAPES)}, not {unknown!r}")
    for key in names:
        layer = SHAPES[key]
        dims = (layer.N, layer.M, layer.C, layer.R, layer.S, layer.E, layer.F, layer.groups, layer.stride)
        picks = {dtype: choose_route(*dims, dtype=dtype) for dtype in ("float32", "int8")}
        rule = {dtype: rule_route(*dims, dtype=dtype) for dtype in ("float32", "int8")}
        print(f"\n{layer.name}: N={layer.N} C={layer.C} M={layer.M} H={layer.H} W={layer.W} R={layer.R} "
              f"S={layer.S} stride={layer.stride} pad={layer.pad}  (dispatch picks {picks}, measured on this "
              f"machine; the fixed rule would pick {rule})")
        rows = bench_layer(layer, args.rounds, args.block, not args.no_torch)
        gflops = dict(rows)
        base, peer = gflops["numpy im2col+BLAS f32"], gflops.get("torch conv2d f32")
        print(f"  {'contender':<24}{'GFLOP/s':>9}{'vs numpy':>10}{'vs torch':>10}")
        for name, rate in rows:
            vs_torch = f"{rate / peer:9.2f}x" if peer else f"{'-':>10}"
            print(f"  {name:<24}{rate:9.1f}{rate / base:9.2f}x{vs_torch}")


if __name__ == "__main__":
    main()
