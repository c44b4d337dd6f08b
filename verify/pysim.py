"""Drive MAC vector sets through Amaranth's Python simulator (quick checks, no Verilog)."""

import numpy as np
from amaranth.sim import Simulator


def simulate_mac(dut, vectors) -> np.ndarray:
    """Run ``vectors`` (one operation per cycle) through ``dut``; return ``acc`` after each."""
    got = []

    async def bench(ctx):
        for clear, a, b in zip(vectors.clear, vectors.a, vectors.b):
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
