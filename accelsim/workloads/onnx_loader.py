"""ONNX models -> ConvLayers, with the ``onnx`` package (imported only when a model is loaded).

The model is checked (``onnx.checker``), shapes are inferred (``onnx.shape_inference`` with data
propagation, so a Flatten written as Shape/Gather/Reshape still has known shapes), and each node becomes at
most one layer, in graph order, named after the node (``<op>_<index>`` when the node has no name):

- ``Conv`` on a 4-D input (N, C, H, W) -> a ConvLayer with the weight's M and R x S (``kernel_shape`` must
  agree), ``group``, one stride (``strides`` must be equal in both dimensions), one pad (``pads``, or those
  ``auto_pad`` implies, must be the same on all four sides) and ``dilations`` all 1.
- ``Gemm`` ``Y = A' B'`` (A' = A or A^T per ``transA``, B' likewise per ``transB``) with A' of shape
  (rows, K) and B' (K, cols) -> ``ConvLayer.fc(K, cols, N=rows)``.
- ``MatMul`` of two 2-D matrices (rows, K) x (K, cols) -> the same.
- Ops without multiply-accumulates (:data:`MAC_FREE_OPS`: activations, element-wise arithmetic, pooling,
  normalisation, reshaping, ...) are skipped.

Anything else raises :class:`AccelsimError` (ConvTranspose, QLinearConv, Einsum, RNNs, control flow, custom
domains), as do Conv nodes the ConvLayer cannot express (dilation, asymmetric padding, unequal strides, 1-D
or 3-D convolution). A symbolic batch dimension (``batch_size``) counts as 1; any other unknown size is an
error. A file that does not parse, check or shape-infer raises :class:`AccelsimError` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accelsim import inputs
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer

MAPPED_OPS = ("Conv", "Gemm", "MatMul")

# Ops that move, reshape, normalise or combine data element by element: no multiply-accumulates to map.
MAC_FREE_OPS = frozenset(
    """
    Abs Add And ArgMax ArgMin AveragePool BatchNormalization BitShift Cast CastLike Ceil Celu Clip Concat
    Constant ConstantOfShape Cos DepthToSpace DequantizeLinear Div Dropout Elu Equal Erf Exp Expand
    EyeLike Flatten Floor Gather GatherElements GatherND Gelu GlobalAveragePool GlobalLpPool GlobalMaxPool
    Greater GreaterOrEqual GroupNormalization HardSigmoid HardSwish Hardmax Identity InstanceNormalization
    IsInf IsNaN LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax LpNormalization LpPool LRN
    Max MaxPool Mean MeanVarianceNormalization Min Mish Mod Mul Neg NonZero Not OneHot Or Pad Pow PRelu
    QuantizeLinear Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean
    ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize Round ScatterElements ScatterND Selu
    Shape Shrink Sigmoid Sign Sin Size Slice Softmax Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub
    Sum Tan Tanh ThresholdedRelu Tile TopK Transpose Trilu Unsqueeze Upsample Where Xor
    """.split()  # noqa: SIM905 -- a word list reads better than 120 quoted strings
)

Dims = list[int | str]
"""A tensor shape after shape inference: an int per known dimension, its symbol (or "?") otherwise."""


def _tensor_shapes(graph: Any) -> dict[str, Dims]:
    shapes: dict[str, Dims] = {}
    for info in (*graph.input, *graph.value_info, *graph.output):
        tensor = info.type.tensor_type
        if tensor.HasField("shape"):
            shapes[info.name] = [
                dim.dim_value if dim.HasField("dim_value") else (dim.dim_param or "?")
                for dim in tensor.shape.dim
            ]
    for init in graph.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


class _Node:
    """One graph node's attributes and operand shapes, with errors that name the node."""

    def __init__(self, node: Any, index: int, shapes: dict[str, Dims]) -> None:
        from onnx import helper

        self.op = node.op_type
        self.name = node.name or f"{node.op_type}_{index}"
        self.what = f"ONNX node {self.name!r} ({node.op_type})"
        self.inputs = list(node.input)
        self.attrs = {attr.name: helper.get_attribute_value(attr) for attr in node.attribute}
        self._shapes = shapes

    def shape(self, position: int, rank: int, rule: str, batch_axes: tuple[int, ...] = ()) -> list[int]:
        """Input ``position``'s shape, ``rank`` dims; a symbolic dim in ``batch_axes`` counts as 1."""
        require(position < len(self.inputs), f"{self.what} inputs", f"at least {position + 1}", self.inputs)
        tensor = self.inputs[position]
        where = f"{self.what} input {tensor!r} shape"
        dims = self._shapes.get(tensor)
        if dims is None:
            raise AccelsimError(f"{where} must be known after shape inference, not missing")
        require(len(dims) == rank, where, rule, dims)
        sizes = [1 if isinstance(d, str) and axis in batch_axes else d for axis, d in enumerate(dims)]
        known = all(isinstance(d, int) for d in sizes)
        require(known, where, "fully known (only the batch may be symbolic)", dims)
        rule = "positive in every dimension" + (" (it has a zero dimension: an empty tensor)" * (0 in sizes))
        require(all(d > 0 for d in sizes), where, rule, dims)
        return [int(d) for d in sizes]

    def ints(self, key: str, default: list[int]) -> list[int]:
        return list(self.attrs.get(key, default))


def _conv_pads(node: _Node, size: list[int], kernel: list[int], stride: int) -> list[int]:
    """[top, left, bottom, right] from ``pads`` or ``auto_pad`` (SAME_*: out = ceil(in / stride))."""
    auto_pad = node.attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad == "NOTSET":
        return node.ints("pads", [0, 0, 0, 0])
    if auto_pad == "VALID":
        return [0, 0, 0, 0]
    same = ("SAME_UPPER", "SAME_LOWER")
    require(auto_pad in same, f"{node.what} auto_pad", "NOTSET, VALID, SAME_UPPER or SAME_LOWER", auto_pad)
    begin, end = [], []
    for n, k in zip(size, kernel, strict=True):
        total = max((-(-n // stride) - 1) * stride + k - n, 0)
        low = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
        begin.append(low)
        end.append(total - low)
    return begin + end


def _conv(node: _Node) -> ConvLayer:
    rule = "4-D (N, C, H, W): only 2-D convolutions map to a ConvLayer"
    N, C, H, W = node.shape(0, 4, rule, batch_axes=(0,))
    M, per_group, R, S = node.shape(1, 4, "4-D (M, C/group, R, S)")
    group = int(node.attrs.get("group", 1))
    kernel = node.ints("kernel_shape", [R, S])
    require(kernel == [R, S], f"{node.what} kernel_shape", f"the weight's [{R}, {S}]", kernel)
    weight = f"{node.what} weight shape"
    require(
        per_group * group == C, weight, f"[M, C/group, R, S] with C/group = {C}/{group}", [M, per_group, R, S]
    )
    strides = node.ints("strides", [1, 1])
    square = len(strides) == 2 and strides[0] == strides[1]
    require(square, f"{node.what} strides", "equal in both dimensions", strides)
    dilations = node.ints("dilations", [1, 1])
    require(all(d == 1 for d in dilations), f"{node.what} dilations", "all 1", dilations)
    pads = _conv_pads(node, [H, W], [R, S], strides[0])
    require(
        len(pads) == 4 and len(set(pads)) == 1,
        f"{node.what} pads",
        "symmetric and equal in both dimensions [p, p, p, p]",
        pads,
    )
    return ConvLayer(
        N=N, M=M, C=C, H=H, W=W, R=R, S=S, stride=strides[0], pad=pads[0], groups=group, name=node.name
    )


def _matrix_product(node: _Node, a: list[int], b: list[int]) -> ConvLayer:
    (rows, depth), (depth_b, cols) = a, b
    require(depth_b == depth, f"{node.what} reduction length", f"equal in both operands ({depth})", depth_b)
    return ConvLayer.fc(depth, cols, N=rows, name=node.name)


def _gemm(node: _Node) -> ConvLayer:
    trans_a, trans_b = int(node.attrs.get("transA", 0)), int(node.attrs.get("transB", 0))
    a = node.shape(0, 2, "2-D", batch_axes=(1,) if trans_a else (0,))
    b = node.shape(1, 2, "2-D")
    return _matrix_product(node, a[::-1] if trans_a else a, b[::-1] if trans_b else b)


def _matmul(node: _Node) -> ConvLayer:
    a = node.shape(0, 2, "2-D (batched MatMul is not supported)", batch_axes=(0,))
    return _matrix_product(node, a, node.shape(1, 2, "2-D (batched MatMul is not supported)"))


_MAPPERS = {"Conv": _conv, "Gemm": _gemm, "MatMul": _matmul}


def _read_model(path: Path) -> Any:
    import onnx

    require(path.is_file(), "ONNX file", "an existing file", str(path))
    data = inputs.read_bytes(path, "ONNX file", limit=inputs.ONNX_LIMIT_BYTES)
    try:
        model = onnx.load_from_string(data)  # external weights are never read: only shapes are needed
        onnx.checker.check_model(model)
        return onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as err:  # DecodeError, ValidationError, InferenceError...: all mean a malformed file
        detail = (str(err).strip().splitlines() or [""])[0]
        raise AccelsimError(
            f"ONNX file {str(path)!r} must be a valid ONNX model ({type(err).__name__}: {detail})"
        ) from None


def load_onnx(path: str | Path) -> tuple[ConvLayer, ...]:
    """The Conv, Gemm and MatMul layers of the ONNX model at ``path`` (see the module docstring)."""
    path = Path(path)
    graph = _read_model(path).graph
    shapes = _tensor_shapes(graph)
    layers = []
    for index, proto in enumerate(graph.node):
        node = _Node(proto, index, shapes)
        default_domain = proto.domain in ("", "ai.onnx")
        if default_domain and node.op in _MAPPERS:
            layers.append(_MAPPERS[node.op](node))
        else:
            require(
                default_domain and node.op in MAC_FREE_OPS,
                node.what,
                f"one of {', '.join(MAPPED_OPS)} or an op without MACs (Relu, Add, MaxPool, Reshape, ...)",
                node.op if default_domain else f"{proto.domain}.{node.op}",
            )
    count = f"ONNX file {str(path)!r}: number of Conv, Gemm and MatMul nodes"
    require(bool(layers), count, "at least 1", 0)
    return tuple(layers)
