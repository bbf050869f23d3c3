"""The firmware sources (installed as accelsim.firmware): crt0.S, link.ld, stdio.c, accel.h and the layer
driver conv.c. :data:`DIR` is where they are, from the repository or from an installed wheel; the build
(accelsim.host.build) adds the headers it generates from Python."""

from pathlib import Path

DIR = Path(__file__).resolve().parent
