"""accelsim.inputs: user files are read within a size limit and decoded strictly, every failure one error."""

import os

import pytest

from accelsim import AccelsimError
from accelsim.inputs import read_bytes, read_text


def test_the_limit_is_inclusive(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"x" * 10)
    assert read_bytes(path, "file", limit=10) == b"x" * 10
    with pytest.raises(AccelsimError, match=r"^file must be at most 9 bytes, not '.*a.txt' \(larger\)$"):
        read_bytes(path, "file", limit=9)


def test_unbounded_streams_stop_at_the_limit():
    with pytest.raises(AccelsimError, match=r"^file must be at most 1 KiB, not '/dev/zero' \(larger\)$"):
        read_bytes("/dev/zero", "file", limit=1024)
    r, w = os.pipe()  # a pipe has no size: read up to the limit, then refuse
    os.write(w, b"y" * 100)
    os.close(w)
    with pytest.raises(AccelsimError, match="must be at most 50 bytes"):
        read_bytes(f"/proc/self/fd/{r}", "file", limit=50)
    os.close(r)


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p, "file must be an existing file, not"),
    (lambda p: p.mkdir() or p, "file must be a file, not the directory"),
    (lambda p: (p.write_text("x"), p / "below")[1], "file must be a path through directories, not"),
])
def test_paths_that_are_not_files(tmp_path, make, message):
    with pytest.raises(AccelsimError, match=message):
        read_bytes(make(tmp_path / "p"), "file", limit=10)


@pytest.mark.parametrize("path", ["", "a\0b"])
def test_empty_and_nul_paths(path):
    with pytest.raises(AccelsimError, match="must be a non-empty path without NUL bytes"):
        read_bytes(path, "file", limit=10)


def test_text_is_strict_utf8_and_names_the_offset(tmp_path):
    path = tmp_path / "t.toml"
    path.write_bytes("é = 1\n".encode() + b"\xff\xfe")
    with pytest.raises(AccelsimError, match=r"t.toml' \(byte 7: b'\\xff\\xfe' is not UTF-8\)$"):
        read_text(path, "arch file", limit=100)
    path.write_bytes("\ufeffa".encode())
    assert read_text(path, "f", limit=100, encoding="utf-8-sig") == "a"


