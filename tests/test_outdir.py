"""accelsim.outdir: output directories are created or ours (manifest), files are replaced atomically and
never through a symlink, and a failed write leaves what was there."""

import errno
import json
import os

import pytest

from accelsim import AccelsimError
from accelsim.outdir import MANIFEST, OutputDir, atomic_write, check_file_target, write_outputs


def test_new_directory_gets_files_and_a_manifest(tmp_path):
    out = tmp_path / "a" / "b"
    paths = write_outputs(out, {"x.txt": "hello\n", "y.bin": b"\x00\x01"})
    assert paths == [out / "x.txt", out / "y.bin"]
    assert (out / "x.txt").read_text() == "hello\n" and (out / "y.bin").read_bytes() == b"\x00\x01"
    doc = json.loads((out / MANIFEST).read_text())
    assert doc == {"generator": "accelsim", "files": ["x.txt", "y.bin"]}
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "x.txt", "y.bin"]  # no temporary left


def test_our_directory_is_rewritten_and_the_manifest_grows(tmp_path):
    write_outputs(tmp_path / "o", {"x.txt": "1"})
    write_outputs(tmp_path / "o", {"x.txt": "2", "z.txt": "3"})
    assert (tmp_path / "o" / "x.txt").read_text() == "2"
    assert json.loads((tmp_path / "o" / MANIFEST).read_text())["files"] == ["x.txt", "z.txt"]


def test_foreign_non_empty_directory_is_refused_unless_forced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(AccelsimError, match=r"--out must be a new or empty directory, or one accelsim wrote"):
        OutputDir(tmp_path)
    write_outputs(tmp_path, {"x.txt": "1"}, force=True)
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "x.txt").read_text() == "1"
    write_outputs(tmp_path, {"x.txt": "2"})  # ours now
    assert (tmp_path / "x.txt").read_text() == "2"


def test_a_file_we_did_not_write_is_never_replaced(tmp_path):
    write_outputs(tmp_path, {"x.txt": "1"})
    (tmp_path / "y.txt").write_text("the user's")
    with pytest.raises(AccelsimError, match=r"--out file y.txt must be one accelsim wrote before replacing"):
        write_outputs(tmp_path, {"y.txt": "ours"})
    assert (tmp_path / "y.txt").read_text() == "the user's"


def test_a_symlink_is_replaced_never_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    write_outputs(out, {"summary.json": "{}"})
    (out / "summary.json").unlink()
    (out / "summary.json").symlink_to("../victim.txt")
    write_outputs(out, {"summary.json": "new"})
    assert victim.read_text() == "precious"
    assert not (out / "summary.json").is_symlink() and (out / "summary.json").read_text() == "new"
    link = tmp_path / "link"
    link.symlink_to(victim)
    atomic_write(link, b"x")
    assert victim.read_text() == "precious" and not link.is_symlink()


def test_a_symlinked_manifest_is_not_ours(tmp_path):
    (tmp_path / "elsewhere.json").write_text(json.dumps({"generator": "accelsim", "files": ["x"]}))
    (tmp_path / MANIFEST).symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(AccelsimError, match="must be a new or empty directory"):
        OutputDir(tmp_path)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", MANIFEST, "a\0b"])
def test_file_names_are_plain(tmp_path, name):
    with pytest.raises(AccelsimError, match="output file name must be a plain file name"):
        write_outputs(tmp_path, {name: "x"})


def test_bad_directories(tmp_path):
    regular = tmp_path / "file"
    regular.write_text("x")
    with pytest.raises(AccelsimError, match=r"--out must be a non-empty path"):
        OutputDir("")
    with pytest.raises(AccelsimError, match=r"--out must be a directory, not the file"):
        OutputDir(regular)
    with pytest.raises(AccelsimError, match=r"--out must be under a directory, not under the file"):
        OutputDir(regular / "sub" / "deeper")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").mkdir()
    (tmp_path / "d" / MANIFEST).write_text(json.dumps({"generator": "accelsim", "files": ["x.txt"]}))
    with pytest.raises(AccelsimError, match=r"must be a file we can replace, not the directory"):
        write_outputs(tmp_path / "d", {"x.txt": "1"})


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    write_outputs(tmp_path, {"x.txt": "old"})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(AccelsimError, match=r"x.txt must be in a writable directory, not .* \(No space left"):
        write_outputs(tmp_path, {"x.txt": "new"})
    assert (tmp_path / "x.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "x.txt"]


def test_nothing_is_created_before_the_first_write(tmp_path):
    out = OutputDir(tmp_path / "later")
    assert not out.path.exists()
    out.write_text("x.txt", "1")
    assert (tmp_path / "later" / "x.txt").read_text() == "1"


def test_a_read_only_directory_is_one_error(tmp_path, monkeypatch):
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)  # what a read-only directory does (even for root)
    with pytest.raises(AccelsimError, match=r"\(Permission denied\)"):
        write_outputs(tmp_path / "ro", {"x.txt": "1"})


def test_check_file_target(tmp_path):
    regular = tmp_path / "file"
    regular.write_text("x")
    assert check_file_target(tmp_path / "new" / "w.fst", "--waves") == tmp_path / "new" / "w.fst"
    with pytest.raises(AccelsimError, match=r"--waves must be under a directory, not under the file"):
        check_file_target(regular / "w.fst", "--waves")
    with pytest.raises(AccelsimError, match=r"--waves must be a file path, not the directory"):
        check_file_target(tmp_path, "--waves")
    with pytest.raises(AccelsimError, match=r"--waves must be a non-empty path"):
        check_file_target("", "--waves")
