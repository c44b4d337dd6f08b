"""``lowbit demo``: the main job. For now: the format study of the whole catalogue, then one
GEMM on a generated systolic array simulated by Verilator.

Writes into the output folder (default ``build/demo/``):

- ``formats.csv``       one row per catalogue format: limits, dynamic range, SQNR per data set
- ``formats.json``      the same rows with the seed, data shape and lowbit version
- ``sqnr_vs_bits.png``  SQNR against storage bits per element, one series per data set
- ``array_gemm.json``   the array GEMM: shape, outputs compared bit for bit with golden, cycles
                        measured on the RTL and from the closed form, simulation throughput
- ``area_comparisons.json`` / ``.md``  two published area comparisons redone with lowbit's
                        generators and Yosys (MXINT8 vs MXFP8 dot units; integer vs minifloat
                        MACs on FPGAs) and the cost of exact accumulation, with agree/disagree
- ``timing_studies.json`` / ``.md``  static timing of pipelined units (generic NanGate 45 nm
                        cells): an FP8 E4M3 MAC into FP32 at 1 to 3 stages, sequential and
                        interleaved (Fmax, area, area x delay), and "INT v.s. FP" at
                        iso-frequency (MXINT8 vs MXFP8 dot units pipelined to one clock)
- ``decode_energy.json`` / ``.md``  the cycle model: energy per MAC and per token of LLaMA-2-7B
                        decode (batch 1) for int8, fp8_e4m3, MXFP4 and a 2-bit-weight LUT core,
                        with every energy constant used and its source
- ``sim/``              the cycle-model report of a whole decode step (attention included) on
                        the int8 array (CSV, JSON, roofline and per-layer breakdown PNGs), and
                        ``sim/weights_<format>/`` the same for each of the four engines of
                        ``decode_energy`` (weight GEMMs only)
"""

from pathlib import Path

from rich.progress import Progress
from rich.table import Table

import lowbit
from lowbit.format_study import study
from lowbit.golden import formats as F
from lowbit.golden.tensors import DATASETS
from lowbit.hdl.yosys import warm_up
from lowbit.paths import build_dir, write_atomic
from lowbit.terminal import cell_text, make_console, rows_table
from lowbit.reports.plots import sqnr_vs_bits
from lowbit.reports.tables import write_csv, write_json

SHAPE = (64, 4096)
SEED = 0


def run(out_dir=None, console=None) -> dict:
    """Run the demo; return the paths written, keyed ``csv``, ``json``, ``png``."""
    console = console or make_console()
    out = Path(out_dir) if out_dir else build_dir() / "demo"
    # Yosys's one-time compile (about 60 s on a new machine) once, announced, before the area
    # comparisons and the sweep run Yosys in parallel (lowbit.hdl.yosys: safe without it too)
    warm_up(console.print)
    fmts = F.catalog()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("quantizing the catalogue", total=len(fmts) * len(DATASETS))
        rows = study(fmts, DATASETS, SHAPE, SEED, advance=lambda: progress.advance(task))
    table = Table(title=f"lowbit formats: range and SQNR (dB) on {SHAPE[0]}x{SHAPE[1]} "
                        f"seeded tensors (seed {SEED})")
    headers = {"format": "format", "bits_per_element": "bits/elem", "max_value": "max",
               "min_normal": "min normal", "min_subnormal": "min subnormal",
               "dynamic_range_db": "range dB", "scaling": "scaling"}
    headers.update({f"sqnr_{d}_db": f"SQNR {d}" for d in DATASETS})
    cols = list(headers)
    for c in cols:
        table.add_column(headers[c], overflow="fold",
                         justify="left" if c in ("format", "scaling") else "right")
    for r in rows:
        table.add_row(*(cell_text(r[c]) for c in cols))
    console.print(table)
    paths = {
        "csv": write_csv(rows, out / "formats.csv"),
        "json": write_json({"lowbit_version": lowbit.__version__, "seed": SEED,
                            "shape": list(SHAPE), "datasets": list(DATASETS), "rows": rows},
                           out / "formats.json"),
        "png": sqnr_vs_bits(rows, out / "sqnr_vs_bits.png", DATASETS),
    }
    paths["array"] = array_gemm(out, console)
    paths.update(area_comparisons(out, console))
    paths.update(timing_studies(out, console))
    paths.update(decode_energy(out, console))
    paths["sweep_html"] = formats_sweep(out, console)
    for kind, p in paths.items():
        console.print(f"wrote {kind.upper()}: {p}")
    console.print(f"open the sweep report in a browser: {paths['sweep_html']}")
    console.print("the seed papers' comparisons (XR-NPE, MixPE, bit-weight tensor engines) "
                  "synthesize dozens of larger designs: lowbit compare seed-pes tensor-engines")
    return paths


#: The first example sweep, whose small variant the demo runs.
SWEEP_EXAMPLE = Path(__file__).parents[1] / "examples" / "formats_llm_decode.py"


def formats_sweep(out, console) -> Path:
    """Run the small formats-for-LLM-decode sweep (7 formats, resumable, in
    ``<out>/sweep``); print its Pareto front; return its HTML report."""
    import os

    from lowbit.explore import left_out, load_sweep, pareto_front, run_sweep, write_report

    os.environ["LOWBIT_SWEEP_SMALL"] = "1"
    try:
        sweep = load_sweep(SWEEP_EXAMPLE)
    finally:
        del os.environ["LOWBIT_SWEEP_SMALL"]
    folder = out / "sweep"
    run = run_sweep(sweep, out=folder, progress=True)
    rows = run.rows
    front = pareto_front([r for r in rows if r["status"] == "ok"], sweep.objectives)
    cols = ["format", "sqnr_db", "mlp_accuracy", "array_area_ge", "energy_per_token_uj"]
    console.print(rows_table(f"Pareto front of {sweep.name}: energy per token vs GEMM SQNR",
                             front, cols, right=cols[1:]))
    for row, why in left_out([r for r in rows if r["status"] == "ok"], sweep.objectives):
        console.print(f"left out of the Pareto front: {row['format']}: {why}", markup=False,
                      soft_wrap=True)
    return write_report(sweep, rows, folder)["html"]


ARRAY_SHAPE = (6, 37, 10)  # M, K, N: ragged against the 4x4 array, K many tiles deep
ARRAY_DESIGN = "systolic4x4_ws_intmac_int8xint8_int24"


def array_gemm(out, console) -> Path:
    """Run one int8 GEMM on a 4x4 weight-stationary systolic array on Verilator; print and
    write the bit-exact check and the cycle counts."""
    import numpy as np

    from lowbit.hdl import designs
    from lowbit.verify.regression import run_engine_gemm

    array = designs.get(ARRAY_DESIGN).build()
    M, K, N = ARRAY_SHAPE
    rng = np.random.default_rng(SEED)
    A, B = (rng.integers(0, 256, shape) for shape in ((M, K), (K, N)))  # int8 codes
    with console.status("Verilator: building and running a 4x4 int8 weight-stationary array"):
        row = run_engine_gemm(ARRAY_DESIGN, A, B)
    gemm = (row.get("gemms") or [{}])[0]
    exact = row["status"] == "pass" and row["mismatches"] == 0
    console.print(
        f"4x4 int8 ws systolic array, GEMM {M}x{K}x{N} on Verilator: "
        f"{row['vectors']} result codes (C and every K tile's partial sums) "
        f"{'bit-exact' if exact else 'NOT bit-exact'} against golden gemm "
        f"({row['mismatches']} mismatches); cycles measured {gemm.get('cycles')}, "
        f"closed form cycles(M, K, N) = {array.cycles(M, K, N)}; "
        f"utilization {array.utilization(M, K, N):.1%}")
    if row["status"] != "pass":
        console.print(f"[red]array check failed: {row['error']}[/red]")
    record = {"engine": array.describe(), "M": M, "K": K, "N": N, "seed": SEED,
              "bit_exact": exact, **{k: row.get(k) for k in (
                  "vectors", "mismatches", "cycles", "cycles_expected", "macs",
                  "macs_per_second", "build_seconds", "seconds", "status", "error")}}
    return write_json(record, out / "array_gemm.json")


def area_comparisons(out, console) -> dict:
    """Synthesize the units of :mod:`lowbit.reports.comparisons`; print and write the tables."""
    from lowbit.reports import comparisons
    from lowbit.reports.tables import markdown_table

    int_fp = comparisons.int_vs_fp(targets=("generic",), console=console)
    minifloat = comparisons.minifloat_fpga(console=console)
    accumulate = comparisons.accumulator_cost(console=console)
    compare_cols = ("target", "metric", "expected_cheaper", "value_cheaper", "other",
                    "value_other", "ratio", "agrees")
    acc_cols = ("format", "float_acc", "exact_acc", "delta", "delta_pct", "float_ffs",
                "kulisch_ffs")
    sections = [
        ("INT v.s. FP: MXINT8 vs MXFP8 dot unit (published: MXINT8 is cheaper)", int_fp,
         compare_cols),
        ("Minifloats on FPGAs: N-bit integer vs minifloat MAC, LUTs with multipliers in LUTs "
         "(published: integer is smaller)", minifloat, compare_cols),
        ("Exact (Kulisch) vs FP32 accumulation in a FloatMac, NAND2 gate equivalents",
         accumulate, acc_cols),
    ]
    text = "# Area comparisons (lowbit generators, Yosys)\n"
    for title, rows, cols in sections:
        console.print(rows_table(title, rows, cols))
        text += f"\n## {title}\n\n" + markdown_table(rows, cols)
    pngs = area_plots(out, int_fp, minifloat, accumulate)
    agree = [r["agrees"] for r in int_fp + minifloat]
    console.print(f"lowbit agrees with the published direction in {sum(agree)} of {len(agree)} "
                  f"comparisons")
    return {"area_json": write_json({"int_vs_fp": int_fp, "minifloat_fpga": minifloat,
                                     "accumulator_cost": accumulate},
                                    out / "area_comparisons.json"),
            "area_md": write_atomic(out / "area_comparisons.md", text), **pngs}


def area_plots(out, int_fp, minifloat, accumulate) -> dict:
    """The area comparisons as PNGs: the MXINT8 and MXFP8 dot units stacked by sub-block
    (hierarchical synthesis, :mod:`lowbit.reports.area_split`), the published comparisons
    and the exact-accumulation cost as paired bars."""
    from lowbit.hdl import designs
    from lowbit.reports.area_split import KINDS, area_by_kind, block_areas
    from lowbit.reports.comparisons import INT_VS_FP
    from lowbit.reports.plots import comparison_chart, stacked_bars

    blocks = [{"design": name} | area_by_kind(block_areas(designs.get(name).build(), name,
                                                          depth=3))
              for name in INT_VS_FP]
    kinds = [k for k in KINDS if any(k in b for b in blocks)]
    accumulate_rows = [{"target": "generic", "metric": "area_ge", "label": r["format"],
                        "expected_cheaper": f"{r['format']}, fp32 acc",
                        "value_cheaper": r["float_acc"],
                        "other": f"{r['format']}, exact acc", "value_other": r["exact_acc"]}
                       for r in accumulate]
    return {
        "area_blocks_png": stacked_bars(
            blocks, [kinds], ["area by sub-block"], out / "area_mxdot_blocks.png",
            "MXINT8 vs MXFP8 dot unit by sub-block (32 elements, fp32 accumulator)\n"
            "hierarchical generic synthesis; the dot term's own logic holds what is not a "
            "submodule", label_key="design", units=["GE"]),
        "area_compare_png": comparison_chart(
            int_fp + minifloat, out / "area_comparisons.png",
            "Published area comparisons redone with lowbit (green: the design published as "
            "cheaper)"),
        "area_accumulator_png": comparison_chart(
            accumulate_rows, out / "area_accumulator_cost.png",
            "FloatMac area: FP32 accumulator vs exact (Kulisch) accumulation",
            names=("fp32 accumulator", "exact accumulator")),
    }


def timing_studies(out, console) -> dict:
    """Run the two studies of :mod:`lowbit.reports.timing_studies`; print and write them."""
    from lowbit.reports import timing_studies as T
    from lowbit.reports.tables import markdown_table

    stages = T.stages_study(console=console)
    iso = T.iso_frequency(console=console)
    title_stages = ("FP8 E4M3 MAC into FP32 pipelined: 1 to 3 stages, sequential and "
                    "interleaved(2) accumulation (generic NanGate 45 nm cells)")
    title_iso = (f"INT v.s. FP at iso-frequency: MXINT8 vs MXFP8 dot units, one-cycle and "
                 f"pipelined to {iso['clock_mhz']:g} MHz (published: {iso['published']})")
    console.print(rows_table(title_stages, stages, T.STAGES_COLUMNS,
                             right=T.STAGES_COLUMNS[2:]))
    console.print(rows_table(title_iso, iso["rows"], T.ISO_COLUMNS,
                             right=T.ISO_COLUMNS[1:2] + T.ISO_COLUMNS[3:]))
    console.print(f"INT v.s. FP: {iso['verdict']}", markup=False, soft_wrap=True)
    text = (f"# Timing studies (lowbit generators, Yosys, static timing)\n\n## {title_stages}"
            f"\n\n" + markdown_table(stages, T.STAGES_COLUMNS) + f"\n## {title_iso}\n\n"
            + markdown_table(iso["rows"], T.ISO_COLUMNS) + f"\n{iso['verdict']}\n")
    return {"timing_json": write_json({"stages": stages, "iso_frequency": iso},
                                      out / "timing_studies.json"),
            "timing_md": write_atomic(out / "timing_studies.md", text)}


def decode_energy(out, console) -> dict:
    """The cycle model's energy per MAC and per token of LLaMA-2-7B decode, four formats."""
    from lowbit import sim
    from lowbit.reports.energy_per_token import COLUMNS, MEMORY, decode_energy_rows, \
        decode_results
    from lowbit.reports.sim_report import write_sim_report
    from lowbit.reports.tables import markdown_table

    results = decode_results()
    rows = decode_energy_rows(results=results)
    title = ("Energy of one LLaMA-2-7B decode token (batch 1, weight GEMMs; MAC energy measured "
             "on each design's NanGate45 netlist, Gaussian stream; SRAM/DRAM Horowitz 45 nm)")
    console.print(rows_table(title, rows, COLUMNS, right=COLUMNS[1:-1]))
    constants = {k: v for r in rows for k, v in r["energy_constants"].items()}
    text = (f"# {title}\n\n" + markdown_table(rows, COLUMNS) +
            "\n## Energy constants used\n\n" + markdown_table(
                [{"key": k, "value": v.get("value", v.get("area_ge")),
                  "source": v["source"]} for k, v in constants.items()],
                ("key", "value", "source")))
    arch = sim.ArchConfig("decode-int8", engine=sim.EngineConfig(
        rows=32, cols=32, dataflow="os"), **MEMORY)
    report = write_sim_report(sim.run(arch, "llama2-7b-decode", batch=1), out / "sim")
    for name, res in results.items():  # a roofline and breakdown per simulated engine
        write_sim_report(res, out / "sim" / f"weights_{name}")
    return {"decode_json": write_json({"rows": rows}, out / "decode_energy.json"),
            "decode_md": write_atomic(out / "decode_energy.md", text),
            "sim_report": report["json"].parent}
