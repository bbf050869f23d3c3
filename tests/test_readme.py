"""The README's tour works as written: every command of its ```sh block runs (in-process) from the repository
root, with the example files it names shipped in examples/."""

import json
import runpy
import shlex
from pathlib import Path

import pytest

from accelsim import cli

ROOT = Path(__file__).resolve().parents[1]


def tour_commands() -> list[list[str]]:
    """The tour's shell lines, split as the shell would (comments dropped)."""
    text = (ROOT / "README.md").read_text()
    tour = text[text.index("## Tour"):]
    block = tour[tour.index("```sh\n") + len("```sh\n"):]
    block = block[: block.index("```")]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def test_the_tour_says_how_to_enter_the_environment():
    assert tour_commands()[0] == ["source", ".venv/bin/activate"]
    assert (ROOT / "scripts" / "setup.sh").read_text().count('VENV="${ACCELSIM_VENV:-$ROOT/.venv}"') == 1


COMMANDS = [argv for argv in tour_commands() if argv[0] == "accelsim"]


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(argv[1:3]) for argv in COMMANDS])
def test_tour_command(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # the tour's example paths are relative to the repository
    args = argv[1:]
    for flag in ("--out", "-o"):  # write where the test can clean up, not into the checkout
        if flag in args:
            at = args.index(flag) + 1
            args[at] = str(tmp_path / args[at])
    parsed = cli._parser().parse_args(args)
    for option in ("arch", "topology", "onnx", "scalesim_cfg"):
        path = getattr(parsed, option, None)
        assert path is None or path.is_file(), f"the tour names {path}, which does not exist"
    if parsed.command in ("cosim", "rtl"):
        return  # parsed and its files exist; running them needs the rtl extra (tests/rtl runs both)
    assert cli.main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    if "--json" in args:
        json.loads(out)
    assert out


def test_example_onnx_is_what_its_script_writes():
    build = runpy.run_path(str(ROOT / "scripts" / "make_example_onnx.py"))["build"]
    assert (ROOT / "examples" / "model.onnx").read_bytes() == build()
