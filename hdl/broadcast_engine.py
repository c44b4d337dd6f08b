"""Output-stationary engines fed by broadcast: an ``R x C`` tile of outputs, every operand sent
to all the outputs that need it in the same cycle (no systolic skew).

Shared by the 2D matrix (:class:`~lowbit.hdl.matrix_engine.MatrixEngine`, one product per
output per cycle: an outer product) and the 3D cube (:class:`~lowbit.hdl.cube_engine.CubeEngine`,
``k`` products per output per cycle). Output ``(i, j)`` of the tile is a datapath of its own (a
MAC, an adder tree or a carry-save dot) summing ``C[m0 + i, n0 + j]`` over K, ``d`` elements
per beat (``d`` = 1 or ``k``).

Beats (the :mod:`lowbit.hdl.gemm_engine` handshake): for each output tile, row-major (``m0``
outer, ``n0`` inner), ``Kb = ceil(K / d)`` beats in K order. ``a`` lane ``i d + t`` holds
``A[m0 + i, k0 + t]``, ``b`` lane ``j d + t`` holds ``B[k0 + t, n0 + j]``; ``first`` marks a
tile's first beat (every output restarts), ``last`` its final one. Elements past ``M``, ``N``
or ``K`` are the datapath's padding codes (a zero product).

``L`` edges after a tile's last beat (``L``: the datapath's latency) every output is copied
into the drain (:func:`~lowbit.hdl.tile_drain.drain_tile`), which sends the tile in ``R``
beats of ``C`` lanes, rows ``0 .. R - 1``, while the outputs sum the next tile. The drain needs
``R`` cycles per tile, so ``in_ready`` drops while a tile's last beat would come sooner than
``R`` edges after the previous tile's (only when ``Kb < R``); the cycle count is
:func:`~lowbit.hdl.broadcast_schedule.broadcast_cycles`.
"""

import numpy as np
from amaranth.hdl import Cat, Module, Signal
from amaranth.lib.wiring import In, Out

from lowbit.golden import gemm
from lowbit.hdl.broadcast_schedule import broadcast_cycles, broadcast_peak_macs
from lowbit.hdl.gemm_engine import GemmEngine, check_shape, pack, port_width, tiles
from lowbit.hdl.gemm_stream import matrix_dims, tile_output_map
from lowbit.hdl.tile_drain import drain_tile, last_beat_gate


class BroadcastEngine(GemmEngine):
    """Base of broadcast engines: ``rows x cols`` outputs, ``depth`` K elements per beat.

    Subclasses validate their parameters, build one datapath as a prototype (its formats,
    accumulator, latency, padding codes and result ports are the engine's) and implement
    :meth:`_datapath`, a new one per output.

    Members
    -------
    in_valid : In(1), in_ready : Out(1)
        Input handshake; ``in_ready`` drops only before a tile's last beat (module docstring).
    a : In(R d wa), b : In(C d wb)
        ``a`` lane ``i d + t``: ``A[m0 + i, k0 + t]``; ``b`` lane ``j d + t``:
        ``B[k0 + t, n0 + j]`` (``wa``, ``wb``: the operand formats' bits).
    first, last : In(1)
        The beat is the tile's first, or last, K step.
    out_valid : Out(1), c : Out(C wc)
        One tile row per beat, lane ``j`` a code of ``accumulator.out_fmt`` (``wc`` bits).
    """

    def __init__(self, rows, cols, depth, prototype):
        self._rows, self._cols, self._depth = rows, cols, depth
        self._dot = prototype
        self._wa, self._wb = prototype.a_fmt.bits, prototype.b_fmt.bits
        self._wc = max(port_width(prototype, name) for name in prototype.result_ports)
        super().__init__({
            "in_valid": In(1), "in_ready": Out(1),
            "a": In(rows * depth * self._wa), "b": In(cols * depth * self._wb),
            "first": In(1), "last": In(1),
            "out_valid": Out(1), "c": Out(cols * self._wc),
        })

    def _datapath(self):
        """A new datapath for one output (elaborated by the engine)."""
        raise NotImplementedError

    # --- parameters ----------------------------------------------------------------------------
    @property
    def rows(self) -> int:
        """Output rows of a tile ``R``."""
        return self._rows

    @property
    def cols(self) -> int:
        """Output columns of a tile ``C``."""
        return self._cols

    @property
    def datapath(self):
        """The prototype of the per-output datapath (never elaborated)."""
        return self._dot

    @property
    def accumulator(self):
        """The golden accumulator every output implements (the datapath's)."""
        return self._dot.accumulator

    @property
    def a_fmt(self):
        """Format of ``A``."""
        return self._dot.a_fmt

    @property
    def b_fmt(self):
        """Format of ``B``."""
        return self._dot.b_fmt

    @property
    def datapath_latency(self) -> int:
        """Edges from taking a beat to an output's register holding it, that one included (the
        datapath's ``latency``)."""
        return self._dot.latency

    @property
    def padding_codes(self) -> tuple:
        """``(a, b)``: the codes of elements past ``M``, ``N`` and ``K`` (a zero product)."""
        return self._dot.padding_codes

    @property
    def natural_tile(self) -> tuple:
        """``(R, R d, C)``: one output tile whose drain is as long as its beats."""
        return self._rows, self._rows * self._depth, self._cols

    @property
    def lanes_out(self) -> int:
        return self._cols

    @property
    def out_bits(self) -> int:
        return self._wc

    @property
    def peak_macs_per_cycle(self) -> int:
        """``R C d`` products per cycle."""
        return broadcast_peak_macs(self._rows, self._cols, self._depth)

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"rows": self._rows, "cols": self._cols, "depth": self._depth,
                "datapath_latency": self.datapath_latency,
                "datapath": {"unit": type(self._dot).__name__, **self._dot.describe()}}

    # --- cycle count ---------------------------------------------------------------------------
    def cycles(self, M, K, N) -> int:
        """Cycles of an ``M x K`` by ``K x N`` GEMM, first input beat to last output beat:
        :func:`~lowbit.hdl.broadcast_schedule.broadcast_cycles` of this tile."""
        return broadcast_cycles(M, K, N, rows=self._rows, cols=self._cols, depth=self._depth,
                                latency=self.datapath_latency)

    # --- host side -----------------------------------------------------------------------------
    def input_beats(self, A, B) -> list:
        """The input beats of ``C = A @ B`` (module docstring)."""
        A, B = np.asarray(A), np.asarray(B)
        M, K, N = self._shape_of(A, B)
        R, C, d = self._rows, self._cols, self._depth
        steps = tiles(K, d)
        pad_a, pad_b = self.padding_codes
        # Padded copies: rows to a multiple of R, columns of C, K of d.
        Ap = np.full((tiles(M, R) * R, steps * d), pad_a, np.int64)
        Ap[:M, :K] = A
        Bp = np.full((steps * d, tiles(N, C) * C), pad_b, np.int64)
        Bp[:K, :N] = B
        beats = []
        for m0 in range(0, M, R):
            for n0 in range(0, N, C):
                for s in range(steps):
                    k0 = s * d
                    beats.append({
                        "a": pack(Ap[m0:m0 + R, k0:k0 + d].reshape(-1), self._wa),
                        "b": pack(Bp[k0:k0 + d, n0:n0 + C].T.reshape(-1), self._wb),
                        "first": int(s == 0), "last": int(s == steps - 1)})
        return beats

    def output_map(self, M, K, N) -> list:
        """``(m, n, K)`` per lane of every output beat (``None`` for padding)."""
        check_shape(M, K, N)
        return tile_output_map(M, K, N, self._rows, self._cols)

    def golden(self, A, B, k_end) -> np.ndarray:
        """Golden codes of ``A[:, :k_end] @ B[:k_end, :]`` with :attr:`accumulator`."""
        A, B = np.asarray(A), np.asarray(B)
        return gemm.gemm(A[:, :k_end], B[:k_end, :], self.a_fmt, self.b_fmt, self.accumulator)

    def _shape_of(self, A, B):
        return matrix_dims(A, B)

    # --- hardware ------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        R, C, d = self._rows, self._cols, self._depth
        wide_a, wide_b = d * self._wa, d * self._wb
        may_finish = last_beat_gate(m, self.in_valid & self.in_ready & self.last, R)
        m.d.comb += self.in_ready.eq(~self.last | may_finish)
        accept = Signal()
        m.d.comb += accept.eq(self.in_valid & self.in_ready)
        results = []
        for i in range(R):
            row = []
            for j in range(C):
                dot = self._datapath()
                m.submodules[f"out_{i}_{j}"] = dot
                m.d.comb += [dot.valid.eq(accept), dot.clear.eq(self.first),
                             dot.a.eq(self.a[i * wide_a:(i + 1) * wide_a]),
                             dot.b.eq(self.b[j * wide_b:(j + 1) * wide_b])]
                row.append(tuple(getattr(dot, name) for name in dot.result_ports))
            results.append(row)
        # Copy the tile into the drain L edges after its last beat.
        pending = Signal(self.datapath_latency, name="pending")
        m.d.sync += pending.eq(Cat(accept & self.last, pending[:-1]))
        out_valid, c = drain_tile(m, results, pending[-1],
                                  resolve=getattr(self._dot, "resolve", None))
        m.d.comb += [self.out_valid.eq(out_valid), self.c.eq(c)]
        return m
