"""How one GEMM is cut into SRAM tiles and chunks, and the DRAM traffic that follows.

Scenario: ``C (M x N) = A (M x K) @ B (K x N)`` with A, B and C in DRAM. The op is cut into
output *blocks* of ``Mb x Nb`` results (``m`` blocks outer, ``n`` blocks inner) whose results
fit in half the C buffer (all of it without double buffering); each block streams K in
*chunks* of ``Kc`` whose A slice (``Mb x Kc``) and B slice (``Kc x Nb``) fit in half the A
and B buffers. One chunk is one simulation event.

Reuse (decided per op from the buffer sizes):
- an A row panel (``Mb x K``) that fits in half the A buffer is fetched once per ``m`` block
  and kept for all its ``n`` blocks; otherwise it is fetched again for every block;
- all of B (``K x N``) that fits in half the B buffer is fetched once per op; otherwise each B
  column panel is fetched again for every ``m`` block;
- each block's results are written once, at the accumulator's width (``acc_bits``).

Traffic is counted in bits, exactly: an element costs its format's bits and a block format
adds one scale per started block along K (MXFP4: 4.25 bits per element for whole blocks).

Compute time: the op's compute cycles are the engine's closed form ``cycles(M, K, N)``, shared
among the chunks in proportion to ``cycles`` of each chunk's block (with the block's K share),
so the chunk times sum to the closed form exactly and the edge blocks carry their padding.
"""

from dataclasses import dataclass

from lowbit.hdl.gemm_stream import tiles
from lowbit.sim.engine_model import EngineModel, element_bits
from lowbit.sim.hardware import BufferConfig, HardwareError

KIB_BITS = 1024 * 8


@dataclass(frozen=True)
class Chunk:
    """One simulation event: fetch, (LUT precompute,) compute, and maybe write one block."""

    block: int            # index of the output block
    read_bits: float      # A and B bits fetched from DRAM for this chunk
    compute_cycles: int   # the chunk's share of the engine's closed form
    lut_adds: int         # table-building adds (LUT core), 0 otherwise
    write_bits: float     # results written to DRAM after this chunk (its block's last), else 0


@dataclass(frozen=True)
class OpPlan:
    """An op's blocks and chunks, with its exact DRAM and SRAM traffic in bits."""

    block_shape: tuple    # (Mb, Kc, Nb)
    chunks: list
    compute_cycles: int
    dram_read_bits: float
    dram_write_bits: float
    sram_bits: dict       # engine operand traffic: a_read, b_read, c_read, c_write
    lut_adds: int


def _granules(model: EngineModel) -> tuple:
    """(gm, gk, gn): the block edges a block is a multiple of (an engine tile's extent)."""
    cfg = model.config
    gk = model.block_size
    if cfg.kind == "lut":
        return cfg.lut_tile[0], cfg.lut_group, cfg.lut_tile[1]
    if cfg.kind == "adder_tree":
        return 1, 1, 1
    if cfg.kind == "mixpe":  # output tiles of the array
        return cfg.rows, gk, cfg.cols
    if cfg.kind in ("matrix", "cube"):  # output tiles; a cube takes cube_k of K per beat
        return cfg.rows, cfg.cube_k if cfg.kind == "cube" else gk, cfg.cols
    return {"os": (cfg.rows, gk, cfg.cols), "ws": (1, gk, cfg.cols),
            "is": (cfg.cols, gk, 1)}[cfg.dataflow]


def _round_down(value: int, granule: int) -> int:
    return max(granule, value // granule * granule)


def _round_up(value: int, granule: int) -> int:
    return tiles(value, granule) * granule


def _pieces(extent: int, size: int) -> list:
    """Sizes of the pieces of ``size`` covering ``extent`` (the last one may be shorter)."""
    return [min(size, extent - start) for start in range(0, extent, size)]


def plan_op(model: EngineModel, buffers: BufferConfig, double_buffering: bool, M: int,
            K: int, N: int) -> OpPlan:
    """Cut one ``M x K x N`` GEMM into blocks and chunks (module docstring)."""
    a_fmt, b_fmt, acc = model.a_fmt, model.b_fmt, model.acc_bits
    share = 2 if double_buffering else 1
    cap = {n: getattr(buffers, f"{n}_sram_kib") * KIB_BITS / share for n in "abc"}
    gm, gk, gn = _granules(model)

    # output block: as square as the C buffer allows, in engine-tile multiples
    outputs = int(cap["c"] // acc)
    if outputs < gm * gn:
        raise HardwareError(
            f"buffers c_sram_kib {buffers.c_sram_kib} is too small: one engine tile of "
            f"{gm} x {gn} results at {acc} bits needs {gm * gn * acc / KIB_BITS * share:g} KiB")
    side = max(1, int(outputs ** 0.5))
    Mb = min(_round_up(M, gm), _round_down(side, gm))
    Nb = min(_round_up(N, gn), _round_down(outputs // Mb, gn))
    Mb = min(_round_up(M, gm), _round_down(outputs // Nb, gm))

    # K chunk: the A and B slices of a block fit their buffer halves
    a_per_k = element_bits(a_fmt, gk) * Mb / gk
    b_per_k = element_bits(b_fmt, gk) * Nb / gk
    for name, per_k in (("a", a_per_k), ("b", b_per_k)):
        if per_k * gk > cap[name]:
            raise HardwareError(
                f"buffers {name}_sram_kib {getattr(buffers, f'{name}_sram_kib')} is too small "
                f"for one {gk}-deep slice of a {Mb} x {Nb} output block "
                f"({per_k * gk * share / KIB_BITS:g} KiB)")
    Kc = min(_round_up(K, gk), _round_down(int(min(cap["a"] / a_per_k, cap["b"] / b_per_k)),
                                           gk))

    a_resident = element_bits(a_fmt, K) * Mb <= cap["a"]
    b_resident = element_bits(b_fmt, K) * N <= cap["b"]
    n_blocks, k_chunks = _pieces(N, Nb), _pieces(K, Kc)

    weights, chunk_rows = [], []
    block = 0
    for mi, mb in enumerate(_pieces(M, Mb)):
        for ni, nb in enumerate(n_blocks):
            block_cycles = model.cycles(mb, K, nb)
            for ci, kc in enumerate(k_chunks):
                a_bits = element_bits(a_fmt, kc) * mb if (ni == 0 or not a_resident) else 0
                b_bits = element_bits(b_fmt, kc) * nb if (mi == 0 or not b_resident) else 0
                adds = model.lut_table_adds(mb, kc) if ni == 0 else 0
                last = ci == len(k_chunks) - 1
                chunk_rows.append((block, a_bits + b_bits, adds,
                                   mb * nb * acc if last else 0))
                weights.append(block_cycles * kc / K)
            block += 1

    total = model.cycles(M, K, N)
    chunks, done, seen = [], 0, 0.0
    scale = total / sum(weights)
    for (blk, read, adds, write), w in zip(chunk_rows, weights):
        seen += w
        upto = total if len(chunks) == len(weights) - 1 else round(seen * scale)
        chunks.append(Chunk(blk, read, upto - done, adds, write))
        done = upto
    return OpPlan((Mb, Kc, Nb), chunks, total,
                  sum(c.read_bits for c in chunks), sum(c.write_bits for c in chunks),
                  model.sram_operand_bits(M, K, N), sum(c.lut_adds for c in chunks))
