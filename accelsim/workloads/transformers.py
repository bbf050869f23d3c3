"""Transformers as the GEMMs they run: every matrix product of ViT-B/16 and GPT-2 (small) as a ConvLayer.

A GEMM ``[P x K] . [K x M]`` is :meth:`ConvLayer.fc` ``(K, M, N=P)``: the P tokens are the batch (all N
images' or sequences' tokens for the projections and the MLP, which share their weights). The attention
products of the ``h`` heads of each of the N sequences are ``N*h`` independent GEMMs of the same shape,
which is exactly a grouped layer: ``groups = N*h``, ``C = N*h*K``, ``M = N*h*M``, P = the tokens of one
sequence (group g reads channels ``[g*K, (g+1)*K)`` of every token, i.e. its head's slice). ``Q.K^T``
takes Q as the activations and K^T as the "weights", ``A.V`` the attention matrix and V; the simulator
sees the same operand sizes and reuse as a tensor core would (the "weights" of these two come from
activations, not parameters -- a difference for DRAM placement only).
Softmax, layer norm, GELU, residual additions and the causal mask (GPT-2 computes the full score matrix)
are not GEMMs and are not listed.

=============  =======  ==============  ============================================================
network        layers   MACs            shape
=============  =======  ==============  ============================================================
``vit_b_16``        74  17 563 828 224  224x224, 16x16 patches -> 196 + 1 tokens, d 768, 12 heads,
                                        12 layers, MLP 3072; patch embedding is the 16x16/16 conv;
                                        the head reads the class token only
``gpt2``            73  145 824 153 600 GPT-2 small, a 1024-token context, d 768, 12 heads, 12
                                        layers, MLP 3072, the tied LM head over 50257 tokens
=============  =======  ==============  ============================================================
"""

from __future__ import annotations

from accelsim.layer import ConvLayer


def _gemm(name: str, P: int, K: int, M: int, *, heads: int = 1) -> ConvLayer:
    """``heads`` GEMMs [P x K] . [K x M] side by side (one grouped layer)."""
    return ConvLayer(N=P, M=heads * M, C=heads * K, groups=heads, name=name)


def _encoder_layer(prefix: str, N: int, tokens: int, d: int, heads: int, mlp: int, names: dict[str, str]
                   ) -> list[ConvLayer]:
    """One transformer block's GEMMs over N sequences of ``tokens``: fused QKV projection, the per-head
    score and value products, the output projection, the two MLP layers."""
    dh = d // heads
    return [
        _gemm(f"{prefix}.{names['qkv']}", N * tokens, d, 3 * d),
        _gemm(f"{prefix}.attn.q_kT", tokens, dh, tokens, heads=N * heads),
        _gemm(f"{prefix}.attn.a_v", tokens, tokens, dh, heads=N * heads),
        _gemm(f"{prefix}.{names['proj']}", N * tokens, d, d),
        _gemm(f"{prefix}.{names['fc1']}", N * tokens, d, mlp),
        _gemm(f"{prefix}.{names['fc2']}", N * tokens, mlp, d),
    ]


def vit_b_16(*, N: int = 1) -> tuple[ConvLayer, ...]:
    """torchvision's ViT-B/16 at 224x224 (names as torchvision's ``encoder.layers.encoder_layer_i``)."""
    d, heads, mlp, depth, patch = 768, 12, 3072, 12, 16
    grid = 224 // patch
    tokens = grid * grid + 1  # + the class token
    layers = [ConvLayer(N=N, M=d, C=3, H=224, W=224, R=patch, S=patch, stride=patch, name="conv_proj")]
    names = {"qkv": "self_attention.in_proj", "proj": "self_attention.out_proj", "fc1": "mlp.0",
             "fc2": "mlp.3"}
    for i in range(depth):
        layers += _encoder_layer(f"encoder.layers.encoder_layer_{i}", N, tokens, d, heads, mlp, names)
    layers.append(ConvLayer.fc(d, 1000, N=N, name="heads.head"))  # the class token only
    return tuple(layers)


def gpt2(*, N: int = 1, context: int = 1024) -> tuple[ConvLayer, ...]:
    """GPT-2 small over N sequences of ``context`` tokens (Hugging Face's module names)."""
    d, heads, mlp, depth, vocab = 768, 12, 3072, 12, 50257
    names = {"qkv": "attn.c_attn", "proj": "attn.c_proj", "fc1": "mlp.c_fc", "fc2": "mlp.c_proj"}
    layers: list[ConvLayer] = []
    for i in range(depth):
        layers += _encoder_layer(f"h.{i}", N, context, d, heads, mlp, names)
    layers.append(_gemm("lm_head", N * context, d, vocab))
    return tuple(layers)
