"""The energy data file: Horowitz's anchors with sources, and checks on replacement files."""

import pytest

from lowbit.sim.energy import REQUIRED, EnergyDataError, load_energy


def test_default_file_has_the_horowitz_anchors_with_sources():
    data = load_energy()
    expected = {"int8_add_pj": 0.03, "int8_mul_pj": 0.2, "int32_add_pj": 0.1,
                "int32_mul_pj": 3.1, "fp16_add_pj": 0.4, "fp16_mul_pj": 1.1,
                "fp32_add_pj": 0.9, "fp32_mul_pj": 3.7, "sram_read_64b_8kib_pj": 10.0,
                "dram_access_64b_low_pj": 1300.0, "dram_access_64b_high_pj": 2600.0}
    assert {k: data.pj(k) for k in expected} == expected  # the figures quoted in issue 7
    assert all("Horowitz ISSCC 2014" in c.source for c in data.constants.values())
    assert data.technology == "45 nm, 0.9 V"


def _write(tmp_path, body):
    path = tmp_path / "e.toml"
    lines = [f'{k} = {{ value = 1.0, source = "test" }}' for k in REQUIRED]
    mac = ('[mac_area]\nintmac_int8xint8_int32 = { area_ge = 1.0, macs_per_cycle = 1, '
           'source = "test" }\n')
    path.write_text(mac + "[anchors]\n" + "\n".join(lines) + "\n" + body)
    return path


def test_a_replacement_file_loads(tmp_path):
    data = load_energy(_write(tmp_path, 'extra_pj = { value = 2.5, source = "mine" }\n'))
    assert data.pj("extra_pj") == 2.5 and data.constants["extra_pj"].source == "mine"
    with pytest.raises(EnergyDataError, match="e.toml has no energy constant 'nope_pj'"):
        data.pj("nope_pj")


@pytest.mark.parametrize("body, message", [
    ('bad_pj = { value = -1.0, source = "x" }\n', "anchors.bad_pj value must be a number of pJ "
                                                  "above 0, not -1.0"),
    ('bad_pj = { value = 1.0, source = "" }\n', "anchors.bad_pj source must name where"),
    ("bad_pj = 1.0\n", "anchors.bad_pj must be { value = <pJ>, source = \"...\" }"),
    ('bad = { value = 1.0, source = "x" }\n', "constant names end in _pj"),
])
def test_bad_constants_are_refused(tmp_path, body, message):
    with pytest.raises(EnergyDataError) as info:
        load_energy(_write(tmp_path, body))
    assert message in str(info.value)


def test_missing_constants_and_files(tmp_path):
    path = tmp_path / "few.toml"
    path.write_text('[anchors]\nint8_add_pj = { value = 0.03, source = "x" }\n')
    with pytest.raises(EnergyDataError, match="few.toml lacks energy constants int8_mul_pj"):
        load_energy(path)
    with pytest.raises(EnergyDataError, match="does not exist"):
        load_energy(tmp_path / "none.toml")
