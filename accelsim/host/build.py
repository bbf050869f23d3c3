"""Build firmware ELFs: any C program with the project's crt0, linker script, stdio and generated headers.

``accelsim firmware build SRC.c ... -o OUT.elf`` calls :func:`build`. The firmware sources are found from the
installed package (``accelsim.firmware``), the headers are generated into a private build directory from
Python (accelsim.host.header), and gcc runs as ``riscv64-unknown-elf-gcc -march=rv32im -mabi=ilp32
--specs=picolibc.specs -O2``. A missing toolchain or a compile error is one AccelsimError; the compiler's
own message is kept in :attr:`BuildError.output`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from accelsim.errors import AccelsimError, require
from accelsim.host import soc_map

CC = "riscv64-unknown-elf-gcc"
INSTALL = "apt-get install -y gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf"
# -march=rv32im picks picolibc's rv32im multilib (rv32im_zicsr would not); the assembler still takes CSR
# instructions (crt0.S, inline asm).
CFLAGS = ("-march=rv32im", "-Wa,-march=rv32im_zicsr", "-mabi=ilp32", "--specs=picolibc.specs", "-O2", "-g",
          "-Wall", "-ffunction-sections", "-fdata-sections")
RUNTIME = ("crt0.S", "stdio.c")  # linked into every program


class BuildError(AccelsimError):
    """The compiler rejected the program; ``output`` is what it printed."""

    def __init__(self, message: str, output: str):
        super().__init__(message)
        self.output = output


def firmware_dir() -> Path:
    """Where crt0.S, link.ld, stdio.c, accel.h and conv.c are: the repository's firmware/ beside the
    accelsim package (a checkout, an editable install), else the installed package accelsim.firmware."""
    import accelsim

    repo = Path(accelsim.__file__).resolve().parents[1] / "firmware"
    if (repo / "crt0.S").is_file():
        return repo
    from accelsim.firmware import DIR

    return DIR


def compiler() -> str:
    """The RISC-V gcc's path; a one-line error saying how to install it if it is missing."""
    path = shutil.which(CC)
    require(path is not None and _has_picolibc(path), f"the RISC-V toolchain ({CC} with picolibc)",
            f"installed ({INSTALL})", "missing")
    return path  # type: ignore[return-value]


def _has_picolibc(gcc: str) -> bool:
    r = subprocess.run([gcc, "--specs=picolibc.specs", "-print-file-name=picolibc.specs"],
                       capture_output=True, text=True)
    return r.returncode == 0 and Path(r.stdout.strip()).is_file()


def build(sources: list[str | Path], out: str | Path, *, ram_bytes: int = soc_map.RAM_BYTES_DEFAULT,
          cflags: tuple[str, ...] = ()) -> Path:
    """Compile and link ``sources`` (C or assembly) into the ELF ``out`` for a RAM of ``ram_bytes``."""
    gcc = compiler()
    require(ram_bytes > 0 and ram_bytes & (ram_bytes - 1) == 0 and ram_bytes <= 1 << 30, "RAM size",
            "a power of two of at most 1 GiB", ram_bytes)
    srcs = [Path(s) for s in sources]
    require(bool(srcs), "sources", "at least one C file", sources)
    for src in srcs:
        require(src.is_file(), "source file", "an existing file", str(src))
    fw = firmware_dir()
    out = Path(out)
    from accelsim.host.header import write_headers

    with tempfile.TemporaryDirectory(prefix="accelsim-fw-") as tmp:
        write_headers(tmp)
        cmd = [gcc, *CFLAGS, *cflags, "-I", tmp, "-I", str(fw), "-nostartfiles", "-T", str(fw / "link.ld"),
               f"-Wl,--defsym=__ram_base={soc_map.RAM_BASE:#x},--defsym=__ram_bytes={ram_bytes:#x}",
               "-o", str(out), *(str(fw / name) for name in RUNTIME), *(str(s) for s in srcs)]
        r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BuildError(f"program must compile, not fail ({_first_error(r.stderr)})", r.stderr)
    return out


def _first_error(stderr: str) -> str:
    """The line of the compiler's output that says what went wrong: the first error, or the linker's first
    complaint (collect2's summary says nothing), with the linker's long path shortened to ``ld``."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    # the linker's complaint, not the "in function `f':" line that only says where it comes from
    ld = [line for line in lines if "/ld: " in line and "warning:" not in line and not line.endswith("':")]
    errors = [line for line in lines if ("error" in line.lower() or "undefined reference" in line)
              and not line.startswith("collect2")]
    first = (errors or ld or lines or ["no output"])[0]
    return "ld: " + first.split("/ld: ", 1)[1] if "/ld: " in first else first


def build_conv(out: str | Path, *, ram_bytes: int = soc_map.RAM_BYTES_DEFAULT) -> Path:
    """The layer driver ELF (firmware/conv.c)."""
    return build([firmware_dir() / "conv.c"], out, ram_bytes=ram_bytes)
