"""Drive MAC vector sets through Amaranth's Python simulator (quick checks, no Verilog)."""

import numpy as np
from amaranth.sim import Simulator

from lowbit.hdl.gemm_engine import Feedback, unpack


def simulate_mac(dut, vectors, acc_in=None) -> np.ndarray:
    """Run ``vectors`` (one operation per cycle) through ``dut``; return ``acc`` after each
    (read where ``out_valid`` is high, ``dut.latency`` cycles after the operation).

    ``acc_in``: for a chained unit, the incoming partial-sum code of each operation."""
    got = []

    async def bench(ctx):
        ops = list(zip(vectors.clear, vectors.a, vectors.b))
        for i in range(len(ops) + dut.latency - 1):
            if i < len(ops):
                clear, a, b = ops[i]
                if acc_in is not None:
                    ctx.set(dut.acc_in, int(acc_in[i]))
                ctx.set(dut.clear, int(clear))
                ctx.set(dut.a, int(a))
                ctx.set(dut.b, int(b))
            ctx.set(dut.valid, int(i < len(ops)))
            await ctx.tick()
            if ctx.get(dut.out_valid):
                got.append(ctx.get(dut.acc))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got)


def simulate_gemm(engine, A, B):
    """Stream ``C = A @ B`` through a GEMM engine as the cocotb testbench does (source always
    valid; a :class:`~lowbit.hdl.gemm_engine.Feedback` value is an earlier output beat).

    Returns ``(C, cycles)``: the final results (lanes with ``k_end = K``) as unsigned lane codes,
    uint64 ``(M, N)``, and the rising edges from the one accepting the first beat to the one
    registering the last output, both included. Fails if an output beat is missing or extra.
    """
    (M, K), N = A.shape, B.shape[1]
    beats, lanes = engine.input_beats(A, B), engine.output_map(M, K, N)
    outputs, edges = [], []
    limit = 2 * engine.cycles(M, K, N) + 100

    async def bench(ctx):
        i, edge, first = 0, 0, None
        while (i < len(beats) or len(outputs) < len(lanes)) and edge < limit:
            if i < len(beats):
                for port, value in beats[i].items():
                    if isinstance(value, Feedback):
                        value = outputs[value.beat]
                    ctx.set(getattr(engine, port), value)
            ctx.set(engine.in_valid, int(i < len(beats)))
            accepted = i < len(beats) and ctx.get(engine.in_ready)
            await ctx.tick()
            edge += 1
            if accepted:
                first = edge if first is None else first
                i += 1
            if ctx.get(engine.out_valid):
                outputs.append(ctx.get(engine.c))
                edges.append(edge - first + 1)
        ctx.set(engine.in_valid, 0)
        for _ in range(3):  # nothing may follow the last expected beat
            await ctx.tick()
            assert not ctx.get(engine.out_valid), "an output beat after the last expected one"

    sim = Simulator(engine)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert len(outputs) == len(lanes), f"{len(outputs)} output beats, expected {len(lanes)}"
    C = np.zeros((M, N), np.uint64)
    for word, row in zip(outputs, lanes):
        for code, spot in zip(unpack(word, engine.out_bits, engine.lanes_out), row):
            if spot is not None and spot[2] == K:
                C[spot[0], spot[1]] = code
    return C, edges[-1] if edges else None


class MacSession:
    """One Amaranth simulation of a MAC unit kept running between calls, so short operation
    runs cost milliseconds instead of a fresh elaboration each (property tests, campaigns).

    ``run(clear, a, b)`` drives one operation per cycle and returns ``acc`` after each, like
    :func:`simulate_mac`; the unit keeps its state between runs (start a run with ``clear``).
    """

    def __init__(self, dut):
        from collections import deque

        self._dut, self._pending, self._results = dut, deque(), []

        async def bench(ctx):
            while True:
                if not self._pending:
                    ctx.set(dut.valid, 0)
                    await ctx.tick()
                    continue
                clear, a, b = self._pending.popleft()
                ctx.set(dut.valid, 1)
                ctx.set(dut.clear, clear)
                ctx.set(dut.a, a)
                ctx.set(dut.b, b)
                await ctx.tick()
                self._results.append(ctx.get(dut.acc))

        self._sim = Simulator(dut)
        self._sim.add_clock(1e-6)
        self._sim.add_testbench(bench, background=True)

    def run(self, clear, a, b) -> np.ndarray:
        """``acc`` after each operation ``(clear[i], a[i], b[i])``."""
        self._results.clear()
        self._pending.extend((int(c), int(x), int(y)) for c, x, y in zip(clear, a, b))
        while len(self._results) < len(a):
            self._sim.advance()
        return np.array(self._results)
