"""Area by block (hierarchical generic synthesis) against the flattened generic flow.

A small MixPE (int4 activations, uint1 weights with zero points, one product per beat, an FP16
accumulator) keeps the run to seconds while having all three kinds of block: the activation
front end, the shift-add core with its group registers, and the dequantizer.
"""

from lowbit.golden import formats as F
from lowbit.golden.accumulators import FloatAccumulator
from lowbit.hdl.mixpe import MixPE
from lowbit.reports import synthesis
from lowbit.reports.area_split import block_areas


def _pe():
    return MixPE(F.get("int4"), F.get("uint1"), group=2, k_step=1,
                 acc=FloatAccumulator(F.get("fp16")))


def test_blocks_add_up_near_the_flat_area(tmp_path):
    blocks = block_areas(_pe(), "mixpe_split", cache_dir=tmp_path)
    assert set(blocks) == {"(top)", "align", "core", "core_dequantize"}
    assert blocks["core"]["area_ge"] > 0 and blocks["core_dequantize"]["area_ge"] > 0
    # Group registers X and S (plus flags) sit in the core, the accumulator in the dequantizer.
    assert blocks["core"]["ffs"] > 0 and blocks["core_dequantize"]["ffs"] >= 16
    flat = synthesis.synth(_pe(), ["generic"], name="mixpe_flat", cache_dir=tmp_path)[0]
    total = sum(b["area_ge"] for b in blocks.values())
    assert flat["ffs"] == sum(b["ffs"] for b in blocks.values())
    # No optimization across block boundaries: never smaller, at most 15% larger here.
    assert flat["area_ge"] <= total <= 1.15 * flat["area_ge"]
    deeper = block_areas(_pe(), "mixpe_split", depth=2, cache_dir=tmp_path)
    assert "core_dequantize.accumulate" in deeper
    assert abs(sum(b["area_ge"] for b in deeper.values()) - total) < 1e-6


def test_block_kinds_follow_the_generators_submodule_names():
    """Names as the MxDotUnit and FloatAccumulator generators write them (depth 3)."""
    from lowbit.reports.area_split import area_by_kind, block_kind
    kinds = {p: block_kind(p) for p in (
        "(top)", "term", "term.a12_decoder", "term.b_scale_decoder", "term.multiply31",
        "accumulate", "accumulate.add", "accumulate.add.align", "accumulate.add.norm_x",
        "accumulate.decode", "accumulate.encode.lzc", "accumulate.encode.rounder", "fifo")}
    assert kinds == {
        "(top)": "registers and glue", "term": "dot term logic",
        "term.a12_decoder": "decode", "term.b_scale_decoder": "decode",
        "term.multiply31": "multiply", "accumulate": "accumulate",
        "accumulate.add": "accumulate", "accumulate.add.align": "align",
        "accumulate.add.norm_x": "normalize / round", "accumulate.decode": "decode",
        "accumulate.encode.lzc": "normalize / round",
        "accumulate.encode.rounder": "normalize / round", "fifo": "other"}
    # XR-NPE's blocks and a tensor engine's one-module PEs
    assert {p: block_kind(p) for p in ("rmmec", "rmmec.exponent0", "rmmec.array", "quire",
                                       "quire.lzc0", "out_0_0", "out_3_12")} == {
        "rmmec": "multiply", "rmmec.exponent0": "multiply", "rmmec.array": "multiply",
        "quire": "accumulate", "quire.lzc0": "normalize / round",
        "out_0_0": "multiply-accumulate (whole PE)", "out_3_12": "multiply-accumulate (whole PE)"}
    blocks = {"(top)": {"area_ge": 10.0}, "term.multiply0": {"area_ge": 5.5},
              "term.multiply1": {"area_ge": 5.5}, "accumulate.add.align": {"area_ge": 3.0}}
    assert area_by_kind(blocks) == {"multiply": 11.0, "align": 3.0, "registers and glue": 10.0}
