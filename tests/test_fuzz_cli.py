"""Fuzz the `accelsim` command line in-process (``main``), one test per kind of input: for any input it
returns 0 or 2, never raises; on 2 it prints exactly one line to stderr and nothing to stdout; on 0 nothing
to stderr, and ``--json`` output is strict JSON (no NaN, no Infinity). Where the input is known to be bad
(a duplicate key, a non-finite float, a missing column, bytes that are not UTF-8...) it must exit 2.

11,200 cases in all, derandomized in CI (tests/conftest.py's profile); strategies in tests/strategies.py.
Each hypothesis example runs PER_EXAMPLE cases: hypothesis's own cost per example (saving and restoring
every random state, its choice tree) is several times that of one in-process ``main`` call, and a failing
batch still shrinks to its one failing case (the others shrink to the simplest input).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tomllib
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim import report
from accelsim.cli import main
from accelsim.layer import SHAPE_FIELDS
from accelsim.outdir import MANIFEST
from tests.strategies import (
    layer_specs,
    mapping_documents,
    onnx_files,
    scalesim_cfgs,
    toml_documents,
    topology_files,
)

TINY = "M=4,C=4,H=4,W=4"  # a layer whose simulation is cheap
PRESETS = st.sampled_from([[], ["--preset", "eyeriss"], ["--preset", "tpu_v1"], ["--dataflow", "is"]])


PER_EXAMPLE = 4


def fuzz(cases: int):
    """Settings for a fuzz test of ``cases`` CLI invocations (PER_EXAMPLE per hypothesis example)."""
    return settings(max_examples=cases // PER_EXAMPLE, deadline=None, suppress_health_check=list(HealthCheck))


def batch(strategy):
    return st.lists(strategy, min_size=PER_EXAMPLE, max_size=PER_EXAMPLE)


def run(argv: list[str]) -> tuple[int, str]:
    """``main(argv)`` under the CLI contract; returns (exit status, stdout)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    out_text, err_text = out.getvalue(), err.getvalue()
    assert code in (0, 2), (argv, code, err_text)
    if code == 2:
        lines = err_text.splitlines()
        assert len(lines) == 1 and lines[0].startswith("accelsim"), (argv, err_text)
        assert out_text == "", (argv, out_text)
    else:
        assert err_text == "", (argv, err_text)
        if "--json" in argv:
            json.loads(out_text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON of {argv}"))
    return code, out_text


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _write(path: Path, data: bytes) -> str:
    path.unlink(missing_ok=True)  # a new file: ext4 flushes a file truncated and rewritten (~4 ms each)
    path.write_bytes(data)
    return str(path)


# ---------------------------------------------------------------------------------------------- --layer


def _syntax_error(spec: str) -> bool:
    """True when ``spec`` breaks a rule of the --layer syntax (whatever the values mean)."""
    items = [item.strip() for item in spec.split(",") if item.strip()]
    keys = [item.partition("=")[0].strip() for item in items]
    if not items or len(set(keys)) < len(keys):
        return True
    for item, key in zip(items, keys, strict=True):
        value = item.partition("=")[2]
        if "=" not in item or key not in (*SHAPE_FIELDS, "name"):
            return True
        if key != "name":
            try:
                int(value)
            except ValueError:
                return True
    return False


@fuzz(3000)
@given(specs=batch(layer_specs()))
def test_fuzz_layer_strings(specs):
    for spec in specs:
        code, _ = run(["layers", "--layer", spec])
        if _syntax_error(spec):
            assert code == 2, spec


@fuzz(1000)
@given(cases=batch(st.tuples(layer_specs(valid_bias=True), PRESETS, st.sampled_from(["accelsim", "scalesim"])
                             )))
def test_fuzz_layer_strings_simulated(cases):
    for spec, arch, timing in cases:
        code, out = run(["simulate", "--layer", spec, *arch, "--timing", timing, "--json"])
        if code == 0:
            assert json.loads(out)["totals"]["layers"] == 1
        if _syntax_error(spec):
            assert code == 2, spec


# ----------------------------------------------------------------------------------------------- --arch


def _known_bad_toml(data: bytes) -> bool:
    """True when the document is certainly not a valid arch file: not UTF-8, not TOML, an unknown key, a
    non-finite number, a name that is not a string."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return True
    from tests.strategies import ARCH_KEYS

    if set(doc) - {*ARCH_KEYS, "energy_pj"} or ("name" in doc and not isinstance(doc["name"], str)):
        return True
    energy = doc.get("energy_pj")
    values = [*doc.values(), *(energy.values() if isinstance(energy, dict) else ())]
    return any(isinstance(v, float) and not math.isfinite(v) for v in values)


@fuzz(2000)
@given(documents=batch(toml_documents()))
def test_fuzz_arch_toml(scratch, documents):
    for data in documents:
        path = _write(scratch / "arch.toml", data)
        code, _ = run(["simulate", "--layer", TINY, "--arch", path, "--json"])
        if _known_bad_toml(data):
            assert code == 2, data


@fuzz(1200)
@given(documents=batch(mapping_documents()))
def test_fuzz_mapping_toml(scratch, documents):
    for data in documents:
        path = _write(scratch / "mapping.toml", data)
        run(["simulate", "--layer", TINY, "--mapping", path, "--json"])


# ------------------------------------------------------------------------------------------- --topology


def _bad_header(data: bytes) -> bool:
    """True when the first line certainly does not name every column of either form."""
    try:
        first = data.decode("utf-8-sig").splitlines()[0]
    except (UnicodeDecodeError, IndexError):
        return True
    names = [" ".join(n.casefold().split()) for n in first.split(",")]
    while names and not names[-1]:
        names.pop()
    gemm, conv = ["m", "n", "k"], ["ifmap height", "ifmap width", "filter height", "filter width", "channels",
                                   "num filter", "strides"]
    return '"' not in first and "#" not in first and names[1:] not in (gemm, conv, [*gemm, "sparsity"],
                                                                       [*conv, "sparsity"])


@fuzz(1600)
@given(cases=batch(st.tuples(topology_files(), st.integers(0, 4))))
def test_fuzz_topology_csv(scratch, cases):
    for data, simulate in cases:
        path = _write(scratch / "topology.csv", data)
        argv = ["simulate", "--topology", path, "--json"] if simulate == 0 else ["layers", "--topology", path]
        code, _ = run(argv)
        if _bad_header(data):
            assert code == 2, data


# --------------------------------------------------------------------------------------- --scalesim-cfg


@fuzz(1200)
@given(cases=batch(st.tuples(scalesim_cfgs(), st.sampled_from([[], ["--timing", "scalesim"]]))))
def test_fuzz_scalesim_cfg(scratch, cases):
    for data, timing in cases:
        path = _write(scratch / "scale.cfg", data)
        code, _ = run(["simulate", "--layer", TINY, "--scalesim-cfg", path, *timing, "--json"])
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            assert code == 2, data


# ----------------------------------------------------------------------------------------------- --onnx


@fuzz(800)
@given(cases=batch(st.tuples(onnx_files(), st.integers(0, 3))))
def test_fuzz_onnx(scratch, cases):
    for data, simulate in cases:
        path = _write(scratch / "model.onnx", data)
        run(["simulate", "--onnx", path, "--json"] if simulate == 0 else ["layers", "--onnx", path])


# ------------------------------------------------------------------------------------------------ paths

VICTIM = "precious"
PLACES = ["", "new", "new/deeper", "empty", "ours", "foreign", "file", "file/x", "link_to_dir", "dangling",
          "ours/summary.json", "empty/../ours", ".", "a\x00b", "victim.txt", "ours/report.md/x"]


def _layout(root: Path) -> None:
    """A directory of everything an --out path can meet: empty, ours, someone else's, a file, symlinks."""
    (root / "victim.txt").write_text(VICTIM)
    (root / "empty").mkdir()
    (root / "foreign").mkdir()
    (root / "foreign" / "summary.json").write_text(VICTIM)
    (root / "ours").mkdir()
    (root / "ours" / MANIFEST).write_text(json.dumps({"generator": "accelsim", "files": ["summary.json",
                                                                                         "report.md"]}))
    (root / "ours" / "summary.json").symlink_to("../victim.txt")
    (root / "ours" / "report.md").write_text("old")
    (root / "file").write_text(VICTIM)
    (root / "link_to_dir").symlink_to("empty")
    (root / "dangling").symlink_to("nowhere")


def _one_plot(result, out):  # the PNGs cost ~0.3 s a report; one small file stands for them here
    return [out.write_bytes("plot.png", b"png")]


PARTS = ["new", "empty", "ours", "foreign", "file", "link_to_dir", "dangling", "victim.txt", "summary.json",
         "report.md", "..", ".", "x\x00", "é", " "]
paths = st.one_of(st.sampled_from(PLACES),
                  st.lists(st.sampled_from(PARTS), min_size=1, max_size=3).map("/".join))
commands = st.sampled_from(["report", "report", "rtl"])


@fuzz(400)
@given(cases=batch(st.tuples(paths, st.booleans(), st.booleans(), commands)))
def test_fuzz_output_paths(tmp_path_factory, cases):
    for place, relative, force, command in cases:
        root = tmp_path_factory.mktemp("out")
        _layout(root)
        out = place if relative or not place else str(root / place)
        argv = ["report", "--layer", TINY] if command == "report" else ["rtl", "generate"]
        argv += ["--out", out, *(["--force"] if force else [])]
        with mock.patch.object(report, "_plots", _one_plot), contextlib.chdir(root), _fake_rtl():
            code, _ = run(argv)
        assert (root / "victim.txt").read_text() == VICTIM  # never written through a symlink
        assert (root / "file").read_text() == VICTIM
        if not force:
            assert (root / "foreign" / "summary.json").read_text() == VICTIM
        if place in ("", "file", "file/x", "a\x00b", "ours/report.md/x", "victim.txt") or "\x00" in place:
            assert code == 2, place
        if place == "foreign" and not force:
            assert code == 2
        if code == 0:
            target = root / out if relative else Path(out)
            written = target / ("summary.json" if command == "report" else "accelerator.v")
            assert (target / MANIFEST).is_file() and written.is_file() and not written.is_symlink()


@contextlib.contextmanager
def _fake_rtl():
    """`rtl generate` without Amaranth: a stand-in generate_verilog writing what the real one writes."""
    import sys
    import types

    def generate_verilog(arch, out_dir):
        paths = [Path(out_dir) / "accelerator.v", Path(out_dir) / "accelerator.json"]
        for path in paths:
            path.write_text(arch.name)
        return paths

    fake = types.SimpleNamespace(generate_verilog=generate_verilog)
    with mock.patch.dict(sys.modules, {"accelsim.rtl.generate": fake}), \
            mock.patch("accelsim.cli._check_extra", lambda command: None):
        yield


def test_the_fuzz_runs_at_least_ten_thousand_cases():
    tests = [value for name, value in globals().items() if name.startswith("test_fuzz_")]
    cases = sum(test._hypothesis_internal_use_settings.max_examples * PER_EXAMPLE for test in tests)
    assert len(tests) == 8 and cases >= 11_200, cases
