"""Workloads for the cycle model: lists of GEMM/GEMV operations with operand formats.

A :class:`GemmOp` is ``C[m, n] = sum_k A[m, k] B[k, n]`` run ``repeat`` times (the same shape in
every layer, every attention head, every batch element of a per-sequence product). ``A`` holds
activations (``a_fmt``), ``B`` weights (``b_fmt``); attention products take both operands in
the activation format (the KV cache is stored like activations).

Presets (:data:`PRESETS`, :func:`preset`):

::

  ``llama2-7b-decode``   one generated token for ``batch`` sequences with ``context`` cached
                         tokens: 32 layers of q/k/v/o projections (4096x4096), gate/up
                         (4096x11008), down (11008x4096), attention per head (head_dim 128), and
                         the LM head (4096x32000).
  ``llama2-7b-prefill``  the same model over ``seq_len`` prompt tokens (causal masking ignored:
                         full attention products).
  ``resnet50``           ResNet-50 v1.5 (torchvision: stride in the 3x3 convolutions),
                         convolutions as im2col GEMMs (M = output pixels x batch,
                         K = kernel area x input channels, N = output channels), and the FC.
  ``vit-b16``            ViT-B/16 at 224x224: 196 patches + class token, 12 layers, 12 heads.

:func:`read_csv` imports a CSV of GEMMs (columns ``name, M, K, N`` and optionally ``repeat,
a_fmt, b_fmt``), or a SCALE-Sim topology file: its GEMM form (``Layer, M, N, K``) or its
convolution form (``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
Channels, Num Filter, Strides``), converted to im2col GEMMs without padding as SCALE-Sim does.
"""

import csv
import inspect
from dataclasses import dataclass
from pathlib import Path

from lowbit.errors import LowbitError, check_int, did_you_mean
from lowbit.golden import formats as F

MAX_DIM = 1 << 31


class WorkloadError(LowbitError, ValueError):
    """A workload with an impossible shape, an unknown format or preset, or a malformed file."""


@dataclass(frozen=True)
class GemmOp:
    """One GEMM shape ``m x k @ k x n`` (elements), run ``repeat`` times; formats by name."""

    name: str
    m: int
    k: int
    n: int
    a_fmt: str = "int8"
    b_fmt: str = "int8"
    repeat: int = 1

    def __post_init__(self):
        for field in ("m", "k", "n"):
            check_int(f"{self.name}: {field}", getattr(self, field), 1, MAX_DIM, WorkloadError)
        check_int(f"{self.name}: repeat", self.repeat, 1, MAX_DIM, WorkloadError)
        for field in ("a_fmt", "b_fmt"):
            try:
                F.get(getattr(self, field))
            except LowbitError as err:
                raise WorkloadError(f"{self.name}: {field}: {err}") from None

    @property
    def is_gemv(self) -> bool:
        """True when one side is a vector (``m == 1`` or ``n == 1``)."""
        return self.m == 1 or self.n == 1

    @property
    def macs(self) -> int:
        """Multiply-accumulates over every repeat."""
        return self.m * self.k * self.n * self.repeat


def _check_formats(a_fmt, b_fmt):
    GemmOp("formats", 1, 1, 1, a_fmt, b_fmt)  # validates both names


def llama2_7b_decode(batch=1, context=1024, a_fmt="int8", b_fmt="int8",
                     attention=True) -> list:
    """One decode step of LLaMA-2-7B for ``batch`` sequences of ``context`` cached tokens.

    ``attention=False`` leaves out the two attention products (activation x activation), for
    engines that run weight GEMMs only (a LUT core's weights are ``b_fmt`` integers)."""
    check_int("llama2-7b-decode batch", batch, 1, 4096, WorkloadError)
    check_int("llama2-7b-decode context", context, 1, 1 << 20, WorkloadError)
    return _llama2_7b(batch, 1, context, a_fmt, b_fmt, attention)


def llama2_7b_prefill(seq_len=2048, batch=1, a_fmt="int8", b_fmt="int8",
                      attention=True) -> list:
    """The prompt pass of LLaMA-2-7B over ``seq_len`` tokens for ``batch`` sequences
    (``attention`` as in :func:`llama2_7b_decode`)."""
    check_int("llama2-7b-prefill seq_len", seq_len, 1, 1 << 20, WorkloadError)
    check_int("llama2-7b-prefill batch", batch, 1, 4096, WorkloadError)
    return _llama2_7b(batch, seq_len, seq_len, a_fmt, b_fmt, attention)


_LLAMA2_7B = {"layers": 32, "d_model": 4096, "heads": 32, "ffn": 11008, "vocab": 32000}


def _llama2_7b(batch, tokens, context, a_fmt, b_fmt, attention):
    _check_formats(a_fmt, b_fmt)
    if not isinstance(attention, bool):
        raise WorkloadError(f"llama2-7b attention must be true or false, not {attention!r}")
    L, d, h, ffn, vocab = (_LLAMA2_7B[k] for k in ("layers", "d_model", "heads", "ffn", "vocab"))
    hd, rows = d // h, batch * tokens
    ops = [GemmOp(p, rows, d, d, a_fmt, b_fmt, L) for p in ("q_proj", "k_proj", "v_proj")]
    if attention:
        ops += [GemmOp("attn_scores", tokens, hd, context, a_fmt, a_fmt, L * h * batch),
                GemmOp("attn_values", tokens, context, hd, a_fmt, a_fmt, L * h * batch)]
    ops += [GemmOp("o_proj", rows, d, d, a_fmt, b_fmt, L),
            GemmOp("gate_proj", rows, d, ffn, a_fmt, b_fmt, L),
            GemmOp("up_proj", rows, d, ffn, a_fmt, b_fmt, L),
            GemmOp("down_proj", rows, ffn, d, a_fmt, b_fmt, L),
            GemmOp("lm_head", batch, d, vocab, a_fmt, b_fmt, 1)]
    return ops


#: ResNet-50 stages: (bottleneck blocks, mid channels, out channels, stride, output size).
_RESNET50_STAGES = ((3, 64, 256, 1, 56), (4, 128, 512, 2, 28), (6, 256, 1024, 2, 14),
                    (3, 512, 2048, 2, 7))


def resnet50(batch=1, a_fmt="int8", b_fmt="int8") -> list:
    """ResNet-50 v1.5 at 224x224 as im2col GEMMs (identical layers folded into ``repeat``)."""
    check_int("resnet50 batch", batch, 1, 4096, WorkloadError)
    _check_formats(a_fmt, b_fmt)
    ops = [GemmOp("conv1", 112 * 112 * batch, 7 * 7 * 3, 64, a_fmt, b_fmt)]
    channels, size = 64, 56  # after the 3x3/2 max pool
    for s, (blocks, mid, out, stride, out_size) in enumerate(_RESNET50_STAGES, start=2):
        pix_in, pix_out = size * size * batch, out_size * out_size * batch
        ops += [GemmOp(f"conv{s}_1_a", pix_in, channels, mid, a_fmt, b_fmt),
                GemmOp(f"conv{s}_1_b", pix_out, 9 * mid, mid, a_fmt, b_fmt),
                GemmOp(f"conv{s}_1_c", pix_out, mid, out, a_fmt, b_fmt),
                GemmOp(f"conv{s}_1_down", pix_out, channels, out, a_fmt, b_fmt)]
        rest = blocks - 1  # the other blocks: out -> mid -> mid -> out at the output size
        ops += [GemmOp(f"conv{s}_n_a", pix_out, out, mid, a_fmt, b_fmt, rest),
                GemmOp(f"conv{s}_n_b", pix_out, 9 * mid, mid, a_fmt, b_fmt, rest),
                GemmOp(f"conv{s}_n_c", pix_out, mid, out, a_fmt, b_fmt, rest)]
        channels, size = out, out_size
    ops.append(GemmOp("fc", batch, 2048, 1000, a_fmt, b_fmt))
    return ops


def vit_b16(batch=1, a_fmt="int8", b_fmt="int8") -> list:
    """ViT-B/16 at 224x224: patch embedding, 12 encoder layers, classification head."""
    check_int("vit-b16 batch", batch, 1, 4096, WorkloadError)
    _check_formats(a_fmt, b_fmt)
    layers, d, heads, mlp, tokens = 12, 768, 12, 3072, 197
    hd, rows = d // heads, tokens * batch
    return [GemmOp("patch_embed", 196 * batch, 16 * 16 * 3, d, a_fmt, b_fmt),
            GemmOp("qkv", rows, d, 3 * d, a_fmt, b_fmt, layers),
            GemmOp("attn_scores", tokens, hd, tokens, a_fmt, a_fmt, layers * heads * batch),
            GemmOp("attn_values", tokens, tokens, hd, a_fmt, a_fmt, layers * heads * batch),
            GemmOp("attn_out", rows, d, d, a_fmt, b_fmt, layers),
            GemmOp("mlp_fc1", rows, d, mlp, a_fmt, b_fmt, layers),
            GemmOp("mlp_fc2", rows, mlp, d, a_fmt, b_fmt, layers),
            GemmOp("head", batch, d, 1000, a_fmt, b_fmt)]


PRESETS = {"llama2-7b-decode": llama2_7b_decode, "llama2-7b-prefill": llama2_7b_prefill,
           "resnet50": resnet50, "vit-b16": vit_b16}


def preset(name: str, **params) -> list:
    """The preset workload ``name`` with its keyword parameters (batch, seq_len, formats...)."""
    if name not in PRESETS:
        raise WorkloadError(f"workload preset must be one of {', '.join(PRESETS)}, not {name!r}"
                            f"{did_you_mean(name, PRESETS)}")
    allowed = list(inspect.signature(PRESETS[name]).parameters)
    unknown = sorted(k for k in params if k not in allowed)
    if unknown:
        raise WorkloadError(f"workload preset {name} takes {', '.join(allowed)}, not "
                            f"{', '.join(unknown)}")
    return PRESETS[name](**params)


_CONV_COLUMNS = ("ifmap height", "ifmap width", "filter height", "filter width", "channels",
                 "num filter", "strides")


def read_csv(path, a_fmt="int8", b_fmt="int8") -> list:
    """GEMMs from a CSV file: lowbit's columns or a SCALE-Sim GEMM or convolution topology.

    Header names are matched case-insensitively; ``a_fmt``/``b_fmt`` apply to rows without
    their own format columns. Errors name the file, the line and the field.
    """
    path = Path(path)
    if not path.is_file():
        raise WorkloadError(f"workload file {str(path)!r} does not exist")
    with path.open(newline="") as f:
        rows = [[c.strip() for c in row] for row in csv.reader(f)]
    rows = [r for r in rows if any(r)]
    if not rows:
        raise WorkloadError(f"workload file {str(path)!r} is empty")
    header = [c.lower() for c in rows[0]]
    index = {name: i for i, name in enumerate(header) if name}
    ops = []
    for line, row in enumerate(rows[1:], start=2):
        where = f"{path.name} line {line}"

        def field(key, default=None, integer=True):
            i = index.get(key)
            text = row[i] if i is not None and i < len(row) and row[i] != "" else default
            if text is None:
                raise WorkloadError(f"{where}: column {key!r} is missing")
            if not integer:
                return text
            try:
                return int(text)
            except ValueError:
                raise WorkloadError(f"{where}: {key} must be an integer, not {text!r}") from None

        name = field("layer name" if "layer name" in index else
                     "layer" if "layer" in index else "name", f"op{line - 1}", integer=False)
        if all(c in index for c in _CONV_COLUMNS):
            h, w, fh, fw, ch, nf, s = (field(c) for c in _CONV_COLUMNS)
            if s < 1 or fh > h or fw > w:
                raise WorkloadError(f"{where}: a {fh}x{fw} filter with stride {s} does not fit "
                                    f"a {h}x{w} input")
            out_pixels = ((h - fh) // s + 1) * ((w - fw) // s + 1)
            values = (out_pixels, fh * fw * ch, nf, a_fmt, b_fmt)
        elif not all(c in index for c in ("m", "k", "n")):
            raise WorkloadError(f"{path.name}: the header needs columns M, K, N (or SCALE-Sim's "
                                f"convolution columns), found {', '.join(rows[0])}")
        else:
            values = (field("m"), field("k"), field("n"), field("a_fmt", a_fmt, integer=False),
                      field("b_fmt", b_fmt, integer=False), field("repeat", "1"))
        try:  # field() names the line itself; GemmOp names only the op
            ops.append(GemmOp(name, *values))
        except WorkloadError as err:
            raise WorkloadError(f"{where}: {err}") from None
    return ops


def total_macs(ops) -> int:
    """Multiply-accumulates of a workload."""
    return sum(op.macs for op in ops)
