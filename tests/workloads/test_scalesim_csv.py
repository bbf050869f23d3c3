"""SCALE-Sim topology CSV: both forms load, the writer round-trips, every malformed row names its cell."""

import re

import pytest
from hypothesis import given

from accelsim import AccelsimError, ConvLayer
from accelsim.workloads import load, write_scalesim_csv, zoo
from accelsim.workloads.scalesim_csv import load_scalesim_csv, scalesim_ofmap_size, scalesim_rows
from tests.strategies import layers as conv_layers

CONV_HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"
)


def write(tmp_path, text, name="topology.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_conv_form(tmp_path):
    path = write(
        tmp_path,
        f"{CONV_HEADER}\n\n"
        "Conv1, 224, 224, 7, 7, 3, 64, 2,\n"
        "\tConv2,56,56,3,3,64,128,1\n"  # no trailing comma, leading tab
        "Conv3_DP, 30, 30, 3, 3, 32, 2, 1,#dw comment\n"
        "FC, 1, 1, 1, 1, 1024, 1000, 1, 1:1,\n",
    )
    conv1, conv2, dp, fc = load(path)
    assert conv1 == ConvLayer(M=64, C=3, H=224, W=224, R=7, S=7, stride=2, name="Conv1")
    assert (conv1.E, conv1.macs) == (109, 64 * 109 * 109 * 3 * 49)
    assert conv2 == ConvLayer(M=128, C=64, H=56, W=56, R=3, S=3, name="Conv2")
    # SCALE-Sim runs a 'DP' row as Channels single-channel convs of Num Filter filters each.
    assert dp == ConvLayer(M=64, C=32, H=30, W=30, R=3, S=3, groups=32, name="Conv3_DP")
    assert dp.macs == 32 * (2 * 28 * 28 * 1 * 9)
    assert fc == ConvLayer.fc(1024, 1000, name="FC")


def test_gemm_form_mirrors_scalesim(tmp_path):
    path = write(tmp_path, "Layer Name, M, N, K,\nTest 1, 256, 128, 512,\nqkv,8,24,16,1:1,\n")
    gemm, qkv = load_scalesim_csv(path)
    # SCALE-Sim's [m, k, 1, k, 1, n, 1, 1]: IFMAP m x k, filter 1 x k, 1 channel, n filters, stride 1.
    assert gemm == ConvLayer(M=128, C=512, H=256, W=1, name="Test 1")
    assert (gemm.gemm_P, gemm.gemm_K, gemm.gemm_M) == (256, 512, 128)
    assert gemm.macs == 256 * 512 * 128
    assert (qkv.gemm_P, qkv.gemm_K, qkv.gemm_M, qkv.name) == (8, 16, 24, "qkv")


def test_scalesim_output_size_differs_when_stride_does_not_divide():
    assert scalesim_ofmap_size(230, 7, 2) == 113  # ResNet conv1 written as 224+2*3; accelsim: 112
    assert ConvLayer(H=230, W=230, R=7, S=7, stride=2).E == 112
    assert scalesim_ofmap_size(58, 3, 1) == ConvLayer(H=58, W=58, R=3, S=3).E == 56
    assert scalesim_ofmap_size(9, 3, 2) == ConvLayer(H=9, W=9, R=3, S=3, stride=2).E == 4


def test_write_exact_text(tmp_path):
    layers = (
        ConvLayer(M=64, C=3, H=224, W=224, R=7, S=7, stride=2, pad=3, name="conv1"),
        ConvLayer(M=64, C=32, H=8, W=6, R=3, S=3, pad=1, groups=32, name="dw_DP"),
        ConvLayer.fc(512, 10),
    )
    path = tmp_path / "out.csv"
    write_scalesim_csv(layers, path)
    assert path.read_text() == (
        "Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,Num Filter,Strides,\n"
        "conv1,230,230,7,7,3,64,2,\n"
        "dw_DP,10,8,3,3,32,2,1,\n"
        "fc,1,1,1,1,512,10,1,\n"
    )
    back = load(path)
    assert back[1] == ConvLayer(M=64, C=32, H=10, W=8, R=3, S=3, groups=32, name="dw_DP")


def _same_work(original, loaded):
    assert (loaded.name, loaded.pad, loaded.groups) == (original.name, 0, 1)
    assert (original.H + 2 * original.pad, original.W + 2 * original.pad) == (loaded.H, loaded.W)
    fields = ("M", "C", "R", "S", "stride", "E", "F", "macs", "gemm_P", "gemm_K", "gemm_M")
    assert [getattr(loaded, f) for f in fields] == [getattr(original, f) for f in fields]


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet18", "resnet50"])
def test_zoo_round_trip(tmp_path, name):
    layers = zoo(name)
    write_scalesim_csv(layers, tmp_path / "net.csv")
    loaded = load(tmp_path / "net.csv")
    assert len(loaded) == len(layers)
    for original, back in zip(layers, loaded, strict=True):
        _same_work(original, back)


def test_grouped_layers_need_expand_groups(tmp_path):
    layers = zoo("mobilenetv2")
    with pytest.raises(AccelsimError) as err:
        write_scalesim_csv(layers, tmp_path / "m.csv")
    assert str(err.value).startswith(
        "features.1.conv.0.0: groups must be 1 (SCALE-Sim has no grouped convolution: pass expand_groups=True"
    )
    assert str(err.value).endswith(", not 32")
    write_scalesim_csv(layers, tmp_path / "m.csv", expand_groups=True)
    loaded = load(tmp_path / "m.csv")
    depthwise_channels = sum(layer.groups for layer in layers if layer.groups > 1)
    assert len(loaded) == len(layers) - 17 + depthwise_channels
    assert sum(layer.macs for layer in loaded) == sum(layer.macs for layer in layers) == 300_774_272
    assert [layer.name for layer in loaded[1:4]] == [f"features.1.conv.0.0.g{g}" for g in range(3)]


@given(conv_layers(max_n=1))
def test_round_trip_property(layer):
    rows = scalesim_rows([layer], expand_groups=True)
    assert len(rows) == layer.groups
    assert all(row[1:3] == [layer.H + 2 * layer.pad, layer.W + 2 * layer.pad] for row in rows)
    if layer.groups == 1:
        flat = ConvLayer(
            M=rows[0][6],
            C=rows[0][5],
            H=rows[0][1],
            W=rows[0][2],
            R=rows[0][3],
            S=rows[0][4],
            stride=rows[0][7],
            name=rows[0][0],
        )
        _same_work(layer, flat)
    else:
        assert sum(row[5] for row in rows) == layer.C and sum(row[6] for row in rows) == layer.M


def test_round_trip_property_through_file(tmp_path):
    layer = ConvLayer(M=6, C=4, H=9, W=7, R=3, S=2, stride=2, pad=1, groups=2, name="g")
    write_scalesim_csv([layer], tmp_path / "g.csv", expand_groups=True)
    halves = load(tmp_path / "g.csv")
    assert [h.name for h in halves] == ["g.g0", "g.g1"]
    assert sum(h.macs for h in halves) == layer.macs


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "Conv1, 224, 224, 7, 7, 3, 64,",
            "field count must be 8 (Layer name, IFMAP Height, IFMAP Width, "
            "Filter Height, Filter Width, Channels, Num Filter, Strides) or 9 with Sparsity, not 7",
        ),
        ("Conv1, 224, 224, 7, 7, 3, 64, 2, 1:1, 9,", "field count must be 8 (Layer name"),
        ("Conv1, 224, 22x, 7, 7, 3, 64, 2,", "IFMAP Width must be a positive integer, not '22x'"),
        ("Conv1, 224, 224, 7, 7, 3.0, 64, 2,", "Channels must be a positive integer, not '3.0'"),
        ("Conv1, 224, 224, 7, 7, 3, 0, 2,", "Num Filter must be a positive integer, not 0"),
        ("Conv1, 224, 224, 7, 7, 3, 64, -2,", "Strides must be a positive integer, not -2"),
        ("Conv1, 5, 224, 7, 7, 3, 64, 2,", "Filter Height must be <= IFMAP Height (5), not 7"),
        ("Conv1, 224, 3, 3, 4, 3, 64, 2,", "Filter Width must be <= IFMAP Width (3), not 4"),
        (
            "Conv1, 224, 224, 7, 7, 3, 64, 2, 2:4,",
            "Sparsity must be dense N:M with N == M (accelsim models dense layers), not '2:4'",
        ),
        (
            ", 224, 224, 7, 7, 3, 64, 2,",
            "Layer name must be non-empty printable text of at most 200 characters, not ''",
        ),
    ],
)
def test_malformed_conv_rows(tmp_path, row, message):
    path = write(tmp_path, f"{CONV_HEADER}\nok, 8, 8, 3, 3, 1, 1, 1,\n{row}\n")
    with pytest.raises(AccelsimError, match=re.escape(f"{path} line 3: {message}")):
        load(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("fc, 10, 20,", "field count must be 4 (Layer, M, N, K) or 5 with Sparsity, not 3"),
        ("fc, 10, 20, k,", "K must be a positive integer, not 'k'"),
        ("fc, 0, 20, 30,", "M must be a positive integer, not 0"),
        (
            "fc, 10, 20, 30, 1:2,",
            "Sparsity must be dense N:M with N == M (accelsim models dense layers), not '1:2'",
        ),
    ],
)
def test_malformed_gemm_rows(tmp_path, row, message):
    path = write(tmp_path, f"Layer, M, N, K,\n{row}\n")
    with pytest.raises(AccelsimError) as err:
        load(path)
    assert str(err.value) == f"{path} line 2: {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "topology file {path!r} must start with a header line, not be empty"),
        (
            f"{CONV_HEADER}\n\n",
            "topology file {path!r} layer rows must be at least one after the header, not 0",
        ),
        (
            "Conv1, 224, 224, 7, 7, 3, 64, 2,\n",
            "{path} line 1: header must be SCALE-Sim's 'Layer name, IFMAP Height, IFMAP Width, "
            "Filter Height, Filter Width, Channels, Num Filter, Strides' or 'Layer, M, N, K' (optionally "
            "then 'Sparsity'), not 'Conv1, 224, 224, 7, 7, 3, 64, 2'",
        ),
    ],
)
def test_malformed_files(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(AccelsimError) as err:
        load(path)
    assert str(err.value) == message.format(path=str(path))


def test_missing_and_binary_files(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(
        AccelsimError, match=re.escape(f"topology file must be an existing file, not {str(missing)!r}")
    ):
        load(missing)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(
        AccelsimError, match=re.escape(f"topology file must be UTF-8 text, not {str(binary)!r} (byte 0:")
    ):
        load(binary)


@pytest.mark.parametrize(
    ("layer", "kwargs", "message"),
    [
        (
            ConvLayer(N=2, name="b"),
            {},
            "b: N must be 1 (SCALE-Sim topologies have no batch dimension), not 2",
        ),
        (
            ConvLayer(name="a,b"),
            {},
            "layer name must be non-empty, unpadded text without commas, quotes, '#' or newlines, not 'a,b'",
        ),
        (ConvLayer(name=" x"), {}, "layer name must be"),
        (
            ConvLayer(C=4, M=4, groups=2, name="convDP"),
            {"expand_groups": True},
            "convDP: groups must be C=4 in a layer named with 'DP' (SCALE-Sim splits 'DP' rows into single "
            "channels), not 2",
        ),
        (ConvLayer(C=4, M=4, groups=2, name="g"), {}, "g: groups must be 1 (SCALE-Sim has no grouped"),
    ],
)
def test_write_errors(tmp_path, layer, kwargs, message):
    path = tmp_path / "w.csv"
    with pytest.raises(AccelsimError, match=re.escape(message)):
        write_scalesim_csv([layer], path, **kwargs)
    assert not path.exists()  # nothing half-written


def test_unwritable_path(tmp_path):
    target = tmp_path / "no_such_dir" / "w.csv"
    with pytest.raises(AccelsimError, match=re.escape(f"topology file {str(target)!r} must be writable")):
        write_scalesim_csv([ConvLayer()], target)
