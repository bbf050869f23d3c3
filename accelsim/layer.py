"""ConvLayer: one convolution (or fully-connected) layer in the Eyeriss/Sze notation.

N batch, M output channels, C input channels, H x W input, R x S filter, E x F output (derived),
stride U, symmetric zero padding ``pad``, ``groups`` (depthwise when groups == C == M).
A fully-connected layer is a 1x1 convolution on a 1x1 input (:meth:`ConvLayer.fc`).
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.errors import is_name, name_rule, require
from accelsim.jit import compilable

SHAPE_FIELDS = ("N", "M", "C", "H", "W", "R", "S", "stride", "pad", "groups")

# Bounds far above any real layer (LLM-sized GEMMs have K, M ~ 100 k, N ~ 4 k) that keep every count the
# model forms exact in 64-bit integers and float64: each field, the MACs and each tensor's elements.
MAX_FIELD = 1 << 24
MAX_MACS = 1 << 53
MAX_TENSOR_ELEMS = 1 << 48
NAME_CHARS = 200


@compilable
def output_size(in_size, filt, stride, pad):
    """Output height (width) of a convolution: floor((H + 2*pad - R) / stride) + 1."""
    return (in_size + 2 * pad - filt) // stride + 1


@compilable
def gemm_dims(N, M, C, H, W, R, S, stride, pad, groups):
    """The per-group GEMM a layer lowers to: ``(P, K, Mg)`` = (N*E*F, (C/groups)*R*S, M/groups)."""
    P = N * output_size(H, R, stride, pad) * output_size(W, S, stride, pad)
    return P, (C // groups) * R * S, M // groups


@dataclass(frozen=True, slots=True)
class ConvLayer:
    """One layer. Only independent fields are stored; E, F and MACs are derived."""

    N: int = 1
    M: int = 1
    C: int = 1
    H: int = 1
    W: int = 1
    R: int = 1
    S: int = 1
    stride: int = 1
    pad: int = 0
    groups: int = 1
    name: str = "layer"

    def __post_init__(self) -> None:
        require(is_name(self.name, max_chars=NAME_CHARS, empty=True), "layer name",
                name_rule(NAME_CHARS, empty=True), self.name)
        for field in SHAPE_FIELDS:
            value = getattr(self, field)
            lowest = 0 if field == "pad" else 1
            require(
                isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= MAX_FIELD,
                f"{self.name}: {field}",
                f"{'a non-negative' if lowest == 0 else 'a positive'} integer <= {MAX_FIELD:,}",
                value,
            )
        require(self.C % self.groups == 0, f"{self.name}: C", f"divisible by groups={self.groups}", self.C)
        require(self.M % self.groups == 0, f"{self.name}: M", f"divisible by groups={self.groups}", self.M)
        require(
            self.H + 2 * self.pad >= self.R,
            f"{self.name}: R",
            f"<= padded input height H+2*pad={self.H + 2 * self.pad}",
            self.R,
        )
        require(
            self.W + 2 * self.pad >= self.S,
            f"{self.name}: S",
            f"<= padded input width W+2*pad={self.W + 2 * self.pad}",
            self.S,
        )
        require(self.macs <= MAX_MACS, f"{self.name}: MACs N*M*E*F*(C/groups)*R*S", "<= 2**53", self.macs)
        elems = max(self.input_elems, self.weight_elems, self.output_elems)
        require(elems <= MAX_TENSOR_ELEMS, f"{self.name}: largest tensor (elements)", "<= 2**48", elems)

    @classmethod
    def fc(cls, in_features: int, out_features: int, *, N: int = 1, name: str = "fc") -> ConvLayer:
        """A fully-connected layer as a 1x1 convolution on a 1x1 input."""
        return cls(N=N, M=out_features, C=in_features, name=name)

    @property
    def E(self) -> int:
        """Output height: floor((H + 2*pad - R) / stride) + 1."""
        return output_size(self.H, self.R, self.stride, self.pad)

    @property
    def F(self) -> int:
        """Output width: floor((W + 2*pad - S) / stride) + 1."""
        return output_size(self.W, self.S, self.stride, self.pad)

    @property
    def is_depthwise(self) -> bool:
        return self.groups > 1 and self.groups == self.C == self.M

    @property
    def macs(self) -> int:
        """Multiply-accumulates: N*M*E*F*(C/groups)*R*S."""
        return self.N * self.M * self.E * self.F * (self.C // self.groups) * self.R * self.S

    @property
    def shape(self) -> tuple[int, ...]:
        """The independent fields in :data:`SHAPE_FIELDS` order (what the compilable formulas take)."""
        return tuple(getattr(self, k) for k in SHAPE_FIELDS)

    # GEMM view (docs/microarchitecture.md "Lowering"), per group: gemm_dims is the one formula.
    @property
    def gemm_P(self) -> int:
        """Output pixels: N*E*F (GEMM rows)."""
        return gemm_dims(*self.shape)[0]

    @property
    def gemm_K(self) -> int:
        """Reduction length per group: (C/groups)*R*S."""
        return gemm_dims(*self.shape)[1]

    @property
    def gemm_M(self) -> int:
        """Output channels per group: M/groups (GEMM columns)."""
        return gemm_dims(*self.shape)[2]

    @property
    def input_elems(self) -> int:
        return self.N * self.C * self.H * self.W

    @property
    def weight_elems(self) -> int:
        return self.M * (self.C // self.groups) * self.R * self.S

    @property
    def output_elems(self) -> int:
        return self.N * self.M * self.E * self.F

    def spec(self) -> str:
        """The ``--layer`` string that rebuilds this layer."""
        return (
            f"N={self.N},M={self.M},C={self.C},H={self.H},W={self.W},R={self.R},S={self.S},"
            f"stride={self.stride},pad={self.pad},groups={self.groups}"
        )

    @classmethod
    def parse(cls, text: str, *, name: str = "layer") -> ConvLayer:
        """Parse ``"N=1,M=64,C=64,H=56,W=56,R=3,S=3,stride=1,pad=1,groups=1"`` (any non-empty subset, any
        order, each key once; missing fields take their defaults)."""
        known = (*SHAPE_FIELDS, "name")
        fields: dict[str, object] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, sep, value = item.partition("=")
            key = key.strip()
            require(bool(sep), "layer field", "written KEY=VALUE", item)
            require(key in known, "layer field", f"one of {sorted(known)}", key)
            require(key not in fields, f"layer field {key}", "given once", item)
            if key == "name":
                fields[key] = value.strip()
                continue
            try:
                fields[key] = int(value)
            except ValueError:
                require(False, f"layer field {key}", "an integer", value.strip())
        require(bool(fields), "layer", 'at least one KEY=VALUE field (e.g. "M=64,C=64,H=56,W=56")', text)
        fields.setdefault("name", name)
        require(bool(fields["name"]), "layer name", name_rule(NAME_CHARS), fields["name"])
        return cls(**fields)  # type: ignore[arg-type]
