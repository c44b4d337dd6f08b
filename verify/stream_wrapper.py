"""The enumerated fast path: cases counted in the simulator, expected values streamed from golden.

For sets too large for memory (:mod:`lowbit.verify.enumerated_sets`, 2**32 cases), a generated
Verilog wrapper instantiates ``lanes`` copies of the design under test. On every cycle lane
``l`` takes case ``issued + l``: a counter gives the case index, the wrapper multiplies it into
the case code (:data:`~lowbit.verify.enumerated_sets.MULTIPLIER`) and splits the code into the
enumerated input ports; the other inputs are constants. Expected results arrive from golden
through a named pipe (FIFO): the wrapper reads ``chunk`` values at a time into a memory with
``$fread`` (big-endian words of whole bytes), at start-up and whenever the checker has used
the previous chunk, while golden computes the next chunk in a thread of the regression's
process. The checker compares every lane's outputs with its expected word at each edge where
``out_valid`` is high, counts checked cases and mismatches, keeps the first
:data:`~lowbit.verify.checker_wrapper.MAX_FAILS` mismatches (case index, case code, received
and expected words), measures the latency and stops when every case is checked. A stream that
ends early stops the run and is reported with the number of values it held. After each chunk
the simulator prints ``lowbit: N of M cases checked, K mismatches`` to its log (progress of long
runs).

The cocotb testbench (:mod:`lowbit.verify.testbenches.stream_tb`) waits for ``done``, reads
the counters and describes mismatches with golden's value of each failing case. Memory: one
chunk in the simulator and about two in Python, whatever the set's size.
"""

import errno
import hashlib
import json
import os
import threading
import time
from pathlib import Path

import numpy as np

from lowbit.hdl import export
from lowbit.hdl.rtl_export import ExportedRtl
from lowbit.paths import write_atomic
from lowbit.verify import enumerated_sets
from lowbit.verify.checker_wrapper import MAX_FAILS, TIMING, Layout, plusargs_verilog
from lowbit.verify.runner import SimulationFailed, run_testbench

TESTBENCH = "lowbit.verify.testbenches.stream_tb"
#: Copies of the design per wrapper: one simulator time step then checks this many cases.
DEFAULT_LANES = 16
#: Expected values per chunk (2**20 values: 2 MiB of 16-bit words in the simulator).
DEFAULT_CHUNK = 1 << 20


class StreamError(SimulationFailed):
    """An enumerated run that cannot be set up (sizes that do not divide, nothing to check)."""


#: The enumerated wrapper's plusargs (name, format, variable).
PLUSARGS = (("expected", "%s", "expected_path"), ("first", "%d", "first"),
            ("cases", "%d", "cases"), ("cycles", "%d", "total_cycles"))

def word_bytes(bits: int) -> int:
    """Bytes of one streamed expected word of ``bits`` bits (``$fread``: whole bytes)."""
    return (bits + 7) // 8


def to_stream(values, bits: int) -> bytes:
    """``values`` (integers below ``2**bits``) as ``$fread`` reads them into a memory of
    ``bits``-bit words: :func:`word_bytes` bytes each, most significant first."""
    n = word_bytes(bits)
    raw = np.asarray(values, dtype=np.uint64).astype(">u8").view(np.uint8).reshape(-1, 8)
    return raw[:, 8 - n:].tobytes()


def wrapper_verilog(dut: str, top: str, ports, constants, layout: Layout, *, lanes: int,
                    chunk: int) -> str:
    """The wrapper module ``top`` around ``lanes`` copies of module ``dut`` (module docstring).

    ``ports``: the enumerated ``(port, width)``, least significant first in the case code;
    ``constants``: ``(port, value)``; ``layout.outputs``: the compared ports.
    """
    ew, fails = layout.expected_bits, MAX_FAILS
    cb = max(1, (chunk - 1).bit_length())  # chunk offset bits
    kb = sum(w for _, w in ports)  # case code bits
    slot = f"kept[{max(1, (fails - 1).bit_length()) - 1}:0]"
    connections, shift = [], 0
    for port, width in ports:
        connections.append(f"            .\\{port} (code[{shift + width - 1}:{shift}]),")
        shift += width
    for port, value in constants:
        connections.append(f"            .\\{port} ({value}),")
    for port, _ in layout.outputs:
        connections.append(f"            .\\{port} (got_{port}),")
    wires = "".join(f"        wire [{w - 1}:0] got_{p};\n" for p, w in layout.outputs)
    got_word = "{" + ", ".join(f"got_{p}" for p, _ in reversed(layout.outputs)) + "}"
    return f"""
// lowbit.verify.stream_wrapper: enumerated cases, streamed expected values, checker, {lanes}
// lanes of {dut}.
module {top} (output reg done);
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg [{ew - 1}:0] expected [0:{chunk - 1}];
    reg [8*1024-1:0] expected_path;
    reg [63:0] first = 0, cases = 0, total_cycles = 0;
    reg [63:0] issued = 0, checked = 0, mismatches = 0, cycles = 0, streamed = 0, kept = 0;
    reg [31:0] latency = 0;
    reg seen = 1'b0, short_stream = 1'b0;
    integer fd = 0, k = 0;
    reg [63:0] wanted = 0, got_bytes = 0;
    reg [{64 * fails - 1}:0] fail_index = 0;
    reg [{kb * fails - 1}:0] fail_code = 0;
    reg [{ew * fails - 1}:0] fail_got = 0, fail_expected = 0;
    wire valid = !rst && !done && issued < cases;
    wire [{lanes - 1}:0] lane_valid, bad;
    wire [{ew * lanes - 1}:0] got_all, want_all;
    wire [{kb * lanes - 1}:0] code_all;
    wire [{cb - 1}:0] offset = checked[{cb - 1}:0];

    // The next chunk of expected values (up to {chunk}); a short read ends the run.
    task read_chunk;
        begin
            wanted = cases - streamed;
            if (wanted > {chunk}) wanted = {chunk};
            got_bytes = {{32'd0, $fread(expected, fd, 0, wanted[31:0])}};
            if (got_bytes != wanted * {word_bytes(ew)}) begin
                short_stream = 1'b1;
                streamed = streamed + got_bytes / {word_bytes(ew)};
            end else begin
                streamed = streamed + wanted;
            end
        end
    endtask

    initial begin
        done = 1'b0;
{plusargs_verilog(PLUSARGS, "lowbit: missing +lowbit_expected/first/cases/cycles")}
        fd = $fopen(expected_path, "rb");
        if (fd == 0) begin
            $display("lowbit: cannot open the expected stream");
            short_stream = 1'b1;
            done = 1'b1;
        end else begin
            read_chunk;
            if (short_stream) done = 1'b1;
        end
    end

    always #1 clk = ~clk;

    genvar l;
    generate for (l = 0; l < {lanes}; l = l + 1) begin : lane
        wire [63:0] index = first + issued + l;
        wire [63:0] scrambled = index * 64'd{enumerated_sets.MULTIPLIER};
        wire [{kb - 1}:0] code = scrambled[{kb - 1}:0];
        wire [63:0] index_checked = first + checked + l;
        wire [63:0] scrambled_checked = index_checked * 64'd{enumerated_sets.MULTIPLIER};
{wires}        wire [{ew - 1}:0] got = {got_word};
        wire [{ew - 1}:0] want = expected[offset + l];
        {dut} dut (
            .clk(clk),
            .rst(rst),
            .valid(valid),
{chr(10).join(connections)}
            .out_valid(lane_valid[l])
        );
        assign got_all[l * {ew} +: {ew}] = got;
        assign want_all[l * {ew} +: {ew}] = want;
        assign code_all[l * {kb} +: {kb}] = scrambled_checked[{kb - 1}:0];
        assign bad[l] = got !== want;
    end endgenerate

    always @(posedge clk) begin
        if (rst) begin
            rst <= 1'b0;
        end else if (!done) begin
            if (issued < cases) issued <= issued + {lanes};
            if (lane_valid[0]) begin
                if (!seen) begin
                    seen <= 1'b1;
                    latency <= cycles[31:0];
                end
                kept = mismatches;
                if (|bad) begin
                    for (k = 0; k < {lanes}; k = k + 1) begin
                        if (bad[k]) begin
                            if (kept < {fails}) begin
                                fail_index[{slot} * 64 +: 64] <= first + checked + k;
                                fail_code[{slot} * {kb} +: {kb}] <= code_all[k * {kb} +: {kb}];
                                fail_got[{slot} * {ew} +: {ew}] <= got_all[k * {ew} +: {ew}];
                                fail_expected[{slot} * {ew} +: {ew}] <=
                                    want_all[k * {ew} +: {ew}];
                            end
                            kept = kept + 1;
                        end
                    end
                    mismatches <= kept;
                end
                checked <= checked + {lanes};
                if (checked + {lanes} >= cases) begin
                    done <= 1'b1;
                end else if ({{1'b0, offset}} + {lanes} == {chunk}) begin
                    $display("lowbit: %0d of %0d cases checked, %0d mismatches",
                             checked + {lanes}, cases, kept);
                    $fflush;
                    read_chunk;  // the next chunk, before the next edge compares
                    if (short_stream) done <= 1'b1;
                end
            end
            if (cycles == total_cycles) done <= 1'b1;
            else cycles <= cycles + 1;
        end
    end
endmodule
"""


def export_enumerated(unit, name: str, ports, constants, layout: Layout, *, lanes: int,
                      chunk: int) -> ExportedRtl:
    """Export ``unit`` as module ``name`` and its enumerated wrapper (module
    ``<name>_stream``) into one Verilog file, cached by the hash of its text."""
    dut = export(unit, name=name)
    top = f"{name}_stream"
    text = dut.verilog_text + wrapper_verilog(name, top, ports, constants, layout,
                                              lanes=lanes, chunk=chunk)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    folder = dut.folder.parent / f"{top}-{digest}"
    verilog = folder / f"{top}.v"
    if not verilog.exists() or verilog.read_text() != text:
        write_atomic(verilog, text)
    return ExportedRtl(top, folder, verilog, dut.sidecar_path, digest)


def golden_chunks(enumerated, spec, first: int, cases: int, chunk: int, bits: int):
    """Golden's expected values of cases ``first .. first + cases - 1`` as stream bytes, one
    chunk of ``chunk`` values at a time (a generator)."""
    for start in range(first, first + cases, chunk):
        count = min(chunk, first + cases - start)
        yield to_stream(enumerated.expected(spec, start, count), bits)


class ExpectedWriter(threading.Thread):
    """Writes the chunks of ``source()`` (a callable returning an iterable of bytes) into the
    FIFO ``path`` whenever a simulator opens it, from the first chunk again for every attempt
    (the runner repeats a crashed simulation), until :meth:`finish`. ``error`` keeps an
    exception of ``source`` (the simulator then reads a short stream)."""

    POLL_S = 0.05

    def __init__(self, path, source):
        super().__init__(daemon=True, name="lowbit-expected-stream")
        self._path, self._source = str(path), source
        self._finished = threading.Event()
        self.error = None
        self.bytes_written = 0

    def finish(self):
        """Stop after the current attempt (call when the simulator has exited)."""
        self._finished.set()
        self.join()

    def _open(self):
        """The FIFO opened for writing once a reader has it open, or None when stopped."""
        while not self._finished.is_set():
            try:
                fd = os.open(self._path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as err:
                if err.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
                time.sleep(self.POLL_S)
                continue
            os.set_blocking(fd, True)
            return fd
        return None

    def run(self):
        while True:
            fd = self._open()
            if fd is None:
                return
            try:
                if self.error is None:
                    for data in self._source():
                        view = memoryview(data)
                        while view:
                            view = view[os.write(fd, view):]
                        self.bytes_written += len(data)
            except BrokenPipeError:  # the simulator stopped reading (done, or crashed)
                pass
            except Exception as err:  # noqa: BLE001 - reported by run_enumerated
                self.error = err
            finally:
                os.close(fd)  # end of stream: the simulator reads what is left, then EOF
            self._wait_reader_gone()

    def _wait_reader_gone(self):
        """Return once no simulator has the FIFO open (or on :meth:`finish`), so that the one
        that read this stream never reads a second one. The probe opens and closes a write
        end, which leaves a reader's end of stream where it was."""
        while not self._finished.is_set():
            try:
                os.close(os.open(self._path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError as err:
                if err.errno == errno.ENXIO:  # no reader
                    return
                raise
            time.sleep(self.POLL_S)


def run_enumerated(spec, vector_set: str, folder, *, first: int = 0, cases=None,
                   lanes: int = DEFAULT_LANES, chunk: int = DEFAULT_CHUNK, unit=None,
                   source=None, env=None):
    """Run cases ``first .. first + cases - 1`` (default: the whole set) of enumerated set
    ``vector_set`` on catalogue design ``spec``; return the runner's
    :class:`~lowbit.verify.runner.SimulationResult` (raises like
    :func:`~lowbit.verify.runner.run_testbench`).

    ``folder``: where the FIFO lives; ``env``: more testbench environment (``LOWBIT_RESULT``:
    an absolute path receiving the result JSON, as :mod:`~lowbit.verify.testbenches.stream_tb`
    writes it);
    ``unit``: the component to run instead of the set's (a deliberately broken one, tests);
    ``source``: a callable returning the expected stream's chunks as bytes instead of
    golden's (a corrupted or short stream, tests).
    """
    enumerated = enumerated_sets.get(vector_set)
    enumerated.check(spec)
    total = enumerated.cases(spec)
    cases = total - first if cases is None else cases
    if cases <= 0 or first < 0 or first + cases > total:
        raise StreamError(f"cases must be 1 to {total - first:,} from case {first:,} of "
                          f"{vector_set} on {spec.name}, not {cases:,}")
    for what, value in (("cases", cases), ("chunk", chunk)):
        if value % lanes:
            raise StreamError(f"{what} must be a multiple of lanes ({lanes}), not {value:,}")
    unit = enumerated.build(spec) if unit is None else unit
    ports = enumerated.ports(spec)
    layout = Layout.of(unit, [p for p, _ in ports], ("acc",))
    name = spec.name if not getattr(unit, "chained", False) else f"{spec.name}_chained"
    rtl = export_enumerated(unit, name, ports, enumerated.constants, layout, lanes=lanes,
                            chunk=chunk)
    fifo = Path(folder).resolve() / "expected.fifo"  # the simulator runs in its build folder
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    bits = layout.expected_bits
    if source is None:
        def source():
            return golden_chunks(enumerated, spec, first, cases, chunk, bits)
    run_env = {**(env or {}), "LOWBIT_LATENCY": unit.latency,
               "LOWBIT_ENUMERATED": json.dumps({
                   "set": vector_set, "design": spec.name, "first": first, "cases": cases,
                   "lanes": lanes, "code_bits": sum(w for _, w in ports),
                   "outputs": layout.outputs})}
    plusargs = [f"+lowbit_expected={fifo}", f"+lowbit_first={first}", f"+lowbit_cases={cases}",
                f"+lowbit_cycles={cases // lanes + unit.latency + 1}"]
    writer = ExpectedWriter(fifo, source)
    writer.start()
    try:
        return run_testbench(rtl, TESTBENCH, run_env, build_args=TIMING, plusargs=plusargs)
    finally:
        writer.finish()
        fifo.unlink(missing_ok=True)
        if writer.error is not None:  # the simulator saw a short stream: say why
            raise StreamError(f"golden's expected stream of {vector_set} on {spec.name} "
                              f"failed: {writer.error!r}") from writer.error
