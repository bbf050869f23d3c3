"""One copy of each formula, run by the interpreter or compiled by Numba.

A block latency, a tiling rule or the closed form is written once, as a plain Python function over scalars
(ints, floats, bools; small numpy arrays as scratch) marked :func:`compilable`. The scheduler and the
mapping call it as it is; :func:`compiled` returns the same function compiled by Numba, for the engines
that evaluate millions of points (STYLE.md: "make the one copy compilable rather than mirroring it by
hand"). The model package still never imports Numba at module top: :func:`compiled` imports it on first use.

How a compiled function calls other compilable functions: Numba resolves a function's globals when it
compiles it, and a plain Python function is not callable from compiled code. :func:`compiled` therefore
compiles a twin of the function -- the same code object, the same defaults -- whose globals map every
compilable name it uses to that callee's compiled twin (recursively). Nothing is copied by hand and the
interpreted function is untouched: ``compiled(f).py_func`` runs ``f``'s code.

Numba's on-disk cache notices an edit to the file of the function it caches, not to the files of the
functions it calls (its documented limit). The twin's ``__qualname__`` therefore carries a digest of the
source of every compilable function it reaches, so an edit anywhere in that call tree makes a new cache
entry instead of reusing stale machine code.
"""

from __future__ import annotations

import functools
import hashlib
import types
from collections.abc import Callable
from typing import Any

_MARK = "__accelsim_compilable__"


def compilable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``fn`` as written in the subset Numba compiles (nopython mode); it stays a plain function. It
    must call other compilable functions by a global name (``from m import f``, not ``m.f``): those are the
    names :func:`compiled` rebinds to compiled twins."""
    setattr(fn, _MARK, True)
    return fn


def _callees(fn: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    """The compilable functions ``fn`` refers to by global name."""
    out = {}
    for name in fn.__code__.co_names:
        obj = fn.__globals__.get(name)
        if callable(obj) and getattr(obj, _MARK, False):
            out[name] = obj
    return out


def _code_hash(code: types.CodeType, h: Any) -> None:
    """Feed a code object's bytecode, names and constants (nested code objects recursively) to ``h``: what
    changes when the function's meaning does, not when a line above it moves."""
    h.update(code.co_code)
    h.update(repr((code.co_names, code.co_varnames, code.co_freevars)).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _code_hash(const, h)
        else:
            h.update(repr(const).encode())


def _digest(fn: Callable[..., Any], seen: set[Callable[..., Any]] | None = None) -> str:
    """A hash of the code of ``fn`` and of every compilable function it reaches (and of the module
    constants they read, which Numba freezes into the machine code)."""
    seen = set() if seen is None else seen
    if fn in seen:
        return ""
    seen.add(fn)
    h = hashlib.sha256()
    _code_hash(fn.__code__, h)
    for name in fn.__code__.co_names:
        value = fn.__globals__.get(name)
        if isinstance(value, (int, float, bool, str, tuple)):
            h.update(f"{name}={value!r}".encode())
    for name, callee in sorted(_callees(fn).items()):
        h.update(name.encode() + _digest(callee, seen).encode())
    return h.hexdigest()[:16]


@functools.cache
def compiled(fn: Callable[..., Any]) -> Any:
    """``fn`` compiled by Numba (``njit``, on-disk cache, numpy's division semantics: no exception on a
    zero divisor, integer ``//`` floors as numpy's does); its compilable callees are compiled the same way."""
    if not getattr(fn, _MARK, False):
        raise TypeError(f"{fn.__qualname__} must be marked @compilable, not left plain")
    from numba import njit

    env = dict(fn.__globals__)
    env.update({name: compiled(callee) for name, callee in _callees(fn).items()})
    twin = types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__, fn.__closure__)
    twin.__qualname__ = f"{fn.__qualname__}_{_digest(fn)}"
    twin.__module__ = fn.__module__
    twin.__doc__ = fn.__doc__
    return njit(cache=True, error_model="numpy")(twin)
