"""The record of seconds per test module that orders ``make test``'s modules on the workers
(tests/conftest.py): ``tests/durations.json``, one module a line, ``{"seconds": s,
"tail_seconds": t}`` (t: its last two tests). ``pytest -n auto --dist loadgroup
--store-durations`` rewrites it from a whole run; this file as a script writes it from the
JUnit XML of a run made without that option (``pytest --junitxml=FILE``), whose modules' tests
appear in the order they ran (true of one group per worker under ``--dist loadgroup``).

Run: ``.venv/bin/python tests/durations.py run.xml``
"""

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DURATIONS = Path(__file__).with_name("durations.json")


def read_durations() -> dict:
    """The record, or ``{}`` when there is none (or it cannot be read)."""
    try:
        return json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return {}


def record_of(seconds_by_module: dict) -> dict:
    """``{module: {"seconds", "tail_seconds"}}`` of ``{module: [seconds of each test, in the
    order they ran]}``."""
    return {m: {"seconds": round(sum(t), 2), "tail_seconds": round(sum(t[-2:]), 2)}
            for m, t in sorted(seconds_by_module.items())}


def write_durations(record: dict):
    """Write ``record`` into :data:`DURATIONS`, one module a line (short diffs)."""
    lines = (f"{json.dumps(m)}: {json.dumps(r)}" for m, r in record.items())
    DURATIONS.write_text("{\n" + ",\n".join(lines) + "\n}\n")


def module_of(classname: str) -> str | None:
    """The test module (path from the repository root) of a JUnit ``classname``
    (``tests.verify.test_regress`` or ``tests.x.test_y.TestClass``)."""
    parts = classname.split(".")
    for i in range(len(parts), 0, -1):
        path = "/".join(parts[:i]) + ".py"
        if (ROOT / path).is_file():
            return path
    return None


def from_junit(xml) -> dict:
    """The record of the testcases of the JUnit XML file ``xml``."""
    seconds = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        module = module_of(case.get("classname", ""))
        if module is not None:
            seconds.setdefault(module, []).append(float(case.get("time", 0)))
    return record_of(seconds)


if __name__ == "__main__":
    record = from_junit(sys.argv[1])
    write_durations(record)
    print(f"{DURATIONS}: {len(record)} modules, {sum(r['seconds'] for r in record.values()):.0f} s")
