"""accelsim.mapper.mapfile: mapping files written by `map --save`, read by `simulate/report/cosim --mapping`;
every nest of the space survives the round trip; bad files are one line, exit 2."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim import workloads
from accelsim.arch import preset
from accelsim.cli import main
from accelsim.errors import AccelsimError
from accelsim.mapper.mapfile import KEYS, dumps, load_mapping, nest_from_dict
from accelsim.mapper.nest import LoopNest, evaluate_nest
from accelsim.mapper.program import RES_KEEP
from accelsim.sim import simulate_layer
from tests.mapper.conftest import mapped_cases

LAYER = "N=1,M=128,C=64,H=28,W=28,R=3,S=3,stride=1,pad=1,groups=1"


@settings(max_examples=60)
@given(mapped_cases())
def test_every_nest_round_trips(tmp_path_factory, case):
    _, _, nest = case
    path = tmp_path_factory.mktemp("m") / "m.toml"
    path.write_text(dumps({"conv": nest}))
    assert load_mapping(path) == {"conv": nest}


def test_saved_search_simulates_as_the_search(tmp_path, capsys):
    path = tmp_path / "alexnet.toml"
    assert main(["map", "--network", "alexnet", "--objective", "cycles", "--save", str(path)]) == 0
    capsys.readouterr()
    assert main(["simulate", "--network", "alexnet", "--mapping", str(path), "--json"]) == 0
    from_file = json.loads(capsys.readouterr().out)
    assert main(["simulate", "--network", "alexnet", "--mapper", "search", "--objective", "cycles",
                 "--json"]) == 0
    searched = json.loads(capsys.readouterr().out)
    assert from_file["totals"] == searched["totals"] and from_file["layers"] == searched["layers"]


def test_unlisted_layers_run_the_fixed_lowering(tmp_path, capsys):
    arch = preset("gemmini")
    csv = tmp_path / "net.csv"
    csv.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                   "Num Filter, Strides,\na, 16, 16, 3, 3, 16, 32, 1,\nb, 7, 7, 1, 1, 32, 64, 1,\n")
    a, b = workloads.load(csv)
    nest = LoopNest(49, 16, 16, x_res=RES_KEEP, x_depth=1)  # b's inputs loaded once, kept for every m-tile
    path = tmp_path / "m.toml"
    path.write_text(dumps({"b": nest}))
    assert main(["simulate", "--topology", str(csv), "--mapping", str(path), "--json"]) == 0
    got = {d["name"]: d for d in json.loads(capsys.readouterr().out)["layers"]}
    assert got["a"]["cycles"] == simulate_layer(a, arch).cycles
    assert got["b"]["cycles"] == evaluate_nest(b, arch, nest).cycles
    assert got["b"]["dram_read_bytes"] < simulate_layer(b, arch).dram_read_bytes


BAD = [
    ("[layers.x]\nP_T = 1\n", "accelsim: error: {f}: layers.x must be a table with K_T, not 'missing'"),
    ("[layers.x]\nP_T = 1\nK_T = 1\nM_T = 1\nspeed = 2\n",
     "accelsim: error: {f}: layers.x key must be one of dataflow, P_T, K_T, M_T, order, x_residency, "
     "w_residency, x_depth, w_depth, acc_depth, not 'speed'"),
    ("[layers.x]\nP_T = 0\nK_T = 1\nM_T = 1\n",
     "accelsim: error: {f}: layers.x.P_T must be a positive integer, not 0"),
    ("[layers.x]\nP_T = 1\nK_T = 1\nM_T = 1\norder = 'k>p'\n",
     "accelsim: error: {f}: layers.x.order must be one of 'p>m', 'm>p', not 'k>p'"),
    ("[layers.x]\nP_T = 1\nK_T = 1\nM_T = 1\ndataflow = 'rs'\n",
     "accelsim: error: {f}: layers.x.dataflow must be one of ws, os, is, not 'rs'"),
    ("[layers.x]\nP_T = 1\nK_T = 1\nM_T = 1\n", "accelsim: error: --mapping layer must be a layer of the "
     "workload (1 layers), not 'x'"),
    ("[layers.layer]\nP_T = 784\nK_T = 16\nM_T = 16\nx_residency = 'keep'\nx_depth = 64\n",
     "accelsim: error: layer layer: mapping: arch 'gemmini' ifmap_spad_kib must be holding 2304 slots of 784 "
     "rows (1,806,336 rows; it has 8,192), not 128"),
    ("[layers.layer]\nP_T = 784\nK_T = 17\nM_T = 16\n",
     "accelsim: error: layer layer: mapping K_T must be in [1, 16], not 17"),
    ('[layers."a\\nb"]\nP_T = 0\nK_T = 1\nM_T = 1\n',  # a name TOML quotes stays quoted: one line
     'accelsim: error: {f}: layers."a\\nb".P_T must be a positive integer, not 0'),
    ("layers = 3\n", "accelsim: error: {f} must be a [layers.NAME] table per mapped layer, not 'none'"),
    ("[layer.x]\n", "accelsim: error: {f} key must be 'layers' only (a table per layer), not 'layer'"),
    ("[layers.x\n", "accelsim: error: {f} must be valid TOML, not malformed (Expected ']' at the end of a "
     "table declaration (at line 1, column 10))"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=range(len(BAD)))
def test_bad_mapping_files_are_one_line(text, message, tmp_path, capsys):
    path = tmp_path / "m.toml"
    path.write_text(text)
    assert main(["simulate", "--layer", LAYER, "--mapping", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [message.format(f=path)]


@pytest.mark.parametrize(("args", "message"), [
    (["--mapper", "search"], "--mapping must be used without --mapper search (the file is the mapping), "
                             "not 'search'"),
    (["--host", "riscv"], "--mapping must be used with --host fixed (the firmware runs the fixed lowering), "
                          "not 'riscv'"),
    (["--timing", "scalesim"], "--mapping must be used with --timing accelsim, not 'scalesim'"),
])
def test_mapping_refuses_what_it_cannot_combine_with(args, message, tmp_path, capsys):
    path = tmp_path / "m.toml"
    path.write_text("[layers.layer]\nP_T = 784\nK_T = 16\nM_T = 16\n")
    assert main(["simulate", "--layer", LAYER, "--mapping", str(path), *args]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"accelsim: error: {message}"]


def test_missing_file_and_unwritable_save(tmp_path, capsys):
    assert main(["simulate", "--layer", LAYER, "--mapping", str(tmp_path / "none.toml")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"accelsim: error: --mapping file must be readable, not '{tmp_path / 'none.toml'}' (No such file or "
        "directory)")
    assert main(["map", "--layer", LAYER, "--save", str(tmp_path / "no" / "m.toml")]) == 2
    assert capsys.readouterr().err.strip().startswith("accelsim: error: --save file must be in a writable "
                                                     "directory")


def test_report_runs_a_mapping_file(tmp_path, capsys):
    path = tmp_path / "m.toml"
    path.write_text("[layers.layer]\nP_T = 196\nK_T = 16\nM_T = 16\nx_residency = 'keep'\nx_depth = 1\n")
    assert main(["report", "--layer", LAYER, "--mapping", str(path), "--out", str(tmp_path / "r")]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert load_mapping(tmp_path / "r" / "mapping.toml") == load_mapping(path)  # the run's nests, rerunnable
    assert "Mapping: 1 of 1 layers run a loop nest" in (tmp_path / "r" / "report.md").read_text()
    capsys.readouterr()
    assert main(["simulate", "--layer", LAYER, "--mapping", str(path), "--json"]) == 0
    assert summary["totals"]["cycles"] == json.loads(capsys.readouterr().out)["totals"]["cycles"]
    assert main(["report", "--layer", LAYER, "--mapping", str(path), "--out", str(tmp_path / "r2"),
                 "--compare-dataflows"]) == 2
    assert capsys.readouterr().err.strip() == ("accelsim: error: --compare-dataflows must be used without "
                                               "--mapping (the file's nests are for one dataflow each), not "
                                               "'--mapping'")


TOML_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3),
                                                                                       inner, max_size=3),
                           max_leaves=6)


VALUES = TOML_VALUES | st.sampled_from(["p>m", "m>p", "keep", "step", "ws", "os", "is", 1, 16])
TABLES = (st.dictionaries(st.sampled_from([*KEYS, "x"]), VALUES, max_size=len(KEYS) + 1)
          | st.fixed_dictionaries({k: st.integers(1, 64) for k in ("P_T", "K_T", "M_T")},
                                  optional={k: VALUES for k in KEYS[4:]}))


@settings(max_examples=300)
@given(TABLES)
def test_any_table_is_a_nest_or_one_error(doc):
    """Whatever a layer's table holds, reading it gives a nest or an AccelsimError (one line), never another
    exception."""
    try:
        nest = nest_from_dict(doc, "m.toml: layers.x")
    except AccelsimError as err:
        assert "\n" not in str(err)
    else:
        assert (doc["P_T"], doc["K_T"], doc["M_T"]) == (nest.P_T, nest.K_T, nest.M_T)
