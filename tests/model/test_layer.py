import pytest

from accelsim import AccelsimError, ConvLayer


def test_derived_sizes_and_macs():
    layer = ConvLayer(N=1, M=64, C=3, H=224, W=224, R=7, S=7, stride=2, pad=3)
    assert (layer.E, layer.F) == (112, 112)
    assert layer.macs == 64 * 112 * 112 * 3 * 7 * 7
    assert (layer.gemm_P, layer.gemm_K, layer.gemm_M) == (112 * 112, 147, 64)


def test_depthwise_and_fc():
    dw = ConvLayer(M=32, C=32, H=112, W=112, R=3, S=3, pad=1, groups=32)
    assert dw.is_depthwise and dw.macs == 32 * 112 * 112 * 9 and dw.gemm_K == 9 and dw.gemm_M == 1
    fc = ConvLayer.fc(2048, 1000)
    assert (fc.E, fc.F, fc.macs) == (1, 1, 2048 * 1000)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"M": 0}, "layer: M must be a positive integer <= 16,777,216, not 0"),
        ({"pad": -1}, "layer: pad must be a non-negative integer <= 16,777,216, not -1"),
        ({"C": 6, "groups": 4}, "layer: C must be divisible by groups=4, not 6"),
        ({"M": 6, "C": 4, "groups": 4}, "layer: M must be divisible by groups=4, not 6"),
        ({"H": 2, "R": 3}, "layer: R must be <= padded input height H+2*pad=2, not 3"),
        ({"W": 2, "S": 5, "pad": 1}, "layer: S must be <= padded input width W+2*pad=4, not 5"),
        ({"stride": 1.5}, "layer: stride must be a positive integer <= 16,777,216, not 1.5"),
    ],
)
def test_bad_layers_name_field_and_constraint(fields, message):
    with pytest.raises(AccelsimError) as err:
        ConvLayer(**fields)
    assert str(err.value) == message


def test_parse_roundtrip_and_errors():
    layer = ConvLayer(N=2, M=8, C=4, H=9, W=7, R=3, S=1, stride=2, pad=1, groups=2)
    assert ConvLayer.parse(layer.spec()) == layer
    with pytest.raises(AccelsimError, match="layer field must be one of"):
        ConvLayer.parse("N=1,Q=3")
    with pytest.raises(AccelsimError, match="layer field H must be an integer, not 'x'"):
        ConvLayer.parse("H=x")
