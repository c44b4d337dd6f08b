"""SimPy processes of one GEMM op on the accelerator: DMA in, LUT precompute, compute, DMA out.

Scenario (time unit: one engine clock cycle). Chunks (:mod:`lowbit.sim.tiling`) flow through
a pipeline of processes; one event per chunk, never per cycle:

``dma_in``
    For each chunk in order: takes a free input buffer slot (2 with double buffering, else 1;
    a :class:`simpy.Container`), holds the DRAM channel (a :class:`simpy.Resource` shared with
    ``dma_out``) for ``bits / 8 / dram_bytes_per_cycle`` cycles, and hands the chunk on
    ``dram_latency`` cycles later (transfers are pipelined: latency does not hold the channel).
``lut_precompute`` (LUT cores)
    Builds the chunk's activation tables: ``lut_adds / lut_adds_per_cycle`` cycles.
``compute`` (one per engine; blocks go to engines round-robin)
    Waits for its next chunk, then for a free output slot at a block's first chunk, then
    computes for the chunk's share of the engine's closed form, stretched if the engine
    needs more SRAM bits than the buffers deliver (``sram_bytes_per_cycle`` per buffer).
    Frees the input slot; at a block's last chunk hands the results to ``dma_out``.
``dma_out``
    Writes a block's results over the DRAM channel and frees its output slot.

Stall cycles are the compute process's waits, by cause: ``dram_read`` (input not arrived),
``lut_precompute`` (arrived but tables not built), ``dram_write`` (no free output slot, and
the final write after the last compute), ``sram_bandwidth`` (operand reads slower than the
array). With ``ideal_memory`` transfers and table builds take no time and SRAM is
unlimited, so on one engine an op's cycles are its compute cycles: the engine's closed form.
"""

import math
from dataclasses import dataclass, field

import simpy

STALL_CAUSES = ("dram_read", "lut_precompute", "dram_write", "sram_bandwidth")


@dataclass
class OpTiming:
    """Cycles of one op (one repeat): total, compute, and stalls by cause (critical engine)."""

    cycles: float
    compute_cycles: int
    stalls: dict = field(default_factory=dict)


def simulate_op(plan, *, engines: int, double_buffering: bool, dram_bytes_per_cycle: float,
                dram_latency_cycles: float, sram_stretch: float, lut_adds_per_cycle: float,
                ideal_memory: bool = False) -> OpTiming:
    """Run the processes for one op's :class:`~lowbit.sim.tiling.OpPlan`; return its timing.

    ``sram_stretch`` (at least 1): how much slower than the engine the busiest SRAM buffer
    delivers the op's operands; every chunk's compute is stretched by it. ``ideal_memory``
    overrides the memory arguments (no transfer, latency, SRAM or table-build time).
    """
    if ideal_memory:
        dram_bytes_per_cycle, dram_latency_cycles = math.inf, 0.0
        sram_stretch, lut_adds_per_cycle = 1.0, math.inf
    env = simpy.Environment()
    slots = 2 if double_buffering else 1
    dram = simpy.Resource(env, capacity=1)
    in_slots = simpy.Container(env, capacity=slots * engines, init=slots * engines)
    out_slots = [simpy.Container(env, capacity=slots, init=slots) for _ in range(engines)]
    arrived = [simpy.Store(env) for _ in range(engines)]   # (chunk, dma_done_time)
    ready = [simpy.Store(env) for _ in range(engines)]
    writes = simpy.Store(env)
    stalls = [dict.fromkeys(STALL_CAUSES, 0.0) for _ in range(engines)]
    finish = [0.0] * engines

    def owner(chunk):
        return chunk.block % engines

    def dma_in():
        last_arrival = 0.0  # chunks arrive in order: one with nothing to fetch waits too
        for chunk in plan.chunks:
            yield in_slots.get(1)
            if chunk.read_bits:
                with dram.request() as req:
                    yield req
                    yield env.timeout(chunk.read_bits / 8 / dram_bytes_per_cycle)
            last_arrival = max(last_arrival, env.now + (dram_latency_cycles
                                                        if chunk.read_bits else 0.0))
            env.process(deliver(chunk, last_arrival - env.now))

    def deliver(chunk, delay):
        if delay:
            yield env.timeout(delay)
        yield arrived[owner(chunk)].put((chunk, env.now))

    def lut_precompute(e):
        while True:
            chunk, t_dma = yield arrived[e].get()
            if chunk.lut_adds:
                yield env.timeout(chunk.lut_adds / lut_adds_per_cycle)
            yield ready[e].put((chunk, t_dma))

    def compute(e, mine):
        block_open = False
        for _ in range(mine):
            t0 = env.now
            chunk, t_dma = yield ready[e].get()
            waited = env.now - t0
            precompute = max(0.0, min(waited, env.now - t_dma))
            stalls[e]["lut_precompute"] += precompute
            stalls[e]["dram_read"] += waited - precompute
            if not block_open:
                t0 = env.now
                yield out_slots[e].get(1)
                stalls[e]["dram_write"] += env.now - t0
                block_open = True
            busy = chunk.compute_cycles
            need = busy * sram_stretch
            stalls[e]["sram_bandwidth"] += need - busy
            yield env.timeout(need)
            yield in_slots.put(1)
            if chunk.write_bits:
                block_open = False
                yield writes.put((e, chunk))
        finish[e] = env.now

    def dma_out():
        while True:
            e, chunk = yield writes.get()
            with dram.request() as req:
                yield req
                yield env.timeout(chunk.write_bits / 8 / dram_bytes_per_cycle)
            yield out_slots[e].put(1)
            finish[e] = max(finish[e], env.now)

    counts = [0] * engines
    for chunk in plan.chunks:
        counts[owner(chunk)] += 1
    env.process(dma_in())
    env.process(dma_out())
    workers = [env.process(compute(e, counts[e])) for e in range(engines) if counts[e]]
    for e in range(engines):
        env.process(lut_precompute(e))
    env.run()  # ends when every process waits on an empty store
    assert all(w.triggered for w in workers), "a compute process never finished"
    end = max(finish)
    critical = max(range(engines), key=lambda e: finish[e])
    crit = stalls[critical]
    crit_compute = sum(c.compute_cycles for c in plan.chunks if owner(c) == critical)
    crit["dram_write"] += end - crit_compute - sum(crit.values())  # the final write(s)
    return OpTiming(end, plan.compute_cycles, crit)

