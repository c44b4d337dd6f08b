"""The Verilog cache of catalogue designs (:func:`lowbit.reports.catalogue.design_of`): a
cached design is the text Amaranth exports, keyed by the generators' sources, so a change to
them (a new key) exports again; an unwritable cache costs time, not the design."""

import pytest

from lowbit.hdl import designs
from lowbit.reports import catalogue
from lowbit.reports.synthesis import design_from_component

NAME = "intmac_int4xint4_int32"


@pytest.fixture(autouse=True)
def build(tmp_path, monkeypatch):
    monkeypatch.setenv("LOWBIT_BUILD", str(tmp_path / "build"))
    return tmp_path / "build"


def test_a_cached_design_is_the_exported_text(build, monkeypatch):
    spec = designs.get(NAME)
    first = catalogue.design_of(spec)
    path = build / "verilog" / f"{NAME}-{catalogue.generators_key()}.v"
    assert path.read_text() == first.verilog
    assert first.verilog == design_from_component(spec.build(), NAME).verilog
    monkeypatch.setattr(spec.__class__, "build", lambda self: pytest.fail("exported again"))
    assert catalogue.design_of(spec) == first  # read back: same text, name, unit, params


def test_new_generator_sources_export_again(build, monkeypatch):
    catalogue.design_of(designs.get(NAME))
    monkeypatch.setattr(catalogue, "generators_key", lambda: "0" * 16)
    catalogue.design_of(designs.get(NAME))
    assert len(list((build / "verilog").glob(f"{NAME}-*.v"))) == 2


def test_an_unwritable_cache_still_gives_the_design(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("LOWBIT_BUILD", str(blocker / "build"))  # under a regular file
    assert catalogue.design_of(designs.get(NAME)).name == NAME
