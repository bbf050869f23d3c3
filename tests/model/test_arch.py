import pytest

from accelsim import AccelsimError, arch
from accelsim.arch import Dataflow


def test_presets_ship_with_the_package():
    assert arch.preset_names() == ("eyeriss", "gemmini", "tensorcore", "tpu_v1")
    g = arch.preset()
    assert (g.name, g.array_rows, g.array_cols, g.dataflow) == ("gemmini", 16, 16, Dataflow.WS)
    e = arch.preset("eyeriss")
    assert (e.array_rows, e.array_cols) == (12, 14)
    t = arch.preset("tpu_v1")
    assert (t.array_rows, t.array_cols, t.dataflow) == (256, 256, Dataflow.WS)


def test_toml_roundtrip_and_override(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('array_rows = 8\narray_cols = 4\ndataflow = "OS"\n[energy_pj]\ndram_byte = 100.0\n')
    cfg = arch.load(path)
    assert (cfg.name, cfg.array_rows, cfg.array_cols, cfg.dataflow) == ("mine", 8, 4, Dataflow.OS)
    assert cfg.energy.dram_byte_pj == 100.0 and cfg.energy.mac_pj == 0.2
    assert cfg.with_dataflow("is").dataflow is Dataflow.IS
    assert arch.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("array_row = 8\n", "bad.toml: key must be one of"),
        ("array_rows = 0\n", "arch 'bad': array_rows must be a positive integer <= 1,024, not 0"),
        ("array_rows = 2.5\n", "arch 'bad': array_rows must be a positive integer <= 1,024, not 2.5"),
        ('dataflow = "rs"\n', "bad.toml: dataflow must be one of ws, os, is, not 'rs'"),
        ("dram_latency_cycles = -1\n",
         "dram_latency_cycles must be a non-negative integer <= 1,048,576, not -1"),
        ("input_bits = 4\n", "input_bits must be 8 (int8 activations), not 4"),
        ("[energy_pj]\nsram = 1.0\n", "bad.toml: energy_pj key must be one of"),
        ("[energy_pj]\nmac = -1.0\n", "energy_pj.mac must be 0 or a number in [1e-06, 1e+06], not -1.0"),
        ("array_rows = \n", "bad.toml must be valid TOML"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(AccelsimError) as err:
        arch.load(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_preset_and_missing_file(tmp_path):
    with pytest.raises(
        AccelsimError,
        match=r"preset must be one of \['eyeriss', 'gemmini', 'tensorcore', 'tpu_v1'\], not 'x'",
    ):
        arch.preset("x")
    with pytest.raises(AccelsimError, match="arch file must be an existing file"):
        arch.load(tmp_path / "missing.toml")


def test_tile_that_cannot_fit_is_rejected():
    from accelsim import ConvLayer, mapping

    cfg = arch.ArchConfig(array_rows=64, array_cols=64, weight_spad_kib=4)
    with pytest.raises(AccelsimError, match=r"weight_spad_kib must be >= 8 to hold one 64x64 weight tile"):
        mapping.lower(ConvLayer(M=8, C=8), cfg)


def test_pe_dot_width():
    t = arch.preset("tensorcore")
    assert (t.array_rows, t.array_cols, t.pe_dot_width) == (4, 16, 4)
    assert t.macs_per_cycle == arch.preset("gemmini").macs_per_cycle == 256
    assert t.to_dict()["pe_dot_width"] == 4 and "pe_dot_width" not in arch.preset("gemmini").to_dict()
    assert arch.from_dict(t.to_dict()) == t
    for bad in (0, 3, 16, 2.0, True, "4"):
        with pytest.raises(AccelsimError, match=r"pe_dot_width must be one of 1, 2, 4, 8 .*, not "):
            arch.ArchConfig(pe_dot_width=bad)
    assert t.with_dataflow("os").pe_dot_width == 4
