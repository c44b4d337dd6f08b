"""Proofs that pipelining changes nothing: a pipelined MAC against its one-cycle version.

The two units (``reference``, usually ``stages=1``, and ``pipelined``) are exported as RTL
and joined in a miter that drives both with the same ``rst``, ``valid``, ``clear``, ``a``
and ``b`` on every cycle, aligned by their latency difference where the pipelines put it:

* the reference's inputs pass through ``d_in`` registers, the difference of the two units'
  cut points *before* the accumulator loop (:attr:`~lowbit.hdl.pipeline.Pipeline.before_loop`),
  so both accumulator loops take each operation on the same cycle;
* its outputs pass through ``d_out`` registers, the difference of the cuts *after* the loop
  (the ``result`` register of a Kulisch register or quire).

``d_in + d_out`` is the latency difference. Every register starts at zero (as after the reset
edge of a testbench) and the inputs are free on every cycle, ``rst`` included. The property
is ``differ == 0`` (``out_valid`` differs, or ``acc`` differs, on any cycle) together with
the equality of the two loops' registers (the flip-flops under ``accumulate.`` present in both
copies under one name: a Kulisch register or quire, its flags, a float register), which
strengthens the induction: a wide register is not determined by the rounded output.
``sat -tempinduct`` proves it for every cycle (unbounded: the base case from reset and the
induction step close at some length ``k``), or its base case gives a trace from reset that
exposes a difference; that trace becomes test-protocol operations (a clearing zero operation,
then one operation per cycle with ``valid``) which :func:`replay` runs on Verilator through
the cocotb MAC testbench with golden's expected codes.

This reuses the SAT machinery of the fault campaigns (:mod:`lowbit.verify.faults.equivalence`:
Yosys runs, result and trace parsing, operations from a trace).
"""

import json
import re
import resource
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from amaranth.back import verilog

from lowbit.errors import LowbitError, check_int
from lowbit.hdl.gemm_engine import port_width
from lowbit.hdl.yosys import run_yosys
from lowbit.paths import build_dir, write_atomic
from lowbit.verify.faults.equivalence import (DEFAULT_SAT_TIMEOUT_S, _exposing_length,
                                              _induction_length, _ops_from_zero_state,
                                              _parse_trace)

DEFAULT_MAX_STEPS = 8
_FF_LINE = re.compile(r"^miter/(u_ref|u_pipe)\.(accumulate\.\S+)$", re.M)
_MAC_PORTS = ("valid", "clear", "a", "b", "out_valid", "acc")


class PipelineProofError(LowbitError, ValueError):
    """Two units that cannot be compared by a pipeline proof."""


@dataclass(frozen=True)
class PipelineProof:
    """The verdict of one pipeline proof.

    ``verdict`` is ``equivalent`` (the induction closed at length ``steps``), ``different``
    (a base case of ``steps`` cycles from reset exposes a difference; ``ops`` are its
    operations ``(clear, a, b)`` in the test protocol) or ``unknown`` (neither within
    ``max_steps``, or the SAT solver timed out). ``d_in``/``d_out``: the alignment registers
    on the reference's inputs and outputs; ``matched``: the loop registers proved equal.
    ``seconds``: wall time; ``cpu_seconds``: the Yosys processes' CPU time (user + system,
    the figure that does not depend on the machine's load).
    """

    reference: str
    pipelined: str
    verdict: str
    steps: int
    seconds: float
    d_in: int
    d_out: int
    matched: tuple = ()
    ops: tuple = field(default=())
    cpu_seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"reference": self.reference, "pipelined": self.pipelined,
                "verdict": self.verdict, "steps": self.steps, "seconds": self.seconds,
                "cpu_seconds": self.cpu_seconds,
                "d_in": self.d_in, "d_out": self.d_out, "matched": list(self.matched),
                "ops": [list(op) for op in self.ops]}


def _unit(spec):
    """``(name, component)`` of a design spec, a design name or a component (named after its
    class, stages and fault: ``intmac_s2_drop_enable``)."""
    from lowbit.hdl import designs

    if hasattr(spec, "elaborate"):
        fault = spec.pipeline.fault
        return (f"{type(spec).__name__.lower()}_s{spec.pipeline.stages}"
                f"{f'_{fault}' if fault else ''}"), spec
    spec = designs.get(spec)
    return spec.name, spec.build()


def _port_widths(unit) -> dict:
    members = unit.signature.members
    missing = [p for p in _MAC_PORTS if p not in members]
    if missing or "acc_in" in members:
        why = (f"lacks {', '.join(missing)}" if missing else "is chained (it adds acc_in)")
        raise PipelineProofError(
            f"a pipeline proof compares MAC units (ports {', '.join(_MAC_PORTS)}, unchained); "
            f"{type(unit).__name__} {why}")
    return {p: port_width(unit, p) for p in _MAC_PORTS}


def alignment(reference, pipelined) -> tuple:
    """``(d_in, d_out)``: registers on the reference's inputs and outputs that align it with
    ``pipelined`` (module docstring); raises unless both are non-negative."""
    ref, pipe = reference.pipeline, pipelined.pipeline
    d_in, d_out = pipe.before_loop - ref.before_loop, pipe.after_loop - ref.after_loop
    if d_in < 0 or d_out < 0:
        raise PipelineProofError(
            f"the reference must have no more pipeline registers before and after its loop "
            f"than the pipelined unit; it has {ref.before_loop} and {ref.after_loop}, the "
            f"pipelined unit {pipe.before_loop} and {pipe.after_loop}")
    if d_in + d_out != pipelined.latency - reference.latency:
        raise PipelineProofError(
            f"latency difference {pipelined.latency - reference.latency} is not the "
            f"alignment {d_in} + {d_out}")
    return d_in, d_out


def _delay(names_widths, cycles, prefix) -> tuple:
    """Verilog declarations and an always block delaying each ``(name, width)`` by
    ``cycles`` registers (reset to 0 by ``rst``); return ``(text, delayed names)``."""
    if cycles == 0:
        return "", {name: name for name, _ in names_widths}
    lines, resets, moves, out = [], [], [], {}
    for name, width in names_widths:
        prev = name
        for t in range(1, cycles + 1):
            reg = f"{prefix}_{name}_d{t}"
            lines.append(f"  reg [{width - 1}:0] {reg} = 0;")
            resets.append(f"{reg} <= 0;")
            moves.append(f"{reg} <= {prev};")
            prev = reg
        out[name] = prev
    block = (f"  always @(posedge clk) begin\n    if (rst) begin {' '.join(resets)} end\n"
             f"    else begin {' '.join(moves)} end\n  end\n")
    return "\n".join(lines) + "\n" + block, out


def miter_verilog(widths: dict, d_in: int, d_out: int) -> str:
    """The miter: module ``ref`` (inputs delayed ``d_in`` cycles, outputs ``d_out``) beside
    module ``pipe``; ``differ``: ``out_valid`` or ``acc`` differ; ``trigger``: what a
    testbench sees (``out_valid`` differs, or both valid and ``acc`` differs)."""
    w = widths
    ins, ref_in = _delay([(p, w[p]) for p in ("valid", "clear", "a", "b")], d_in, "in")
    outs, ref_out = _delay([("ov_ref", 1), ("acc_ref", w["acc"])], d_out, "out")
    return f"""module miter(input clk, input rst, input valid, input clear,
             input [{w['a'] - 1}:0] a, input [{w['b'] - 1}:0] b, output trigger,
             output differ);
  wire [{w['acc'] - 1}:0] acc_ref, acc_pipe;
  wire ov_ref, ov_pipe;
{ins}{outs}  ref u_ref(.clk(clk), .rst(rst), .valid({ref_in['valid']}), .clear({ref_in['clear']}),
            .a({ref_in['a']}), .b({ref_in['b']}), .out_valid(ov_ref), .acc(acc_ref));
  pipe u_pipe(.clk(clk), .rst(rst), .valid(valid), .clear(clear), .a(a), .b(b),
              .out_valid(ov_pipe), .acc(acc_pipe));
  assign differ = ({ref_out['ov_ref']} != ov_pipe) || ({ref_out['acc_ref']} != acc_pipe);
  assign trigger = ({ref_out['ov_ref']} != ov_pipe) ||
                   (ov_pipe && {ref_out['acc_ref']} != acc_pipe);
endmodule
"""


_READ = ("read_verilog ref.v\nread_verilog pipe.v\nread_verilog miter.v\n"
         "hierarchy -top miter\nproc\nflatten\nopt_clean\n")


def _child_cpu() -> float:
    """CPU seconds (user + system) of this process's finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def prove_pipeline(reference, pipelined, *, max_steps=DEFAULT_MAX_STEPS,
                   folder=None) -> PipelineProof:
    """Prove ``pipelined`` equivalent to ``reference`` (design specs, design names or MAC
    components; the reference usually the same design with ``stages=1``), or find operations
    exposing a difference (module docstring). ``max_steps``: the induction length limit;
    ``folder``: where the Verilog, scripts and logs go (default a new folder under
    ``build/pipeline_proofs``)."""
    check_int("max_steps", max_steps, 2, 64)
    ref_name, ref = _unit(reference)
    pipe_name, pipe = _unit(pipelined)
    widths = _port_widths(ref)
    if _port_widths(pipe) != widths:
        raise PipelineProofError(f"{pipe_name} and {ref_name} have different ports: "
                                 f"{_port_widths(pipe)} and {widths}")
    d_in, d_out = alignment(ref, pipe)
    if folder is None:
        root = build_dir() / "pipeline_proofs"
        root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{pipe_name}-", dir=root))
    work = Path(folder)
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    cpu_start = _child_cpu()
    for name, unit in (("ref", ref), ("pipe", pipe)):
        write_atomic(work / f"{name}.v", verilog.convert(unit, name=name, emit_src=False))
    write_atomic(work / "miter.v", miter_verilog(widths, d_in, d_out))
    write_atomic(work / "registers.ys", _READ + "select -list t:$*dff* %co w:* %i\n")
    listing = run_yosys(work, "registers.ys", "registers.log",
                        what=f"{pipe_name} pipeline proof (registers)").read_text()
    found = {}
    for side, name in _FF_LINE.findall(listing):
        found.setdefault(name, set()).add(side)
    matched = tuple(sorted(n for n, sides in found.items() if sides == {"u_ref", "u_pipe"}))
    equal = " ".join(f"-prove u_ref.{n} u_pipe.{n}" for n in matched)
    write_atomic(work / "prove.ys", _READ + "opt_merge\nopt_clean\n"
                 f"sat -tempinduct -prove differ 0 {equal} -maxsteps {max_steps} "
                 f"-set-init-zero -timeout {DEFAULT_SAT_TIMEOUT_S} -show-inputs -show-outputs miter\n")
    log = run_yosys(work, "prove.ys", "prove.log",
                    what=f"{pipe_name} pipeline proof").read_text()
    seconds = round(time.perf_counter() - start, 2)
    proved = _induction_length(log)
    row = dict(reference=ref_name, pipelined=pipe_name, seconds=seconds, d_in=d_in,
               d_out=d_out, matched=matched, cpu_seconds=round(_child_cpu() - cpu_start, 2))
    if proved is not None:
        result = PipelineProof(verdict="equivalent", steps=proved, **row)
    elif (exposed := _exposing_length(log)) is not None:
        trace = _parse_trace(log.split("model found for base case", 1)[1])
        result = PipelineProof(verdict="different", steps=exposed,
                               ops=_ops_from_zero_state(trace, exposed), **row)
    else:
        result = PipelineProof(verdict="unknown", steps=max_steps, **row)
    write_atomic(work / "proof.json", json.dumps(result.to_dict(), indent=1) + "\n")
    return result


def replay(pipelined, ops, sim="verilator") -> dict:
    """Run operations ``ops`` (``(clear, a, b)``, the first clearing: a proof's counterexample)
    on ``pipelined`` (a design spec, name or MAC component) through the cocotb MAC testbench
    on ``sim``, each result checked against golden's code and the measured latency against
    the unit's ``latency``; return the regression row (``status``, ``mismatches``,
    ``latency``, ``latency_expected``, ``error``)."""
    from lowbit.verify.regression import MAC, run_vectors
    from lowbit.verify.vectors import mac_formats, ops_vectors

    name, unit = _unit(pipelined)
    vectors = ops_vectors("counterexample", list(ops), *mac_formats(unit))
    return run_vectors(unit, name, MAC, vectors, "counterexample", sim)
