"""The timing studies (:mod:`lowbit.reports.timing_studies`): every number in a row is the
synthesized design's own (area from Yosys, delay and the loop from a fresh static timing run of
its netlist), latencies are the designs' (stages; three more for the interleaved ring), and
the iso-frequency rule is the fewest stages meeting the clock.

The default slice runs the stages study's FP8 MAC at 1 and 2 stages and the iso-frequency rule
on a small pair (IntMac int8 vs the FP8 FloatMac, a few seconds of Yosys each); the whole
studies (three stage counts, interleaved, the MX dot units) run with ``--full``. Both use the
default synthesis cache, which the demo shares, so CI synthesizes each design once.
"""

import dataclasses

import pytest

from lowbit.hdl import designs
from lowbit.reports import synthesis, timing, timing_studies
from lowbit.reports.catalogue import design_of

FP8 = "floatmac_fp8_e4m3xfp8_e4m3_fp32"


def _fresh(name):
    """Timing of ``name``'s cached netlist, recomputed (no timing cache)."""
    return timing.time_folder(synthesis.work_folder(design_of(designs.get(name))), cache=False)


def _check_stage_rows(rows):
    for r in rows:
        spec = designs.get(r["design"])
        report = _fresh(r["design"])
        assert r["stages"] == spec.stages and r["latency"] == spec.latency
        assert r["latency"] == r["stages"] + (3 if r["accumulation"] == "interleaved(2)" else 0)
        assert r["delay_ps"] == round(report.delay_ps, 1)
        assert r["fmax_mhz"] == round(1e6 / report.delay_ps, 1)
        assert r["loop_ps"] == round(report.reg_to_reg_ps, 1)
        assert r["limited_by"] == report.path.kind
        assert r["area_x_delay_ge_ns"] == round(r["area_ge"] * r["delay_ps"] / 1000, 1)
        assert r["ffs"] == report.ffs


def test_stages_study_slice():
    rows = timing_studies.stages_study([FP8], stages=(1, 2))
    assert [r["design"] for r in rows] == [FP8, FP8 + "_s2"]
    assert [r["accumulation"] for r in rows] == ["sequential"] * 2
    _check_stage_rows(rows)
    one, two = rows
    # the product cut takes the operand path out of the way: the accumulator loop limits
    assert one["limited_by"] == "in_to_reg" and two["limited_by"] == "reg_to_reg"
    assert two["ffs"] > one["ffs"] and two["area_ge"] > one["area_ge"]


def _check_iso(result, pair):
    clock = result["clock_mhz"]
    period = 1e6 / clock
    by = {(r["clock"], r["design"]): r for r in result["rows"]}
    for base in pair:
        iso = next(r for (c, d), r in by.items() if c == "iso" and d.startswith(base))
        assert iso["delay_ps"] <= period
        for fewer in range(1, iso["stages"]):  # no fewer stages meet the clock
            name = dataclasses.replace(designs.get(base), stages=fewer).name
            assert _fresh(name).delay_ps > period
        assert by[("one-cycle", base)]["stages"] == 1
    for c in result["comparisons"]:
        assert c["agrees"] == (c["value_cheaper"] < c["value_other"])
        assert c["ratio"] == round(c["value_cheaper"] / c["value_other"], 3)
    # default clock: the highest both reach (the slower unit's best, down to 0.1 MHz)
    slower = min(b["fmax_mhz"] for b in result["best"])
    assert clock <= slower < clock + 0.2


def test_iso_frequency_rule_on_a_small_pair():
    pair = ("intmac_int8xint8_int32", FP8)
    result = timing_studies.iso_frequency(pair, published="int8 cheaper than fp8")
    _check_iso(result, pair)
    assert result["verdict"].endswith("published: int8 cheaper than fp8")
    # at a clock only the integer MAC reaches, the float MAC's error names it
    fast = max(b["fmax_mhz"] for b in result["best"])
    with pytest.raises(timing_studies.pipelining.PipeliningError, match=f"^{FP8}: clock_mhz"):
        timing_studies.iso_frequency(pair, fast - 1)


@pytest.mark.full
def test_whole_stages_study():
    rows = timing_studies.stages_study()
    assert len(rows) == 6
    _check_stage_rows(rows)


@pytest.mark.full
def test_whole_iso_frequency_study():
    result = timing_studies.iso_frequency()
    _check_iso(result, timing_studies.ISO_PAIR)
    assert [c["clock"] for c in result["comparisons"]] == ["one-cycle", "iso"]
