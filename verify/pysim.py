"""Drive MAC vector sets through Amaranth's Python simulator (quick checks, no Verilog)."""

import numpy as np
from amaranth.sim import Simulator


def simulate_mac(dut, vectors, acc_in=None) -> np.ndarray:
    """Run ``vectors`` (one operation per cycle) through ``dut``; return ``acc`` after each.

    ``acc_in``: for a chained unit, the incoming partial-sum code of each operation."""
    got = []

    async def bench(ctx):
        for i, (clear, a, b) in enumerate(zip(vectors.clear, vectors.a, vectors.b)):
            if acc_in is not None:
                ctx.set(dut.acc_in, int(acc_in[i]))
            ctx.set(dut.valid, 1)
            ctx.set(dut.clear, int(clear))
            ctx.set(dut.a, int(a))
            ctx.set(dut.b, int(b))
            await ctx.tick()
            got.append(ctx.get(dut.acc))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got)
