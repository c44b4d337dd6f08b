"""The tables of ``docs/energy.md`` (the per-format ordering, the per-stream energies and the
calibration against published figures) are those the committed energy table gives now."""

import re
from pathlib import Path

import pytest

from lowbit.reports import energy_calibration
from lowbit.sim.mac_energy import load_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "energy.md"


@pytest.mark.parametrize("marker, table", [
    ("ordering", energy_calibration.ordering_markdown),
    ("streams", energy_calibration.stream_markdown),
    ("calibration", energy_calibration.calibration_markdown)])
def test_the_docs_tables_equal_the_committed_measurement(marker, table):
    found = re.search(f"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", DOC.read_text(), re.S)
    assert found, f"docs/energy.md has no {marker} table"
    assert found.group(1) == table(load_table())


def test_the_ordering_is_cheapest_first_with_every_format():
    rows = energy_calibration.ordering_rows(load_table())
    assert [r["pj_per_mac"] for r in rows] == sorted(r["pj_per_mac"] for r in rows)
    assert {r["format"] for r in rows} == {f for f, _, _ in energy_calibration.ORDERING}
