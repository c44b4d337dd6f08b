"""Test adequacy of a MAC configuration's vector sets: the mutation score over *detectable* faults.

Steps, for one MAC design of the regression matrix (``intmac_int8xint8_int20``, ...):

1. Draw ``mutants`` faults (stuck-at-0, stuck-at-1, inversion of cell output bits) and run
   the full regression's vector sets on each (:func:`.mutation.run_mutation`, one Verilator
   build, a C++ driver): the quick sets, the ``full_sets`` and the committed
   ``directed`` set. The *quick score* counts what the quick sets alone kill.
2. Each mutant the full sets miss goes to a SAT proof (:mod:`.equivalence`): *equivalent*
   (no input sequence exposes it), *equivalent below* ``2**ops_log2`` operations (a PositMac
   mutant only a sum of astronomically many products since a clear could expose; counted as
   undetectable when ``ops_log2 >= UNREACHABLE_OPS_LOG2``, else ``unknown``), or a
   counterexample in the test protocol. Counterexamples are replayed on the mutant netlist as
   a candidate directed set; only a replay that kills counts. ``write_directed=True`` adds
   the killing runs to the committed directed set.
3. Mutants still undecided run the configuration's ``deep_sets`` (runs of millions of
   operations, such as ``climb``: a quire summing ``2**24`` largest products), on the C++
   driver and on those mutants alone, mutant 0 checked against golden on every operation.
4. Score = killed / detectable, detectable = mutants - equivalent - equivalent below. The full
   sets are adequate when it is 100%.

A mutant no step decides is ``unknown``, with the reason in its survivor row: ``timeout`` (its
SAT stages hit ``sat_timeout``), a tool killed by a signal on every attempt (``yosys killed
by SIGBUS 3 times``: tool runs are retried first, see :mod:`lowbit.tool_runs`), or the bound
that was not enough. The campaign goes on past it and reports it; it is never counted as
killed or equivalent.
"""

import json
import time
from dataclasses import dataclass, field

from lowbit.errors import LowbitError, check_int
from lowbit.hdl.yosys import warm_up
from lowbit.paths import build_dir, write_atomic
from lowbit.verify import regression
from lowbit.verify.faults.equivalence import (DEFAULT_MAX_STEPS, DEFAULT_SAT_TIMEOUT_S,
                                              AccumulatorBound, check_mutant,
                                              check_sat_timeout, in_parallel, search_protocol)
from lowbit.verify.faults.mutants import MAX_MUTANTS
from lowbit.verify.faults.mutation import replay_many, run_mutation
from lowbit.verify.vectors import directed_path, mac_formats, ops_vectors


#: A mutant no run shorter than 2**31 operations since a clear can expose counts as
#: undetectable: the 2022 posit standard sizes the quire to sum up to 2**31 - 1 products, so
#: a longer dot product is outside what the format promises (and beyond any simulation).
UNREACHABLE_OPS_LOG2 = 31


class AdequacyError(LowbitError, ValueError):
    """An unknown configuration, or one that is not a MAC unit."""


def entry(name):
    """The regression entry of MAC design ``name`` (an :class:`AdequacyError` names the rest)."""
    return regression.lookup(name, regression.MAC, "MAC configuration", AdequacyError)


@dataclass
class AdequacyResult:
    """Scores and per-mutant verdicts of one adequacy campaign."""

    name: str
    mutants: int
    seed: int
    quick_sets: tuple
    full_sets: tuple
    quick_killed: int
    full_killed: int
    deep_sets: tuple = ()
    verdicts: dict = field(default_factory=dict)  # mutant id -> equivalent(_below)/killed/..
    survivors: list = field(default_factory=list)  # rows for mutants no set kills
    seconds: float = 0.0
    reasons: dict = field(default_factory=dict)  # mutant id -> why it is unknown

    def _count(self, verdict) -> int:
        return sum(v == verdict for v in self.verdicts.values())

    @property
    def equivalent(self) -> int:
        return self._count("equivalent")

    @property
    def equivalent_below(self) -> int:
        """Mutants no run shorter than ``2**UNREACHABLE_OPS_LOG2`` operations exposes."""
        return self._count("equivalent_below")

    @property
    def detectable(self) -> int:
        return self.mutants - self.equivalent - self.equivalent_below

    @property
    def directed_killed(self) -> int:
        """Mutants only a replayed counterexample kills (not yet in the committed set)."""
        return self._count("killed_by_counterexample")

    @property
    def deep_killed(self) -> int:
        """Mutants only the deep sets kill (counted in ``full_killed``)."""
        return self._count("killed_by_deep_set")

    @property
    def unknown(self) -> int:
        return self._count("unknown")

    def score(self, which="full") -> float:
        """Killed / detectable for the ``quick`` or ``full`` sets (counterexamples included in
        ``full_with_counterexamples``)."""
        killed = {"quick": self.quick_killed, "full": self.full_killed,
                  "full_with_counterexamples": self.full_killed + self.directed_killed}[which]
        return killed / self.detectable if self.detectable else 1.0

    def to_dict(self) -> dict:
        return {"name": self.name, "mutants": self.mutants, "seed": self.seed,
                "quick_sets": list(self.quick_sets), "full_sets": list(self.full_sets),
                "deep_sets": list(self.deep_sets), "deep_killed": self.deep_killed,
                "quick_killed": self.quick_killed, "full_killed": self.full_killed,
                "equivalent": self.equivalent, "equivalent_below": self.equivalent_below,
                "unreachable_ops_log2": UNREACHABLE_OPS_LOG2, "detectable": self.detectable,
                "unknown": self.unknown, "killed_by_counterexample": self.directed_killed,
                "quick_score": self.score("quick"), "full_score": self.score("full"),
                "full_score_with_counterexamples": self.score("full_with_counterexamples"),
                "unknown_reasons": {str(m): r for m, r in sorted(self.reasons.items())},
                "survivors": self.survivors, "seconds": self.seconds}


def run_adequacy(name, mutants=320, seed=1, max_steps=DEFAULT_MAX_STEPS, jobs=2,
                 write_directed=False, out_dir=None, progress=None, say=print,
                 sat_timeout=DEFAULT_SAT_TIMEOUT_S) -> AdequacyResult:
    """Measure the adequacy of configuration ``name``'s vector sets (module docstring).

    ``sat_timeout``: seconds of SAT work per mutant (:mod:`.equivalence`); a mutant that
    needs more is ``unknown`` with reason ``timeout``.
    """
    start = time.perf_counter()
    say = say or (lambda text: None)
    e = entry(name)
    check_int("faults", mutants, 1, MAX_MUTANTS, AdequacyError)
    check_int("max_steps", max_steps, 2, 64, AdequacyError)
    check_int("jobs", jobs, 1, 64, AdequacyError)
    check_sat_timeout(sat_timeout)
    # Yosys's one-time compile before the parallel proofs (runs are safe without it: the
    # launcher compiles under a lock; this says why the first run waits)
    warm_up(say)
    unit = e.build()
    quick, full = e.sets(full=False), e.sets(full=True)
    vectors = {s: e.vectors(unit, s) for s in full}
    out = build_dir() / "faults" / name if out_dir is None else out_dir
    common = dict(mutants=mutants, seed=seed, jobs=jobs, progress=progress)
    say(f"{name}: {mutants} mutants x the full sets {', '.join(full)} (quick: "
        f"{', '.join(quick)})")
    r_full = run_mutation(unit, name, vector_sets=full, vectors=vectors,
                          json_path=out / "mutation.json", **common)
    result = AdequacyResult(name, mutants, seed, quick, full, len(r_full.killed_by(quick)),
                            len(r_full.killed_quick), e.deep_sets)
    for m in r_full.mutations:  # simulation kept crashing: nothing is known of them
        if m.id in r_full.unknown:
            result.verdicts[m.id], result.reasons[m.id] = "unknown", r_full.unknown[m.id]
            result.survivors.append(_survivor_row(m, "unknown", reason=r_full.unknown[m.id]))
    missed = r_full.survivors
    say(f"{name}: SAT proofs of {len(missed)} mutants the full sets miss "
        f"(induction up to {max_steps} steps)")
    widths = (len(unit.acc), len(unit.a), len(unit.b))
    bound = (AccumulatorBound(unit.quire.width_bits, unit.quire_term_bits)
             if hasattr(unit, "quire_term_bits") else None)
    verdicts = in_parallel(check_mutant, [(r_full.folder, name, m, widths, max_steps, bound,
                                           sat_timeout) for m in missed],
                           jobs, progress=lambda d, n: say(f"  proofs {d}/{n}"))
    confirmed = _replay_kills(unit, name, verdicts, out / "mutation_counterexamples.json",
                              common)
    retry = [(m, v) for m, v in zip(missed, verdicts)
             if v.verdict == "detectable" and m.id not in confirmed]
    if retry:
        say(f"{name}: bounded searches in the test protocol for {len(retry)} mutants whose "
            f"proof trace did not replay")
        again = in_parallel(search_protocol, [(r_full.folder, name, m, widths, v.steps + 3,
                                               sat_timeout) for m, v in retry], jobs)
        confirmed |= _replay_kills(unit, name, again, out / "mutation_protocol.json", common)
        better = {v.mutant: v for v in again if v.mutant in confirmed}
        verdicts = [better.get(v.mutant, v) for v in verdicts]
    runs = []
    for m, v in zip(missed, verdicts):
        if v.verdict == "equivalent":
            verdict = "equivalent"
        elif v.verdict == "equivalent_below" and v.ops_log2 >= UNREACHABLE_OPS_LOG2:
            verdict = "equivalent_below"
        elif v.verdict == "detectable" and m.id in confirmed:
            verdict = "killed_by_counterexample"
            runs.append({"mutant": m.id, "ops": [list(op) for op in v.ops]})
        else:
            verdict = "unknown"
            result.reasons[m.id] = _unknown_reason(v)
        result.verdicts[m.id] = verdict
    undecided = [m.id for m in missed if result.verdicts[m.id] == "unknown"]
    crashed = {}
    deep = _deep_kills(unit, e, name, undecided, common, say, crashed)
    for m in deep:
        result.verdicts[m] = "killed_by_deep_set"
        result.reasons.pop(m, None)
    for m, reason in crashed.items():
        if m not in deep:
            result.reasons[m] = f"{result.reasons[m]}; deep set: {reason}"
    result.full_killed += result.deep_killed
    for m, v in zip(missed, verdicts):
        result.survivors.append(_survivor_row(m, result.verdicts[m.id], v, deep.get(m.id, ""),
                                              result.reasons.get(m.id, "")))
    if result.reasons:
        say(f"{name}: {len(result.reasons)} mutants unknown: " + "; ".join(
            f"#{m} {r}" for m, r in sorted(result.reasons.items())))
    if write_directed and runs:
        _add_directed(name, runs, seed, mutants)
    result.seconds = round(time.perf_counter() - start, 1)
    write_atomic(out / "adequacy.json", json.dumps(result.to_dict(), indent=1) + "\n")
    return result


def _survivor_row(m, verdict, v=None, deep_kill="", reason="") -> dict:
    """The row of ``survivors`` for mutation ``m`` with its proof verdict ``v`` (if any)."""
    return {"id": m.id, "description": m.describe(), "verdict": verdict,
            "proof_steps": v.steps if v else None, "ops_log2": v.ops_log2 if v else None,
            "ops": [list(op) for op in v.ops] if v else [], "deep_kill": deep_kill,
            "reason": reason}


def _unknown_reason(v) -> str:
    """Why the proof verdict ``v`` (of a mutant no replay killed) leaves it undecided."""
    if v.verdict == "detectable":
        return ("counterexample did not kill on replay" if v.ops
                else "counterexample not expressible as operations")
    if v.verdict == "equivalent_below":
        return f"equivalent below 2**{v.ops_log2} operations only (< 2**{UNREACHABLE_OPS_LOG2})"
    return v.reason or "undecided"


def _deep_kills(unit, e, name, ids, common, say, crashed) -> dict:
    """Mutants among ``ids`` the entry's deep sets kill (run on those mutants alone), each with
    the set and operation that exposed it: ``{id: "climb op 16777215"}``. Mutants whose run
    was killed on every attempt go to ``crashed`` (``{id: reason}``)."""
    killed = {}
    for kind in e.deep_sets:
        left = [m for m in ids if m not in killed]
        if not left:
            break
        vectors = e.vectors(unit, kind)
        say(f"{name}: deep set {kind} ({len(vectors):,} operations) on {len(left)} undecided "
            f"mutants and the unmutated netlist")
        found = replay_many(unit, name, left, vectors, mutants=common["mutants"],
                            seed=common["seed"], jobs=common["jobs"], check_baseline=True,
                            crashed=crashed)
        killed |= {m: f"{kind} op {d['op']}" for m, d in found.items() if d}
    return killed


def _replay_kills(unit, name, verdicts, json_path, common) -> set:
    """Mutant ids the verdicts' operations kill on the Verilated mutant netlist."""
    candidates = [v for v in verdicts if v.verdict == "detectable" and v.ops]
    if not candidates:
        return set()
    replay = ops_vectors("counterexamples", [op for v in candidates for op in v.ops],
                         *mac_formats(unit))
    r = run_mutation(unit, name, vector_sets=("counterexamples",),
                     vectors={"counterexamples": replay}, json_path=json_path, **common)
    return set(r.killed_quick)


def _add_directed(name, runs, seed, mutants):
    """Append ``runs`` to the committed directed set of ``name`` (a source file: review it)."""
    path = directed_path(name)
    data = json.loads(path.read_text()) if path.exists() else {
        "name": name, "about": "operation runs (clear, a, b) found by SAT counterexamples to "
                              "mutants the other sets miss; expected codes come from golden",
        "runs": []}
    known = {json.dumps(r["ops"]) for r in data["runs"]}
    for r in runs:
        if json.dumps(r["ops"]) not in known:
            data["runs"].append({**r, "draw": {"mutants": mutants, "seed": seed}})
    runs_text = ",\n".join("  " + json.dumps(r) for r in data["runs"])  # one run per line
    head = json.dumps({k: v for k, v in data.items() if k != "runs"}, indent=1)[:-2]
    write_atomic(path, f"{head},\n \"runs\": [\n{runs_text}\n ]\n}}\n")
