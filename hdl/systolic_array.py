"""Systolic arrays of MAC processing elements, output- or weight-stationary, streaming tiles.

Shared by both dataflows: ``R`` rows by ``C`` columns of processing elements (PEs), each a
replica of the ``pe`` unit given (its formats and accumulator); operands move one PE per
cycle, so PE ``(i, j)`` sees a beat's data ``i + j`` cycles after the beat was accepted (the
array skews its inputs: row ``i`` and column ``j`` pass through ``i`` and ``j`` registers).
The handshake is :mod:`lowbit.hdl.gemm_engine`'s; the array drops ``in_ready`` for a fixed
bubble between tiles and never otherwise.

``os`` (output-stationary)
    PE ``(i, j)`` accumulates ``C[m0 + i, n0 + j]`` of an ``R x C`` output tile in its own
    register, in K order, exactly like the PE unit alone (golden: ``gemm`` with the PE's
    accumulator). One beat per K step (one block per beat for MX PEs): ``a`` holds
    ``A[m0 + i, k]`` in lane ``i``, ``b`` holds ``B[k, n0 + j]`` in lane ``j``, ``first``
    marks the first K step (the PEs clear), ``last`` the final one. ``D = R + C - 2 + L``
    edges after the ``last`` beat (``L``: the PE latency) every PE register is copied into a
    drain register; the drain shifts one row per cycle out through row 0: ``R`` output beats,
    tile rows ``0 .. R - 1``, ``C`` lanes each. The next tile's ``first`` beat is accepted
    ``R + C - 1`` edges after the previous ``last`` beat (a bubble of ``R + C - 2``), early
    enough that its first results overwrite a PE register on the copy edge at the soonest.
    Any PE works: IntMac, FloatMac, PositMac (quire), MxDotUnit (one block pair per beat)
    and a one-mode SimdMac with ``L`` lanes; pipelined PEs (``stages`` above 1) too, ``L``
    their latency: its ``a`` lane holds the activation ``A[m, k]``
    replicated into every lane field, its ``b`` lane the ``L`` weights ``B[k, n0 + j L + l]``,
    so PE column ``j`` computes output columns ``j L .. j L + L - 1`` (an output tile is
    ``R x C L`` and ``c`` has ``C L`` lanes).
``ws`` (weight-stationary)
    PE ``(i, j)`` holds ``B[k0 + i, n0 + j]``; partial sums flow down the columns, each PE a
    *chained* MAC: ``psum_out = psum_in (+) a * w``, so an output is accumulated in K order
    with the accumulator's rounding at every step, exactly as golden's sequential
    accumulator. A tile is ``R`` preload beats (``load = 1``: ``b`` holds weight row ``r`` of
    the tile, ``r = 0 .. R - 1`` in order) then one beat per output row ``m``
    (``load = 0``): ``a`` holds ``A[m, k0 + i]`` in lane ``i`` and ``c_in`` the partial sums
    ``C[m, n0 .. n0 + C)`` so far (codes of the accumulator's format; 0 for the first K
    tile), ``last`` marks the tile's final row. Row ``m``'s results leave the bottom,
    de-skewed, ``R + C - 2`` edges after its beat. The next tile's first preload beat is
    accepted ``C`` edges after the previous ``last`` (a bubble of ``C - 1``), when no PE
    still needs an old weight. Partial sums are streamed back by the host (a
    :class:`~lowbit.hdl.gemm_engine.Feedback`), so the PE's state must be its output code:
    IntMac and FloatMac with a FloatAccumulator; not a Kulisch register (ExactAccumulator,
    Quire) nor block-scaled PEs.

Tiles are streamed in order: output tiles row-major (``m`` outer, ``n`` inner) for ``os``;
``n`` tiles outer, K tiles inner for ``ws``. Padding (``M``, ``N`` or ``K`` not multiples of
the tile) is zero codes, whose products are ``+0`` and change no sum. This host side (beats,
output map, cycles) is the array's :class:`~lowbit.hdl.systolic_schedule.SystolicSchedule`,
importable without Amaranth.
"""

import numpy as np
from amaranth.hdl import Cat, Module, Signal
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError, check_choice
from lowbit.golden import gemm
from lowbit.golden.accumulators import FixedAccumulator, FloatAccumulator, Interleaved
from lowbit.golden.formats import BlockArray
from lowbit.hdl.carry_save_dot import CarrySaveDot
from lowbit.hdl.component import Component
from lowbit.hdl.gemm_engine import GemmEngine, check_dimension, port_width
from lowbit.hdl.mac_unit import MacUnit
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.simd_mac import SimdMac
from lowbit.hdl.systolic_schedule import DATAFLOWS, SystolicSchedule
from lowbit.hdl.tile_drain import drain_tile


def _operand_ports(pe):
    """Names of the PE ports one ``a`` lane and one ``b`` lane carry (low bits first)."""
    if isinstance(pe, MxDotUnit):
        return ("a", "a_scale"), ("b", "b_scale")
    return ("a",), ("b",)


def _result_ports(pe):
    """The PE's results, one per output column it computes, each the names of the registers
    holding it (two for a carry-save sum)."""
    if isinstance(pe, SimdMac):
        return tuple((f"acc{k}",) for k in range(pe.lanes))
    if isinstance(pe, CarrySaveDot):
        return (pe.result_ports,)
    return (("acc",),)


class SystolicArray(GemmEngine):
    """An ``rows x cols`` systolic array of ``pe`` replicas; see the module docstring.

    Parameters
    ----------
    rows, cols : int
        Array size ``R x C``, 1 to 64 each.
    pe : MacUnit, MxDotUnit, SimdMac or CarrySaveDot
        The processing element: an IntMac, FloatMac or PositMac (one product per cycle), an
        MxDotUnit (one block pair per cycle, ``os`` only), a SimdMac with one mode (``L``
        products per cycle, ``os`` only) or a one-lane CarrySaveDot (the bit-weight MAC: its
        sum stays in carry-save form in the PE and is resolved by one adder per column as it
        leaves the drain, ``os`` only). Its formats and accumulator are the array's; each PE
        is built from its constructor arguments.
    dataflow : {"os", "ws"}
        Output-stationary or weight-stationary.

    Members
    -------
    in_valid : In(1), in_ready : Out(1)
        Input handshake.
    a : In(R * wa)
        Lane ``i`` (``wa`` bits: the PE's ``a`` port, then ``a_scale`` for MX) for PE row ``i``.
    b : In(C * wb)
        Lane ``j`` for PE column ``j`` (``b``, then ``b_scale`` for MX).
    first : In(1)
        ``os``: the beat is a tile's first K step.
    load : In(1), c_in : In(C * wc)
        ``ws``: the beat preloads a weight row; partial sums entering the columns' tops.
    last : In(1)
        The tile's last beat.
    out_valid : Out(1), c : Out(C * wc)
        Output handshake; one tile row of results per beat, ``wc`` = the PE ``acc`` width.
    """

    def __init__(self, rows, cols, pe, dataflow):
        if isinstance(pe, Component):
            self.part(pe)  # a template: only its replicas are elaborated, even if we refuse it
        check_dimension("SystolicArray", "rows", rows)
        check_dimension("SystolicArray", "cols", cols)
        check_choice("SystolicArray dataflow", dataflow, DATAFLOWS, OperationError)
        if not isinstance(pe, (MacUnit, MxDotUnit, SimdMac, CarrySaveDot)):
            raise OperationError(
                f"SystolicArray pe must be an IntMac, FloatMac, PositMac, MxDotUnit, SimdMac or "
                f"CarrySaveDot, not {type(pe).__name__}")
        if isinstance(pe, CarrySaveDot) and pe.lanes != 1:
            raise OperationError(f"SystolicArray pe CarrySaveDot must have one lane (one "
                                 f"product per PE per cycle), not {pe.lanes}")
        if isinstance(pe, SimdMac) and len(pe.modes) != 1:
            raise OperationError(
                f"SystolicArray runs a SimdMac pe in one mode; build it with one SimdMode, not "
                f"{len(pe.modes)}")
        if getattr(pe, "chained", False):
            raise OperationError("SystolicArray pe must be an unchained unit; the array "
                                 "chains its weight-stationary PEs itself")
        if isinstance(getattr(getattr(pe, "accumulator", None), "order", None), Interleaved):
            raise OperationError(
                f"SystolicArray pe accumulator {pe.accumulator.name} cannot be interleaved: a "
                f"PE's partial sums follow the cycles of its operations, and the array's input "
                f"stream may pause inside a tile; use a sequential FloatAccumulator")
        if dataflow == "ws":
            if isinstance(pe, CarrySaveDot):
                raise OperationError(
                    "SystolicArray dataflow 'ws' cannot carry CarrySaveDot PEs: partial sums "
                    "flow between PEs as accumulator codes, but a carry-save PE resolves its sum "
                    "only when it leaves the array; use dataflow 'os'")
            if getattr(pe, "stages", 1) > 1:
                raise OperationError(
                    f"SystolicArray dataflow 'ws' cannot carry a pipelined PE ({type(pe).__name__}"
                    f" stages {pe.stages}): partial sums pass from PE to PE every cycle, so a "
                    f"PE must add its product in the cycle of its operation; use dataflow 'os' "
                    f"or stages 1")
            if isinstance(pe, SimdMac):
                raise OperationError(
                    f"SystolicArray dataflow 'ws' cannot carry SimdMac PEs: their {pe.lanes} lane "
                    f"registers sit inside the PE and cannot be chained; use dataflow 'os'")
            if isinstance(pe, MxDotUnit):
                raise OperationError(
                    f"SystolicArray dataflow 'ws' cannot carry {pe.block_fmt.name} PEs: partial "
                    f"sums flow between PEs as accumulator codes, but a block's scale pair "
                    f"meets its sum inside the PE; use dataflow 'os'")
            if not isinstance(pe.accumulator, (FixedAccumulator, FloatAccumulator)):
                raise OperationError(
                    f"SystolicArray dataflow 'ws' cannot carry a {type(pe.accumulator).__name__}"
                    f": partial sums flow between PEs as {pe.accumulator.out_fmt.name} codes, "
                    f"but it sums in a wide register rounded only at the end; use dataflow "
                    f"'os'")
        self._rows, self._cols, self._dataflow = rows, cols, dataflow
        self._pe = pe
        a_ports, b_ports = _operand_ports(pe)
        self._a_ports = tuple((name, port_width(pe, name)) for name in a_ports)
        self._b_ports = tuple((name, port_width(pe, name)) for name in b_ports)
        self._wa = sum(w for _, w in self._a_ports)
        self._wb = sum(w for _, w in self._b_ports)
        self._results = _result_ports(pe)
        self._wc = max(port_width(pe, name) for result in self._results for name in result)
        self._schedule = SystolicSchedule(
            rows, cols, dataflow, tuple(w for _, w in self._a_ports),
            tuple(w for _, w in self._b_ports), pe_latency=self.pe_latency,
            block_fmt=pe.block_fmt if isinstance(pe, MxDotUnit) else None,
            simd_lanes=len(self._results),
            simd_bits=((self._model.a_fmt.bits, self._model.b_fmt.bits)
                       if isinstance(pe, SimdMac) else None))
        members = {"in_valid": In(1), "in_ready": Out(1), "a": In(rows * self._wa),
                   "b": In(cols * self._wb), "last": In(1),
                   "out_valid": Out(1), "c": Out(self.lanes_out * self._wc)}
        if dataflow == "os":
            members["first"] = In(1)
        else:
            members.update(load=In(1), c_in=In(cols * self._wc))
        super().__init__(members)

    # --- parameters ----------------------------------------------------------------------------
    @property
    def rows(self) -> int:
        """PE rows ``R``."""
        return self._rows

    @property
    def cols(self) -> int:
        """PE columns ``C``."""
        return self._cols

    @property
    def dataflow(self) -> str:
        """``"os"`` or ``"ws"``."""
        return self._dataflow

    @property
    def pe(self):
        """The processing element the array replicates."""
        return self._pe

    @property
    def schedule(self) -> SystolicSchedule:
        """The host side: beats, output map, cycles (no Amaranth needed)."""
        return self._schedule

    @property
    def _model(self):
        """What holds the PE's formats and accumulator: the PE, or a SimdMac's one mode."""
        return self._pe.modes[0] if isinstance(self._pe, SimdMac) else self._pe

    @property
    def accumulator(self):
        """The golden accumulator every output implements (the PE's)."""
        return self._model.acc if isinstance(self._pe, SimdMac) else self._pe.accumulator

    @property
    def a_fmt(self):
        """Format of ``A`` (a block format for MX PEs)."""
        return self._pe.block_fmt if isinstance(self._pe, MxDotUnit) else self._model.a_fmt

    @property
    def b_fmt(self):
        """Format of ``B`` (a block format for MX PEs)."""
        return self._pe.block_fmt if isinstance(self._pe, MxDotUnit) else self._model.b_fmt

    @property
    def pe_latency(self) -> int:
        """Cycles from a PE's operation to its register holding the result."""
        return self._pe.latency

    @property
    def natural_tile(self) -> tuple:
        """``(R, R block_size, C)``: one output tile with ``R`` K steps (os); ``(R, R, C)``:
        ``R`` rows through one weight tile (ws)."""
        return self._schedule.natural_tile

    @property
    def lanes_out(self) -> int:
        return self._schedule.tile_cols

    @property
    def out_bits(self) -> int:
        return self._wc

    @property
    def peak_macs_per_cycle(self) -> int:
        """``R C`` products per cycle, times the block size (MX) or lane count (SIMD)."""
        return self._schedule.peak_macs_per_cycle

    @property
    def bubble(self) -> int:
        """Edges between a tile's ``last`` beat and the next tile's first accepted beat, minus
        one: ``R + C - 2`` (os) or ``C - 1`` (ws)."""
        return self._schedule.bubble

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"rows": self._rows, "cols": self._cols, "dataflow": self._dataflow,
                "pe": {"unit": type(self._pe).__name__, **self._pe.describe()},
                "bubble_cycles": self.bubble}

    # --- cycle count ---------------------------------------------------------------------------
    def cycles(self, M, K, N) -> int:
        """Cycles of an ``M x K`` by ``K x N`` GEMM, first input beat to last output beat:
        :func:`~lowbit.hdl.systolic_schedule.systolic_cycles` with this array's size, dataflow
        and PE."""
        return self._schedule.cycles(M, K, N)

    # --- host side -----------------------------------------------------------------------------
    def input_beats(self, A, B) -> list:
        """The input beats of ``C = A @ B`` (codes, or BlockArrays for MX PEs)."""
        return self._schedule.input_beats(A, B)

    def output_map(self, M, K, N) -> list:
        """``(m, n, k_end)`` per lane of every output beat (``None`` for padding)."""
        return self._schedule.output_map(M, K, N)

    def golden(self, A, B, k_end) -> np.ndarray:
        """Golden codes of ``A[:, :k_end] @ B[:k_end, :]`` with the PE's accumulator."""
        if isinstance(A, BlockArray):
            if k_end != A.shape[1]:
                raise OperationError("block GEMMs are checked over the whole of K")
            return gemm.gemm(A, B, self.a_fmt, self.b_fmt, self.accumulator)
        A, B = np.asarray(A), np.asarray(B)
        return gemm.gemm(A[:, :k_end], B[:k_end, :], self.a_fmt, self.b_fmt, self.accumulator)

    # --- hardware ------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        R, C = self._rows, self._cols
        accept = Signal()
        m.d.comb += accept.eq(self.in_valid & self.in_ready)
        # Bubble: in_ready low for `bubble` edges after a tile's last beat.
        if self.bubble:
            recent = Signal(self.bubble)
            m.d.sync += recent.eq(Cat(accept & self.last, recent[:-1]))
            m.d.comb += self.in_ready.eq(recent == 0)
        else:
            m.d.comb += self.in_ready.eq(1)
        pes = [[self._pe.replica(**({"chained": True} if self._dataflow == "ws" else {}))
                for _ in range(C)] for _ in range(R)]
        for i in range(R):
            for j in range(C):
                m.submodules[f"pe_{i}_{j}"] = pes[i][j]
        if self._dataflow == "os":
            self._elaborate_os(m, pes, accept)
        else:
            self._elaborate_ws(m, pes, accept)
        return m

    @staticmethod
    def _delayed(m, value, cycles, name):
        """``value`` delayed by ``cycles`` registers."""
        for t in range(cycles):
            reg = Signal.like(value, name=f"{name}_d{t + 1}")
            m.d.sync += reg.eq(value)
            value = reg
        return value

    def _lane(self, port, lane, width):
        return port[lane * width:(lane + 1) * width]

    def _connect_operands(self, m, pe, ports, value):
        offset = 0
        for name, width in ports:
            m.d.comb += getattr(pe, name).eq(value[offset:offset + width])
            offset += width

    def _elaborate_os(self, m, pes, accept):
        R, C, wa, wb = self._rows, self._cols, self._wa, self._wb
        # Row i: (valid, first, a_i) through i skew registers, then one register per PE hop.
        row_in = []
        for i in range(R):
            bundle = Cat(accept, self.first, self._lane(self.a, i, wa))
            row_in.append(self._delayed(m, bundle, i, f"skew_a{i}"))
        above = [self._delayed(m, self._lane(self.b, j, wb), j, f"skew_b{j}") for j in range(C)]
        for i in range(R):
            left = row_in[i]
            for j in range(C):
                pe = pes[i][j]
                m.d.comb += [pe.valid.eq(left[0]), pe.clear.eq(left[1])]
                if isinstance(pe, SimdMac):
                    m.d.comb += pe.mode.eq(0)
                self._connect_operands(m, pe, self._a_ports, left[2:])
                self._connect_operands(m, pe, self._b_ports, above[j])
                down = Signal(wb, name=f"b_fwd_{i}_{j}")
                m.d.sync += down.eq(above[j])
                above[j] = down
                forward = Signal(2 + wa, name=f"a_fwd_{i}_{j}")
                m.d.sync += forward.eq(left)
                left = forward
        # Copy every PE register into the drain D edges after a tile's last beat.
        depth = R + C - 2 + self.pe_latency
        pending = Signal(depth)
        m.d.sync += pending.eq(Cat(accept & self.last, pending[:-1]))
        results = [[tuple(getattr(pes[i][j], name) for name in result) for j in range(C)
                    for result in self._results] for i in range(R)]
        out_valid, c = drain_tile(m, results, pending[-1], resolve=getattr(self._pe, "resolve",
                                                                           None))
        m.d.comb += [self.out_valid.eq(out_valid), self.c.eq(c)]

    def _elaborate_ws(self, m, pes, accept):
        R, C, wa, wb, wc = self._rows, self._cols, self._wa, self._wb, self._wc
        # Weight registers, written one row per preload beat.
        row = Signal(range(max(R, 2)), name="load_row")  # never 0 bits (Verilator)
        weights = [[Signal(wb, name=f"w_{i}_{j}") for j in range(C)] for i in range(R)]
        with m.If(accept & self.load):
            m.d.sync += row.eq(row + 1 if R > 1 else 0)
            for i in range(R):
                with m.If(row == i):
                    m.d.sync += [weights[i][j].eq(self._lane(self.b, j, wb)) for j in range(C)]
        with m.Elif(accept):
            m.d.sync += row.eq(0)
        stream = accept & ~self.load
        row_in = [self._delayed(m, Cat(stream, self._lane(self.a, i, wa)), i, f"skew_a{i}")
                  for i in range(R)]
        psum_in = [self._delayed(m, self._lane(self.c_in, j, wc), j, f"skew_c{j}")
                   for j in range(C)]
        for i in range(R):
            left = row_in[i]
            for j in range(C):
                pe = pes[i][j]
                m.d.comb += [pe.valid.eq(left[0]), pe.clear.eq(0), pe.a.eq(left[1:]),
                             pe.b.eq(weights[i][j]),
                             pe.acc_in.eq(psum_in[j] if i == 0 else pes[i - 1][j].acc)]
                forward = Signal(1 + wa, name=f"a_fwd_{i}_{j}")
                m.d.sync += forward.eq(left)
                left = forward
        # De-skew: column j's result waits C - 1 - j registers, so a row leaves at once.
        lanes = [self._delayed(m, pes[R - 1][j].acc, C - 1 - j, f"deskew_c{j}")
                 for j in range(C)]
        m.d.comb += [self.out_valid.eq(pes[R - 1][C - 1].out_valid), self.c.eq(Cat(*lanes))]
