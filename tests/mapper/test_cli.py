"""`accelsim map` and `simulate --mapper search` as users run them."""

from __future__ import annotations

import json

import pytest

from accelsim.cli import main

LAYER = "N=1,M=128,C=64,H=28,W=28,R=3,S=3,stride=1,pad=1,groups=1"


def test_map_json(capsys):
    assert main(["map", "--layer", LAYER, "--dataflows", "all", "--json", "--gap", "0"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (layer,) = doc["layers"]
    assert layer["mapping"]["dataflow"] in ("ws", "os", "is")
    mapped, fixed = layer["mapped"], layer["fixed"]
    assert mapped["cycles"] * mapped["energy_pj"] <= fixed["cycles"] * fixed["energy_pj"]  # edp, the default
    assert layer["exhaustive"] and layer["scheduled"] >= 1 and layer["candidates"] > 100
    assert doc["totals"]["mapped"]["cycles"] == mapped["cycles"]


def test_map_says_when_the_budget_ran_out(capsys):
    assert main(["map", "--layer", LAYER, "--budget-s", "1e-9"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "--budget-s ran out on 1 of 1 layers: their mappings are the best found by then, not proven within "
        "--gap of the optimum")
    assert main(["map", "--layer", LAYER]) == 0
    assert "ran out" not in capsys.readouterr().out


def test_map_table_and_simulate_agree(capsys):
    assert main(["map", "--network", "alexnet", "--objective", "cycles"]) == 0
    table = capsys.readouterr().out
    assert "objective cycles:" in table and "fewer cycles" in table
    total = int(next(line for line in table.splitlines() if line.startswith("total")).split()[1].replace(",",
                                                                                                       ""))
    assert main(["simulate", "--network", "alexnet", "--mapper", "search", "--objective", "cycles",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["cycles"] == total


@pytest.mark.parametrize(("args", "message"), [
    (["--objective", "speed"], "invalid choice: 'speed'"),
    (["--gap", "2"], "--gap must be a fraction in [0, 1), not 2.0"),
    (["--budget-s", "0"], "--budget-s must be a positive number of seconds, not 0.0"),
    (["--dataflows", "ws,xx"], "--dataflows must be one of ws, os, is, not 'xx'"),
    (["--dataflows", ","], "--dataflows must be a comma-separated list such as ws,os,is"),
])
def test_map_bad_options(args, message, capsys):
    assert main(["map", "--layer", LAYER, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_mapper_search_needs_the_fixed_host(capsys):
    assert main(["simulate", "--layer", LAYER, "--mapper", "search", "--host", "riscv"]) == 2
    assert "--mapper search must be used with --host fixed" in capsys.readouterr().err
