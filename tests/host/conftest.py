"""The layer driver ELF, built once per session (the RISC-V toolchain must be installed; no skip)."""

import pytest

from accelsim.host.build import build_conv


@pytest.fixture(scope="session")
def conv_elf(tmp_path_factory):
    return build_conv(tmp_path_factory.mktemp("host") / "conv.elf")
