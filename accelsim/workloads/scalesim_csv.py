"""SCALE-Sim topology CSV files: read both forms (convolution and GEMM), write the convolution form.

Convolution form (SCALE-Sim's default)::

    Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
    Conv1, 224, 224, 7, 7, 3, 64, 2,

GEMM form (``scale -i gemm``)::

    Layer, M, N, K,
    fc1, 256, 128, 512,

The first non-blank line is the header; its second column tells the forms apart (``M`` for GEMM, a name
starting with ``IFMAP`` for convolution). Rows end in a trailing comma (SCALE-Sim drops the last field of
every row); blank lines are skipped, and a field starting with ``#`` comments out the rest of its row.
SCALE-Sim 3.0 allows one more column, ``Sparsity`` as ``N:M``; accelsim models dense layers, so only a
dense ratio (N == M, e.g. ``1:1``) is accepted.

How rows become :class:`ConvLayer` s, mirroring SCALE-Sim 3.0 (``scalesim/topology_utils.py``):

- A convolution row has no padding and no groups (pad=0, groups=1, N=1); the one ``Strides`` value is
  used for both dimensions.
- A convolution row whose name contains ``DP`` is a depthwise convolution: SCALE-Sim simulates it as
  ``Channels`` single-channel convolutions with ``Num Filter`` filters each, which is
  ``groups = C = Channels`` and ``M = Channels * Num Filter`` here.
- A GEMM row ``M, N, K`` is a 1x1 convolution of an ``M x 1`` IFMAP with ``K`` channels by ``N`` filters.
  Its GEMM view is exactly the row's: ``gemm_P = E*F = M`` rows, ``gemm_K = K`` reduction, ``gemm_M = N``
  columns. SCALE-Sim's own ``load_arrays_gemm`` writes ``[m, k, 1, k, 1, n, 1, 1]`` (IFMAP ``M x K``, a
  ``1 x K`` filter, one channel): the same operand matrices with the same addresses, so the same SCALE-Sim
  numbers, but a filter ``K`` wide, which the command encoding cannot carry past 255.

SCALE-Sim sizes the output as ``ceil((H - R + U) / U)``; accelsim as ``floor((H - R) / U) + 1``. They
differ by one whenever ``(H - R)`` is not a multiple of ``U`` (:func:`scalesim_ofmap_size`); accelsim's
formula is used when loading.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from accelsim import inputs
from accelsim.errors import AccelsimError, is_name, name_rule, require
from accelsim.layer import NAME_CHARS, ConvLayer

CONV_COLUMNS = (
    "Layer name",
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Strides",
)
GEMM_COLUMNS = ("Layer", "M", "N", "K")
SPARSITY_COLUMN = "Sparsity"


def scalesim_ofmap_size(size: int, filter_size: int, stride: int) -> int:
    """SCALE-Sim's output size ``ceil((size - filter_size + stride) / stride)`` (no padding)."""
    return -(-(size - filter_size + stride) // stride)


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped fields) of each non-blank row, without comments and trailing empty fields."""
    reader = csv.reader(io.StringIO(text, newline=""))
    for cells in reader:
        fields = [cell.strip() for cell in cells]
        for i, field in enumerate(fields):
            if field.startswith("#"):
                del fields[i:]
                break
        while fields and not fields[-1]:
            fields.pop()
        if fields:
            yield reader.line_num, fields


def _positive(where: str, column: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise AccelsimError(f"{where}{column} must be a positive integer, not {text!r}") from None
    require(value > 0, f"{where}{column}", "a positive integer", value)
    return value


def _check_dense(where: str, fields: list[str], columns: tuple[str, ...]) -> None:
    """Check the field count; an extra last field is SCALE-Sim 3.0's Sparsity and must be dense."""
    n = len(columns)
    require(
        len(fields) in (n, n + 1),
        f"{where}field count",
        f"{n} ({', '.join(columns)}) or {n + 1} with {SPARSITY_COLUMN}",
        len(fields),
    )
    if len(fields) == n + 1:
        kept, sep, total = fields[n].partition(":")
        dense = sep == ":" and kept.strip().isdigit() and kept.strip() == total.strip() and int(kept) > 0
        require(
            dense,
            f"{where}{SPARSITY_COLUMN}",
            "dense N:M with N == M (accelsim models dense layers)",
            fields[n],
        )


def _conv_row(where: str, fields: list[str]) -> ConvLayer:
    _check_dense(where, fields, CONV_COLUMNS)
    name = fields[0]
    H, W, R, S, C, filters, stride = (
        _positive(where, column, text) for column, text in zip(CONV_COLUMNS[1:], fields[1:8], strict=True)
    )
    require(R <= H, f"{where}Filter Height", f"<= IFMAP Height ({H})", R)
    require(S <= W, f"{where}Filter Width", f"<= IFMAP Width ({W})", S)
    groups = C if "DP" in name else 1  # SCALE-Sim splits a 'DP' row into Channels single-channel convs
    return ConvLayer(M=filters * groups, C=C, H=H, W=W, R=R, S=S, stride=stride, groups=groups, name=name)


def _gemm_row(where: str, fields: list[str]) -> ConvLayer:
    _check_dense(where, fields, GEMM_COLUMNS)
    rows, cols, depth = (
        _positive(where, column, text) for column, text in zip(GEMM_COLUMNS[1:], fields[1:4], strict=True)
    )
    # m pixels of k channels, n 1x1 filters: SCALE-Sim's own [m, k, 1, k, 1, n, 1, 1] with the reduction on
    # the channels instead of a 1 x k filter (same GEMM, same SCALE-Sim numbers; a filter width is 8 bits).
    return ConvLayer(M=cols, C=depth, H=rows, W=1, name=fields[0])


def load_scalesim_csv(path: str | Path) -> tuple[ConvLayer, ...]:
    """The layers of a SCALE-Sim topology file, convolution or GEMM form (see the module docstring)."""
    path = Path(path)
    try:
        limit = inputs.TOPOLOGY_LIMIT_BYTES
        text = inputs.read_text(path, "topology file", limit=limit, encoding="utf-8-sig")
        return _parse(path, _rows(text))
    except csv.Error as err:  # e.g. a NUL byte
        raise AccelsimError(f"topology file {str(path)!r} must be valid CSV ({err})") from None


def _parse(path: Path, rows: Iterator[tuple[int, list[str]]]) -> tuple[ConvLayer, ...]:
    header = next(rows, None)
    if header is None:
        raise AccelsimError(f"topology file {str(path)!r} must start with a header line, not be empty")
    line, names = header
    gemm = [name.casefold() for name in names[1:4]] == ["m", "n", "k"]
    columns = GEMM_COLUMNS if gemm else CONV_COLUMNS
    require(
        _header_matches(names, columns),
        f"{path} line {line}: header",
        f"SCALE-Sim's '{', '.join(CONV_COLUMNS)}' or '{', '.join(GEMM_COLUMNS)}' (optionally then "
        f"'{SPARSITY_COLUMN}')",
        ", ".join(names),
    )
    parse = _gemm_row if gemm else _conv_row
    layers = []
    for line, fields in rows:
        where = f"{path} line {line}: "
        name_ok = is_name(fields[0], max_chars=NAME_CHARS)
        require(name_ok, f"{where}{columns[0]}", name_rule(NAME_CHARS), fields[0])
        layers.append(parse(where, fields))
    require(bool(layers), f"topology file {str(path)!r} layer rows", "at least one after the header", 0)
    return tuple(layers)


def _header_matches(names: list[str], columns: tuple[str, ...]) -> bool:
    """Every column, in order, by name (case and inner spacing aside; the first, a label, may be ``Layer``
    or ``Layer name`` in either form), and at most Sparsity after them."""
    def key(name: str) -> str:
        return " ".join(name.casefold().split())

    got = [key(name) for name in names]
    want = [key(name) for name in columns]
    return got[0] in ("layer", "layer name") and got[1:] in (want[1:], [*want[1:], key(SPARSITY_COLUMN)])


def _check_name(name: str) -> None:
    ok = bool(name) and name == name.strip() and not any(ch in name for ch in ',"#\r\n')
    require(ok, "layer name", "non-empty, unpadded text without commas, quotes, '#' or newlines", name)


def scalesim_rows(layers: Iterable[ConvLayer], *, expand_groups: bool = False) -> list[list[object]]:
    """The convolution-form rows (without header) that describe ``layers`` to SCALE-Sim.

    SCALE-Sim has no padding: a padded layer is written with its padded input size ``H + 2*pad`` x
    ``W + 2*pad`` (reading it back gives ``pad=0`` and the same E, F and MACs in accelsim). SCALE-Sim itself
    then sizes the output as :func:`scalesim_ofmap_size`, one row or column more than accelsim whenever
    ``(H + 2*pad - R)`` is not a multiple of the stride (ResNet's conv1: 113 vs 112).

    SCALE-Sim has no batch (N must be 1) and no groups. Layers with ``groups == C`` (depthwise, or with a
    channel multiplier) whose name contains ``DP`` are written as SCALE-Sim's depthwise rows (Channels = C,
    Num Filter = M / C). Any other grouped layer raises :class:`AccelsimError` unless ``expand_groups``,
    which writes one row per group named ``<name>.g<i>`` with C/groups channels and M/groups filters (the
    same MACs; SCALE-Sim then runs the groups one after another as separate layers).
    """
    rows: list[list[object]] = []
    for layer in layers:
        _check_name(layer.name)
        require(layer.N == 1, f"{layer.name}: N", "1 (SCALE-Sim topologies have no batch dimension)", layer.N)
        H, W = layer.H + 2 * layer.pad, layer.W + 2 * layer.pad
        base = [H, W, layer.R, layer.S]
        if "DP" in layer.name:
            require(
                layer.groups == layer.C,
                f"{layer.name}: groups",
                f"C={layer.C} in a layer named with 'DP' (SCALE-Sim splits 'DP' rows into single channels)",
                layer.groups,
            )
            rows.append([layer.name, *base, layer.C, layer.M // layer.C, layer.stride])
        elif layer.groups == 1:
            rows.append([layer.name, *base, layer.C, layer.M, layer.stride])
        else:
            require(
                expand_groups,
                f"{layer.name}: groups",
                "1 (SCALE-Sim has no grouped convolution: pass expand_groups=True for one row per group,"
                " or put 'DP' in a depthwise layer's name)",
                layer.groups,
            )
            C, M = layer.C // layer.groups, layer.M // layer.groups
            rows += [[f"{layer.name}.g{g}", *base, C, M, layer.stride] for g in range(layer.groups)]
    return rows


def write_scalesim_csv(layers: Iterable[ConvLayer], path: str | Path, *, expand_groups: bool = False) -> None:
    """Write ``layers`` as a SCALE-Sim convolution-form topology file (rules in :func:`scalesim_rows`)."""
    rows = scalesim_rows(layers, expand_groups=expand_groups)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CONV_COLUMNS, ""])  # the trailing empty field is SCALE-Sim's trailing comma
    writer.writerows([*row, ""] for row in rows)
    try:
        Path(path).write_text(out.getvalue(), encoding="utf-8")
    except OSError as err:
        raise AccelsimError(f"topology file {str(path)!r} must be writable ({err})") from None
