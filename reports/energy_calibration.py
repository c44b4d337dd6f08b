"""lowbit's measured MAC energies beside published per-operation figures, and the per-format
ordering, as tables read from the committed energy table (:mod:`lowbit.reports.energy_table`).

Nothing here is fitted: the measured numbers come from the NanGate FreePDK45 cell data at its
1.1 V (:mod:`lowbit.reports.switching_energy`) and the published ones are quoted as printed;
each row states the ratio. The tables of ``docs/energy.md`` are :func:`ordering_markdown` and
:func:`calibration_markdown` of the committed table (a test keeps them equal).

Published figures:

* Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014 (45 nm,
  0.9 V): int8 multiply 0.2 pJ, int32 add 0.1 pJ, fp16 multiply 1.1 pJ, fp32 multiply 3.7 pJ,
  fp32 add 0.9 pJ (``sim/data/energy_45nm.toml``).
* Jouppi et al., "Ten Lessons From Three Generations Shaped Google's TPUv4i", ISCA 2021,
  Table 1 (the same operations at 7 nm): int8 multiply 0.07 pJ, int32 add 0.03 pJ, bf16
  multiply 0.21 pJ, fp16 multiply 0.34 pJ, fp32 add 0.38 pJ. Another node, so only its ratios
  between formats are compared.
"""

from lowbit.reports.tables import markdown_table

#: The formats the ordering compares, by the design that computes them (Gaussian stream).
ORDERING = (
    ("int8", "intmac_int8xint8_int32", "int8 x int8 -> int32 register"),
    ("fp8_e4m3", "floatmac_fp8_e4m3xfp8_e4m3_fp32", "FP8 E4M3 products into an FP32 register"),
    ("fp4_e2m1", "floatmac_fp4_e2m1xfp4_e2m1_fp32", "FP4 E2M1 products into an FP32 register"),
    ("MXFP4", "mxdot_mxfp4_fp32", "one 32-element MXFP4 block pair per cycle, FP32 register"),
    ("MXINT8", "mxdot_mxint8_fp32", "one 32-element MXINT8 block pair per cycle, FP32 register"),
    ("NVFP4", "mxdot_nvfp4_fp32", "one 16-element NVFP4 block pair per cycle, FP32 register"),
    ("2-bit LUT core", "lutcore_w2_g4_int8_2x16_int32",
     "int8 activations x 2-bit weights, groups of 4, 2 x 16 tile"),
)
STREAM = "gaussian"

HOROWITZ_45NM = {"int8_mul": 0.2, "int32_add": 0.1, "fp16_mul": 1.1, "fp32_mul": 3.7,
                 "fp32_add": 0.9}
JOUPPI_7NM = {"int8_mul": 0.07, "int32_add": 0.03, "bf16_mul": 0.21, "fp16_mul": 0.34,
              "fp32_add": 0.38}


def ordering_rows(table) -> list:
    """One row per format of :data:`ORDERING`, cheapest first: pJ per MAC by part (leakage at
    the design's Fmax) on the Gaussian stream."""
    rows = []
    for label, design, what in ORDERING:
        m = table[design, STREAM]
        leak = m.leakage_pj(m.fmax_mhz)
        rows.append({"format": label, "design": design, "unit": what,
                     "datapath_pj": m.datapath_pj, "registers_pj": m.registers_pj,
                     "clock_pj": m.clock_pj, "leakage_pj": leak,
                     "pj_per_mac": m.dynamic_pj + leak, "fmax_mhz": m.fmax_mhz})
    rows.sort(key=lambda r: r["pj_per_mac"])
    base = next(r for r in rows if r["format"] == "int8")["pj_per_mac"]
    for r in rows:
        r["vs_int8"] = r["pj_per_mac"] / base
    return rows


def calibration_rows(table) -> list:
    """lowbit's measured energy per MAC (random operands: the published figures are for
    arbitrary operands) beside each published figure, with the ratio."""
    int8 = table["intmac_int8xint8_int32", "random"]
    fp16 = table["floatmac_fp16xfp16_fp32", "random"]
    bf16 = table["floatmac_bf16xbf16_fp32", "random"]
    h, j = HOROWITZ_45NM, JOUPPI_7NM
    rows = []

    def row(measured, what, published, figure, source):
        rows.append({"lowbit unit": measured[0], "lowbit pJ": measured[1],
                     "published": what, "published pJ": published, "source": source,
                     "ratio lowbit / published": measured[1] / published,
                     "figure": figure})

    int8_dp = ("int8 MAC datapath (intmac_int8xint8_int32)", int8.datapath_pj)
    int8_all = ("int8 MAC all dynamic", int8.dynamic_pj)
    fp16_dp = ("fp16 x fp16 -> fp32 FloatMac datapath", fp16.datapath_pj)
    bf16_dp = ("bf16 x bf16 -> fp32 FloatMac datapath", bf16.datapath_pj)
    row(int8_dp, "int8 mul + int32 add", h["int8_mul"] + h["int32_add"], "0.2 + 0.1",
        "Horowitz 2014, 45 nm")
    row(int8_all, "int8 mul + int32 add", h["int8_mul"] + h["int32_add"], "0.2 + 0.1",
        "Horowitz 2014, 45 nm")
    row(fp16_dp, "fp16 mul + fp32 add", h["fp16_mul"] + h["fp32_add"], "1.1 + 0.9",
        "Horowitz 2014, 45 nm")
    row(fp16_dp, "fp32 mul + fp32 add (an FP32 FMA)", h["fp32_mul"] + h["fp32_add"],
        "3.7 + 0.9", "Horowitz 2014, 45 nm")
    row(bf16_dp, "fp32 mul + fp32 add (an FP32 FMA)", h["fp32_mul"] + h["fp32_add"],
        "3.7 + 0.9", "Horowitz 2014, 45 nm")
    # Jouppi 2021 at 7 nm: compare the ratio between formats, not the absolute energy
    for name, unit, mul in (("fp16", fp16_dp, "fp16_mul"), ("bf16", bf16_dp, "bf16_mul")):
        published = (j[mul] + j["fp32_add"]) / (j["int8_mul"] + j["int32_add"])
        rows.append({"lowbit unit": f"{name} -> fp32 MAC / int8 MAC, datapath",
                     "lowbit pJ": unit[1] / int8.datapath_pj,
                     "published": f"({name} mul + fp32 add) / (int8 mul + int32 add)",
                     "published pJ": published, "source": "Jouppi et al. 2021, 7 nm",
                     "ratio lowbit / published": unit[1] / int8.datapath_pj / published,
                     "figure": f"({j[mul]} + {j['fp32_add']}) / ({j['int8_mul']} + "
                               f"{j['int32_add']})"})
    return rows


def stream_rows(table) -> list:
    """One row per format of :data:`ORDERING`: pJ per MAC (dynamic + leakage at Fmax) on every
    stream, and sparse over random (data dependence, measured)."""
    from lowbit.reports.operand_streams import STREAMS

    rows = []
    for label, design, _ in ORDERING:
        row = {"format": label}
        for s in STREAMS:
            m = table[design, s]
            row[s] = m.dynamic_pj + m.leakage_pj(m.fmax_mhz)
        row["sparse / random"] = row["sparse"] / row["random"]
        rows.append(row)
    return rows


def stream_markdown(table) -> str:
    """The per-stream table as Markdown (``docs/energy.md``)."""
    from lowbit.reports.operand_streams import STREAMS

    return markdown_table(stream_rows(table), ("format", *STREAMS, "sparse / random"))


ORDERING_COLUMNS = ("format", "pj_per_mac", "vs_int8", "datapath_pj", "registers_pj",
                    "clock_pj", "leakage_pj", "fmax_mhz", "design")
CALIBRATION_COLUMNS = ("lowbit unit", "lowbit pJ", "published", "figure", "published pJ",
                       "source", "ratio lowbit / published")


def ordering_markdown(table) -> str:
    """The ordering table as Markdown (README)."""
    rows = ordering_rows(table)
    for r in rows:
        r["fmax_mhz"] = round(r["fmax_mhz"])
    return markdown_table(rows, ORDERING_COLUMNS)


def calibration_markdown(table) -> str:
    """The calibration table as Markdown (README)."""
    return markdown_table(calibration_rows(table), CALIBRATION_COLUMNS)
