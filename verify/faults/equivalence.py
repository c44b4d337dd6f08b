"""Which surviving mutants are equivalent? A SAT proof per mutant on the synthesized netlist.

A mutant no vector set kills is either *equivalent* (no input sequence can expose it) or
*detectable* by vectors nobody wrote yet. Yosys decides which, on the synthesized netlist
(``gold``) and a copy with that one mutation applied (``gate``), driven by the same inputs.
Every register starts at zero (reset in the first cycle reaches every state a testbench
reaches after its reset edge), and ``valid``, ``clear``, ``rst``, ``a`` and ``b`` are free on
every cycle. In order:

1. **Matched state** (one combinational SAT call): the flip-flops of both copies become shared
   inputs (``expose -evert-dff``); if, from *any* shared state and inputs, the two copies have
   equal outputs and equal next states, then by induction from the equal reset state they
   never differ: the mutant is ``equivalent``. Logic outside the mutated cell's forward cone
   is merged between the copies (``opt``), so the problem is small however large the unit.
2. **Bounded accumulator** (for units with a wide accumulator such as a quire, given as an
   :class:`AccumulatorBound`): the same check with the accumulator registers limited to
   ``[-2**B, 2**B)``, the range any run of fewer than ``2**(B - term_bits)`` operations since a
   clear stays in. The largest such ``B`` tried that holds gives ``equivalent_below``: no run
   shorter than ``2**ops_log2`` operations since a clear can expose the mutant (a fault in the
   quire's top carry bits needs an astronomically long sum before those bits mix).
3. **Output induction** (``sat -tempinduct`` from all-zero registers on a miter of the
   outputs, any difference first, then what a testbench sees: ``out_valid`` differs, or both
   are valid and ``acc`` differs): a closed induction proves ``equivalent``; a failed base case
   is a trace from reset that becomes operations: a clearing operation on zero codes, then the
   trace's steps with ``valid`` high. When its replay does not expose the mutant, a bounded
   search (``sat -seq``) constrained to exactly the test protocol finds operations that do.
   They become a directed vector set (golden computes its expected codes, never the netlist).

(``-set-at`` is never used under ``-tempinduct``: it constrains the induction windows as well,
which is not a proof.) A mutant none of these decides is ``unknown``, and is reported as such
rather than counted either way, with the reason in :attr:`Verdict.reason`.

**Time limits.** Each SAT solver call stops after :data:`SAT_CALL_TIMEOUT_S` (300 s, Yosys
``sat -timeout``), and one mutant's stages together get ``sat_timeout`` seconds of wall time
(:data:`DEFAULT_SAT_TIMEOUT_S`, 1800 s; ``lowbit faults --sat-timeout``): later calls get
what is left, and a Yosys run still going when it is used up is stopped. A mutant left
undecided because a limit was hit is ``unknown`` with reason ``timeout``. **Crashes.** A
Yosys run killed by a signal is repeated by the launcher; a mutant whose run is killed on
every attempt is ``unknown`` with the reason (``yosys killed by SIGBUS 3 times``) and the
campaign goes on.

Verdicts are cached per mutant in ``<campaign folder>/equivalence/`` (the folder's name
already fixes the Verilog, the draw and the tools). A crash is never cached; a timeout is
reused only by a check with the same or a shorter ``sat_timeout``.
"""

import json
import math
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from lowbit.errors import DamagedStateError, LowbitError, check_int
from lowbit.hdl.yosys import YosysCrashed, YosysTimeout, run_yosys
from lowbit.paths import write_atomic
from lowbit.state_files import missing_field, read_json_state

VERDICTS = ("equivalent", "equivalent_below", "detectable", "unknown")
DEFAULT_MAX_STEPS = 12
#: Seconds one SAT solver call may take (Yosys ``sat -timeout``).
SAT_CALL_TIMEOUT_S = 300
#: Seconds of wall time the SAT stages of one mutant may take together, by default.
DEFAULT_SAT_TIMEOUT_S = 1800
MAX_SAT_TIMEOUT_S = 7 * 24 * 3600
#: Past the time limit, a Yosys run gets this long to stop by itself before it is killed.
_STOP_GRACE_S = 10
TIMEOUT = "timeout"
#: Inputs every MAC unit has (besides ``clk``), in the order ops are read from a trace.
_OP_INPUTS = ("clear", "a", "b")
_SHOW_ROW = re.compile(r"^\s*(\d+)\s+\\(\S+)\s+([0-9a-fA-F-]+)\s+(\S+)\s+([01xz-]+)\s*$")
_PORT_LINE = re.compile(r"^input \[(\d+):0\] (in_\S+\.q)$", re.M)
_SAT_RESULT = re.compile(r"SAT proof finished - (no model found: SUCCESS|model found: FAIL)")
_SAT_TIMED_OUT = "Interrupted SAT solver: TIMEOUT!"
_CACHE_VERSION = "v5"


class EquivalenceError(LowbitError, ValueError):
    """An impossible proof parameter (a time limit that is not a positive number)."""


def check_sat_timeout(value) -> float:
    """Return ``value`` if it is a number of seconds from 1 to one week; raise
    :class:`EquivalenceError` naming ``sat_timeout`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not 1 <= value <= MAX_SAT_TIMEOUT_S:
        raise EquivalenceError(f"sat_timeout must be a number of seconds from 1 to "
                               f"{MAX_SAT_TIMEOUT_S}, not {value!r}")
    return value


@dataclass(frozen=True)
class AccumulatorBound:
    """A unit's wide accumulator, for the bounded-accumulator stage.

    Every register of ``register_bits`` bits holds a two's-complement sum, in units of its
    LSB, of terms each of magnitude below ``2**term_bits`` (a quire: ``register_bits`` is its
    width, ``term_bits`` spans the smallest to the largest product), so ``n`` operations since
    a clear keep it within ``[-2**B, 2**B)`` for ``B = term_bits + ceil(log2(n))``.
    """

    register_bits: int
    term_bits: int

    def range_bits(self, step=4) -> list:
        """The bounds ``B`` to try, widest first: from the register's width (no bound) down
        to ``term_bits`` (one operation), every ``step`` bits."""
        return list(range(self.register_bits - 1, self.term_bits - 1, -step))


@dataclass(frozen=True)
class Verdict:
    """What the SAT proof says about one mutant.

    ``steps``: the induction length that closed the proof (equivalent; 1 for the matched-state
    proof) or the cycles, reset included, of the counterexample (detectable). ``ops``: the
    counterexample's operations ``(clear, a, b)``, one per cycle after the reset edge, in the
    test protocol; empty when the mutant is equivalent or the protocol search found none.
    ``ops_log2``: for ``equivalent_below``, no run of fewer than ``2**ops_log2`` operations
    since a clear exposes the mutant. ``reason``: why an ``unknown`` mutant is undecided
    (``timeout``, ``yosys killed by SIGBUS 3 times``, the bound that was not enough).
    """

    mutant: int
    verdict: str
    steps: int
    ops: tuple = field(default=())
    seconds: float = 0.0
    ops_log2: int | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        return {"mutant": self.mutant, "verdict": self.verdict, "steps": self.steps,
                "ops": [list(op) for op in self.ops], "seconds": self.seconds,
                "ops_log2": self.ops_log2, "reason": self.reason}

    @classmethod
    def from_dict(cls, d) -> "Verdict":
        return cls(d["mutant"], d["verdict"], d["steps"], tuple(map(tuple, d["ops"])),
                   d["seconds"], d.get("ops_log2"), d.get("reason", ""))


class _OutOfTime(Exception):
    """The mutant's time limit was used up before a stage could start."""


class _Budget:
    """The wall-clock time limit of one mutant's SAT stages (module docstring)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.timed_out = False  # a SAT call hit its limit

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def sat_timeout(self) -> int:
        """The ``-timeout`` of the next SAT call: at most :data:`SAT_CALL_TIMEOUT_S`."""
        return max(1, min(SAT_CALL_TIMEOUT_S, math.ceil(self.left())))

    def run(self, work, script, log, what) -> str:
        """Run a Yosys script within what is left of the limit; return its log text."""
        if self.left() <= 0:
            raise _OutOfTime
        text = run_yosys(work, script, log, what=what,
                         timeout=self.left() + _STOP_GRACE_S).read_text()
        self.timed_out |= _SAT_TIMED_OUT in text
        return text


def miter_verilog(top: str, acc_bits: int, a_bits: int, b_bits: int) -> str:
    """The wrapper comparing ``gold`` and ``gate``: ``trigger`` as a MAC testbench does
    (``out_valid`` differs, or both are valid and ``acc`` differs), ``differ`` on any output
    difference (a stronger property whose induction closes sooner)."""
    return f"""module miter(input clk, input rst, input valid, input clear,
             input [{a_bits - 1}:0] a, input [{b_bits - 1}:0] b, output trigger,
             output differ);
  wire [{acc_bits - 1}:0] acc_gold, acc_gate;
  wire ov_gold, ov_gate;
  gold u_gold(.clk(clk), .rst(rst), .valid(valid), .clear(clear), .a(a), .b(b),
              .out_valid(ov_gold), .acc(acc_gold));
  gate u_gate(.clk(clk), .rst(rst), .valid(valid), .clear(clear), .a(a), .b(b),
              .out_valid(ov_gate), .acc(acc_gate));
  assign trigger = (ov_gold != ov_gate) || (ov_gold && acc_gold != acc_gate);
  assign differ = (ov_gold != ov_gate) || (acc_gold != acc_gate);
endmodule
"""


def _copies(top, mutation) -> str:
    """Yosys lines: ``gold`` and the mutated ``gate`` from ``synth.il``, flip-flops unmapped."""
    return (f"read_rtlil synth.il\ndffunmap\ncopy {top} gate\nrename {top} gold\n"
            f"mutate -mode {mutation.mode} -module gate -cell {mutation.cell} "
            f"-port {mutation.port} -portbit {mutation.port_bit}\n")


def _shared_state_miter() -> str:
    """Yosys lines: the flip-flops of both copies become shared state inputs and next-state
    outputs (``expose -evert-dff``), then a miter whose ``trigger`` is any output of the two
    copies differing (next states included)."""
    return ("expose -evert-dff -dff gold gate\n"
            "miter -equiv -flatten -make_outputs -ignore_gold_x gold gate miter\n"
            "hierarchy -top miter\nopt -fast\n")


def check_mutant(folder, top, mutation, widths, max_steps=DEFAULT_MAX_STEPS,
                 accumulator=None, sat_timeout=DEFAULT_SAT_TIMEOUT_S) -> Verdict:
    """Prove ``mutation`` (a :class:`~lowbit.verify.faults.mutants.Mutation`) of the netlist
    ``folder/synth.il`` equivalent, or find a trace from reset exposing it, turned into
    operations (stages 1-3 of the module docstring). ``accumulator``: an
    :class:`AccumulatorBound` enabling stage 2; ``max_steps``: the induction length limit;
    ``widths``: ``(acc, a, b)`` port widths in bits; ``sat_timeout``: seconds for all stages
    (``unknown`` with reason ``timeout`` past it).
    """
    check_int("max_steps", max_steps, 2, 64)
    check_sat_timeout(sat_timeout)
    bound = f"_acc{accumulator.register_bits}t{accumulator.term_bits}" if accumulator else ""
    return _cached(folder, f"{mutation.id}_{max_steps}{bound}", mutation.id, sat_timeout,
                   lambda work, budget: (
                       _matched_state(work, top, mutation, accumulator, budget)
                       or _output_induction(work, top, mutation, widths, max_steps, budget)))


def search_protocol(folder, top, mutation, widths, steps,
                    sat_timeout=DEFAULT_SAT_TIMEOUT_S) -> Verdict:
    """Operations in the test protocol (reset, a clearing operation, then one operation per
    cycle, ``steps`` cycles in all) that expose ``mutation``: ``detectable`` with them, or
    ``unknown`` when there are none that short (or none found within ``sat_timeout``
    seconds). ``widths``: ``(acc, a, b)`` in bits."""
    check_int("steps", steps, 2, 64)
    check_sat_timeout(sat_timeout)
    return _cached(folder, f"{mutation.id}_{steps}_protocol", mutation.id, sat_timeout,
                   lambda work, budget: (
                       _protocol_counterexample(work, top, mutation, widths, steps, budget)))


def _cached(folder, key, mutant, sat_timeout, decide) -> Verdict:
    """``decide(work folder holding synth.il, time budget)``'s verdict, cached in
    ``folder/equivalence/<key>_<version>.json`` with the time it took. A mutant whose Yosys
    run was killed on every attempt is ``unknown`` with that reason, and not cached; a
    timeout is cached with its limit and recomputed for a longer one."""
    folder = Path(folder)
    cache = folder / "equivalence" / f"{key}_{_CACHE_VERSION}.json"
    if cache.exists():
        data = _cached_verdict(cache)
        v = Verdict.from_dict(data)
        if v.reason != TIMEOUT or data.get("sat_timeout_s", 0) >= sat_timeout:
            return v
    start = time.perf_counter()
    budget = _Budget(sat_timeout)
    try:
        with tempfile.TemporaryDirectory(prefix=f"eq{key}-", dir=folder) as tmp:
            shutil.copyfile(folder / "synth.il", Path(tmp) / "synth.il")
            v = decide(Path(tmp), budget)
    except (YosysTimeout, _OutOfTime):
        v = Verdict(mutant, "unknown", 0, reason=TIMEOUT)
    except YosysCrashed as crash:
        return Verdict(mutant, "unknown", 0, seconds=round(time.perf_counter() - start, 2),
                       reason=crash.reason)
    if v.verdict == "unknown" and budget.timed_out:
        v = replace(v, reason=TIMEOUT)
    v = replace(v, seconds=round(time.perf_counter() - start, 2))
    write_atomic(cache, json.dumps(v.to_dict() | {"sat_timeout_s": sat_timeout}) + "\n")
    return v


def _cached_verdict(cache) -> dict:
    """The verdict data stored in ``cache``; a damaged file is refused naming it (one line)."""
    fix = "remove it to decide that mutant again"
    data = read_json_state(cache, fix)
    missing = missing_field(data, ("mutant", "verdict", "steps", "ops", "seconds"))
    if missing:
        raise DamagedStateError(f"{cache} is not a verdict ({missing}); {fix}")
    return data


def _matched_state(work, top, mutation, accumulator, budget) -> Verdict | None:
    """Stages 1 and 2: ``equivalent`` when equal shared states always give equal outputs and
    next states, else ``equivalent_below`` for the widest accumulator bound that does; None
    when neither holds."""
    head = _copies(top, mutation) + _shared_state_miter()
    prove = f"sat -prove trigger 0 -timeout {budget.sat_timeout()} miter\n"
    script = head + prove
    if accumulator:
        script += "portlist miter\n"
    (work / "state.ys").write_text(script)
    log = budget.run(work, "state.ys", "state.log",
                     what=f"{top} mutant {mutation.id} matched-state proof")
    if _SAT_RESULT.findall(log) == ["no model found: SUCCESS"]:
        return Verdict(mutation.id, "equivalent", 1)
    if not accumulator:
        return None
    registers = [name for width, name in _PORT_LINE.findall(log)
                 if int(width) + 1 == accumulator.register_bits]
    if not registers:
        return None
    bounds = accumulator.range_bits()[1:]
    checks = []
    for bits in bounds:  # [-2**B, 2**B): bits W-1..B all 0, or all 1
        top_bits = accumulator.register_bits - bits
        for fill in ("0" * top_bits, "1" * top_bits):
            sets = " ".join(f"-set {r}[{accumulator.register_bits - 1}:{bits}] "
                            f"{top_bits}'b{fill}" for r in registers)
            checks.append(f"sat -prove trigger 0 {sets} -timeout {budget.sat_timeout()} "
                          f"miter\n")
    (work / "bounded.ys").write_text(head + "".join(checks))
    log = budget.run(work, "bounded.ys", "bounded.log",
                     what=f"{top} mutant {mutation.id} bounded-accumulator proof")
    results = _SAT_RESULT.findall(log)
    for i, bits in enumerate(bounds):
        if results[2 * i:2 * i + 2] == ["no model found: SUCCESS"] * 2:
            return Verdict(mutation.id, "equivalent_below", 1,
                           ops_log2=bits - accumulator.term_bits)
    return None


def _output_induction(work, top, mutation, widths, max_steps, budget) -> Verdict:
    """Stage 3: temporal induction from all-zero registers on the outputs, ``differ`` first
    (it closes sooner), then ``trigger`` when ``differ`` found a difference only."""
    for prop in ("differ", "trigger"):
        log = _sat_on_outputs(work, top, mutation, widths, "induct",
                              f"-tempinduct -prove {prop} 0 -maxsteps {max_steps}", budget)
        proved = _induction_length(log)
        if proved is not None:
            return Verdict(mutation.id, "equivalent", proved)
        if _exposing_length(log) is None:  # trigger implies differ: no need to look again
            return Verdict(mutation.id, "unknown", max_steps,
                           reason=f"induction did not close within {max_steps} steps")
    exposed = _exposing_length(log)
    trace = _parse_trace(log.split("model found for base case", 1)[1])
    return Verdict(mutation.id, "detectable", exposed, _ops_from_zero_state(trace, exposed))


def _sat_on_outputs(work, top, mutation, widths, name, options, budget) -> str:
    """The log of ``sat <options>`` from all-zero registers on the :func:`miter_verilog`
    wrapper over ``gold`` and the mutated ``gate`` (script ``<name>.ys`` in ``work``)."""
    (work / "miter.v").write_text(miter_verilog(top, *widths))
    (work / f"{name}.ys").write_text(
        _copies(top, mutation) +
        "read_verilog miter.v\nhierarchy -top miter\nflatten\nopt_merge\nopt_clean\n"
        f"sat {options} -set-init-zero -timeout {budget.sat_timeout()} -show-inputs "
        f"-show-outputs\n")
    return budget.run(work, f"{name}.ys", f"{name}.log",
                      what=f"{top} mutant {mutation.id} {name}")


def _induction_length(log_text) -> int | None:
    """The induction length of a successful ``sat -tempinduct`` proof, else None."""
    if "Induction step proven: SUCCESS!" not in log_text:
        return None
    lengths = re.findall(r"Base case for induction length (\d+) proven", log_text)
    return int(lengths[-1]) if lengths else 1


def _exposing_length(log_text) -> int | None:
    """The length of the base case that found a difference, else None."""
    if "model found for base case" not in log_text:
        return None
    lengths = re.findall(r"\[base case (\d+)\]", log_text)
    return int(lengths[-1]) if lengths else None


def _parse_trace(text) -> dict:
    """``{(step, signal): value}`` from a ``sat -show-inputs -show-outputs`` table (the
    binary column; None for undefined bits)."""
    values = {}
    for line in text.splitlines():
        m = _SHOW_ROW.match(line)
        if m:
            bits = m[5]
            values[(int(m[1]), m[2])] = int(bits, 2) if set(bits) <= {"0", "1"} else None
    return values


def _ops_from_zero_state(trace, exposed) -> tuple:
    """The base case's trace (from all-zero registers) as test-protocol operations: a first
    clearing operation on zero codes recreates the all-zero accumulator after reset, then one
    operation per step with ``valid`` high (idle steps hold the state and are dropped). Empty
    when the trace resets the unit midway (not expressible as operations)."""
    ops = [(1, 0, 0)]
    for t in range(1, exposed):
        if trace.get((t, "rst")):
            return ()
        if trace.get((t, "valid")):
            ops.append(tuple(trace.get((t, name)) or 0 for name in _OP_INPUTS))
    return tuple(ops)


def _protocol_counterexample(work, top, mutation, widths, steps, budget) -> Verdict:
    """Bounded search for a trace in the test protocol (reset, then one op per cycle) on the
    miter of :func:`miter_verilog`."""
    sets = ["-set-at 1 rst 1", "-set-at 1 valid 0", "-set-at 2 clear 1"]
    sets += [f"-set-at {t} rst 0 -set-at {t} valid 1" for t in range(2, steps + 1)]
    text = _sat_on_outputs(work, top, mutation, widths, "counterexample",
                           f"-seq {steps} -prove trigger 0 {' '.join(sets)}", budget)
    if _SAT_TIMED_OUT in text:
        return Verdict(mutation.id, "unknown", steps, reason=TIMEOUT)
    if "SAT proof finished - no model found: SUCCESS!" in text:
        return Verdict(mutation.id, "unknown", steps,
                       reason=f"no counterexample in the test protocol within {steps} steps")
    values = _parse_trace(text)
    fail = next((t for t in range(2, steps + 1) if values.get((t, "trigger"))), steps)
    ops = [tuple(values.get((t, name)) or 0 for name in _OP_INPUTS) for t in range(2, fail + 1)]
    return Verdict(mutation.id, "detectable", fail, tuple(ops))


def in_parallel(check, items, jobs=2, progress=None) -> list:
    """``check(*item)`` for each of ``items`` (argument tuples), ``jobs`` Yosys processes at a
    time, results in order; ``progress(done, total)`` is called as they arrive. The checks of
    this module never raise for a crashed or timed-out mutant (it is ``unknown``), so one
    mutant cannot end the others' proofs."""
    check_int("jobs", jobs, 1, 64)
    results = []
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(check, *item) for item in items]
        for i, f in enumerate(futures, 1):
            results.append(f.result())
            if progress:
                progress(i, len(futures))
    return results
