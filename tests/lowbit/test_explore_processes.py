"""Sweeps and their processes: a dying worker fails only its own point (local pool and Dask),
Ctrl-C stops within seconds leaving no process behind, concurrent runs on one database
evaluate each point once."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lowbit.explore import run_sweep

HANG_GUARD_S = 600  # a subprocess that takes this long is hung (not a speed check)

DYING = '''
import ctypes, os, signal, subprocess, sys
from lowbit.explore import Space, Sweep, metric

@metric("outcome", reads=("fate",))
def die(point, metrics):
    fate = point["fate"]
    if not fate.startswith("live"):  # a tool still running when its worker dies goes with it
        subprocess.Popen(["sleep", "300"])
    if fate == "os_exit":
        os._exit(3)
    if fate == "sys_exit":
        sys.exit(4)
    if fate == "segfault":
        ctypes.string_at(0)
    if fate == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    return {{"outcome": "lived"}}

sweep = Sweep(name="dying", space=Space({{"a_fmt": "int8", "k": 16, "tokens": 2, "n": 2,
                                         "fate": {fates}}}), stages=("gemm",), metrics=(die,))
'''


def _dying(folder, fates) -> Path:
    path = Path(folder) / "dying.py"
    path.write_text(DYING.format(fates=list(fates)))
    return path


def _sleepers() -> list:
    """pids of ``sleep 300`` processes (the tools started by dying points)."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x00300\x00":
                out.append(int(pid))
        except OSError:
            pass
    return out


def test_a_dying_worker_fails_its_own_point_and_the_sweep_goes_on(tmp_path):
    fates = ["live", "os_exit", "sys_exit", "segfault", "sigkill", "live2"]
    before = set(_sleepers())
    run = run_sweep(_dying(tmp_path, fates), out=tmp_path, workers=2, progress=False)
    assert (run.evaluated, run.failed) == (6, 4)
    got = {r["fate"]: (r["status"], r["error"]) for r in run.rows}
    assert got == {"live": ("ok", ""), "live2": ("ok", ""),
                   "os_exit": ("error", "worker died: exit code 3"),
                   "sys_exit": ("error", "worker died: exit code 4"),
                   "segfault": ("error", "worker died: killed by SIGSEGV"),
                   "sigkill": ("error", "worker died: killed by SIGKILL")}
    assert set(_sleepers()) <= before  # each dead worker's process group was killed
    again = run_sweep(_dying(tmp_path, fates), out=tmp_path, workers=2, progress=False)
    assert (again.evaluated, again.skipped) == (0, 6)  # stored: reruns do not stop there


def test_a_dying_worker_on_dask_fails_its_own_point(tmp_path):
    distributed = pytest.importorskip("distributed")
    fates = ["live", "os_exit", "live2"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        run = run_sweep(_dying(tmp_path, fates), out=tmp_path,
                        scheduler=cluster.scheduler_address, progress=False)
        got = {r["fate"]: (r["status"], r["error"]) for r in run.rows}
        assert got == {"live": ("ok", ""), "live2": ("ok", ""),
                       "os_exit": ("error", "worker died: exit code 3")}
        assert len(cluster.scheduler_info["workers"]) == 1  # the Dask worker lived


SLOW = '''
import os, subprocess
from pathlib import Path
from lowbit.explore import Space, Sweep, metric

@metric("slept", reads=("i",))
def slow(point, metrics):
    Path(os.environ["STARTED"], str(point["i"])).touch()
    subprocess.run(["sleep", "120"])  # a long tool run (Yosys, say) in the worker's group
    return {"slept": 120}

sweep = Sweep(name="slow", space=Space({"a_fmt": "int8", "k": 16, "tokens": 2, "n": 2,
                                        "i": list(range(6))}), stages=("gemm",),
              metrics=(slow,))
'''


def _session(sid) -> list:
    """Live (not zombie) processes of session ``sid``: the CLI, its workers, their tools."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            out.append(int(pid))
    return out


@pytest.mark.parametrize("presses", [1, 2], ids=["ctrl-c", "ctrl-c-twice"])
def test_ctrl_c_stops_within_seconds_and_leaves_no_process(tmp_path, presses):
    """SIGINT to the CLI's process group (what a terminal's Ctrl-C does) while two points run
    ``sleep 120``: exit 130 within 10 s, one line saying how to resume, no process of the
    session left (workers and their tools killed), the database intact and unclaimed."""
    path = tmp_path / "slow.py"
    path.write_text(SLOW)
    started = tmp_path / "started"
    started.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "lowbit.cli", "sweep", str(path), "--out",
                             str(tmp_path), "--jobs", "2"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "STARTED": str(started)})
    deadline = time.monotonic() + HANG_GUARD_S
    while len(list(started.iterdir())) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    time.sleep(0.3)  # the sleeps have started
    assert len(_session(proc.pid)) >= 5  # the CLI, two workers, two sleeps
    t0 = time.monotonic()
    for _ in range(presses):
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.05)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("the sweep did not stop within 10 s of Ctrl-C") from None
    assert time.monotonic() - t0 < 10 and proc.returncode == 130
    db = tmp_path / "slow.sqlite"
    assert err == (f"lowbit: interrupted: 0 of 6 points of sweep slow are stored in {db}; run "
                   f"the same command to resume\n")
    leftover = _session(proc.pid)
    for _ in range(20):  # SIGKILLed processes vanish at once; allow the kernel a moment
        if not leftover:
            break
        time.sleep(0.1)
        leftover = _session(proc.pid)
    assert leftover == []
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("SELECT COUNT(*) FROM claims").fetchone() == (0,)


COUNTED = '''
import os, time
from lowbit.explore import Space, Sweep, metric

@metric("evaluated_in", reads=("i",))
def counted(point, metrics):
    with open(os.environ["COUNT_FILE"], "a") as f:
        f.write(f"{point['i']}\\n")
    time.sleep(0.1)
    return {"evaluated_in": os.getpid()}

sweep = Sweep(name="counted", space=Space({"a_fmt": "int8", "k": 16, "tokens": 2, "n": 2,
                                           "i": list(range(16))}), stages=("gemm",),
              metrics=(counted,))
'''


def test_four_concurrent_runs_evaluate_each_point_once(tmp_path):
    path = tmp_path / "counted.py"
    path.write_text(COUNTED)
    count = tmp_path / "count.txt"
    env = {**os.environ, "COUNT_FILE": str(count)}
    runs = [subprocess.Popen([sys.executable, "-m", "lowbit.cli", "sweep", str(path), "--out",
                              str(tmp_path), "--jobs", "1"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    outputs = [r.communicate(timeout=HANG_GUARD_S) for r in runs]
    assert [r.returncode for r in runs] == [0, 0, 0, 0], outputs
    assert sorted(int(line) for line in count.read_text().split()) == list(range(16))
    evaluated = [int(out.split(" points evaluated now")[0].rsplit("\n", 1)[-1])
                 for out, _ in outputs]
    assert sum(evaluated) == 16
    with sqlite3.connect(tmp_path / "counted.sqlite") as con:
        assert con.execute("SELECT COUNT(*), SUM(status = 'ok') FROM points").fetchone() == \
            (16, 16)
        assert con.execute("SELECT COUNT(*) FROM claims").fetchone() == (0,)
