"""``lowbit.paths.folder_lock``: processes sharing a build folder take turns, a dead holder
frees it. Test modules that build the same design run on two xdist workers at once and rely
on it (tests/conftest.py)."""

import os
import subprocess
import sys
import textwrap
import time

from lowbit.paths import LOCK_NAME, folder_lock

#: A process that holds the lock of argv[1] while it appends "<tag> in" and, 0.3 s later,
#: "<tag> out" to argv[1]/log.
HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from lowbit.paths import folder_lock
    folder, tag = Path(sys.argv[1]), sys.argv[2]
    with folder_lock(folder):
        with open(folder / "log", "a") as log:
            log.write(f"{tag} in\\n")
            log.flush()
            time.sleep(0.3)
            log.write(f"{tag} out\\n")
""")


def test_processes_take_turns(tmp_path):
    folder = tmp_path / "sim_verilator-O0"  # created by the lock
    procs = [subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), tag])
             for tag in "abcd"]
    assert [p.wait(timeout=60) for p in procs] == [0] * 4
    lines = (folder / "log").read_text().splitlines()
    # Every holder's "in" is followed by its own "out": no two were inside at once.
    turns = list(zip(lines[0::2], lines[1::2]))
    assert all(i.split() == [o.split()[0], "in"] and o.endswith(" out") for i, o in turns)
    assert sorted(i.split()[0] for i, _ in turns) == list("abcd")
    assert (folder / LOCK_NAME).exists()


def test_a_killed_holder_frees_the_folder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from lowbit.paths import folder_lock
        with folder_lock(sys.argv[1]):
            print("held", flush=True)
            time.sleep(600)
    """), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        holder.kill()
        holder.wait(timeout=30)
        start = time.perf_counter()
        with folder_lock(tmp_path):
            pass
        assert time.perf_counter() - start < 10
    finally:
        holder.kill()
        holder.stdout.close()


def test_threads_of_one_process_take_turns_too(tmp_path):
    """Synthesis runs Yosys from a thread pool: flock locks each open of the file, so two
    threads of one process exclude each other as two processes do."""
    from concurrent.futures import ThreadPoolExecutor

    inside, most = [0], [0]

    def hold(_):
        with folder_lock(tmp_path):
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            inside[0] -= 1
        return os.getpid()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(hold, range(8)))
    assert most[0] == 1
