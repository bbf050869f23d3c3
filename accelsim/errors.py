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


def is_name(value: object, *, max_chars: int, empty: bool = False) -> bool:
    """A name accelsim prints in tables and writes into reports: a ``str`` of printable characters (no
    NUL, newline or other control character), at most ``max_chars`` long, non-empty unless ``empty``."""
    if not isinstance(value, str):
        return False
    return (empty or bool(value)) and len(value) <= max_chars and value.isprintable()


def name_rule(max_chars: int, *, empty: bool = False) -> str:
    """The constraint :func:`is_name` checks, as an error message says it."""
    return f"{'' if empty else 'non-empty '}printable text of at most {max_chars} characters"
