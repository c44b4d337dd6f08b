"""Which surviving mutants are equivalent? A SAT proof per mutant on the synthesized netlist.

A mutant no vector set kills is either *equivalent* (no input sequence can expose it) or
*detectable* by vectors nobody wrote yet. For each one, Yosys builds a miter of the unmutated
netlist (``gold``) and a copy with that one mutation applied (``gate``), both driven by the
same inputs, whose ``trigger`` is 1 on a cycle where the two disagree the way a testbench
sees it: ``out_valid`` differs, or both are valid and ``acc`` differs. Then:

1. **Proof** (``sat -tempinduct``): from every register zero, temporal induction proves
   ``trigger`` is never 1 for *every* input sequence, with ``valid``, ``clear``, ``rst``,
   ``a`` and ``b`` free on every cycle: the mutant is ``equivalent``. Every state a testbench
   reaches after its reset edge is reached from all-zero too (reset in the first cycle), so
   the proof covers them. (Constraining ``rst`` with ``-set-at`` under ``-tempinduct`` is not
   used: it constrains the induction windows as well, which is not a proof.) The proof is exhaustive over inputs and time, which simulation of a
   sequential unit cannot be, whatever its input width. When the base case fails instead, the
   mutant is detectable.
2. **Counterexample as operations**: the testbenches reset for one edge, then issue one
   operation per cycle, the first one clearing. The failed base case's trace (from all-zero
   registers) becomes operations ``(clear, a, b)``: a clearing operation on zero codes, then
   the trace's steps with ``valid`` high. When its replay does not expose the mutant, a bounded
   search (``sat -seq``) constrained to exactly that protocol finds operations that do. They
   become a directed vector set (golden computes its expected codes, never the netlist).

A mutant whose induction does not close within ``max_steps`` and whose bounded search finds
nothing is ``unknown``, and is reported as such rather than counted either way.

Verdicts are cached per mutant in ``<campaign folder>/equivalence/`` (the folder's name
already fixes the Verilog, the draw and the tools).
"""

import json
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lowbit.errors import check_int
from lowbit.hdl.yosys import run_yosys
from lowbit.paths import write_atomic

VERDICTS = ("equivalent", "detectable", "unknown")
DEFAULT_MAX_STEPS = 12
SAT_TIMEOUT_S = 300  # per SAT instance; a proof or search that times out is not a verdict
#: Inputs every MAC unit has (besides ``clk``), in the order ops are read from a trace.
_OP_INPUTS = ("clear", "a", "b")
_SHOW_ROW = re.compile(r"^\s*(\d+)\s+\\(\S+)\s+([0-9a-fA-F-]+)\s+(\S+)\s+([01xz-]+)\s*$")


@dataclass(frozen=True)
class Verdict:
    """What the SAT proof says about one mutant.

    ``steps``: the induction length that closed the proof (equivalent) or the cycles, reset
    included, of the counterexample (detectable). ``ops``: the counterexample's operations
    ``(clear, a, b)``, one per cycle after the reset edge, in the test protocol; empty when
    the mutant is equivalent or the protocol search found none.
    """

    mutant: int
    verdict: str
    steps: int
    ops: tuple = field(default=())
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"mutant": self.mutant, "verdict": self.verdict, "steps": self.steps,
                "ops": [list(op) for op in self.ops], "seconds": self.seconds}


def miter_verilog(top: str, acc_bits: int, a_bits: int, b_bits: int) -> str:
    """The wrapper comparing ``gold`` and ``gate``: ``trigger`` as a MAC testbench does,
    ``differ`` on any output difference (a stronger property whose induction closes sooner)."""
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


def check_mutant(folder, top, mutation, widths, max_steps=DEFAULT_MAX_STEPS,
                 protocol_search=False) -> Verdict:
    """Prove ``mutation`` (a :class:`~lowbit.verify.mutation.Mutation`) of the netlist
    ``folder/synth.il`` equivalent, or find operations exposing it (see the module docstring):
    the proof's own trace turned into operations, or with ``protocol_search`` a bounded search
    constrained to the test protocol (slower; for traces whose replay did not expose it).

    ``widths``: ``(acc, a, b)`` port widths in bits.
    """
    check_int("max_steps", max_steps, 2, 64)
    folder = Path(folder)
    search = "_protocol" if protocol_search else ""
    cache = folder / "equivalence" / f"{mutation.id}_{max_steps}{search}_v3.json"
    if cache.exists():
        d = json.loads(cache.read_text())
        return Verdict(d["mutant"], d["verdict"], d["steps"], tuple(map(tuple, d["ops"])),
                       d["seconds"])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"eq{mutation.id}-", dir=folder) as tmp:
        work = Path(tmp)
        shutil.copyfile(folder / "synth.il", work / "synth.il")
        (work / "miter.v").write_text(miter_verilog(top, *widths))
        head = (f"read_rtlil synth.il\ncopy {top} gate\nrename {top} gold\n"
                f"mutate -mode {mutation.mode} -module gate -cell {mutation.cell} "
                f"-port {mutation.port} -portbit {mutation.port_bit}\n"
                "read_verilog miter.v\nhierarchy -top miter\nflatten\nopt_merge\nopt_clean\n")
        for prop in ("differ", "trigger"):  # the strong property first: it proves sooner
            (work / "prove.ys").write_text(
                head + f"sat -tempinduct -prove {prop} 0 -set-init-zero -maxsteps {max_steps} "
                       f"-timeout {SAT_TIMEOUT_S}\n")
            log = run_yosys(work, "prove.ys", "prove.log",
                            what=f"{top} mutant {mutation.id} proof").read_text()
            proved = _induction_length(log)
            if proved is not None:
                verdict = Verdict(mutation.id, "equivalent", proved)
                break
            if _exposing_length(log) is None:  # trigger implies differ: no need to look again
                break
        if proved is None:
            exposed = _exposing_length(log)
            if exposed is None:  # no difference within max_steps, and no induction
                verdict = Verdict(mutation.id, "unknown", max_steps)
            else:
                trace = _parse_trace(log.split("model found for base case", 1)[1])
                ops = () if protocol_search else _ops_from_zero_state(trace, exposed)
                verdict = Verdict(mutation.id, "detectable", exposed, ops) if ops else \
                    _protocol_counterexample(work, head, mutation.id, exposed + 3)
    verdict = Verdict(verdict.mutant, verdict.verdict, verdict.steps, verdict.ops,
                      round(time.perf_counter() - start, 2))
    write_atomic(cache, json.dumps(verdict.to_dict()) + "\n")
    return verdict


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


def _protocol_counterexample(work, head, mutant, steps) -> Verdict:
    """Bounded search for a trace in the test protocol: reset, then one op per cycle."""
    sets = ["-set-at 1 rst 1", "-set-at 1 valid 0", "-set-at 2 clear 1"]
    sets += [f"-set-at {t} rst 0 -set-at {t} valid 1" for t in range(2, steps + 1)]
    (work / "cex.ys").write_text(
        head + f"sat -seq {steps} -prove trigger 0 -set-init-zero {' '.join(sets)} "
               f"-timeout {SAT_TIMEOUT_S} -show-inputs -show-outputs\n")
    log = run_yosys(work, "cex.ys", "cex.log", what=f"mutant {mutant} counterexample")
    text = log.read_text()
    if "SAT proof finished - no model found: SUCCESS!" in text or "TIMEOUT" in text:
        return Verdict(mutant, "unknown", steps)
    values = _parse_trace(text)
    fail = next((t for t in range(2, steps + 1) if values.get((t, "trigger"))), steps)
    ops = [tuple(values.get((t, name)) or 0 for name in _OP_INPUTS) for t in range(2, fail + 1)]
    last = fail
    return Verdict(mutant, "detectable", last, tuple(ops))


def check_mutants(folder, top, mutations, widths, max_steps=DEFAULT_MAX_STEPS, jobs=2,
                  progress=None, protocol_search=False) -> list:
    """:func:`check_mutant` for each of ``mutations``, ``jobs`` Yosys processes at a time;
    ``progress(done, total)`` is called as verdicts arrive."""
    check_int("jobs", jobs, 1, 64)
    verdicts = []
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(check_mutant, folder, top, m, widths, max_steps,
                               protocol_search) for m in mutations]
        for i, f in enumerate(futures, 1):
            verdicts.append(f.result())
            if progress:
                progress(i, len(futures))
    return verdicts
