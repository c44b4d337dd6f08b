"""A made-up Liberty library with NLDM timing tables, for timing tests.

Every table is a bilinear function of input slew s (ns) and load c (fF):
``value = a + b*c + k*s + m*s*c`` with the per-cell constants in :data:`CELLS`, so a correct
bilinear lookup reproduces it exactly anywhere, extrapolation included, and a test can
compute every expected delay by hand (:func:`expected`). Units are the file's (time in ns,
capacitance in fF), which also exercises the conversion to ps. The numbers are round values
of the size of a 45 nm library's, not any real library's.
"""

SLEWS_NS = (0.005, 0.02, 0.08, 0.3)
LOADS_FF = (0.5, 2.0, 8.0, 32.0)
K_SLEW, M_SLEW_LOAD = 0.3, 0.002  # delay per ns of input slew, per ns*fF
T_SLEW = 0.1  # output transition per ns of input slew
FALL = 0.8  # fall delay and transition = FALL x the rise constants' load terms

#: cell -> (area, inputs, output, function, sense, delay a (ns), delay b (ns/fF),
#: transition a (ns), transition b (ns/fF), input cap rise, input cap fall (fF))
CELLS = {
    "T_INV": (1.0, ("A",), "Y", "!A", "negative_unate", 0.008, 0.004, 0.006, 0.004, 1.6, 1.4),
    "T_BUF": (1.5, ("A",), "Y", "A", "positive_unate", 0.020, 0.003, 0.006, 0.003, 1.0, 1.0),
    "T_NAND2": (2.0, ("A", "B"), "Y", "!(A & B)", "negative_unate", 0.012, 0.005, 0.008,
                0.005, 1.5, 1.5),
    "T_NOR2": (2.0, ("A", "B"), "Y", "!(A | B)", "negative_unate", 0.014, 0.007, 0.009,
               0.007, 1.5, 1.5),
    "T_XOR2": (3.0, ("A", "B"), "Y", "(A ^ B)", "non_unate", 0.025, 0.006, 0.010, 0.006,
               2.2, 2.2),
}
#: The flip-flop: clock-to-Q like a cell (a, b as above), setup rise/fall (ns), D and CK caps.
DFF = {"area": 6.0, "clk_q": (0.060, 0.004, 0.008, 0.004), "setup": (0.030, 0.025),
       "cap_d": 1.1, "cap_ck": 0.9}
PIN_STEP_NS = 0.002  # the second input's arcs are this much slower


def value(kind, a, b, slew_ns, load_ff, fall=False):
    """A table's value (ns) at ``slew_ns`` and ``load_ff``: ``kind`` 'delay' or 'transition'."""
    scale = FALL if fall else 1.0
    if kind == "delay":
        return scale * (a + b * load_ff) + K_SLEW * slew_ns + M_SLEW_LOAD * slew_ns * load_ff
    return scale * (a + b * load_ff) + T_SLEW * slew_ns


def expected(cell, pin_index, table, slew_ps, load_ff):
    """A table of ``cell``'s arc from input ``pin_index`` in ps (``table``: 'cell_rise',
    'cell_fall', 'rise_transition', 'fall_transition'), by the generating formula."""
    *_, a, b, ta, tb, _, _ = CELLS[cell]
    fall = table in ("cell_fall", "fall_transition")
    if table.startswith("cell"):
        return 1e3 * value("delay", a + PIN_STEP_NS * pin_index, b, slew_ps / 1e3, load_ff, fall)
    return 1e3 * value("transition", ta, tb, slew_ps / 1e3, load_ff, fall)


def _table(name, kind, a, b, fall):
    rows = ", \\\n          ".join(
        '"' + ", ".join(f"{value(kind, a, b, s, c, fall):.6f}" for c in LOADS_FF) + '"'
        for s in SLEWS_NS)
    return (f"        {name} (delay_4x4) {{\n"
            f"          index_1 (\"{', '.join(map(str, SLEWS_NS))}\");\n"
            f"          index_2 (\"{', '.join(map(str, LOADS_FF))}\");\n"
            f"          values ({rows});\n        }}\n")


def _arc(pin, sense, a, b, ta, tb, timing_type=None):
    head = f"      timing () {{\n        related_pin : \"{pin}\";\n"
    head += f"        timing_type : {timing_type};\n" if timing_type else ""
    return (head + f"        timing_sense : {sense};\n"
            + _table("cell_rise", "delay", a, b, False) + _table("cell_fall", "delay", a, b, True)
            + _table("rise_transition", "transition", ta, tb, False)
            + _table("fall_transition", "transition", ta, tb, True) + "      }\n")


def text() -> str:
    """The library's Liberty text."""
    out = ['/* lowbit test library: made-up bilinear NLDM tables (tests/reports/timing_lib.py) */',
           "library (lowbit_timing_test) {", "  delay_model : table_lookup;",
           '  time_unit : "1ns";', '  voltage_unit : "1V";', '  current_unit : "1mA";',
           '  leakage_power_unit : "1nW";', "  capacitive_load_unit (1, ff);",
           "  nom_voltage : 1.1;", "  lu_table_template (delay_4x4) {",
           "    variable_1 : input_net_transition;",
           "    variable_2 : total_output_net_capacitance;",
           '    index_1 ("1, 2, 3, 4");', '    index_2 ("1, 2, 3, 4");', "  }"]
    for name, (area, ins, out_pin, fn, sense, a, b, ta, tb, cr, cf) in CELLS.items():
        out.append(f"  cell ({name}) {{\n    area : {area};")
        for p in ins:
            out.append(f"    pin ({p}) {{ direction : input; capacitance : {max(cr, cf)}; "
                       f"rise_capacitance : {cr}; fall_capacitance : {cf}; }}")
        out.append(f"    pin ({out_pin}) {{\n      direction : output;\n"
                   f"      function : \"{fn}\";")
        for i, p in enumerate(ins):
            out.append(_arc(p, sense, a + PIN_STEP_NS * i, b, ta, tb).rstrip("\n"))
        out.append("    }\n  }")
    q = DFF["clk_q"]
    su_r, su_f = DFF["setup"]
    out.append(f"""  cell (T_DFF) {{
    area : {DFF['area']};
    ff (IQ, IQN) {{ next_state : "D"; clocked_on : "CK"; }}
    pin (D) {{
      direction : input;
      capacitance : {DFF['cap_d']};
      timing () {{
        related_pin : "CK";
        timing_type : setup_rising;
        rise_constraint (scalar) {{ values ("{su_r}"); }}
        fall_constraint (scalar) {{ values ("{su_f}"); }}
      }}
    }}
    pin (CK) {{ direction : input; clock : true; capacitance : {DFF['cap_ck']}; }}
    pin (Q) {{
      direction : output;
      function : "IQ";
{_arc("CK", "non_unate", *q, timing_type="rising_edge").rstrip(chr(10))}
    }}
  }}
}}
""")
    return "\n".join(out)


def write(path):
    """Write the library to ``path``; return the path."""
    path.write_text(text())
    return path
