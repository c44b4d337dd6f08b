"""Activity energy of MixPE (issue 24) as the cycle model prices a MixPE array with it (the
stimulus protocol itself: tests/reports/test_energy_protocols.py). Small PEs (groups of 8)."""

from lowbit.reports import power

DESIGNS = ("mixpe_int8xint4_g8_fp32", "mixpe_int8xternary_g8_fp32")


def test_mixpe_energy_prices_the_cycle_model():
    """The cycle model's energy source measures a MixPE on demand; a ternary PE (one shifted
    copy, negated or not) switches less than an int4 one (four copies)."""
    source = power.mac_energy_source()
    int4, ternary = (source(name, "gaussian") for name in DESIGNS)
    for measured in (int4, ternary):
        assert measured is not None and measured.peak_macs_per_cycle == 4
        assert 0 < measured.dynamic_pj < 10 and measured.leakage_nw > 0
    assert ternary.datapath_pj < int4.datapath_pj
