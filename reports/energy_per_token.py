"""Energy per MAC and per token of LLaMA-2-7B decode for four engine formats (cycle model).

Scenario: one decode step (batch 1, 1,024 cached tokens) of LLaMA-2-7B's weight GEMMs (q/k/v/o
projections, MLP, LM head; the two attention products are left out because a LUT core runs
weight GEMMs only) on four accelerators that differ only in their engine: a 32x32
output-stationary array of int8 MACs (int32 accumulator), of fp8_e4m3 MACs (fp32 accumulator),
of MXFP4 block-dot PEs (fp32 accumulator), and a 2-bit-weight LUT core (int8 activations,
groups of 4, 32x64 tile). Memory is the same for all: 800 MHz, A/B/C SRAM 256/256/128 KiB,
25.6 GB/s DRAM with 100 ns latency, double buffering.

Compute energy is each engine's design measured by switching activity on its own netlist (the
committed table ``sim/data/mac_energy_nangate45.toml``, Gaussian stream, leakage at 800 MHz);
SRAM and DRAM are the Horowitz 45 nm anchors. Every energy column traces to a data file:
:attr:`lowbit.sim.Results.energy_constants` lists the keys used, with values and sources.
"""

import dataclasses

from lowbit.sim import ArchConfig, BufferConfig, DramConfig, EngineConfig, run
from lowbit.sim.accelerator import ENERGY_KINDS

MEMORY = {"clock_mhz": 800, "buffers": BufferConfig(256, 256, 128, 8, 64),
          "dram": DramConfig(25.6, 100)}
ENGINES = {
    "int8": EngineConfig(rows=32, cols=32, dataflow="os", a_fmt="int8", b_fmt="int8",
                         accumulator="int32"),
    "fp8_e4m3": EngineConfig(rows=32, cols=32, dataflow="os", a_fmt="fp8_e4m3",
                             b_fmt="fp8_e4m3", accumulator="fp32"),
    "mxfp4": EngineConfig(rows=32, cols=32, dataflow="os", a_fmt="mxfp4", b_fmt="mxfp4",
                          accumulator="fp32"),
    "lut_w2": EngineConfig(kind="lut", a_fmt="int8", b_fmt="int2", weight_bits=2, lut_group=4,
                           lut_tile=(32, 64), accumulator="int32"),
}
COLUMNS = ("format", "mac_pj", "pj_per_mac_all_in", "energy_per_token_uj",
           "compute_uj", "sram_uj", "dram_uj", "lut_uj", "dram_mb_per_token", "ms_per_token",
           "bound")


def decode_results(context: int = 1024) -> dict:
    """Engine format -> the cycle model's :class:`lowbit.sim.Results` of the decode step."""
    return {name: run(ArchConfig(f"decode-{name}", engine=engine, **MEMORY),
                      "llama2-7b-decode", batch=1, context=context, attention=False)
            for name, engine in ENGINES.items()}


def decode_energy_rows(context: int = 1024, results=None) -> list:
    """One row per engine format; energies per token (batch 1) in uJ, per MAC in pJ.
    ``results``: :func:`decode_results` already computed (else computed here)."""
    rows = []
    for name, res in (results or decode_results(context)).items():
        arch = res.arch
        t = res.total
        mac_key = next(k for k in res.energy_constants if k.startswith("mac_energy."))
        rows.append({
            "format": name, "mac_pj": t["energy_compute_pj"] / t["macs"],
            "pj_per_mac_all_in": t["energy_pj"] / t["macs"],
            "energy_per_token_uj": t["energy_pj"] / 1e6,
            **{f"{k}_uj": t[f"energy_{k}_pj"] / 1e6 for k in ENERGY_KINDS},
            "dram_mb_per_token": (t["dram_read_bytes"] + t["dram_write_bytes"]) / 1e6,
            "ms_per_token": t["time_us"] / 1e3, "bound": t["bound"], "macs": t["macs"],
            "mac_energy_key": mac_key, "energy_constants": res.energy_constants,
            "arch": dataclasses.asdict(arch)})
    return rows
