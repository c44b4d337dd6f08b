"""The design catalogue walked end to end: every standard design and every accumulator name
round-trips name -> object -> name and through its JSON dictionary (issue 20)."""

import json

import pytest

from lowbit.golden import accumulators
from lowbit.hdl import designs

ACCUMULATORS = ("fp32", "fp16_rtz", "bf16", "exact_fp32", "int32", "int24_wrap",
                "fixed20_4_sat", "tree8_fp32", "il2_fp32")


@pytest.mark.parametrize("name", designs.standard_names())
def test_every_standard_design_round_trips(name):
    spec = designs.get(name)
    assert spec.name == name
    assert designs.get(spec.name) == spec
    assert designs.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_standard_names_are_unique():
    names = designs.standard_names()
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", ACCUMULATORS)
def test_accumulator_names_round_trip(name):
    acc = accumulators.get(name)
    again = accumulators.get(accumulators.name_of(acc))
    assert again == acc
    assert accumulators.from_dict(json.loads(json.dumps(accumulators.to_dict(acc)))) == acc


def test_the_quire_round_trips_given_its_posit_format():
    from lowbit.golden import formats
    acc = accumulators.get("quire", operands=formats.get("posit8_0"))
    assert accumulators.get(accumulators.name_of(acc), operands=formats.get("posit8_0")) == acc
