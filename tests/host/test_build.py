"""`accelsim firmware build`: a program links with crt0/link.ld/stdio; a missing toolchain and a compile
error are one line and exit 2 (the compiler's own message before it), never a traceback."""

from __future__ import annotations

from accelsim.cli import main
from accelsim.host.build import INSTALL, firmware_dir
from accelsim.host.iss import Iss, load_elf
from accelsim.host.soc_map import RAM_BYTES_DEFAULT


def test_build_links_the_runtime_and_runs(tmp_path, capsys):
    src = tmp_path / "two.c"
    (tmp_path / "lib.c").write_text("int twice(int x) { return 2 * x; }\n")
    src.write_text('#include <stdio.h>\n#include "accel.h"\nint twice(int);\n'
                   'int main(void) { printf("%u\\n", accel_status()); return twice(21); }\n')
    out = tmp_path / "sub" / "two.elf"
    assert main(["firmware", "build", str(src), str(tmp_path / "lib.c"), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    r = Iss(out).run(max_cycles=1_000_000)
    assert (r.exit_code, r.stdout) == (42, b"3\n")
    _, entry, symbols = load_elf(out.read_bytes())
    assert entry == symbols["_start"][0]
    assert symbols["__stack_top"][0] == RAM_BYTES_DEFAULT


def test_ram_size_is_a_link_time_parameter(tmp_path):
    src = tmp_path / "p.c"
    src.write_text("volatile char big[100000]; int main(void) { big[99999] = 1; return big[99999]; }\n")
    assert main(["firmware", "build", str(src), "-o", str(tmp_path / "small.elf")]) == 2  # 64 KiB: too small
    assert main(["firmware", "build", str(src), "-o", str(tmp_path / "big.elf"), "--ram-bytes",
                 str(1 << 18)]) == 0
    r = Iss(tmp_path / "big.elf", ram_bytes=1 << 18).run(max_cycles=1_000_000)
    assert r.exit_code == 1


def test_compile_error_prints_gcc_then_one_line(tmp_path, capsys):
    src = tmp_path / "bad.c"
    src.write_text("int main(void) { return undeclared; }\n")
    assert main(["firmware", "build", str(src), "-o", str(tmp_path / "bad.elf")]) == 2
    err = capsys.readouterr().err
    assert "'undeclared' undeclared" in err
    assert err.strip().splitlines()[-1].startswith("accelsim: error: program must compile")
    assert "Traceback" not in err


def test_missing_toolchain_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    src = tmp_path / "p.c"
    src.write_text("int main(void) { return 0; }\n")
    assert main(["firmware", "build", str(src), "-o", str(tmp_path / "p.elf")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and INSTALL in err[0]


def test_firmware_sources_ship_with_the_package():
    names = {p.name for p in firmware_dir().iterdir()}
    assert {"crt0.S", "link.ld", "stdio.c", "accel.h", "conv.c"} <= names


def test_a_link_error_names_the_missing_symbol(tmp_path, capsys):
    """The one line quotes the linker's complaint, not the "in function `main':" line before it."""
    src = tmp_path / "undef.c"
    src.write_text("int missing(void);\nint main(void) { return missing(); }\n")
    assert main(["firmware", "build", str(src), "-o", str(tmp_path / "u.elf")]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("accelsim: error: program must compile")
    assert "undefined reference to `missing'" in last
