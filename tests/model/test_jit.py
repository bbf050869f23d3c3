"""accelsim.jit: one function, run interpreted or compiled; callees compiled with it; the cache key follows
every compilable function in the call tree."""

import importlib
import sys

import numpy as np
import pytest

from accelsim.jit import compilable, compiled


def _write_modules(tmp_path, callee_body: str) -> None:
    (tmp_path / "jit_callee.py").write_text(
        "from accelsim.jit import compilable\n\n\n@compilable\ndef twice(a):\n" + callee_body)
    (tmp_path / "jit_caller.py").write_text(
        "from accelsim.jit import compilable\nfrom jit_callee import twice\n\nOFFSET = 3\n\n\n@compilable\n"
        "def f(a, out):\n    out[0] = twice(a) + OFFSET\n    return twice(a) * 0.5\n")


def _load(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("jit_callee", "jit_caller"):
        sys.modules.pop(name, None)
    return importlib.import_module("jit_caller").f


def test_compiled_runs_the_same_code_and_its_callees_compiled(tmp_path, monkeypatch):
    _write_modules(tmp_path, "    return 2 * a\n")
    f = _load(tmp_path, monkeypatch)
    fast = compiled(f)
    out_c, out_py = np.zeros(1, np.int64), np.zeros(1, np.int64)
    assert fast(7, out_c) == f(7, out_py) == fast.py_func(7, np.zeros(1, np.int64)) == 7.0
    assert out_c[0] == out_py[0] == 17
    assert fast.py_func.__code__ is f.__code__  # the twin runs f's code object, not a copy
    assert type(fast.py_func.__globals__["twice"]).__name__ == "CPUDispatcher"  # the callee, compiled
    assert compiled(f) is fast


def test_an_edit_to_a_callee_changes_the_cache_key(tmp_path, monkeypatch):
    _write_modules(tmp_path, "    return 2 * a\n")
    before = compiled(_load(tmp_path, monkeypatch))
    _write_modules(tmp_path, "    return 3 * a\n")
    after = compiled(_load(tmp_path, monkeypatch))
    assert before.py_func.__qualname__ != after.py_func.__qualname__
    assert after(7, np.zeros(1, np.int64)) == 10.5


def test_only_compilable_functions_compile():
    def plain(a):
        return a

    with pytest.raises(TypeError, match="must be marked @compilable"):
        compiled(plain)
    assert compilable(plain) is plain
