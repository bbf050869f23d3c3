"""Built-in networks: every convolution and fully-connected layer of eight ImageNet CNNs (and, from
:mod:`.transformers`, two transformers as GEMMs).

The tables are built by loops over stages, following torchvision's model definitions, so the layer names
are torchvision's module names (``conv1``, ``layer1.0.conv1``, ``features.3``, ``classifier.1``) and the
MAC totals match torchvision's published GFLOPS column (which counts multiply-accumulates):

================  =======  =============  ==========================================================
network           layers   MACs           input and variant
================  =======  =============  ==========================================================
``alexnet``             8    714 188 480  224x224, torchvision's single-tower AlexNet (no groups;
                                          conv1 11x11/4 pad 2 -> 55x55; 64-192-384-256-256 channels)
``vgg16``              16 15 470 264 320  224x224, configuration D without batch norm
``vgg19``              19 19 632 062 464  224x224, configuration E without batch norm
``resnet18``           21  1 814 073 344  224x224, BasicBlock [2, 2, 2, 2]
``resnet50``           54  4 089 184 256  224x224, Bottleneck [3, 4, 6, 3], stride on the 3x3 (v1.5)
``resnet152``         156 11 513 626 624  224x224, Bottleneck [3, 8, 36, 3], stride on the 3x3 (v1.5)
``mobilenetv2``        53    300 774 272  224x224, width 1.0
``efficientnet_b0``    82    385 814 752  224x224, torchvision's B0 (MBConv, squeeze-excitation)
================  =======  =============  ==========================================================

Only layers with MACs are listed. Pooling, ReLU, batch norm, residual additions and dropout are not layers,
but the pooling is applied to the spatial size (ResNet's 3x3/2 max-pool takes 112 -> 56; AlexNet's three
3x3/2 max-pools take 55 -> 27 -> 13 -> 6). Global average pooling (and AlexNet's/VGG's adaptive pool, an
identity at 224x224) feeds the classifier; each Linear is a :meth:`ConvLayer.fc` named as in torchvision.
ResNet's projection shortcut (torchvision ``layerX.0.downsample.0``) is named ``layerX.0.downsample`` and
listed after the block's main-path convolutions. MobileNetV2's depthwise convolutions have
``groups == C == M``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from accelsim.errors import require
from accelsim.layer import ConvLayer

Shape = tuple[int, int, int]
"""An activation's (C, H, W); the batch N is carried separately."""

IMAGE: Shape = (3, 224, 224)


def _conv(
    name: str, x: Shape, M: int, k: int, *, stride: int = 1, pad: int = 0, groups: int = 1, N: int
) -> ConvLayer:
    C, H, W = x
    return ConvLayer(N=N, M=M, C=C, H=H, W=W, R=k, S=k, stride=stride, pad=pad, groups=groups, name=name)


def _out(layer: ConvLayer) -> Shape:
    return (layer.M, layer.E, layer.F)


def _pool(x: Shape, k: int, stride: int, pad: int = 0) -> Shape:
    """Output shape of a k x k max-pool (floor mode, torchvision's default)."""
    C, H, W = x
    return (C, (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1)


def _classifier(x: Shape, widths: tuple[int, ...], names: tuple[str, ...], N: int) -> list[ConvLayer]:
    """Linear layers on the flattened C*H*W features, one per width."""
    layers: list[ConvLayer] = []
    features = x[0] * x[1] * x[2]
    for width, name in zip(widths, names, strict=True):
        layers.append(ConvLayer.fc(features, width, N=N, name=name))
        features = width
    return layers


def alexnet(*, N: int = 1) -> tuple[ConvLayer, ...]:
    """torchvision's AlexNet (single tower, the "one weird trick" variant) at 224x224: 8 layers."""
    # (out channels, kernel, stride, pad, max-pool after it) per conv; torchvision's features.<index>.
    plan = (
        (64, 11, 4, 2, True),
        (192, 5, 1, 2, True),
        (384, 3, 1, 1, False),
        (256, 3, 1, 1, False),
        (256, 3, 1, 1, True),
    )
    layers: list[ConvLayer] = []
    x, index = IMAGE, 0
    for M, k, stride, pad, pool in plan:
        layer = _conv(f"features.{index}", x, M, k, stride=stride, pad=pad, N=N)
        layers.append(layer)
        x = _out(layer)
        index += 2  # Conv2d, ReLU
        if pool:
            x = _pool(x, 3, 2)
            index += 1
    # Adaptive average pool to 6x6 is the identity here; classifier = Dropout, Linear, ReLU, Dropout, ...
    layers += _classifier(x, (4096, 4096, 1000), ("classifier.1", "classifier.4", "classifier.6"), N)
    return tuple(layers)


def vgg16(*, N: int = 1) -> tuple[ConvLayer, ...]:
    """VGG-16 (configuration D, no batch norm) at 224x224: 13 convs + 3 FC = 16 layers."""
    return _vgg((2, 2, 3, 3, 3), N)


def vgg19(*, N: int = 1) -> tuple[ConvLayer, ...]:
    """VGG-19 (configuration E, no batch norm) at 224x224: 16 convs + 3 FC = 19 layers."""
    return _vgg((2, 2, 4, 4, 4), N)


def _vgg(convs_per_stage: tuple[int, ...], N: int) -> tuple[ConvLayer, ...]:
    stages = zip((64, 128, 256, 512, 512), convs_per_stage, strict=True)
    layers: list[ConvLayer] = []
    x, index = IMAGE, 0
    for M, convs in stages:
        for _ in range(convs):
            layer = _conv(f"features.{index}", x, M, 3, pad=1, N=N)
            layers.append(layer)
            x = _out(layer)
            index += 2  # Conv2d, ReLU
        x = _pool(x, 2, 2)
        index += 1
    layers += _classifier(x, (4096, 4096, 1000), ("classifier.0", "classifier.3", "classifier.6"), N)
    return tuple(layers)


def _resnet(depths: tuple[int, int, int, int], bottleneck: bool, N: int) -> tuple[ConvLayer, ...]:
    expansion = 4 if bottleneck else 1
    stem = _conv("conv1", IMAGE, 64, 7, stride=2, pad=3, N=N)
    layers = [stem]
    x = _pool(_out(stem), 3, 2, 1)
    stages = zip((64, 128, 256, 512), depths, (1, 2, 2, 2), strict=True)
    for stage, (width, blocks, first_stride) in enumerate(stages, 1):
        for block in range(blocks):
            stride = first_stride if block == 0 else 1
            prefix = f"layer{stage}.{block}"
            if bottleneck:  # 1x1 reduce, 3x3 (carries the stride, v1.5), 1x1 expand
                c1 = _conv(f"{prefix}.conv1", x, width, 1, N=N)
                c2 = _conv(f"{prefix}.conv2", _out(c1), width, 3, stride=stride, pad=1, N=N)
                body = [c1, c2, _conv(f"{prefix}.conv3", _out(c2), width * expansion, 1, N=N)]
            else:
                c1 = _conv(f"{prefix}.conv1", x, width, 3, stride=stride, pad=1, N=N)
                body = [c1, _conv(f"{prefix}.conv2", _out(c1), width, 3, pad=1, N=N)]
            layers += body
            if stride != 1 or x[0] != width * expansion:
                layers.append(_conv(f"{prefix}.downsample", x, width * expansion, 1, stride=stride, N=N))
            x = _out(body[-1])
    layers += _classifier((x[0], 1, 1), (1000,), ("fc",), N)  # after global average pooling
    return tuple(layers)


def resnet18(*, N: int = 1) -> tuple[ConvLayer, ...]:
    """ResNet-18 at 224x224: 17 convs + 3 projection shortcuts + fc = 21 layers."""
    return _resnet((2, 2, 2, 2), bottleneck=False, N=N)


def resnet50(*, N: int = 1) -> tuple[ConvLayer, ...]:
    """ResNet-50 (torchvision, v1.5) at 224x224: 49 convs + 4 projection shortcuts + fc = 54 layers."""
    return _resnet((3, 4, 6, 3), bottleneck=True, N=N)


def resnet152(*, N: int = 1) -> tuple[ConvLayer, ...]:
    """ResNet-152 (torchvision, v1.5) at 224x224: 151 convs + 4 projection shortcuts + fc = 156 layers."""
    return _resnet((3, 8, 36, 3), bottleneck=True, N=N)


def mobilenetv2(*, N: int = 1) -> tuple[ConvLayer, ...]:
    """MobileNetV2 (width 1.0) at 224x224: 52 convs + fc = 53 layers."""
    stem = _conv("features.0.0", IMAGE, 32, 3, stride=2, pad=1, N=N)
    layers = [stem]
    x = _out(stem)
    index = 1
    # Inverted-residual settings: expansion t, output channels c, repeats n, first stride s.
    for t, c, n, s in (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ):
        for repeat in range(n):
            stride = s if repeat == 0 else 1
            prefix, part = f"features.{index}.conv", 0
            hidden = x[0] * t
            if t != 1:  # pointwise expansion
                expand = _conv(f"{prefix}.{part}.0", x, hidden, 1, N=N)
                layers.append(expand)
                x, part = _out(expand), part + 1
            depthwise = _conv(f"{prefix}.{part}.0", x, hidden, 3, stride=stride, pad=1, groups=hidden, N=N)
            project = _conv(f"{prefix}.{part + 1}", _out(depthwise), c, 1, N=N)  # linear bottleneck
            layers += [depthwise, project]
            x = _out(project)
            index += 1
    last = _conv(f"features.{index}.0", x, 1280, 1, N=N)
    layers.append(last)
    layers += _classifier((1280, 1, 1), (1000,), ("classifier.1",), N)  # after global average pooling
    return tuple(layers)


def efficientnet_b0(*, N: int = 1) -> tuple[ConvLayer, ...]:
    """torchvision's EfficientNet-B0 at 224x224: stem, 16 MBConv blocks (expansion 1x1, depthwise k x k,
    squeeze-excitation as two 1x1 convolutions on the pooled 1x1 map, projection 1x1), head, classifier."""
    stem = _conv("features.0.0", IMAGE, 32, 3, stride=2, pad=1, N=N)
    layers = [stem]
    x = _out(stem)
    # MBConv stages: expand ratio, kernel, first stride, output channels, blocks (torchvision's table).
    stages = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
              (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
    for stage, (t, k, s, c, n) in enumerate(stages, 1):
        for block in range(n):
            prefix, part = f"features.{stage}.{block}.block", 0
            squeeze = max(1, x[0] // 4)
            hidden = x[0] * t
            if t != 1:
                expand = _conv(f"{prefix}.{part}.0", x, hidden, 1, N=N)
                layers.append(expand)
                x, part = _out(expand), part + 1
            depthwise = _conv(f"{prefix}.{part}.0", x, hidden, k, stride=s if block == 0 else 1,
                              pad=(k - 1) // 2, groups=hidden, N=N)
            pooled = (hidden, 1, 1)  # squeeze-excitation on the globally pooled map
            fc1 = _conv(f"{prefix}.{part + 1}.fc1", pooled, squeeze, 1, N=N)
            fc2 = _conv(f"{prefix}.{part + 1}.fc2", _out(fc1), hidden, 1, N=N)
            project = _conv(f"{prefix}.{part + 2}.0", _out(depthwise), c, 1, N=N)
            layers += [depthwise, fc1, fc2, project]
            x = _out(project)
    head = _conv("features.8.0", x, 1280, 1, N=N)
    layers.append(head)
    layers += _classifier((1280, 1, 1), (1000,), ("classifier.1",), N)
    return tuple(layers)


def _transformers() -> dict[str, Callable[..., tuple[ConvLayer, ...]]]:
    from accelsim.workloads.transformers import gpt2, vit_b_16

    return {"vit_b_16": vit_b_16, "gpt2": gpt2}


ZOO: Mapping[str, Callable[..., tuple[ConvLayer, ...]]] = MappingProxyType(
    {
        "alexnet": alexnet,
        "vgg16": vgg16,
        "vgg19": vgg19,
        "resnet18": resnet18,
        "resnet50": resnet50,
        "resnet152": resnet152,
        "mobilenetv2": mobilenetv2,
        "efficientnet_b0": efficientnet_b0,
        **_transformers(),
    }
)
ZOO_NAMES: tuple[str, ...] = tuple(ZOO)


def zoo(name: str, *, N: int = 1) -> tuple[ConvLayer, ...]:
    """The layers of built-in network ``name`` (one of :data:`ZOO_NAMES`) with batch ``N``."""
    require(name in ZOO, "zoo network", f"one of {', '.join(ZOO_NAMES)}", name)
    return ZOO[name](N=N)
