"""Property tests of a MAC unit against golden, driven by Hypothesis, and the proof that they
catch a deliberately broken unit: a FloatMac whose rounder drops the sticky bit (round to
nearest even then rounds down values just above a tie). The failure shrinks to a minimal
operation run, which is printed and written to ``build/faults/broken_sticky.txt`` with the
``@reproduce_failure`` line that replays it."""

import numpy as np
import pytest
from amaranth.hdl import Module
from hypothesis import HealthCheck, given, settings
from hypothesis.reporting import with_reporter

from lowbit.golden import formats as F
from lowbit.golden.accumulators import FloatAccumulator
from lowbit.hdl import float_encoder
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.rounder import Rounder
from lowbit.paths import build_dir, write_atomic
from lowbit.verify.faults.strategies import mac_runs
from lowbit.verify.pysim import MacSession
from lowbit.verify.vectors import expected_codes

E4M3 = F.get("fp8_e4m3")
ACC = FloatAccumulator(F.get("bf16"))  # a narrow register: sums of fp8 products round often


class StickyDroppingRounder(Rounder):
    """Test-only broken rounder: the bits below the guard bit never reach the rounding decision
    (the sticky bit is always 0); ``inexact`` is still computed from every bit."""

    def elaborate(self, platform):
        m = Module()
        args, kwargs = self._arguments
        m.submodules.inner = inner = Rounder(*args, **kwargs)
        below_guard = (1 << max(self.shift - 1, 0)) - 1
        m.d.comb += [inner.magnitude.eq(self.magnitude & ~below_guard),
                     inner.negative.eq(self.negative), inner.mode.eq(self.mode),
                     self.rounded.eq(inner.rounded),
                     self.inexact.eq(self.magnitude[:self.shift].any())]
        return m


SESSION = {}  # the running simulation of the unit under test (one per test)


def _run_matches_golden(ops):
    a = np.array([op[0] for op in ops], dtype=np.int64)
    b = np.array([op[1] for op in ops], dtype=np.int64)
    clear = np.zeros(len(ops), dtype=bool)
    clear[0] = True
    expected = expected_codes(clear, a, b, E4M3, E4M3, ACC)
    got = SESSION["mac"].run(clear, a, b)
    assert [int(g) for g in got] == [int(e) for e in expected], \
        f"acc codes {[hex(int(g)) for g in got]} != golden {[hex(int(e)) for e in expected]}"


PROPERTY = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])(
    given(mac_runs(E4M3, E4M3, max_ops=3))(_run_matches_golden))


def test_the_float_mac_equals_golden_on_generated_runs():
    SESSION["mac"] = MacSession(FloatMac(E4M3, E4M3, acc=ACC))
    PROPERTY()


def test_a_mac_that_drops_the_sticky_bit_is_caught_with_a_shrunk_counterexample(monkeypatch):
    monkeypatch.setattr(float_encoder, "Rounder", StickyDroppingRounder)
    SESSION["mac"] = MacSession(FloatMac(E4M3, E4M3, acc=ACC))  # elaborated with the fault
    lines = []
    with with_reporter(lines.append), pytest.raises(AssertionError) as info:
        PROPERTY()
    report = "\n".join(lines + list(getattr(info.value, "__notes__", [])))
    print(report)
    write_atomic(build_dir() / "faults" / "broken_sticky.txt", report + "\n" + str(info.value))
    assert "_run_matches_golden(\n    ops=[" in report and "@reproduce_failure(" in report
    # shrunk: a run of at most two operations (one product cannot round: it is exact in bf16)
    ops = eval(report.split("ops=", 1)[1].split("\n")[0].rstrip(",").rstrip(")"))
    assert 2 <= len(ops) <= 3
    assert "acc codes" in str(info.value)
