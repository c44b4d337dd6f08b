"""Area in NAND2 gate equivalents (GE) of Yosys's generic gate cells.

The ``generic`` target maps logic with ``abc -g`` onto :data:`ABC_GATES` and turns every
flip-flop into a plain ``$_DFF_P_`` (enable and synchronous reset become gates), so the netlist
holds only the cell types below. Each weight is the area of the matching drive-strength-1 cell
of the **NanGate FreePDK45 Open Cell Library** (``NangateOpenCellLibrary_typical.lib``, the
45 nm library of the OpenROAD ``nangate45`` platform) divided by the area of its ``NAND2_X1``,
0.798 um^2:

===========  ===============  ==========  =======
Yosys cell   NanGate cell     area um^2   GE
===========  ===============  ==========  =======
$_NOT_       INV_X1           0.532       0.667
$_BUF_       BUF_X1           0.798       1.000
$_NAND_      NAND2_X1         0.798       1.000
$_NOR_       NOR2_X1          0.798       1.000
$_AND_       AND2_X1          1.064       1.333
$_OR_        OR2_X1           1.064       1.333
$_XOR_       XOR2_X1          1.596       2.000
$_XNOR_      XNOR2_X1         1.596       2.000
$_MUX_       MUX2_X1          1.862       2.333
$_AOI3_      AOI21_X1         1.064       1.333
$_OAI3_      OAI21_X1         1.064       1.333
$_AOI4_      AOI22_X1         1.330       1.667
$_OAI4_      OAI22_X1         1.330       1.667
$_DFF_P_     DFF_X1           4.522       5.667
$_DFF_PN0_   DFFR_X1          5.320       6.667
$_DFF_PN1_   DFFS_X1          5.320       6.667
===========  ===============  ==========  =======

GE numbers compare designs with each other; they are not a sign-off area. For square
micrometres in a real process, pass that process's liberty file (``liberty=``), which maps
onto its own cells and reports their areas.
"""

from types import MappingProxyType

#: The gate set ``abc -g`` may use (NOT and BUF are always allowed): each has one cell above.
ABC_GATES = "AND,NAND,OR,NOR,XOR,XNOR,MUX,AOI3,OAI3,AOI4,OAI4"
#: Flip-flop cells ``dfflegalize`` may leave: plain, async reset to 0, async set to 1.
FLIP_FLOPS = ("$_DFF_P_", "$_DFF_PN0_", "$_DFF_PN1_")
NAND2_UM2 = 0.798
_NANGATE_UM2 = {
    "$_NOT_": 0.532, "$_BUF_": 0.798, "$_NAND_": 0.798, "$_NOR_": 0.798, "$_AND_": 1.064,
    "$_OR_": 1.064, "$_XOR_": 1.596, "$_XNOR_": 1.596, "$_MUX_": 1.862, "$_AOI3_": 1.064,
    "$_OAI3_": 1.064, "$_AOI4_": 1.330, "$_OAI4_": 1.330,
    "$_DFF_P_": 4.522, "$_DFF_PN0_": 5.320, "$_DFF_PN1_": 5.320,
}
#: Area of each generic cell type in NAND2 gate equivalents.
GE_WEIGHTS = MappingProxyType({cell: um2 / NAND2_UM2 for cell, um2 in _NANGATE_UM2.items()})
SOURCE = ("NanGate FreePDK45 Open Cell Library, NangateOpenCellLibrary_typical.lib: X1 cell "
          "areas divided by NAND2_X1 (0.798 um^2)")


def area_ge(cells_by_type: dict) -> tuple:
    """Return ``(area in GE, {cell type: count})`` for a generic netlist's cell counts.

    The second item lists cell types without a weight (empty for any netlist the ``generic``
    target produces); their area is not included.
    """
    unknown = {t: n for t, n in cells_by_type.items() if t not in GE_WEIGHTS}
    area = sum(GE_WEIGHTS[t] * n for t, n in cells_by_type.items() if t in GE_WEIGHTS)
    return area, unknown
