"""Pipelined units: the ``stages`` parameter, named cut points and the stage register.

A unit built with ``stages=S`` has ``S - 1`` pipeline registers more than its one-cycle form
(``stages=1``, the unit as it always was, bit-identical Verilog). Each unit lists its *cut
points* in the order they are used (:attr:`Pipeline.cuts`): ``stages=2`` uses the first one,
``stages=3`` the first two, and so on; a unit takes at most ``1 + len(cuts)`` stages. Every
register added delays the result by one cycle, so ``latency`` grows by ``S - 1``, and the
unit still takes one operation per cycle.

Cuts lie either *before the accumulator loop* (they delay the operation reaching the loop:
``decoded``, ``product`` ...) or *after* it (``result``: the rounded output code is
registered); the loop itself (add, or align-add-round, into the register) stays one cycle.
That loop bounds the clock whatever the stages: a float register's align-add-round, a
Kulisch register's wide add. Golden semantics are unchanged by any cut (proved:
:mod:`lowbit.verify.pipeline_proof`).

The loop, three options:

(a) keep it in one cycle and pipeline everything around it: built for all four kinds (the cut
    points below; the stage count is capped there).
(b) ``L`` interleaved partial sums, reduced at the output: a different summation order, golden
    ``interleaved(L)`` (:class:`~lowbit.golden.accumulators.Interleaved`). Built for
    FloatMac with ``L = 2`` (:mod:`lowbit.hdl.accumulate`): the float add has two natural
    halves (decode and align-add, normalize and round); more partials need cuts inside
    ExactAdder and FloatEncoder. Not for MxDotUnit (its loop adds one block term per cycle
    like FloatMac's, but nothing here needed it yet) nor for engines (an array's stream may
    pause inside a tile, which would shift the partials).
(c) a carry-save or segmented exact loop: not built. A Kulisch register or quire is exact in
    any order, so it needs no golden change, but its output (rounded every cycle) needs the
    resolved sum: the wide carry-propagate add moves from the loop into the output path,
    where it must itself be cut into segments with registered carries before normalize and
    round gain anything. The timing model will say whether the loop or the output limits a
    Kulisch unit first.

Stage registers load only when their stage holds an operation (the enable is the operation's
``valid`` entering the stage), so idle cycles do not toggle the datapath; the ``valid`` bit
itself moves every cycle. (MxDotUnit's block-term register, there at every stage count, loads
every cycle as it always did.)

``stages_for`` picks the fewest stages that meet a target clock under a pluggable delay model
(the timing model of the synthesized netlist, or any estimate).

``fault`` builds a deliberately broken pipeline, for the proofs' negative tests only:
``drop_enable`` ties the enable of the first cut's data register low (it never loads),
``early_valid`` delays ``out_valid`` one cycle less than the data.
"""

from amaranth.hdl import Signal, Value

from lowbit.errors import OperationError

FAULTS = ("drop_enable", "early_valid")
"""Deliberate pipeline bugs a unit can be built with (proof tests only)."""

#: Cuts after the accumulator loop; every other cut lies before it.
AFTER_LOOP = ("result",)


def check_stages(unit: str, stages, cuts: tuple) -> int:
    """Return ``stages`` if it is an integer from 1 to ``1 + len(cuts)``; else raise an
    :class:`~lowbit.errors.OperationError` naming the field, the value and the cut points."""
    high = 1 + len(cuts)
    if isinstance(stages, bool) or not isinstance(stages, int) or not 1 <= stages <= high:
        raise OperationError(
            f"{unit} stages must be an integer from 1 to {high} (cut points in order: "
            f"{', '.join(cuts)}), not {stages!r}")
    return stages


class Pipeline:
    """The cut points one unit uses: the first ``stages - 1`` of ``cuts``.

    Parameters
    ----------
    unit : str
        The unit's name, for errors.
    stages : int
        Register stages, 1 to ``1 + len(cuts)``.
    cuts : tuple of str
        The unit's cut points in order of use.
    fault : str, optional
        A deliberate bug (:data:`FAULTS`), for the proofs' negative tests.
    """

    def __init__(self, unit, stages, cuts, fault=None):
        self._stages = check_stages(unit, stages, cuts)
        self._cuts = tuple(cuts)
        if fault is not None and fault not in FAULTS:
            raise OperationError(f"{unit} fault must be one of {', '.join(FAULTS)}, not "
                                 f"{fault!r}")
        if fault is not None and stages == 1:
            raise OperationError(f"{unit} fault {fault!r} breaks a pipeline register; it "
                                 f"needs stages 2 or more, not 1")
        self._fault = fault

    @property
    def stages(self) -> int:
        """Register stages: 1 is the unit's one-cycle form."""
        return self._stages

    @property
    def cuts(self) -> tuple:
        """Every cut point of the unit, in order of use."""
        return self._cuts

    @property
    def used(self) -> tuple:
        """The cut points this unit has registers at."""
        return self._cuts[:self._stages - 1]

    @property
    def fault(self):
        """The deliberate bug, or None."""
        return self._fault

    def has(self, cut: str) -> bool:
        """Whether cut point ``cut`` has a register."""
        return cut in self.used

    @property
    def before_loop(self) -> int:
        """Registers between the operands and the accumulator loop."""
        return sum(c not in AFTER_LOOP for c in self.used)

    @property
    def after_loop(self) -> int:
        """Registers between the accumulator loop and the output."""
        return sum(c in AFTER_LOOP for c in self.used)

    def describe(self) -> dict:
        """``stages`` and the cut points used, for sidecars and result rows."""
        return {"stages": self._stages, "cuts": list(self.used)}

    def register(self, m, cut, valid, values, name=None):
        """Add the stage register of cut point ``cut``: ``values`` (signals or expressions)
        load when ``valid`` is high; ``valid`` moves every cycle. Return ``(valid_out,
        [registered values])``."""
        name = name or cut
        valid_out = Signal(name=f"{name}_valid")
        m.d.sync += valid_out.eq(valid)
        return valid_out, self.hold(m, cut, valid, values, name)

    def hold(self, m, cut, enable, values, name=None):
        """The data half of :meth:`register`: ``values`` registered, loading when
        ``enable`` is high; return the registers."""
        name = name or cut
        if self._fault == "drop_enable" and cut == self.used[0]:
            enable = 0  # the bug: this register never loads
        held = []
        for i, value in enumerate(values):
            reg = Signal(Value.cast(value).shape(), name=f"{name}_{i}")
            with m.If(enable):
                m.d.sync += reg.eq(value)
            held.append(reg)
        return held

    def out_valid(self, m, valid, port):
        """Drive ``port`` (``out_valid``) from ``valid`` one register later, as a one-cycle
        unit does; with the ``early_valid`` fault, without that register."""
        if self._fault == "early_valid":
            m.d.comb += port.eq(valid)
        else:
            m.d.sync += port.eq(valid)


def max_stages(component) -> int:
    """The most stages ``component``'s kind takes (``1 + len(cuts)``)."""
    return 1 + len(component.pipeline.cuts)


def stages_for(make, clock_mhz, delay_ps) -> int:
    """The fewest stages whose design meets a clock of ``clock_mhz``.

    ``make(stages)`` builds the design (a component or a design spec) at a stage count;
    ``delay_ps(design)`` is the timing model's critical-path delay in picoseconds (pluggable:
    the static timing of the synthesized netlist, :mod:`lowbit.reports`, or any estimate).
    Stage counts are tried from 1 up to the kind's most; raises an
    :class:`~lowbit.errors.OperationError` naming ``clock_mhz`` when none meets it (the
    accumulator loop, which no cut shortens, bounds the clock).
    """
    if isinstance(clock_mhz, bool) or not isinstance(clock_mhz, (int, float)) \
            or not clock_mhz > 0:
        raise OperationError(f"clock_mhz must be a positive number of MHz, not {clock_mhz!r}")
    period_ps = 1e6 / clock_mhz
    first = make(1)
    top = max_stages(getattr(first, "prototype", first))
    best = None
    for stages in range(1, top + 1):
        design = first if stages == 1 else make(stages)
        delay = delay_ps(design)
        if delay <= period_ps:
            return stages
        best = delay if best is None else min(best, delay)
    raise OperationError(
        f"clock_mhz {clock_mhz} (period {period_ps:.0f} ps) is out of reach: the fastest of "
        f"1 to {top} stages has a critical path of {best:.0f} ps (at most "
        f"{1e6 / best:.0f} MHz); the accumulator loop bounds the clock whatever the stages")
