"""Issue 23, acceptance 4: with measured MAC energy every format of the formats sweep
(``examples/formats_llm_decode.py``, small variant) has a finite energy per token, and NVFP4 (n/a
under the old area-scaled table) is on the Pareto front of energy against SQNR."""

import math
from pathlib import Path

from lowbit.explore.evaluate import STAGES
from lowbit.explore.pareto import pareto_front
from lowbit.explore.sweep import load_sweep

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_nvfp4_is_on_the_formats_pareto_front_with_a_measured_energy(monkeypatch):
    monkeypatch.setenv("LOWBIT_SWEEP_SMALL", "1")
    sweep = load_sweep(EXAMPLES / "formats_llm_decode.py")
    rows = []
    for point in sweep.space.points():
        row = dict(point)
        for stage in ("gemm", "energy", "sim"):
            row |= STAGES[stage].run(point)
        assert math.isfinite(row["energy_per_token_uj"]) and row["mac_pj"] > 0, point
        rows.append(row)
    front = [r["format"] for r in pareto_front(rows, sweep.objectives)]
    assert "nvfp4" in front
    nvfp4 = next(r for r in rows if r["format"] == "nvfp4")
    assert nvfp4["mac_pj"] > nvfp4["mac_datapath_pj"] > 0
