"""Writes examples/model.onnx, the small CNN the README's tour loads (`accelsim layers --onnx ...`).

    python scripts/make_example_onnx.py

Built with the onnx helper API, nothing downloaded: Conv 3->8 (3x3, pad 1) -> Relu -> Conv 8->16 (3x3,
stride 2, pad 1) -> Relu -> depthwise Conv 16 (3x3, pad 1) -> GlobalAveragePool -> Flatten -> Gemm 16->10,
on a 1x3x32x32 input. The weights are zeros (accelsim reads only shapes), so the file is ~8 KB and the
same bytes every run; tests/test_readme.py checks that the committed file is what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parents[1] / "examples" / "model.onnx"


def build() -> bytes:
    """The serialised model (deterministic)."""

    def weight(name: str, *shape: int) -> onnx.TensorProto:
        return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", "w3"], ["c3"], name="conv3_dw", group=16, pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["c3"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "w4"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "example",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [weight("w1", 8, 3, 3, 3), weight("w2", 16, 8, 3, 3), weight("w3", 16, 1, 3, 3),
         weight("w4", 10, 16)],
    )
    model = helper.make_model(graph, producer_name="accelsim scripts/make_example_onnx.py",
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model.SerializeToString()


def main() -> int:
    OUT.write_bytes(build())
    print(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
