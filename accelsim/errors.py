"""The one error type accelsim raises for bad input.

Messages follow ``"<what> must be <constraint>, not {value!r}"`` so a user reads the field and the rule
in one line; the CLI prints ``str(err)`` to stderr and exits 2.
"""

from __future__ import annotations


class AccelsimError(ValueError):
    """Bad input: an impossible layer, a malformed file, a config key typo, a tile that cannot fit."""


def require(ok: bool, what: str, constraint: str, value: object) -> None:
    """Raise ``AccelsimError("<what> must be <constraint>, not <value>")`` unless ``ok``."""
    if not ok:
        raise AccelsimError(f"{what} must be {constraint}, not {value!r}")
