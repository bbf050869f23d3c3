"""The ``mapper`` axis: a ``search`` point is simulate_network with each layer's mapping searched (what
`accelsim simulate --mapper search` prints; each layer's EDP never worse than the fixed lowering's), a
``fixed`` point the fixed lowering; it does not combine with the firmware host; a bad value is one clear
error."""

import pytest

from accelsim import workloads
from accelsim.errors import AccelsimError
from accelsim.mapper.search import search_network
from accelsim.sim import simulate_network
from accelsim.sweep import load
from accelsim.sweep.execute import COLUMNS, evaluate_chunk
from accelsim.sweep.space import config

MAPPER_SPACE = """
base = "gemmini"
workloads = ["tiny.csv"]

[space]
array_rows = [4, 8]
dataflow = ["ws", "is"]
ifmap_spad_kib = [1, 64]
mapper = ["fixed", "search"]
"""


def test_search_points_equal_simulate_with_the_mapper(space_file):
    path = space_file.with_name("mapper.toml")
    path.write_text(MAPPER_SPACE)
    s = load(path)
    rows = evaluate_chunk(s, 0, s.size)
    assert tuple(rows) == COLUMNS and set(rows["mapper"].tolist()) == {"fixed", "search"}
    layers = workloads.load(space_file.parent / "tiny.csv")
    by_config = {}
    for i in range(rows["config_id"].size):
        row = {c: rows[c][i] for c in COLUMNS}
        arch = config(s, row)
        if not row["valid"]:
            with pytest.raises(AccelsimError):
                simulate_network(layers, arch)
            continue
        if row["mapper"] == "search":
            mapped = search_network(layers, arch)
            assert all(m.result.energy_pj * m.result.cycles <= m.fixed.energy_pj * m.fixed.cycles
                       for m in mapped)
            results = [m.result for m in mapped]
        else:
            results = list(simulate_network(layers, arch).layers)
        assert row["cycles"] == sum(r.cycles for r in results)
        assert row["energy_pj"] == sum(r.energy_pj for r in results)  # summed left to right as simulate does
        assert row["dram_read_bytes"] == sum(r.dram_read_bytes for r in results)
        key = tuple(row[k] for k in ("array_rows", "dataflow", "ifmap_spad_kib"))
        by_config.setdefault(key, {})[str(row["mapper"])] = (row["cycles"], row["energy_pj"])
    pairs = [v for v in by_config.values() if len(v) == 2]
    assert pairs and any(v["search"] != v["fixed"] for v in pairs)  # the axis changes results


def test_mapper_search_and_riscv_host_do_not_combine(space_file):
    path = space_file.with_name("mapper.toml")
    path.write_text(MAPPER_SPACE + 'host = ["fixed", "riscv"]\n')
    with pytest.raises(AccelsimError, match=r"space\.mapper must be only fixed where host includes riscv"):
        load(path)


def test_a_bad_mapper_is_one_clear_error(space_file):
    path = space_file.with_name("mapper.toml")
    path.write_text(MAPPER_SPACE.replace('"search"', '"anneal"'))
    with pytest.raises(AccelsimError, match=r"space\.mapper must be one of fixed, search, not 'anneal'"):
        load(path)
