"""Writing into a directory the user names (``report --out``, ``rtl generate --out``) without ever
clobbering a file accelsim did not write.

- Each file is written atomically: a temporary file in the target directory, then :func:`os.replace`. A
  reader sees the old file or the new one, never half of one, and a failed write leaves the old file.
- Never through a symlink: :func:`os.replace` replaces a symlink that stands where a file goes by the new
  file; the file the link pointed to is never opened. (The output directory itself may be a symlink to a
  directory: that is where the user asked us to write.)
- A directory is ours when it holds :data:`MANIFEST`, the list of files accelsim wrote there. An empty or
  new directory becomes ours; a non-empty directory without the manifest is refused unless ``force``. In
  our directory, a name the manifest does not list is never replaced unless ``force``.
- An empty path is refused (``Path("")`` is the working directory).

Usage, all names are plain file names::

    out = OutputDir("reports/resnet50", force=False)       # validates, creates; AccelsimError if refused
    out.write_text("report.md", text)
    out.write_bytes("plot.png", data)
    out.savefig("roofline.png", fig, dpi=110)               # a matplotlib figure
    write_outputs("verilog/", {"accelerator.v": v_bytes, "accelerator.json": j_bytes})  # all at once

:func:`atomic_write` is the single-file form (``cosim --waves FILE``); :func:`check_file_target` validates
such a path before any work is done.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from accelsim.errors import AccelsimError

MANIFEST = ".accelsim-output.json"
_GENERATOR = "accelsim"


def _non_empty(path: str | Path, what: str) -> Path:
    text = os.fspath(path)
    if not text or "\0" in text:
        raise AccelsimError(f"{what} must be a non-empty path without NUL bytes, not {text!r}")
    return Path(text)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, data: bytes, *, what: str = "output file") -> Path:
    """Write ``data`` to ``path`` through a temporary file in its directory and :func:`os.replace`.

    A symlink at ``path`` is replaced by the file, never followed; an existing directory is refused.
    """
    path = _non_empty(path, what)
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            raise AccelsimError(f"{what} must be a file we can replace, not the directory {str(path)!r}")
    except FileNotFoundError:
        pass
    except OSError as err:
        raise AccelsimError(f"{what} must be writable, not {str(path)!r} ({err.strerror})") from None
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        raise AccelsimError(
            f"{what} must be in a writable directory, not {str(path)!r} ({err.strerror or err})"
        ) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return path


def _creatable(path: Path, what: str) -> None:
    """Refuse a path that cannot become a directory or a file: its nearest existing ancestor must be a
    directory (not ``out.txt`` in ``out.txt/report``) that we may write into."""
    parent = path.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise AccelsimError(f"{what} must be under a directory, not under the file {str(parent)!r}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise AccelsimError(f"{what} must be creatable, not {str(path)!r} ({str(parent)!r} is not writable)")


def check_file_target(path: str | Path, what: str) -> Path:
    """Refuse, before any work, a path a file cannot be written to: empty, an existing directory, or one
    under a regular file (``out.txt/waves.fst``). Its missing parent directories may be created later."""
    path = _non_empty(path, what)
    if path.is_dir():
        raise AccelsimError(f"{what} must be a file path, not the directory {str(path)!r}")
    _creatable(path, what)
    return path


def _read_manifest(directory: Path) -> set[str] | None:
    """The names our manifest in ``directory`` lists, or None if there is no valid manifest of ours."""
    manifest = directory / MANIFEST
    try:
        if not stat.S_ISREG(os.lstat(manifest).st_mode) or os.lstat(manifest).st_size > 1 << 20:
            return None
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ours = isinstance(doc, dict) and doc.get("generator") == _GENERATOR and isinstance(doc.get("files"), list)
    if not ours:
        return None
    return {name for name in doc["files"] if isinstance(name, str)}


class OutputDir:
    """A directory accelsim may write into (the rules are in the module docstring)."""

    def __init__(self, path: str | Path, *, force: bool = False, what: str = "--out") -> None:
        """Check ``path`` now (cheap, before any work); the directory is created at the first write."""
        self.path = _non_empty(path, what)
        self.force = force
        self.what = what
        name = str(self.path)
        entries: list[str] = []
        try:
            if self.path.is_dir():
                entries = os.listdir(self.path)
            elif os.path.lexists(self.path):
                raise AccelsimError(f"{what} must be a directory, not the file {name!r}")
            else:
                _creatable(self.path, what)
        except OSError as err:
            raise AccelsimError(f"{what} must be a directory we can list, not {name!r} "
                                f"({err.strerror or err})") from None
        listed = _read_manifest(self.path) if entries else None
        if entries and listed is None and not force:
            raise AccelsimError(
                f"{what} must be a new or empty directory, or one accelsim wrote (it holds {MANIFEST}), not "
                f"{name!r} with {len(entries)} other entries (pass --force to write into it anyway)"
            )
        self._listed: set[str] = listed or set()
        self.written: list[Path] = []

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def _check_name(self, name: str) -> Path:
        if not name or name in (".", "..", MANIFEST) or "/" in name or os.sep in name or "\0" in name:
            raise AccelsimError(f"output file name must be a plain file name, not {name!r}")
        target = self.path / name
        exists = os.path.lexists(target)
        if exists and name not in self._listed and not self.force:
            raise AccelsimError(
                f"{self.what} file {name} must be one accelsim wrote before replacing it, not "
                f"{str(target)!r} (not listed in {MANIFEST}; pass --force to replace it)"
            )
        return target

    def _record(self, names: list[str]) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise AccelsimError(f"{self.what} must be a directory we can create, not {str(self.path)!r} "
                                f"({err.strerror or err})") from None
        new = set(names) - self._listed
        if new:  # listed before the files are written, so an interrupted run can be repeated
            self._listed |= new
            doc = {"generator": _GENERATOR, "files": sorted(self._listed)}
            atomic_write(self.manifest_path, (json.dumps(doc, indent=1) + "\n").encode(), what=self.what)

    def write_all(self, files: Mapping[str, bytes | str]) -> list[Path]:
        """Write every ``name -> bytes or str (UTF-8)``; return the paths, in the mapping's order."""
        targets = {name: self._check_name(name) for name in files}
        self._record(list(files))
        paths = []
        for name, data in files.items():
            raw = data.encode() if isinstance(data, str) else data
            paths.append(atomic_write(targets[name], raw, what=f"{self.what} file {name}"))
        self.written += paths
        return paths

    def write_bytes(self, name: str, data: bytes) -> Path:
        return self.write_all({name: data})[0]

    def write_text(self, name: str, text: str) -> Path:
        return self.write_all({name: text})[0]

    def savefig(self, name: str, fig, **kwargs) -> Path:
        """A matplotlib figure, rendered in memory (format from the name's suffix), then written."""
        buf = io.BytesIO()
        fig.savefig(buf, format=Path(name).suffix.lstrip(".") or "png", **kwargs)
        return self.write_bytes(name, buf.getvalue())


def write_outputs(path: str | Path, files: Mapping[str, bytes | str], *, force: bool = False,
                  what: str = "--out") -> list[Path]:
    """``OutputDir(path, force=force, what=what).write_all(files)``: the one-call form."""
    return OutputDir(path, force=force, what=what).write_all(files)


__all__ = ["MANIFEST", "OutputDir", "atomic_write", "check_file_target", "write_outputs"]
