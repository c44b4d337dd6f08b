"""MixPE array: an output-stationary ``rows x cols`` tile of MixPEs for group-wise mpGEMM.

Every beat carries one K step (``k_step`` elements) of ``rows`` activation rows and of ``cols``
weight columns, with those columns' scales (and zero points) of the beat's group; PE ``(r, c)``
accumulates ``C[m0 + r, n0 + c]`` (:class:`~lowbit.hdl.mixpe.MixPE`: shift-add products, exact
group sums, one dequantization per group, one accumulator rounding per group). Activations are
broadcast along a row and weights down a column (no skew); each row has one activation front end
(decode, alignment, activation sum) shared by its ``cols`` PEs.

Dataflow: output tiles in row-major order ``(m0, n0)``; within a tile the groups of K in order,
each ``ceil(size / k_step)`` beats (``size``: ``group``, or what is left of K for the last,
ragged group; the beat past K is padded with zero codes). Tiles follow each other back to back:
a tile's results leave the cycle after its last beat, one output beat holding all
``rows x cols`` results (lane ``r cols + c``); rows past ``M`` and columns past ``N`` are
padding. ``in_ready`` is always high.
"""

import numpy as np
from amaranth.hdl import Cat, Module
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden.mpgemm import GroupWeights, groupwise_gemm
from lowbit.hdl.gemm_engine import GemmEngine, check_dimension, check_shape, pack, tiles
from lowbit.hdl.gemm_stream import gemm_dims
from lowbit.hdl.mixpe import MixPE


class MixPEArray(GemmEngine):
    """``rows x cols`` MixPEs built from the template ``pe``; see the module docstring.

    Parameters
    ----------
    rows, cols : int
        Activation rows and weight columns of an output tile, 1 to 64 each.
    pe : MixPE
        The PE design (formats, group, scale, accumulator, K step); a template, never
        elaborated.

    Members
    -------
    in_valid : In(1), in_ready : Out(1)
        Input handshake; ``in_ready`` is always high.
    start, end, first, last : In(1)
        The beat opens / closes a group; opens / closes the tile's outputs.
    a : In(rows * k_step * wa)
        Lane ``r k_step + i``: ``A[m0 + r, k0 + i]``.
    w : In(cols * k_step * wb)
        Lane ``c k_step + i``: weight code ``W[k0 + i, n0 + c]``.
    scale : In(cols * ws), zero : In(cols * wb)
        Column ``c``'s scale code (and zero point) of the beat's group.
    out_valid : Out(1), c : Out(rows * cols * wc)
        One output beat per tile: lane ``r cols + c`` is ``C[m0 + r, n0 + c]``, a code of the
        accumulator's format.
    """

    def __init__(self, rows, cols, pe):
        if isinstance(pe, MixPE):
            self.part(pe)
        else:
            raise OperationError(f"MixPEArray pe must be a MixPE, not {type(pe).__name__}")
        self._rows = check_dimension("MixPEArray", "rows", rows)
        self._cols = check_dimension("MixPEArray", "cols", cols)
        self._pe = pe
        super().__init__({"in_valid": In(1), "in_ready": Out(1),
                          **pe.beat_ports(rows, cols),
                          "out_valid": Out(1), "c": Out(rows * cols * self.out_bits)})

    # --- parameters ----------------------------------------------------------------------------
    @property
    def pe(self) -> MixPE:
        """The PE template."""
        return self._pe

    @property
    def tile(self) -> tuple:
        """``(rows, cols)``."""
        return self._rows, self._cols

    @property
    def accumulator(self):
        """The accumulator of every output."""
        return self._pe.accumulator

    @property
    def a_fmt(self):
        """Format of ``A``: the activations."""
        return self._pe.act_fmt

    @property
    def b_fmt(self):
        """``B``'s group-quantization scheme (:class:`~lowbit.golden.mpgemm.GroupScheme`)."""
        return self._pe.scheme

    @property
    def natural_tile(self) -> tuple:
        """``(rows, group, cols)``: one output tile, one quantization group."""
        return self._rows, self._pe.scheme.group, self._cols

    @property
    def lanes_out(self) -> int:
        return self._rows * self._cols

    @property
    def out_bits(self) -> int:
        return self._pe.accumulator.out_fmt.bits

    @property
    def peak_macs_per_cycle(self) -> int:
        """``rows x cols x k_step`` products per cycle."""
        return self._rows * self._cols * self._pe.k_step

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"rows": self._rows, "cols": self._cols, "pe": self._pe.describe()}

    # --- cycle count ---------------------------------------------------------------------------
    def beats_per_tile(self, K: int) -> int:
        """Beats of one output tile: ``(K // group) (group / k_step) + ceil((K % group) /
        k_step)``."""
        G, k = self._pe.scheme.group, self._pe.k_step
        return (K // G) * (G // k) + tiles(K % G, k)

    def cycles(self, M, K, N) -> int:
        """Cycles of an ``M x K`` by ``K x N`` GEMM, first input beat to last output beat:
        ``T L + 1`` with ``T = ceil(M / rows) ceil(N / cols)`` tiles of ``L`` =
        :meth:`beats_per_tile` beats, back to back; the last beat's group is dequantized and
        accumulated one edge after the edge accepting it, which also registers the output."""
        check_shape(M, K, N)
        T = tiles(M, self._rows) * tiles(N, self._cols)
        return T * self.beats_per_tile(K) + self._pe.latency - 1

    # --- host side -----------------------------------------------------------------------------
    def input_beats(self, A, B) -> list:
        """The beats of ``C = A @ B``: ``A`` activation codes (``M x K``), ``B`` a
        :class:`~lowbit.golden.mpgemm.GroupWeights` of this PE's scheme."""
        A = np.asarray(A, np.int64)
        M, K, N = self._shape_of(A, B)
        pe, R, C = self._pe, self._rows, self._cols
        k, G, s = pe.k_step, pe.scheme.group, pe.scheme
        wa = pe.act_fmt.bits
        codes = np.asarray(B.codes, np.int64)
        scales = np.asarray(B.scales, np.int64)
        zeros = None if B.zeros is None else np.asarray(B.zeros, np.int64) & ((1 << s.bits) - 1)
        groups = s.groups(K)
        a = np.zeros((tiles(M, R) * R, K + k), np.int64)
        a[:M, :K] = A & ((1 << wa) - 1)
        w = np.zeros((K + k, tiles(N, C) * C), np.int64)
        w[:K, :N] = codes
        sc = np.zeros((groups, tiles(N, C) * C), np.int64)
        sc[:, :N] = scales
        zp = np.zeros_like(sc)
        if zeros is not None:
            zp[:, :N] = zeros
        beats = []
        for m0 in range(0, M, R):
            for n0 in range(0, N, C):
                for g in range(groups):
                    size = min(G, K - g * G)
                    count = tiles(size, k)
                    for j in range(count):
                        k0 = g * G + j * k
                        width = min(k, g * G + size - k0)
                        act = a[m0:m0 + R, k0:k0 + k].copy()
                        act[:, width:] = 0
                        wt = w[k0:k0 + k, n0:n0 + C].copy()
                        wt[width:, :] = 0
                        end = j == count - 1
                        beat = {"a": pack(act.ravel(), wa), "w": pack(wt.T.ravel(), s.bits),
                                "scale": pack(sc[g, n0:n0 + C], s.scale.bits),
                                "start": int(j == 0), "end": int(end),
                                "first": int(g == 0 and j == 0),
                                "last": int(end and g == groups - 1)}
                        if s.zero_point:
                            beat["zero"] = pack(zp[g, n0:n0 + C], s.bits)
                        beats.append(beat)
        return beats

    def output_map(self, M, K, N) -> list:
        """``(m, n, K)`` per lane of every output beat (``None`` for padding)."""
        check_shape(M, K, N)
        R, C = self._rows, self._cols
        return [[(m0 + r, n0 + c, K) if m0 + r < M and n0 + c < N else None
                 for r in range(R) for c in range(C)]
                for m0 in range(0, M, R) for n0 in range(0, N, C)]

    def golden(self, A, B, k_end) -> np.ndarray:
        """Golden codes of ``A[:, :k_end] @ B[:k_end]``:
        :func:`~lowbit.golden.mpgemm.groupwise_gemm`."""
        A = np.asarray(A)
        return groupwise_gemm(A[:, :k_end], B.rows(k_end), self._pe.act_fmt,
                              self._pe.accumulator)

    def _shape_of(self, A, B):
        if not isinstance(B, GroupWeights) or B.scheme != self._pe.scheme:
            raise OperationError(f"B must be GroupWeights of scheme {self._pe.scheme.name}, "
                                 f"not {getattr(getattr(B, 'scheme', None), 'name', B)!r}")
        return gemm_dims(A.shape, B.shape)

    # --- hardware ------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        pe, R, C = self._pe, self._rows, self._cols
        k, s = pe.k_step, pe.scheme
        m.d.comb += self.in_ready.eq(1)
        flags = (self.in_valid, self.start, self.end, self.first, self.last)
        la, lw = k * pe.act_fmt.bits, k * s.bits
        fronts = [pe.build_front_end(m, self.a[r * la:(r + 1) * la], name=f"row{r}_align")
                  for r in range(R)]
        codes, valid = [], None
        for r in range(R):
            for c in range(C):
                zero = self.zero[c * s.bits:(c + 1) * s.bits] if s.zero_point else None
                out_valid, code = pe.build_core(
                    m, fronts[r], self.w[c * lw:(c + 1) * lw],
                    self.scale[c * s.scale.bits:(c + 1) * s.scale.bits], zero, flags,
                    name=f"pe{r}_{c}")
                codes.append(code)
                valid = out_valid if valid is None else valid
        m.d.comb += [self.out_valid.eq(valid), self.c.eq(Cat(*codes))]
        return m
