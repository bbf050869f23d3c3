"""The built-in networks: exact MAC totals and layer counts, shapes at the stage boundaries, naming."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim import AccelsimError, ConvLayer
from accelsim.arch import preset, preset_names
from accelsim.sim import simulate_network
from accelsim.workloads.transformers import gpt2, vit_b_16
from accelsim.workloads.zoo import ZOO_NAMES, efficientnet_b0, mobilenetv2, resnet18, resnet50, vgg16, zoo

# name: (layers, exact MACs at N=1, the published GMACs: torchvision's GFLOPS column, which counts MACs;
# GPT-2: 2 x 124 M parameters' worth of MACs per token is the usual estimate, checked separately below)
GOLDEN = {
    "alexnet": (8, 714_188_480, 0.71),
    "vgg16": (16, 15_470_264_320, 15.47),
    "vgg19": (19, 19_632_062_464, 19.63),
    "resnet18": (21, 1_814_073_344, 1.81),
    "resnet50": (54, 4_089_184_256, 4.09),
    "resnet152": (156, 11_513_626_624, 11.51),
    "mobilenetv2": (53, 300_774_272, 0.30),
    "efficientnet_b0": (82, 385_814_752, 0.39),
    "vit_b_16": (74, 17_563_828_224, 17.56),
    "gpt2": (73, 145_824_153_600, 145.82),
}
CNNS = tuple(name for name in ZOO_NAMES if name not in ("vit_b_16", "gpt2"))


def test_golden_covers_the_zoo():
    assert set(GOLDEN) == set(ZOO_NAMES)


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_layer_count_and_exact_macs(name):
    count, macs, published_gmacs = GOLDEN[name]
    layers = zoo(name)
    assert len(layers) == count
    assert sum(layer.macs for layer in layers) == macs
    assert round(macs / 1e9, 2) == published_gmacs
    assert all(isinstance(layer, ConvLayer) for layer in layers)
    assert len({layer.name for layer in layers}) == count  # names are unique


@pytest.mark.parametrize("name", CNNS)
def test_channels_chain_and_classifier(name):
    """Every layer's input channels come from an earlier layer (or the image); the last is a 1000-way FC."""
    layers = zoo(name)
    produced = {3} | {layer.M for layer in layers}
    assert all(layer.C in produced or layer.H == layer.W == 1 for layer in layers)
    first, last = layers[0], layers[-1]
    assert (first.C, first.H, first.W) == (3, 224, 224)
    assert (last.M, last.H, last.W, last.R, last.S, last.E, last.F) == (1000, 1, 1, 1, 1, 1, 1)


@given(st.sampled_from(ZOO_NAMES), st.integers(1, 8))
def test_batch_scales_macs_linearly(name, N):
    layers = zoo(name, N=N)
    assert name not in CNNS or all(layer.N == N for layer in layers)  # transformers: N sequences of tokens
    assert sum(layer.macs for layer in layers) == N * GOLDEN[name][1]


def test_resnet50_shapes_and_shortcuts():
    layers = {layer.name: layer for layer in resnet50()}
    conv1 = layers["conv1"]
    assert (conv1.M, conv1.R, conv1.stride, conv1.pad, conv1.E) == (64, 7, 2, 3, 112)
    assert (layers["layer1.0.conv1"].H, layers["layer1.0.conv1"].C) == (56, 64)  # max-pool 112 -> 56
    assert [name for name in layers if name.endswith("downsample")] == [
        f"layer{stage}.0.downsample" for stage in (1, 2, 3, 4)
    ]
    ds = layers["layer2.0.downsample"]
    assert (ds.C, ds.M, ds.H, ds.R, ds.stride, ds.E) == (256, 512, 56, 1, 2, 28)
    mid = layers["layer2.0.conv2"]  # v1.5: the stride sits on the 3x3
    assert (mid.C, mid.M, mid.H, mid.R, mid.stride, mid.E) == (128, 128, 56, 3, 2, 28)
    assert (layers["layer4.2.conv3"].M, layers["layer4.2.conv3"].E) == (2048, 7)
    assert layers["fc"] == ConvLayer.fc(2048, 1000, name="fc")
    assert sum(1 for layer in layers.values() if layer.R * layer.S > 1 or layer.H > 1) == 53


def test_resnet18_basic_blocks():
    layers = resnet18()
    assert [layer.name for layer in layers[:6]] == [
        "conv1",
        "layer1.0.conv1",
        "layer1.0.conv2",
        "layer1.1.conv1",
        "layer1.1.conv2",
        "layer2.0.conv1",
    ]
    by_name = {layer.name: layer for layer in layers}
    assert (by_name["layer3.0.downsample"].C, by_name["layer3.0.downsample"].M) == (128, 256)
    assert by_name["layer4.1.conv2"].E == 7


def test_vgg16_torchvision_indices_and_pooling():
    layers = vgg16()
    convs = [layer for layer in layers if layer.R == 3]
    assert [layer.name for layer in convs] == [
        f"features.{i}" for i in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
    ]
    assert [layer.H for layer in convs] == [224] * 2 + [112] * 2 + [56] * 3 + [28] * 3 + [14] * 3
    assert layers[13] == ConvLayer.fc(512 * 7 * 7, 4096, name="classifier.0")


def test_alexnet_is_torchvision_single_tower():
    layers = zoo("alexnet")
    assert [layer.name for layer in layers] == [
        "features.0",
        "features.3",
        "features.6",
        "features.8",
        "features.10",
        "classifier.1",
        "classifier.4",
        "classifier.6",
    ]
    assert all(layer.groups == 1 for layer in layers)
    assert [(layer.M, layer.H, layer.E) for layer in layers[:5]] == [
        (64, 224, 55),
        (192, 27, 27),
        (384, 13, 13),
        (256, 13, 13),
        (256, 13, 13),
    ]
    assert layers[5].C == 256 * 6 * 6


def test_mobilenetv2_depthwise_and_pointwise():
    layers = mobilenetv2()
    depthwise = [layer for layer in layers if layer.groups > 1]
    assert len(depthwise) == 17
    assert all(layer.is_depthwise and layer.R == layer.S == 3 and layer.pad == 1 for layer in depthwise)
    assert [layer.name for layer in layers[:6]] == [
        "features.0.0",
        "features.1.conv.0.0",
        "features.1.conv.1",
        "features.2.conv.0.0",
        "features.2.conv.1.0",
        "features.2.conv.2",
    ]
    by_name = {layer.name: layer for layer in layers}
    assert (by_name["features.2.conv.1.0"].C, by_name["features.2.conv.1.0"].E) == (96, 56)
    last_conv = by_name["features.18.0"]
    assert (last_conv.C, last_conv.M, last_conv.H, last_conv.R) == (320, 1280, 7, 1)
    assert layers[-1] == ConvLayer.fc(1280, 1000, name="classifier.1")


def test_unknown_zoo_name():
    with pytest.raises(AccelsimError) as err:
        zoo("resnet101")
    assert str(err.value) == (
        f"zoo network must be one of {', '.join(ZOO_NAMES)}, not 'resnet101'"
    )


def test_efficientnet_b0_blocks():
    layers = {layer.name: layer for layer in efficientnet_b0()}
    dw = layers["features.2.0.block.1.0"]  # stage 2's first depthwise: 16*6 channels, 3x3/2
    assert (dw.C, dw.groups, dw.R, dw.stride, dw.H, dw.E) == (96, 96, 3, 2, 112, 56)
    se = layers["features.2.0.block.2.fc1"], layers["features.2.0.block.2.fc2"]  # squeeze to 16 // 4
    assert [(x.C, x.M, x.H) for x in se] == [(96, 4, 1), (4, 96, 1)]
    assert layers["features.6.0.block.1.0"].R == 5 and layers["features.8.0"].M == 1280


def test_transformer_gemms():
    vit = {layer.name: layer for layer in vit_b_16(N=2)}
    qkv, scores, values = (vit[f"encoder.layers.encoder_layer_0.{n}"]
                           for n in ("self_attention.in_proj", "attn.q_kT", "attn.a_v"))
    assert (qkv.gemm_P, qkv.gemm_K, qkv.gemm_M, qkv.groups) == (2 * 197, 768, 2304, 1)
    assert (scores.gemm_P, scores.gemm_K, scores.gemm_M, scores.groups) == (197, 64, 197, 2 * 12)
    assert (values.gemm_P, values.gemm_K, values.gemm_M, values.groups) == (197, 197, 64, 2 * 12)
    assert vit["conv_proj"].E == 14 and vit["heads.head"].N == 2
    lm_head = gpt2()[-1]
    assert (lm_head.name, lm_head.gemm_P, lm_head.gemm_K, lm_head.gemm_M) == ("lm_head", 1024, 768, 50257)
    params = 12 * (768 * 2304 + 768 * 768 + 2 * 768 * 3072) + 768 * 50257  # GEMM weights of GPT-2 small
    attention = 12 * 2 * 12 * 1024 * 64 * 1024
    assert sum(layer.macs for layer in gpt2()) == 1024 * params + attention


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_every_zoo_layer_simulates_on_every_preset(name):
    for cfg in map(preset, preset_names()):
        result = simulate_network(zoo(name), cfg)
        assert all(r.cycles > 0 and 0 < r.utilization <= 1 for r in result.layers)
