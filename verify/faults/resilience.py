"""Resilience of a GEMM engine to hardware faults: what a stuck bit or an upset does to C.

One GEMM (seeded random operands) runs on the engine's instrumented netlist
(:class:`~lowbit.verify.faults.netlist.InstrumentedNetlist`) under cocotb on Verilator, once
per fault; each run's ``C`` is judged bit for bit against golden
(:func:`~lowbit.verify.faults.outcomes.classify`): masked, silent data corruption (with the
worst absolute and relative error and the flipped bits) or hang.

Samples (each drawn uniformly with the campaign's seed):

``stuck``  ``n`` distinct cell output bits of the whole netlist, half stuck-at-0, half 1;
``upset``  ``n`` (flip-flop, edge) pairs: a flip-flop uniformly, an edge of the GEMM uniformly;
``map``    every bit of every PE accumulator register: stuck-at-0, stuck-at-1, and one upset
           at a random edge; grouped by bit position for the per-bit vulnerability map.

``n`` is :func:`~lowbit.verify.faults.statistics.sample_size` of ``margin`` (2,401 at 2%) unless
given. Rates get Wilson 95% intervals. Results are JSON lines written as runs finish
(``runs.jsonl``), so an interrupted campaign resumes where it stopped.

A simulation killed by a signal is run again (:mod:`lowbit.tool_runs`, three runs at most); one
killed on every attempt before finishing a single fault run gives up that fault run alone: it
is recorded as ``unknown`` with the reason (``verilator simulation killed by SIGSEGV 3
times``), counted apart from the rates, and the campaign goes on with the next runs.
"""

import json
import math
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lowbit.errors import DamagedStateError, LowbitError, check_int
from lowbit.hdl import export
from lowbit.hdl.gemm_engine import unpack
from lowbit.hdl.rtl_export import ExportedRtl
from lowbit.hdl.yosys import warm_up
from lowbit.paths import build_dir, write_atomic
from lowbit.state_files import missing_field, read_json_state, read_jsonl_state
from lowbit.tool_runs import ToolCrashed
from lowbit.verify import regression
from lowbit.verify.faults.netlist import InstrumentedNetlist
from lowbit.verify.faults.outcomes import OUTCOMES, classify
from lowbit.verify.faults.statistics import sample_size, wilson
from lowbit.verify.gemm_vectors import GemmCase, GemmVectors, operands, stream
from lowbit.verify.runner import SimulationFailed, run_testbench

SAMPLES = ("stuck", "upset", "map")
BASELINE_RUN = -1  # the fault-free run each shard starts with
#: The PE accumulator registers of lowbit's engines, as Yosys names them after flattening.
ACC_REGISTER = re.compile(r"^acc(\$\d+)?$")


class ResilienceError(LowbitError, ValueError):
    """An impossible campaign parameter."""


@dataclass(frozen=True)
class FaultRun:
    """Run ``run``: site ``site`` (a FaultSite), permanent (``edge`` -1) or an upset at
    ``edge``, drawn for ``sample``."""

    run: int
    sample: str
    site: object
    edge: int

    @property
    def model(self) -> str:
        return "upset" if self.edge >= 0 else {"const0": "stuck_at_0",
                                               "const1": "stuck_at_1"}[self.site.mode]


def engine(name):
    """Build the GEMM engine design ``name`` of the regression matrix."""
    return regression.lookup(name, regression.GEMM, "GEMM engine configuration",
                             ResilienceError).build()


def field_of(bit: int, fmt) -> str:
    """Which field of an accumulator code bit ``bit`` is: sign / exponent / mantissa for
    floats, ``integer`` otherwise."""
    if fmt.kind != "float":
        return "integer"
    if bit == fmt.bits - 1:
        return "sign"
    return "exponent" if bit >= fmt.man_bits else "mantissa"


def _is_acc(candidate) -> bool:
    wire = candidate[3]
    return wire is not None and bool(ACC_REGISTER.match(wire))


def prepare(engine, name, n, seed, say=None):
    """Export, synthesize and instrument ``engine``: ``n`` stuck-at sites, every flip-flop
    for upsets, and both stuck-ats on every accumulator register bit (the map)."""
    rtl = export(engine, name)
    return InstrumentedNetlist.prepare(
        rtl, [({"const0": n - n // 2, "const1": n // 2, "upset": math.inf}, None),
              ({"const0": math.inf, "const1": math.inf}, _is_acc)],
        seed, select_key="stuck+all-flops+acc-register-v1", say=say)


def plan(netlist, n, cycles, seed) -> list:
    """The runs of the campaign (see the module docstring), numbered from 0."""
    rng = np.random.default_rng(seed + 1)
    sites = netlist.sites
    stuck = [s for s in sites if s.mode in ("const0", "const1") and s.stratum == 0]
    flops = [s for s in sites if s.mode == "upset"]
    acc_stuck = [s for s in sites if s.stratum == 1]
    acc_flops = [s for s in flops if s.wire is not None and ACC_REGISTER.match(s.wire)]
    runs = [("stuck", s, -1) for s in stuck]
    runs += [("upset", flops[i], int(e)) for i, e in
             zip(rng.integers(0, len(flops), n), rng.integers(0, cycles, n))]
    runs += [("map", s, -1) for s in acc_stuck]
    runs += [("map", s, int(e)) for s, e in zip(acc_flops, rng.integers(0, cycles,
                                                                         len(acc_flops)))]
    return [FaultRun(i, sample, site, edge) for i, (sample, site, edge) in enumerate(runs)]


def run_resilience(engine, name, *, faults=None, margin=0.02, shape=None, seed=1, out_dir=None,
                   progress=None, say=None, shard_runs=400) -> dict:
    """Run the campaign on ``engine`` (exported as ``name``); return the summary dict and write
    ``runs.jsonl``, ``faults.csv`` and ``summary.json`` to ``out_dir``."""
    say = say or (lambda text: None)
    n = sample_size(margin) if faults is None else check_int("faults", faults, 1, 1 << 20,
                                                             ResilienceError)
    check_int("seed", seed, 0, (1 << 31) - 1, ResilienceError)
    if not hasattr(engine, "natural_tile") or getattr(engine, "accumulator", None) is None:
        raise ResilienceError(f"engine must be a GEMM engine with one accumulator format, not "
                              f"{type(engine).__name__}")
    tm, tk, tn = engine.natural_tile
    M, K, N = shape or (tm, 4 * tk, tn)
    out = Path(out_dir) if out_dir else build_dir() / "faults" / name
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    A, B = operands(engine, GemmCase("faulted", M, K, N, "random"), rng)
    gemm = stream(engine, GemmCase("faulted", M, K, N, "random"), A, B)
    warm_up(say)  # Yosys's one-time compile, announced (the launcher would do it silently)
    netlist = prepare(engine, name, n, seed, say)
    runs = plan(netlist, n, gemm["cycles"], seed)
    results = out / "runs.jsonl"
    key = {"name": name, "netlist": netlist.folder.name, "n": n, "seed": seed,
           "shape": [M, K, N], "runs": len(runs)}
    _check_resumable(out / "campaign.json", key, results)
    done = _done(results, len(runs))
    # a run given up as unknown (its simulation kept crashing) is tried again on a resume
    todo = [r for r in runs if r.run not in done or "unknown" in done[r.run]]
    say(f"{name}: {len(runs)} fault runs ({len(runs) - len(todo)} already done) on a "
        f"{M}x{K}x{N} GEMM of {gemm['cycles']} cycles; {netlist.cells} cells")
    start = time.perf_counter()
    rtl = ExportedRtl(name, netlist.folder, netlist.verilog, None, "")
    with tempfile.TemporaryDirectory(prefix="lowbit-faults-") as tmp:
        stim = Path(tmp) / "gemm.json"
        GemmVectors("faulted", [gemm]).save(stim)
        while todo:
            shard = todo[:shard_runs]
            plan_file = Path(tmp) / "runs.json"
            # every shard starts with a fault-free run (fault_sel 0): it must match golden
            plan_file.write_text(json.dumps([[BASELINE_RUN, 0, -1]] +
                                            [[r.run, r.site.id, r.edge] for r in shard]))
            try:
                run_testbench(rtl, "lowbit.verify.testbenches.fault_gemm_tb",
                              {"LOWBIT_VECTORS": stim, "LOWBIT_FAULT_RUNS": plan_file,
                               "LOWBIT_RESULT": results.resolve()}, gate_level=True)
            except ToolCrashed as crash:
                _give_up_if_stuck(results, shard, crash, say, len(runs))
            done = _done(results, len(runs))
            todo = [r for r in todo if r.run not in done]
            if progress:
                progress(len(runs) - len(todo), len(runs))
    summary = summarize(engine, gemm, runs, _done(results, len(runs)), out)
    summary.update(key, seconds=round(time.perf_counter() - start, 1), cells=netlist.cells)
    write_atomic(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    return summary


#: What to do about a damaged line of ``runs.jsonl``: the intact runs are kept.
FIX_RUN_LINE = "remove that line to run it again (the other runs are kept), or give another --out"
#: What to do about a folder whose campaign cannot be told.
FIX_FOLDER = "move the folder away or give another --out"
HEX = re.compile(r"0x[0-9a-f]+")


def _check_resumable(path, key, results):
    """Resume the same campaign; refuse to mix another campaign's results into this folder.

    ``campaign.json`` names the campaign whose runs ``runs.jsonl`` holds: with runs in the
    folder, a missing, damaged or different one is refused (one line); without runs it is
    simply written anew."""
    has_runs = results.exists() and results.stat().st_size > 0
    try:
        before = read_json_state(path, f"it names the campaign of the runs in {results.name}: "
                                       f"{FIX_FOLDER}")
    except DamagedStateError:
        if has_runs:
            raise
        before = None
    if has_runs and before is None:
        raise DamagedStateError(f"{results} holds fault runs but {path.name}, which names their "
                                f"campaign, is missing; {FIX_FOLDER}")
    if has_runs and before != key:
        changed = ", ".join(f"{k} {before.get(k)!r} -> {v!r}" for k, v in key.items()
                            if before.get(k) != v)
        raise ResilienceError(f"out folder {path.parent} holds another campaign's results "
                              f"({changed}); give another --out or remove the folder")
    write_atomic(path, json.dumps(key) + "\n")


def _give_up_if_stuck(results, shard, crash, say, planned):
    """After the shard's simulation was killed on every attempt: when not one of its fault runs
    finished, record the first as ``unknown`` with the reason (the campaign then goes on with
    the rest); when some did, the next shard starts after them."""
    done = _done(results, planned)
    left = [r for r in shard if r.run not in done]
    if len(left) < len(shard):
        return
    if BASELINE_RUN not in done:  # not even the fault-free run: nothing can be judged
        raise crash
    say(f"fault run {left[0].run}: unknown: {crash.reason}")
    with open(results, "a") as out:
        out.write(json.dumps({"run": left[0].run, "unknown": crash.reason}) + "\n")


def _done(results, planned: int) -> dict:
    """Finished runs by number (of ``planned`` runs, and the fault-free runs); a last line cut
    short by an interruption is dropped from the file, so the runs appended next start on a
    line of their own. Any other damaged line is refused naming the file and the line."""
    rows = read_jsonl_state(results, lambda row: _run_problem(row, planned),
                            "a run of this campaign", FIX_RUN_LINE)
    return {row["run"]: row for row in rows}


def _run_problem(row: dict, planned: int) -> str | None:
    """Why ``row`` is not a result line of a campaign of ``planned`` runs, or None (a run
    given up as ``unknown`` carries its reason instead of beats)."""
    if "unknown" in row:
        missing = missing_field(row, ("run", "unknown"))
        fields = ("unknown",)
    else:
        missing = missing_field(row, ("run", "beats", "protocol_errors"))
        fields = ("beats", "protocol_errors")
    if missing:
        return missing
    run = row["run"]
    if type(run) is not int or not BASELINE_RUN <= run < planned:
        return f"run {run!r} is not one of its {planned} planned runs"
    if fields == ("unknown",):
        return None if isinstance(row["unknown"], str) else "field 'unknown' is not a reason"
    beats, errors = row["beats"], row["protocol_errors"]
    if not isinstance(beats, list) or not all(isinstance(b, str) and HEX.fullmatch(b)
                                              for b in beats):
        return "field 'beats' is not a list of hex numbers"
    if type(errors) is not int or errors < 0:
        return f"field 'protocol_errors' is not a count: {errors!r}"
    return None


def final_codes(gemm, beats) -> np.ndarray | None:
    """The final C codes (lanes with ``k_end = K``) in the order of ``gemm["where"]``; None
    when beats are missing."""
    if len(beats) < len(gemm["expected"]):
        return None
    bits = gemm["out_bits"]
    codes = []
    for word, lanes in zip(beats, gemm["where"]):
        values = unpack(word, bits, len(lanes))
        codes += [v for v, spot in zip(values, lanes) if spot is not None and spot[2] == gemm["K"]]
    return np.array(codes, dtype=np.uint64)


def summarize(engine, gemm, runs, done, out) -> dict:
    """Classify every run; write ``faults.csv``; return rates with CIs over the judged runs,
    the unknown runs with their reasons, and the bit map (the CLI draws it with
    :func:`lowbit.reports.plots.bit_vulnerability`)."""
    fmt = engine.accumulator.out_fmt
    gemm = {**gemm, "out_bits": engine.out_bits}
    expected = final_codes(gemm, [int(e, 16) for e in gemm["expected"]])
    missing = [r.run for r in runs if r.run not in done]
    if missing:
        raise SimulationFailed(f"{out.name}: {len(missing)} planned fault runs have no result "
                               f"(first: run {missing[0]}); rerun to complete the campaign")
    base = done.get(BASELINE_RUN)
    if base is not None and "unknown" in base:
        raise SimulationFailed(f"{out.name}: the fault-free run (fault_sel 0) could not be "
                               f"simulated: {base['unknown']}")
    if base is None or base["protocol_errors"] or classify(
            expected, final_codes(gemm, [int(b, 16) for b in base["beats"]]), fmt).kind != "masked":
        raise SimulationFailed(f"{out.name}: the fault-free run (fault_sel 0) does not match "
                               f"golden; the instrumented netlist or the vectors are wrong")
    rows = []
    for r in runs:
        got = done.get(r.run)
        if got is None:
            continue
        if "unknown" in got:
            outcome = {"outcome": "unknown", "abs_error": "", "rel_error": "",
                       "flipped_bits": "", "wrong_results": "", "reason": got["unknown"]}
        else:
            beats = [int(b, 16) for b in got["beats"]]
            codes = None if got["protocol_errors"] else final_codes(gemm, beats)
            outcome = classify(expected, codes, fmt).to_dict() | {"reason": ""}
        rows.append({"run": r.run, "sample": r.sample, "model": r.model, "site": r.site.id,
                     "cell": r.site.cell, "cell_type": r.site.cell_type, "wire": r.site.wire,
                     "wire_bit": r.site.wire_bit, "edge": r.edge,
                     "field": field_of(r.site.wire_bit % fmt.bits, fmt)
                     if r.sample == "map" else "", **outcome})
    _write_csv(out / "faults.csv", rows)
    judged = [r for r in rows if r["outcome"] != "unknown"]
    summary = {"rates": {}, "bit_map": bit_map(judged, fmt),
               "unknown": [{"run": r["run"], "reason": r["reason"]} for r in rows
                           if r["outcome"] == "unknown"]}
    for sample in ("stuck", "upset"):
        models = sorted({r["model"] for r in rows if r["sample"] == sample})
        for model in (models if len(models) > 1 else []) + [None]:
            chosen = [r for r in rows if r["sample"] == sample and model in (None, r["model"])]
            pick = [r for r in chosen if r["outcome"] != "unknown"]
            label = sample if model is None else f"{sample}/{model}"
            # rates are over the runs that were judged; unknown runs are counted apart
            summary["rates"][label] = {"n": len(pick), "unknown": len(chosen) - len(pick)}
            for o in OUTCOMES:
                summary["rates"][label].update(
                    wilson(sum(r["outcome"] == o for r in pick), len(pick)).to_dict(o))
    return summary


def bit_map(rows, fmt) -> list:
    """Per accumulator bit position: runs, SDC rate (Wilson CI), median and mean finite
    relative error of the SDC runs, and its field."""
    table = []
    for bit in range(fmt.bits):
        pick = [r for r in rows if r["sample"] == "map" and r["wire_bit"] % fmt.bits == bit]
        if not pick:
            continue
        sdc = [r for r in pick if r["outcome"] == "sdc"]
        rel = np.array([r["rel_error"] for r in sdc], dtype=float)
        finite = rel[np.isfinite(rel)]
        table.append({"bit": bit, "field": field_of(bit, fmt), "runs": len(pick),
                      **wilson(len(sdc), len(pick)).to_dict("sdc"),
                      "median_rel_error": float(np.median(rel)) if len(rel) else 0.0,
                      "mean_finite_rel_error": float(finite.mean()) if len(finite) else 0.0,
                      "nonfinite_results": int((~np.isfinite(rel)).sum())})
    return table


def _write_csv(path, rows):
    import csv
    import io

    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    write_atomic(path, buf.getvalue())
