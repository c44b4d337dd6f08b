"""One-line errors of the CLI: output folders checked before work, damaged resume state,
"did you mean" for names, no doubled prefixes, ``--version``.

Most tests call :func:`lowbit.cli.main` in-process (a subprocess costs 1-2 s of imports); two
subprocess tests check what a user's shell sees. "Before work" is proven by replacing each
command's work function with one that fails the test if called, and by a ``LOWBIT_BUILD``
folder that must not appear.

Read-only folders: this machine and CI run as root, which ignores permission bits, so a
``chmod 0o500`` folder proves nothing. The tests use what root cannot write either: a path
under a regular file (ENOTDIR, real), ``/sys`` (sysfs refuses new files even to root: EACCES,
real; skipped where it does not), and a read-only disk (EROFS) *simulated* by replacing the
probe that creates a file in the folder.
"""

import errno
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

import lowbit
from lowbit import cli, paths
from lowbit.errors import DamagedStateError, OutputError, RoundingError
from lowbit.golden import accumulators
from lowbit.golden import formats as F
from lowbit.hdl import designs
from lowbit.state_files import read_json_state, read_jsonl_state
from lowbit.verify import regression

FIX_RUN = "remove that line to run it again (the other runs are kept), or give another --out"
ENGINE = "systolic4x4_ws_intmac_int8xint8_int24"
MAC = "intmac_int8xint8_int20"


@pytest.fixture(autouse=True)
def build(tmp_path, monkeypatch):
    """Every test builds (if at all) in its own LOWBIT_BUILD, which starts absent."""
    folder = tmp_path / "lowbit_build"
    monkeypatch.setenv("LOWBIT_BUILD", str(folder))
    return folder


def one_line_error(capsys, args):
    """Run the CLI in-process; assert exit 2 and one stderr line; return that line."""
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# ---------------------------------------------------------------- output folders, before work

#: Each command with an output option, the option and the work function that must not run.
COMMANDS = {
    "synth": (["synth", "IntMac", "--target", "generic"], "--out",
              "lowbit.reports.synthesis.synth"),
    "sim": (["sim", "--arch", "edge-int8-32x32", "--workload", "resnet50"], "--out",
            "lowbit.sim.run"),
    "faults adequacy": (["faults", MAC], "--out", "lowbit.verify.faults.adequacy.run_adequacy"),
    "faults resilience": (["faults", ENGINE, "--mode", "resilience"], "--out",
                          "lowbit.verify.faults.resilience.run_resilience"),
    "demo": (["demo"], "--out", "lowbit.demo.run"),
    "compare": (["compare", "tensor-engines"], "--out",
                "lowbit.reports.tpe_comparisons.tpe_comparison"),
    "regress --json": (["regress"], "--json", "lowbit.verify.regression.run_entry"),
    "regress --junit": (["regress"], "--junit", "lowbit.verify.regression.run_entry"),
}


def _no_work(monkeypatch, target):
    def started(*args, **kwargs):
        raise AssertionError(f"{target} ran before the output was checked")
    monkeypatch.setattr(target, started)


def _bad_output(tmp_path, kind, option):
    """A bad ``option`` value of ``kind`` and the exact words after it in the error."""
    blocker = tmp_path / "a_file"
    blocker.write_text("in the way\n")
    folder_option = option == "--out"
    if kind == "file in the way":
        if folder_option:
            return blocker, "is a file, not a folder"
        return tmp_path, "is a folder, not a file"  # --json/--junit naming a folder
    if kind == "under a file":  # ENOTDIR: a real error, root or not
        path = blocker / "sub" / ("out" if folder_option else "rows.json")
        if folder_option:
            return path, f"cannot be created: {blocker} is a file, not a folder"
        return path, f": its folder {path.parent} cannot be created: {blocker} is a file, not a " \
                     f"folder"
    raise ValueError(kind)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", ["file in the way", "under a file"])
def test_a_bad_output_exits_2_before_any_work(command, kind, tmp_path, build, monkeypatch,
                                              capsys):
    args, option, work = COMMANDS[command]
    _no_work(monkeypatch, work)
    path, words = _bad_output(tmp_path, kind, option)
    line = one_line_error(capsys, [*args, option, str(path)])
    sep = "" if words.startswith(":") else " "
    assert line == f"lowbit: error: {option} {path}{sep}{words}"
    assert not build.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_read_only_disk_exits_2_before_any_work(command, tmp_path, build, monkeypatch, capsys):
    """Simulated: the probe file cannot be created in the chosen folder (EROFS), as on a
    read-only mount; the folders themselves are ordinary ones."""
    args, option, work = COMMANDS[command]
    _no_work(monkeypatch, work)

    def read_only(folder):
        raise OSError(errno.EROFS, "Read-only file system", str(folder / ".lowbit-probe-x"))
    monkeypatch.setattr(paths, "_probe", read_only)
    out = tmp_path / "ro"
    out.mkdir()
    path = out if option == "--out" else out / "rows.json"
    line = one_line_error(capsys, [*args, option, str(path)])
    if option == "--out":
        assert line == f"lowbit: error: --out {out} is not writable (read-only file system)"
    else:
        assert line == (f"lowbit: error: {option} {path}: its folder {out} is not writable "
                        f"(read-only file system)")
    assert not build.exists()


def test_a_read_only_build_folder_exits_2_before_any_work(tmp_path, build, monkeypatch, capsys):
    """Simulated EROFS, as above, on the build folder of a regression (it builds models)."""
    _no_work(monkeypatch, "lowbit.verify.regression.run_entry")
    monkeypatch.setattr(paths, "_probe", lambda folder: (_ for _ in ()).throw(
        OSError(errno.EROFS, "Read-only file system")))
    line = one_line_error(capsys, ["regress"])
    assert line == f"lowbit: error: LOWBIT_BUILD {build} is not writable (read-only file system)"


def test_a_build_folder_that_is_a_file_is_named(tmp_path, build, monkeypatch, capsys):
    _no_work(monkeypatch, "lowbit.reports.synthesis.synth")
    build.write_text("not a folder\n")
    line = one_line_error(capsys, ["synth", "IntMac", "--out", str(tmp_path / "report")])
    assert line == f"lowbit: error: LOWBIT_BUILD {build} is a file, not a folder"


def test_sysfs_refuses_even_root(tmp_path, monkeypatch, capsys):
    """Real permission errors: sysfs creates no files for anyone (EACCES in a folder, EPERM
    for a new folder); skipped where /sys is missing or writable."""
    if not Path("/sys").is_dir() or os.access("/sys", os.W_OK) and _can_create_in("/sys"):
        pytest.skip("/sys is missing or writable here")
    _no_work(monkeypatch, "lowbit.sim.run")
    sim = COMMANDS["sim"][0]
    assert one_line_error(capsys, [*sim, "--out", "/sys"]) == \
        "lowbit: error: --out /sys is not writable (permission denied)"
    line = one_line_error(capsys, [*sim, "--out", "/sys/lowbit_out"])
    assert line.startswith("lowbit: error: --out /sys/lowbit_out cannot be created (")


def _can_create_in(folder) -> bool:
    try:
        fd, name = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def test_the_default_build_folder_is_named_by_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.delenv("LOWBIT_BUILD")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "build").write_text("a file\n")
    with pytest.raises(OutputError) as info:
        paths.ensure_build_dir()
    assert str(info.value) == f"the build folder {tmp_path / 'build'} is a file, not a folder"


def test_ensure_writable_dir_creates_the_folder_and_leaves_no_probe(tmp_path):
    out = paths.ensure_writable_dir(tmp_path / "a" / "b")
    assert out.is_dir() and list(out.iterdir()) == []


# ---------------------------------------------------------------- writing fails later

class _FullDisk:
    """A file object whose writes fail as on a full disk (the error names no file)."""

    def __init__(self, fd, mode):
        self.file = open(fd, mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


def _topology(tmp_path) -> Path:
    topology = tmp_path / "topo.csv"
    topology.write_text("Layer, M, N, K,\nfc1, 8, 16, 32,\n")
    return topology


def test_a_full_disk_while_writing_is_one_line_naming_the_file(tmp_path, monkeypatch, capsys):
    """Simulated: every file lowbit writes fails in ``write`` with ENOSPC (a real full disk
    fails there too, with an error that names no file)."""
    out = tmp_path / "out"
    monkeypatch.setattr(paths.os, "fdopen", _FullDisk)
    line = one_line_error(capsys, ["sim", "--arch", "edge-int8-32x32", "--workload",
                                   str(_topology(tmp_path)), "--out", str(out)])
    assert line == (f"lowbit: error: cannot write {out / 'sim.csv'}: no space left on device; "
                    f"free some space or write elsewhere (--out, LOWBIT_BUILD)")
    assert list(out.iterdir()) == []  # the temporary file is gone


def test_a_refused_write_under_the_output_is_one_line(tmp_path, monkeypatch, capsys):
    """Simulated: the report writer is refused (EACCES) after the check passed."""
    out = tmp_path / "out"

    def refused(results, folder):
        raise PermissionError(errno.EACCES, "Permission denied", str(Path(folder) / "sim.csv"))
    monkeypatch.setattr("lowbit.reports.sim_report.write_sim_report", refused)
    line = one_line_error(capsys, ["sim", "--arch", "edge-int8-32x32", "--workload",
                                   str(_topology(tmp_path)), "--out", str(out)])
    assert line == f"lowbit: error: cannot write {out / 'sim.csv'}: permission denied"


@pytest.mark.parametrize("error", [
    PermissionError(errno.EACCES, "Permission denied", "/etc/not-an-output-of-lowbit"),
    FileNotFoundError(errno.ENOENT, "No such file or directory", "inside/the/out/folder"),
])
def test_other_os_errors_are_bugs_and_keep_their_traceback(error, tmp_path, monkeypatch):
    def bug(*args, **kwargs):
        raise error
    monkeypatch.setattr("lowbit.sim.run", bug)
    with pytest.raises(type(error)):
        cli.main(["sim", "--arch", "edge-int8-32x32", "--workload", "resnet50", "--out",
                  str(tmp_path / "inside")])


# ---------------------------------------------------------------- damaged resume state

GOOD = '{"run": 0, "beats": ["0x1f", "0x0"], "protocol_errors": 0}'


def _resilience_stubs(monkeypatch, runs=4):
    """Replace the campaign's synthesis (prepare, plan) and its simulator by stand-ins: the
    folder checks run for real, nothing is synthesized or simulated. The simulator stand-in
    records the runs it was given and stops the campaign with a LowbitError."""
    from lowbit.verify.faults import resilience

    given = []
    netlist = SimpleNamespace(folder=Path("faults_standin"), cells=1, verilog=None)
    monkeypatch.setattr(resilience, "prepare", lambda *a, **k: netlist)
    monkeypatch.setattr(resilience, "plan", lambda *a, **k: [
        resilience.FaultRun(i, "stuck", SimpleNamespace(id=i + 1), -1) for i in range(runs)])

    def simulator(rtl, testbench, env, **options):
        given.extend(json.loads(Path(env["LOWBIT_FAULT_RUNS"]).read_text()))
        raise resilience.ResilienceError("simulator stand-in: stopped")
    monkeypatch.setattr(resilience, "run_testbench", simulator)
    return given


def _start_campaign(monkeypatch, capsys, out):
    """A campaign folder with its campaign.json, as a first run leaves it."""
    given = _resilience_stubs(monkeypatch)
    line = one_line_error(capsys, ["faults", ENGINE, "--mode", "resilience", "--faults", "4",
                                   "--out", str(out)])
    assert line == "lowbit: error: simulator stand-in: stopped"
    assert (out / "campaign.json").exists()
    return given


def test_a_wrong_runs_line_is_refused_naming_file_and_line(tmp_path, monkeypatch, capsys):
    out = tmp_path / "campaign"
    _start_campaign(monkeypatch, capsys, out)
    text = "\n".join([GOOD, GOOD.replace('"run": 0', '"run": 1'), "{}", GOOD]) + "\n"
    (out / "runs.jsonl").write_text(text)
    line = one_line_error(capsys, ["faults", ENGINE, "--mode", "resilience", "--faults", "4",
                                   "--out", str(out)])
    assert line == (f"lowbit: error: {out / 'runs.jsonl'} line 3 is not a run of this campaign "
                    f"(missing field 'run'); {FIX_RUN}")
    assert (out / "runs.jsonl").read_text() == text  # the intact runs are kept


def test_a_half_written_campaign_file_is_refused(tmp_path, monkeypatch, capsys):
    out = tmp_path / "campaign"
    _start_campaign(monkeypatch, capsys, out)
    (out / "runs.jsonl").write_text(GOOD + "\n")
    campaign = (out / "campaign.json").read_text()
    (out / "campaign.json").write_text(campaign[:len(campaign) // 2])
    line = one_line_error(capsys, ["faults", ENGINE, "--mode", "resilience", "--faults", "4",
                                   "--out", str(out)])
    assert line == (f"lowbit: error: {out / 'campaign.json'} is damaged (not valid JSON: cut "
                    f"short?); it names the campaign of the runs in runs.jsonl: move the folder "
                    f"away or give another --out")


def test_a_line_cut_by_an_interruption_is_dropped_and_the_rest_resumed(tmp_path, monkeypatch,
                                                                        capsys):
    out = tmp_path / "campaign"
    given = _start_campaign(monkeypatch, capsys, out)
    given.clear()
    (out / "runs.jsonl").write_text(GOOD + "\n" + GOOD[:20])
    one_line_error(capsys, ["faults", ENGINE, "--mode", "resilience", "--faults", "4", "--out",
                            str(out)])
    assert (out / "runs.jsonl").read_text() == GOOD + "\n"
    assert [run for run, _, _ in given] == [-1, 1, 2, 3]  # the fault-free run, then the rest


def test_runs_without_their_campaign_file_are_refused(tmp_path):
    from lowbit.verify.faults.resilience import _check_resumable

    (tmp_path / "runs.jsonl").write_text(GOOD + "\n")
    with pytest.raises(DamagedStateError) as info:
        _check_resumable(tmp_path / "campaign.json", {"n": 4}, tmp_path / "runs.jsonl")
    assert str(info.value) == (f"{tmp_path / 'runs.jsonl'} holds fault runs but campaign.json, "
                               f"which names their campaign, is missing; move the folder away "
                               f"or give another --out")


@pytest.mark.parametrize("line, reason", [
    ('{"run": 99, "beats": [], "protocol_errors": 0}', "run 99 is not one of its 4 planned runs"),
    ('{"run": 1, "beats": ["zz"], "protocol_errors": 0}',
     "field 'beats' is not a list of hex numbers"),
    ('{"run": 1, "beats": [], "protocol_errors": -1}',
     "field 'protocol_errors' is not a count: -1"),
    ('[1, 2]', "a JSON list, not an object"),
])
def test_each_wrong_runs_line_says_what_is_wrong(line, reason, tmp_path):
    from lowbit.verify.faults.resilience import _done

    results = tmp_path / "runs.jsonl"
    results.write_text(f"{GOOD}\n{line}\n")
    with pytest.raises(DamagedStateError) as info:
        _done(results, 4)
    assert str(info.value) == f"{results} line 2 is not a run of this campaign ({reason}); " \
                              f"{FIX_RUN}"


def test_jsonl_state_keeps_whole_lines_and_refuses_a_damaged_middle(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}')  # last line whole, its newline not yet written
    rows = read_jsonl_state(path, lambda row: None, "a row", "fix it")
    assert rows == [{"a": 1}, {"a": 2}]
    assert path.read_text() == '{"a": 1}\n{"a": 2}\n'  # the next row starts a line of its own
    path.write_text('{"a": 1}\n{"a": 2\n{"a": 3}\n')
    with pytest.raises(DamagedStateError) as info:
        read_jsonl_state(path, lambda row: None, "a row", "fix it")
    assert str(info.value) == f"{path} line 2 is damaged (not valid JSON); fix it"
    assert read_jsonl_state(tmp_path / "missing.jsonl", lambda row: None, "a row", "x") == []


def test_json_state_refuses_a_damaged_or_foreign_file(tmp_path):
    path = tmp_path / "state.json"
    assert read_json_state(path, "fix") is None
    path.write_text('{"a": ')
    with pytest.raises(DamagedStateError) as info:
        read_json_state(path, "fix")
    assert str(info.value) == f"{path} is damaged (not valid JSON: cut short?); fix"
    path.write_text('"text"\n')
    with pytest.raises(DamagedStateError) as info:
        read_json_state(path, "fix")
    assert str(info.value) == f"{path} is damaged (a JSON string, not an object); fix"


def test_a_damaged_proof_cache_of_adequacy_is_refused(tmp_path):
    from lowbit.verify.faults.equivalence import _CACHE_VERSION, _cached

    cache = tmp_path / "equivalence" / f"m7_x_{_CACHE_VERSION}.json"
    cache.parent.mkdir()
    cache.write_text('{"mutant": 7}\n')
    with pytest.raises(DamagedStateError) as info:
        _cached(tmp_path, "m7_x", 7, 60, lambda work, budget: pytest.fail("decided again"))
    assert str(info.value) == (f"{cache} is not a verdict (missing field 'verdict'); remove it "
                               f"to decide that mutant again")


# ---------------------------------------------------------------- names: did you mean

def _mac_list():
    return ", ".join(sorted(regression.by_name(regression.MAC)))


def _engine_list():
    return ", ".join(sorted(regression.by_name(regression.GEMM)))


KINDS = ", ".join(designs.KINDS)  # the design name grammar's kinds
GRAMMAR = ", ".join(accumulators.GRAMMAR)  # the accumulator name grammar
UNITS = "IntMac, FloatMac, PositMac, SimdMac, MxDotUnit, SystolicArray, AdderTreeEngine, " \
        "LutTensorCore"


@pytest.mark.parametrize("args, message", [
    (["formats", "show", "fp8_e4m2"], lambda: (
        f"unknown format 'fp8_e4m2'; known families: {', '.join(F.FAMILIES)}; did you mean "
        f"'fp8_e4m3' or 'fp8_e5m2'?")),
    (["formats", "encode", "int8", "1", "--rounding", "rnee"], lambda: (
        "--rounding must be one of rne, rna, rtz, rup, rdn, rto, stochastic, not 'rnee'; did "
        "you mean 'rne'?")),
    (["synht"], lambda: (
        "command must be one of formats, regress, synth, power, sim, faults, sweep, compare, demo, not "
        "'synht'; did you mean 'synth'?")),
    (["formats", "shw", "int8"], lambda: (
        "formats command must be one of list, show, encode, decode, not 'shw'; did you mean "
        "'show'?")),
    (["sim", "--arch", "edge-int8-32x33", "--workload", "resnet50"], lambda: (
        "arch must be a TOML file or one of edge-int8-32x32, tpu-like-128x128, lut-w2-core, "
        "not 'edge-int8-32x33'; did you mean 'edge-int8-32x32'?")),
    (["sim", "--arch", "edge-int8-32x32", "--workload", "llama2-7b-decod"], lambda: (
        "workload preset must be one of llama2-7b-decode, llama2-7b-prefill, resnet50, "
        "vit-b16, not 'llama2-7b-decod'; did you mean 'llama2-7b-decode'?")),
    (["synth", "IntMc"], lambda: (
        f"unknown design 'IntMc'; did you mean 'IntMac'?; design names start with {KINDS} "
        f"(lowbit synth --list shows the standard catalogue)")),
    (["synth", "IntMac", "--param", "ac=int32"], lambda: (
        "IntMac has no parameter 'ac'; did you mean 'acc'?; it takes a, b, acc, stages")),
    (["synth", "SystolicArray", "--param", "pe=FloatMc"], lambda: (
        f"unknown design 'FloatMc'; did you mean 'FloatMac'?; design names start with {KINDS} "
        f"(lowbit synth --list shows the standard catalogue)")),
    (["synth", "SystolicArray", "--param", "dataflow=wss"], lambda: (  # the unit named once
        "SystolicArray dataflow must be one of os, ws, is, not 'wss'; did you mean 'ws'?")),
    (["synth", "FloatMac", "--param", "acc=fp33"], lambda: (
        f"FloatMac acc: unknown accumulator 'fp33' (no format 'fp33'); did you mean 'fp32'?; "
        f"accumulator names are {GRAMMAR}")),
    (["synth", "IntMac", "--target", "ecp4"], lambda: (
        "target must be one of generic, ice40, ecp5, xilinx, gowin, liberty, not 'ecp4'; did "
        "you mean 'ecp5'?")),
    (["synth", "IntMac", "--param", "a=fp8_e4m2"], lambda: (
        f"IntMac a: unknown format 'fp8_e4m2'; known families: "
        f"{', '.join(F.FAMILIES)}; did you mean 'fp8_e4m3' or 'fp8_e5m2'?")),
    (["faults", "intmac_int8xint8_int21"], lambda: (
        f"design must be a MAC configuration of the regression matrix ({_mac_list()}), not "
        f"'intmac_int8xint8_int21'; did you mean 'intmac_int8xint8_int20'?")),
    (["faults", "systolic4x4_ws_intmac_int8xint8_int25", "--mode", "resilience"], lambda: (
        f"design must be a GEMM engine configuration of the regression matrix ({_engine_list()}), "
        f"not 'systolic4x4_ws_intmac_int8xint8_int25'; did you mean "
        f"'systolic4x4_ws_intmac_int8xint8_int24'?")),
    (["faults", MAC, "--mode", "resilient"], lambda: (
        "--mode must be one of adequacy, mutation, resilience, not 'resilient'; did you mean "
        "'resilience'?")),
    (["frobnicate"], lambda: (
        "command must be one of formats, regress, synth, power, sim, faults, sweep, compare, demo, not "
        "'frobnicate'")),
])
def test_a_bad_name_is_one_line_with_the_closest_names(args, message, build, capsys):
    assert one_line_error(capsys, args) == f"lowbit: error: {message()}"
    assert not build.exists()  # a typo leaves no folder behind


def test_golden_rounding_suggests_the_closest_mode():
    with pytest.raises(RoundingError) as info:
        F.get("fp8_e4m3").encode([0.3], rounding="rtzz")
    assert str(info.value) == ("rounding must be one of rne, rna, rtz, rup, rdn, rto, "
                               "stochastic, not 'rtzz'; did you mean 'rtz'?")


# ---------------------------------------------------------------- no doubled prefixes

def test_a_bad_csv_line_is_named_once(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("Layer, M, N, K,\nfc1, 64, x, 512,\n")
    line = one_line_error(capsys, ["sim", "--arch", "edge-int8-32x32", "--workload", str(bad)])
    assert line == "lowbit: error: bad.csv line 2: n must be an integer, not 'x'"
    bad.write_text("Layer, M, N, K, a_fmt\nfc1, 64, 8, 512, int99\n")
    line = one_line_error(capsys, ["sim", "--arch", "edge-int8-32x32", "--workload", str(bad)])
    assert line.startswith("lowbit: error: bad.csv line 2: fc1: a_fmt: format 'int99': ")
    assert line.count("bad.csv") == 1


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: command"),
    (["formats", "encode"], "formats encode: the following arguments are required: name"),
    (["synth", "IntMac", "--jobs", "two"], "synth: argument --jobs: invalid int value: 'two'"),
    (["sim", "--arch", "edge-int8-32x32"], "sim: the following arguments are required: "
                                           "--workload"),
])
def test_argparse_errors_name_the_subcommand_once(args, message, capsys):
    assert one_line_error(capsys, args) == f"lowbit: error: {message}"


# ---------------------------------------------------------------- --version, --jobs

def test_version_prints_the_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"lowbit {lowbit.__version__}\n"


def test_parallelism_is_jobs_everywhere_with_one_help_text():
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    jobs = {name: next(a for a in sub._actions if "--jobs" in a.option_strings)
            for name, sub in commands.items()
            if any("--jobs" in a.option_strings for a in sub._actions)}
    assert {"synth", "faults"} <= set(jobs)
    for name, action in jobs.items():
        assert action.default is None and action.metavar == "N", name
        default = "1" if name == "regress" else "CPU count"  # regress: one build at a time
        assert action.help.startswith("parallel ") and action.help.endswith(
            f" (default: {default})"), (name, action.help)


# ---------------------------------------------------------------- what a shell sees

def _shell(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lowbit.cli", *args], capture_output=True,
                          text=True, timeout=600, env=env)


def test_a_shell_sees_one_line_and_status_2(tmp_path, build):
    blocker = tmp_path / "a_file"
    blocker.write_text("x\n")
    env = os.environ | {"LOWBIT_BUILD": str(build)}
    r = _shell("demo", "--out", str(blocker), env=env)
    assert (r.returncode, r.stderr) == (2, f"lowbit: error: --out {blocker} is a file, not a "
                                           f"folder\n")
    assert not build.exists()
    r = _shell("--version", env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, f"lowbit {lowbit.__version__}\n", "")
