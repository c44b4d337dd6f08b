"""How narrow can the FP8 MAC accumulator be for K = 4096? fp8_e4m3 x fp8_e4m3 products summed
in float registers with 8 exponent bits and 23 down to 4 mantissa bits (plus the exact Kulisch
accumulator as the reference): GEMM SQNR at K = 4096 against the FloatMac's synthesized area.

Run: ``lowbit sweep examples/accumulator_width.py``.
"""

from lowbit.explore import Space, Sweep, metric, na

MANTISSA_BITS = (23, 16, 12, 10, 8, 7, 6, 5, 4)


@metric("acc_mantissa_bits")
def accumulator_bits(point, metrics):
    """Mantissa bits of the float accumulator register (n/a for the exact accumulator)."""
    acc = point["accumulator"]
    if acc == "exact_fp32":
        return {"acc_mantissa_bits": na("the exact (Kulisch) accumulator has no mantissa")}
    return {"acc_mantissa_bits": 23 if acc == "fp32" else int(acc.split("m")[-1])}


sweep = Sweep(
    name="accumulator-width",
    title="FP8 MAC accumulator width at K = 4096",
    space=Space({"a_fmt": "fp8_e4m3", "b_fmt": "fp8_e4m3", "k": 4096, "tokens": 16, "n": 16,
                 "accumulator": ["exact_fp32"] + ["fp32" if m == 23 else f"fp_e8m{m}"
                                             for m in MANTISSA_BITS]}),
    stages=("gemm", "area"),
    metrics=(accumulator_bits,),
    objectives={"mac_area_ge": "min", "sqnr_db": "max"},
    plots=[("mac_area_ge", "sqnr_db", "accumulator"),
           ("acc_mantissa_bits", "sqnr_db", None)],
)
