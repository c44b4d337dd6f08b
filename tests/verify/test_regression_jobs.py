"""``lowbit regress --jobs N`` (:mod:`lowbit.verify.regression_jobs`): configurations run in
worker processes, rows come back in the matrix's order, and a worker that dies leaves its
remaining runs as failed rows while the other workers go on.

The designs are the two smallest MACs of the matrix (int2 x uint2 into int6, fp4 x fp4 into
fp32), whose wrappers other tests build too.
"""

import os
import signal

import pytest

from lowbit.verify import regression, regression_jobs

SMALL = ("intmac_int2xuint2_int6_sat", "floatmac_fp4_e2m1xfp4_e2m1_fp32")
pytestmark = pytest.mark.xdist_group("rtl")


def _entry(name):
    return {e.name: e for e in regression.entries(full=True)}[name]


def test_two_workers_return_every_row_in_order_and_a_killed_worker_is_recorded():
    work = [(_entry(SMALL[0]), ("corners", "random", "sequences")),
            (_entry(SMALL[1]), ("exhaustive", "corners"))]
    seen, killed = [], []

    def finished(row):
        seen.append((row["design"], row["vector_set"]))
        if row["design"] == SMALL[0] and not killed:  # its worker still has two sets to run
            (worker,) = [p for p in _children() if p.name == SMALL[0]]
            os.kill(worker.pid, signal.SIGKILL)
            killed.append(worker.pid)

    rows = regression_jobs.run_configurations(work, "verilator", jobs=2, on_row=finished)
    assert [(r["design"], r["vector_set"]) for r in rows] == \
        [(e.name, s) for e, sets in work for s in sets]
    assert sorted(seen) == sorted((r["design"], r["vector_set"]) for r in rows)
    first, *lost = rows[:3]
    assert first["status"] == "pass" and first["vectors"] > 0
    for row in lost:  # the set running when the worker died, and the one after it
        assert (row["status"], row["vectors"], row["driver"]) == ("fail", 0, "fast")
        assert row["error"] == ("the worker process died (exit code -9) before this run "
                                "finished")
    assert [(r["status"], r["mismatches"]) for r in rows[3:]] == [("pass", 0)] * 2
    assert rows[3]["vectors"] == 256 and rows[3]["vectors_per_s"] > 0


def _children():
    import multiprocessing

    return multiprocessing.active_children()
