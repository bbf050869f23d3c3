"""ONNX loader: models built here with onnx.helper (nothing downloaded); every rejection names the node."""

import re

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from accelsim import AccelsimError, ConvLayer
from accelsim.workloads import load
from accelsim.workloads.onnx_loader import MAC_FREE_OPS, load_onnx


def weight(name, *shape):
    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def save(tmp_path, nodes, inputs, outputs, initializers=(), name="model.onnx"):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    domains = {node.domain for node in nodes} - {""}
    opsets = [helper.make_opsetid("", 17), *(helper.make_opsetid(domain, 1) for domain in sorted(domains))]
    model = helper.make_model(graph, opset_imports=opsets)
    path = tmp_path / name
    onnx.save(model, path)
    return path


def tensor(name, *shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def conv_net(tmp_path):
    """conv(3->16, 3x3/2 pad 1) -> BN -> ReLU -> depthwise 3x3 -> grouped 1x1 (groups=4) -> maxpool ->
    GlobalAveragePool -> Flatten -> Gemm(transB) -> Relu -> MatMul."""
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="stem", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "g", "b", "m", "v"], ["bn"], name="bn"),
        helper.make_node("Relu", ["bn"], ["r1"], name="relu"),
        helper.make_node(
            "Conv", ["r1", "w2"], ["c2"], name="dw", kernel_shape=[3, 3], pads=[1] * 4, group=16
        ),
        helper.make_node("Conv", ["c2", "w3"], ["c3"], name="", group=4),  # unnamed -> Conv_4
        helper.make_node("MaxPool", ["c3"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("Gemm", ["flat", "wfc", "bfc"], ["fc"], name="fc", transB=1),
        helper.make_node("Relu", ["fc"], ["r2"]),
        helper.make_node("MatMul", ["r2", "wmm"], ["y"], name="head"),
    ]
    inits = [
        weight("w1", 16, 3, 3, 3),
        *(weight(n, 16) for n in "gbmv"),
        weight("w2", 16, 1, 3, 3),
        weight("w3", 32, 4, 1, 1),
        weight("wfc", 10, 32),
        weight("bfc", 10),
        weight("wmm", 10, 5),
    ]
    return save(tmp_path, nodes, [tensor("x", "batch", 3, 32, 30)], [tensor("y", "batch", 5)], inits)


def test_conv_net(tmp_path):
    stem, dw, grouped, fc, head = load(conv_net(tmp_path))
    assert stem == ConvLayer(M=16, C=3, H=32, W=30, R=3, S=3, stride=2, pad=1, name="stem")
    assert (stem.E, stem.F) == (16, 15)
    assert dw == ConvLayer(M=16, C=16, H=16, W=15, R=3, S=3, pad=1, groups=16, name="dw")
    assert dw.is_depthwise
    assert grouped == ConvLayer(M=32, C=16, H=16, W=15, groups=4, name="Conv_4")
    assert fc == ConvLayer.fc(32, 10, name="fc")  # transB: weight stored (N, K) = (10, 32)
    assert head == ConvLayer.fc(10, 5, name="head")
    assert (head.gemm_P, head.gemm_K, head.gemm_M) == (1, 10, 5)


def test_batch_and_transposed_gemm(tmp_path):
    nodes = [helper.make_node("Gemm", ["a", "b"], ["y"], name="g", transA=1)]
    path = save(tmp_path, nodes, [tensor("a", 64, 4)], [tensor("y", 4, 7)], [weight("b", 64, 7)])
    (layer,) = load_onnx(path)
    assert layer == ConvLayer.fc(64, 7, N=4, name="g")
    assert layer.macs == 4 * 64 * 7


def test_matmul_between_activations_and_same_padding(tmp_path):
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="same", auto_pad="SAME_UPPER"),
        helper.make_node("Reshape", ["c", "shape"], ["m"]),
        helper.make_node("MatMul", ["m", "k"], ["y"], name="mm"),
    ]
    shape = numpy_helper.from_array(np.array([8, 25], dtype=np.int64), "shape")
    path = save(
        tmp_path,
        nodes,
        [tensor("x", 2, 3, 5, 5), tensor("k", 25, 6)],
        [tensor("y", 8, 6)],
        [weight("w", 4, 3, 3, 3), shape],
    )
    conv, mm = load(path)
    assert conv == ConvLayer(N=2, M=4, C=3, H=5, W=5, R=3, S=3, pad=1, name="same")
    assert mm == ConvLayer.fc(25, 6, N=8, name="mm")


def test_no_onnx_import_at_module_top():
    import subprocess
    import sys

    code = "import sys, accelsim.workloads; assert 'onnx' not in sys.modules; print('ok')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout == "ok\n"


def single_node(tmp_path, node, x_shape, w_shape):
    y_shape = [f"y{axis}" for axis in range(len(x_shape))]  # symbolic: left to shape inference
    return save(tmp_path, [node], [tensor("x", *x_shape)], [tensor("y", *y_shape)], [weight("w", *w_shape)])


@pytest.mark.parametrize(
    ("node", "x_shape", "w_shape", "message"),
    [
        (
            helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up"),
            (1, 4, 8, 8),
            (4, 2, 2, 2),
            "ONNX node 'up' (ConvTranspose) must be one of Conv, Gemm, MatMul or an op without MACs "
            "(Relu, Add, MaxPool, Reshape, ...), not 'ConvTranspose'",
        ),
        (
            helper.make_node("Conv", ["x", "w"], ["y"], name="dil", dilations=[2, 2]),
            (1, 4, 8, 8),
            (4, 4, 3, 3),
            "ONNX node 'dil' (Conv) dilations must be all 1, not [2, 2]",
        ),
        (
            helper.make_node("Conv", ["x", "w"], ["y"], name="asym", pads=[0, 0, 1, 1], strides=[2, 2]),
            (1, 4, 8, 8),
            (4, 4, 3, 3),
            "ONNX node 'asym' (Conv) pads must be symmetric and equal in both dimensions [p, p, p, p], "
            "not [0, 0, 1, 1]",
        ),
        (
            helper.make_node("Conv", ["x", "w"], ["y"], name="rect", pads=[1, 0, 1, 0]),
            (1, 4, 8, 8),
            (4, 4, 3, 1),
            "ONNX node 'rect' (Conv) pads must be symmetric and equal in both dimensions [p, p, p, p], "
            "not [1, 0, 1, 0]",
        ),
        (
            helper.make_node("Conv", ["x", "w"], ["y"], name="tall", strides=[2, 1]),
            (1, 4, 8, 8),
            (4, 4, 3, 3),
            "ONNX node 'tall' (Conv) strides must be equal in both dimensions, not [2, 1]",
        ),
        (
            helper.make_node("Conv", ["x", "w"], ["y"], name="vol"),
            (1, 4, 8, 8, 8),
            (4, 4, 3, 3, 3),
            "ONNX node 'vol' (Conv) input 'x' shape must be 4-D (N, C, H, W): only 2-D convolutions map "
            "to a ConvLayer, not [1, 4, 8, 8, 8]",
        ),
        (
            helper.make_node("Conv", ["x", "w"], ["y"], name="same1", auto_pad="SAME_UPPER", strides=[2, 2]),
            (1, 4, 8, 8),
            (4, 4, 3, 3),
            "ONNX node 'same1' (Conv) pads must be symmetric and equal in both dimensions [p, p, p, p], "
            "not [0, 0, 1, 1]",
        ),
        (
            helper.make_node("MatMul", ["x", "w"], ["y"], name="bmm"),
            (2, 3, 4),
            (4, 5),
            "ONNX node 'bmm' (MatMul) input 'x' shape must be 2-D (batched MatMul is not supported), "
            "not [2, 3, 4]",
        ),
        (
            helper.make_node("Conv", ["x", "w"], ["y"], name="fused", domain="com.microsoft"),
            (1, 4, 8, 8),
            (4, 4, 1, 1),
            "ONNX node 'fused' (Conv) must be one of Conv, Gemm, MatMul or an op without MACs "
            "(Relu, Add, MaxPool, Reshape, ...), not 'com.microsoft.Conv'",
        ),
    ],
)
def test_unsupported_nodes(tmp_path, node, x_shape, w_shape, message):
    path = single_node(tmp_path, node, x_shape, w_shape)
    with pytest.raises(AccelsimError) as err:
        load(path)
    assert str(err.value) == message


def test_same_padding_that_is_symmetric_is_accepted(tmp_path):
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="s", auto_pad="SAME_LOWER", strides=[2, 2])
    (layer,) = load(single_node(tmp_path, node, (1, 4, 9, 9), (8, 4, 3, 3)))
    assert (layer.pad, layer.stride, layer.E) == (1, 2, 5)


def test_unknown_spatial_size(tmp_path):
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c")
    path = single_node(tmp_path, node, ("batch", 4, "height", 8), (4, 4, 3, 3))
    with pytest.raises(AccelsimError) as err:
        load(path)
    assert str(err.value) == (
        "ONNX node 'c' (Conv) input 'x' shape must be fully known (only the batch may be symbolic), "
        "not ['batch', 4, 'height', 8]"
    )


def test_zero_dimension_is_named_as_such(tmp_path):
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c")
    path = single_node(tmp_path, node, (1, 4, 0, 8), (4, 4, 3, 3))
    with pytest.raises(AccelsimError) as err:
        load(path)
    assert str(err.value) == (
        "ONNX node 'c' (Conv) input 'x' shape must be positive in every dimension (it has a zero dimension: "
        "an empty tensor), not [1, 4, 0, 8]"
    )


def test_model_without_layers(tmp_path):
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [tensor("x", 1, 4)], [tensor("y", 1, 4)])
    with pytest.raises(
        AccelsimError,
        match=re.escape("model.onnx': number of Conv, Gemm and MatMul nodes must be at least 1, not 0"),
    ):
        load(path)


@pytest.mark.parametrize(
    "content",
    [b"this is not a protobuf \xff\xff\xff", b"", None],
    ids=["garbage", "empty", "truncated"],
)
def test_corrupt_files(tmp_path, content):
    path = tmp_path / "bad.onnx"
    if content is None:
        content = conv_net(tmp_path).read_bytes()[:-40]
    path.write_bytes(content)
    with pytest.raises(AccelsimError) as err:
        load(path)
    assert str(err.value).startswith(f"ONNX file {str(path)!r} must be a valid ONNX model (")
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_missing_file(tmp_path):
    with pytest.raises(AccelsimError, match=re.escape("ONNX file must be an existing file, not ")):
        load(tmp_path / "absent.onnx")


def test_mac_free_ops_exclude_mapped_and_mac_ops():
    assert not MAC_FREE_OPS & {"Conv", "Gemm", "MatMul", "ConvTranspose", "Einsum", "QLinearConv", "LSTM"}


def resnet18_onnx(tmp_path):
    """torchvision's ResNet-18 graph shape-for-shape (weights as shaped inputs, so the file stays small)."""
    nodes, weights = [], []

    def conv(name, x, C, M, k, stride=1):
        weights.append(tensor(f"{name}.weight", M, C, k, k))
        attrs = {"strides": [stride] * 2, "pads": [k // 2] * 4}
        nodes.append(helper.make_node("Conv", [x, f"{name}.weight"], [name], name=name, **attrs))
        return name

    def relu(x):
        nodes.append(helper.make_node("Relu", [x], [f"{x}.relu"]))
        return f"{x}.relu"

    x = relu(conv("conv1", "input", 3, 64, 7, 2))
    nodes.append(
        helper.make_node("MaxPool", [x], ["pool"], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    )
    x, channels = "pool", 64
    for stage, (width, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), 1):
        for block in range(2):
            prefix, s = f"layer{stage}.{block}", stride if block == 0 else 1
            y = conv(
                f"{prefix}.conv2", relu(conv(f"{prefix}.conv1", x, channels, width, 3, s)), width, width, 3
            )
            shortcut = (
                conv(f"{prefix}.downsample", x, channels, width, 1, s) if s != 1 or channels != width else x
            )
            nodes.append(helper.make_node("Add", [y, shortcut], [f"{prefix}.add"]))
            x, channels = relu(f"{prefix}.add"), width
    nodes += [
        helper.make_node("GlobalAveragePool", [x], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    weights += [tensor("fc.weight", 1000, 512), tensor("fc.bias", 1000)]
    return save(tmp_path, nodes, [tensor("input", "N", 3, 224, 224), *weights], [tensor("logits", "N", 1000)])


def test_resnet18_graph_matches_the_zoo(tmp_path):
    """Shape inference (not the zoo's own arithmetic) sizes every layer, and the two agree exactly."""
    from accelsim.workloads import zoo

    layers = load(resnet18_onnx(tmp_path))
    assert layers == zoo("resnet18")
    assert sum(layer.macs for layer in layers) == 1_814_073_344
