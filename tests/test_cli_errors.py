"""One regression test per defect of issue 8 (classes 2, 3, 4, 6, 7): bad input is one line on stderr and
exit 2, never a traceback and never exit 0; no user file is clobbered. In-process (``main``), except the
one test that needs a real full disk behind standard output."""

import errno
import json
import subprocess
import sys

import pytest

from accelsim import cli
from accelsim.arch import preset
from accelsim.cli import main
from accelsim.errors import AccelsimError
from accelsim.outdir import MANIFEST

LAYER = "M=8,C=8,H=8,W=8,R=3,S=3,pad=1"
CONV_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
               "Strides,")


def fails(capsys, *args, message):
    """``accelsim args`` exits 2 with ``message`` in one line on stderr and nothing on stdout."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert out == "" and len(err.splitlines()) == 1, err
    assert err.startswith("accelsim") and message in err, err
    return err


@pytest.fixture
def rtl_extra(monkeypatch):
    """Pretend the rtl extra is installed, so that checks made after it run without it."""
    monkeypatch.setattr(cli, "_check_extra", lambda command: None)


# ---------------------------------------------------------------------------------- class 2: tracebacks


def test_non_utf8_toml_csv_and_cfg(tmp_path, capsys):
    toml = tmp_path / "a.toml"
    toml.write_bytes(b'name = "\xff"\n')
    fails(capsys, "simulate", "--layer", LAYER, "--arch", str(toml),
          message=f"arch file must be UTF-8 text, not {str(toml)!r} (byte 8: ")
    csv = tmp_path / "t.csv"
    csv.write_bytes(CONV_HEADER.encode() + b"\nc\xe91,8,8,3,3,4,4,1,\n")
    fails(capsys, "simulate", "--topology", str(csv), message="topology file must be UTF-8 text")
    cfg = tmp_path / "s.cfg"
    cfg.write_bytes(b"[general]\nrun_name = \xff\n")
    fails(capsys, "simulate", "--layer", LAYER, "--scalesim-cfg", str(cfg), message=str(cfg))


def test_empty_network_name(capsys):
    fails(capsys, "simulate", "--network", "", message="workload must be a zoo network")


def test_negative_or_huge_seed(capsys, rtl_extra):
    fails(capsys, "cosim", "--layer", LAYER, "--seed", "-1", message="--seed must be in [0, 2**32), not -1")
    fails(capsys, "cosim", "--layer", LAYER, "--seed", str(2**32), message="--seed must be in [0, 2**32)")


def test_outputs_under_a_regular_file(tmp_path, capsys, rtl_extra):
    regular = tmp_path / "file"
    regular.write_text("x")
    fails(capsys, "report", "--layer", LAYER, "--out", str(regular / "rep"),
          message=f"--out must be under a directory, not under the file {str(regular)!r}")
    fails(capsys, "cosim", "--layer", LAYER, "--waves", str(regular / "w.fst"),
          message=f"--waves must be under a directory, not under the file {str(regular)!r}")
    fails(capsys, "report", "--layer", LAYER, "--out", str(regular), message="--out must be a directory")


def test_topology_that_is_a_directory(tmp_path, capsys):
    (tmp_path / "layers.csv").mkdir()
    fails(capsys, "simulate", "--topology", str(tmp_path / "layers.csv"),
          message="topology file must be a file, not the directory")


def test_read_only_output_directory(tmp_path, capsys, monkeypatch):
    import os

    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root ignores permission bits
    fails(capsys, "report", "--layer", LAYER, "--out", str(tmp_path / "rep"), message="is not writable")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--arch", "arch file must be at most 1 MiB, not '/dev/zero'"),
        ("--topology", "topology file must be at most 64 MiB, not '/dev/zero'"),
        ("--scalesim-cfg", "SCALE-Sim config file must be at most 1 MiB, not '/dev/zero'"),
        ("--onnx", "ONNX file must be an existing file, not '/dev/zero'"),
    ],
)
def test_unbounded_files_are_refused(capsys, option, message):
    workload = [] if option in ("--topology", "--onnx") else ["--layer", LAYER]
    fails(capsys, "simulate", *workload, option, "/dev/zero", message=message)


def test_huge_regular_file_is_refused_without_reading_it(tmp_path, capsys):
    big = tmp_path / "big.toml"
    with open(big, "wb") as fh:
        fh.truncate(2 << 20)  # sparse: 2 MiB of zeros
    fails(capsys, "simulate", "--layer", LAYER, "--arch", str(big), message="arch file must be at most 1 MiB")


class _FullDisk:
    def write(self, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_stdout_on_a_full_disk_in_process(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdout", _FullDisk())
    assert main(["simulate", "--layer", LAYER]) == 2
    assert capsys.readouterr().err == (
        "accelsim: error: standard output must be writable, not failing (No space left on device)\n")


def test_stdout_on_dev_full():
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "accelsim.cli", "simulate", "--layer", LAYER],
                              stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2 and proc.stderr == (
        "accelsim: error: standard output must be writable, not failing (No space left on device)\n")


@pytest.mark.parametrize(("args", "missing"), [
    (["cosim", "--network", "nope"], "amaranth, cocotb"),
    (["rtl", "generate", "--preset", "nope", "--out", "x"], "amaranth"),
])
def test_rtl_commands_without_the_extra_say_how_to_install_it_first(capsys, monkeypatch, args, missing):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("amaranth", "cocotb") else real(name, *a))
    err = fails(capsys, *args, message=f"accelsim {args[0]} needs the rtl extra: {missing} must be installed")
    assert "pip install 'accelsim[rtl]'" in err and "bash scripts/test.sh" in err  # before --network nope


# -------------------------------------------------------------------------- class 3: exit 0 on bad input


@pytest.mark.parametrize(("spec", "message"), [
    ("M=8,M=9", "layer field M must be given once, not 'M=9'"),
    ("", "layer must be at least one KEY=VALUE field"),
    (" , ,", "layer must be at least one KEY=VALUE field"),
    ("M=8,name=", "layer name must be non-empty"),
    ("M=8,name=a\x00b", "layer name must be printable text"),
])
def test_bad_layer_strings(capsys, spec, message):
    fails(capsys, "simulate", "--layer", spec, message=message)


def test_empty_preset(capsys):
    fails(capsys, "simulate", "--layer", LAYER, "--preset", "", message="preset must be one of")


@pytest.mark.parametrize(("text", "message"), [
    ("clock_mhz = inf\n", "clock_mhz must be a number in [0.001, 1e+06], not inf"),
    ("clock_mhz = nan\n", "clock_mhz must be a number in [0.001, 1e+06], not nan"),
    ("clock_mhz = 1e309\n", "clock_mhz must be a number in [0.001, 1e+06], not inf"),
    ("clock_mhz = 5e-324\n", "clock_mhz must be a number in [0.001, 1e+06], not 5e-324"),
    ("[energy_pj]\nmac = 1e300\n", "energy_pj.mac must be 0 or a number in [1e-06, 1e+06], not 1e+300"),
    ("[energy_pj]\ndram_byte = 2.2e-310\n", "energy_pj.dram_byte must be 0 or a number"),
    ("name = 42\n", "arch name must be non-empty printable text of at most 100 characters, not 42"),
    ('name = "a\\u0000b"\n', "arch name must be non-empty printable text"),
    ("dram_latency_cycles = 9223372036854775807\n", "dram_latency_cycles must be a non-negative integer <="),
    ("input_bits = 8.0\n", "input_bits must be 8 (int8 activations), not 8.0"),
])
def test_bad_toml_values(tmp_path, capsys, text, message):
    path = tmp_path / "a.toml"
    path.write_text(text)
    fails(capsys, "simulate", "--layer", LAYER, "--arch", str(path), "--json", message=message)


def test_deeply_nested_toml(tmp_path, capsys):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    fails(capsys, "simulate", "--layer", LAYER, "--arch", str(path), message="deep.toml must be valid TOML")


@pytest.mark.parametrize(("name", "shown"), [("c\x001", "'c\\x001'"), ("c\x071", "'c\\x071'")])
def test_control_characters_in_topology_names(tmp_path, capsys, name, shown):
    path = tmp_path / "t.csv"
    path.write_text(f"{CONV_HEADER}\n{name},8,8,3,3,4,4,1,\n")
    fails(capsys, "simulate", "--topology", str(path),
          message=f"line 2: Layer name must be non-empty printable text of at most 200 characters, "
                  f"not {shown}")


@pytest.mark.parametrize("header", ["Layer name, IFMAP Height, IFMAP Width,", "Layer, M, N,",
                                    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                                    "Num Filter, Channels, Strides,"])
def test_topology_header_with_missing_or_swapped_columns(tmp_path, capsys, header):
    path = tmp_path / "t.csv"
    path.write_text(f"{header}\nc1,8,8,3,3,4,4,1,\n")
    fails(capsys, "simulate", "--topology", str(path), message="line 1: header must be SCALE-Sim's")


def test_json_is_strict(capsys):
    assert main(["simulate", "--network", "mobilenetv2", "--preset", "eyeriss", "--json"]) == 0
    json.loads(capsys.readouterr().out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    with pytest.raises(cli.AccelsimError, match="results must be finite numbers"):
        cli._json({"x": float("inf")})


# ----------------------------------------------------------------------------------- class 4: data safety


def test_report_refuses_a_directory_of_someone_elses_files(tmp_path, capsys):
    (tmp_path / "summary.json").write_text("the user's")
    fails(capsys, "report", "--layer", LAYER, "--out", str(tmp_path),
          message="--out must be a new or empty directory, or one accelsim wrote")
    assert (tmp_path / "summary.json").read_text() == "the user's"
    assert main(["report", "--layer", LAYER, "--out", str(tmp_path), "--force"]) == 0
    assert json.loads((tmp_path / "summary.json").read_text())["totals"]["layers"] == 1


def test_report_rewrites_its_own_directory_and_never_follows_a_symlink(tmp_path, capsys):
    out, victim = tmp_path / "rep", tmp_path / "victim.txt"
    victim.write_text("precious")
    assert main(["report", "--layer", LAYER, "--out", str(out)]) == 0
    (out / "summary.json").unlink()
    (out / "summary.json").symlink_to("../victim.txt")
    assert main(["report", "--layer", LAYER, "--out", str(out)]) == 0
    assert victim.read_text() == "precious" and not (out / "summary.json").is_symlink()
    assert (out / MANIFEST).is_file()


def test_empty_output_paths(capsys):
    fails(capsys, "report", "--layer", LAYER, "--out", "", message="argument --out: must be a non-empty path")
    fails(capsys, "rtl", "generate", "--out", "", message="argument --out: must be a non-empty path")


def test_rtl_generate_writes_through_the_output_directory(tmp_path, capsys, monkeypatch, rtl_extra):
    import types

    def fake_generate(arch, out_dir):  # what accelsim.rtl.generate.generate_verilog does, without amaranth
        from pathlib import Path

        paths = [Path(out_dir) / "accelerator.v", Path(out_dir) / "accelerator.json"]
        for path in paths:
            path.write_text(f"// {arch.name}\n")
        return paths

    fake = types.SimpleNamespace(generate_verilog=fake_generate)
    monkeypatch.setitem(sys.modules, "accelsim.rtl.generate", fake)
    (tmp_path / "accelerator.v").write_text("hand-written")
    fails(capsys, "rtl", "generate", "--out", str(tmp_path), message="--out must be a new or empty directory")
    assert (tmp_path / "accelerator.v").read_text() == "hand-written"
    out = tmp_path / "v"
    assert main(["rtl", "generate", "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out / "accelerator.v"), str(out / "accelerator.json")]
    assert (out / "accelerator.v").read_text() == "// gemmini\n" and (out / MANIFEST).is_file()


# ------------------------------------------------------------------------- class 7: the newcomer's path


def test_version(capsys):
    from accelsim import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"accelsim {__version__}\n"


def test_every_option_has_help_text():
    import argparse

    def parsers(parser):
        yield parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from parsers(sub)

    bare = [(p.prog, a.option_strings) for p in parsers(cli.build_parser()) for a in p._actions
            if a.option_strings and not a.help]
    assert bare == []


def test_scalesim_footer_names_the_calc_mode_not_a_default_bandwidth(tmp_path, capsys):
    from tests.test_cli import SCALESIM_CFG

    cfg = tmp_path / "a.cfg"
    cfg.write_text(SCALESIM_CFG.format(mode="CALC"))
    assert main(["simulate", "--layer", LAYER, "--scalesim-cfg", str(cfg), "--timing", "scalesim"]) == 0
    footer = capsys.readouterr().out.splitlines()[-1]
    assert "CALC DRAM (never stalls)" in footer and "16 B/cycle" not in footer, footer


# ----------------------------------------------------------- dot-product PEs (pe_dot_width, issue 10)


@pytest.mark.parametrize(("args", "message"), [
    (("--timing", "scalesim"), "pe_dot_width must be 1 with --timing scalesim"),
])
def test_dot_product_pes_where_they_do_not_apply(capsys, args, message):
    fails(capsys, "simulate", "--layer", LAYER, "--preset", "tensorcore", *args, message=message)


def test_bad_pe_dot_width(tmp_path, capsys):
    path = tmp_path / "a.toml"
    path.write_text("pe_dot_width = 3\n")
    fails(capsys, "simulate", "--layer", LAYER, "--arch", str(path),
          message="pe_dot_width must be one of 1, 2, 4, 8 (int8 pairs per PE per cycle), not 3")


@pytest.mark.rtl
def test_the_rtl_builds_dot_product_pes(rtl_extra):
    """The RTL builds V (its spads read V-row words, so their rows per buffer are a multiple of V); the
    firmware driver of ``--host riscv`` takes V too (tests/rtl/test_host_cosim.py)."""
    from accelsim.rtl.params import AccelParams

    p = AccelParams.from_arch(preset("tensorcore"))
    assert p.pe_dot_width == 4 and p.ifmap_lanes == p.weight_lanes == 4 * 4  # AR*V = AC = 16
    assert p.ifmap_rows % 4 == 0 and p.weight_rows % 4 == 0
    with pytest.raises(AccelsimError, match="pe_dot_width must be one of 1, 2, 4, 8, not 3"):
        AccelParams(array_rows=2, array_cols=2, dram_bytes_per_cycle=4, dram_latency_cycles=1, queue_depth=1,
                    host_issue_cycles=1, ifmap_rows=6, weight_rows=6, acc_rows=4, pe_dot_width=3)
    with pytest.raises(AccelsimError, match=r"ifmap_rows must be a multiple of pe_dot_width \(4\), not 6"):
        AccelParams(array_rows=2, array_cols=2, dram_bytes_per_cycle=4, dram_latency_cycles=1, queue_depth=1,
                    host_issue_cycles=1, ifmap_rows=6, weight_rows=8, acc_rows=4, pe_dot_width=4)


def test_simulate_and_report_state_the_dot_width(tmp_path, capsys):
    assert main(["simulate", "--layer", LAYER, "--preset", "tensorcore"]) == 0
    assert "4x16 WS V=4" in capsys.readouterr().out
    assert main(["report", "--layer", LAYER, "--preset", "tensorcore", "--dataflow", "is",
                 "--compare-dataflows", "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    assert ",is V=4," in (tmp_path / "r" / "layers.csv").read_text()
    assert "(4x16 IS V=4)" in (tmp_path / "r" / "report.md").read_text()
    assert "cycles_os" in (tmp_path / "r" / "dataflows.csv").read_text()
