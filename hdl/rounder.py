"""Rounder: the golden rounding rule in hardware, for a fixed right shift.

:class:`Rounder` computes exactly what :func:`lowbit.golden.rounding.shift_round` computes for
``shift = in_width - out_width``; every float and posit unit rounds through it.
"""

import enum

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError, check_int
from lowbit.golden.rounding import ROUNDING_MODES
from lowbit.hdl.component import Component
from lowbit.hdl.leading_zeros import check_width

RoundingMode = enum.IntEnum(
    "RoundingMode", [(name.upper(), code) for code, name in enumerate(ROUNDING_MODES)],
    module=__name__, qualname="RoundingMode")
RoundingMode.__doc__ = """Codes on the :class:`Rounder` ``mode`` port, one per golden mode name.

The code of a mode is its index in :data:`lowbit.golden.rounding.ROUNDING_MODES` and its
member name is the golden name in upper case, so ``RoundingMode[name.upper()]`` maps a golden
``rounding=`` argument to the port value::

    0 RNE  nearest, ties to even        1 RNA  nearest, ties away from zero
    2 RTZ  toward zero                  3 RUP  toward +infinity
    4 RDN  toward -infinity             5 RTO  to odd (inexact -> LSB 1)
    6 STOCHASTIC  add R random bits below the kept LSB, then truncate
"""

STOCHASTIC = "stochastic"
DETERMINISTIC_MODES = tuple(m for m in ROUNDING_MODES if m != STOCHASTIC)
"""The default ``modes`` of :class:`Rounder`: every golden mode that needs no random input."""


class Rounder(Component):
    """Round an unsigned magnitude to its top ``out_width`` bits (combinational).

    Equal bit for bit to ``shift_round(magnitude, in_width - out_width, negative, rounding)``
    (without ``parity_offset``): the kept part is incremented according to the discarded
    ``in_width - out_width`` bits, the sign (directed modes) and the mode; ``rounded`` has one
    extra bit for the carry out of the increment, which the caller handles (next binade,
    overflow).

    Parameters
    ----------
    in_width : int
        Width of the magnitude, 2 to 4096 bits.
    out_width : int
        Bits kept, 1 to ``in_width - 1``; the right shift is ``in_width - out_width``.
    modes : tuple of str
        The golden mode names this instance implements, drawn from
        :data:`~lowbit.golden.rounding.ROUNDING_MODES`.
        Default :data:`DETERMINISTIC_MODES`. A ``mode`` code outside this set truncates (gives
        the ``rtz`` result).
    random_bits : int, optional
        R, 1 to 32: the random input width for stochastic rounding; required exactly when
        ``modes`` contains ``"stochastic"`` (golden ``Stochastic(bits=R, ...)``).

    Members
    -------
    magnitude : In(in_width)
        The unsigned magnitude, in units of ``2**-(in_width - out_width)`` of the result.
    negative : In(1)
        Sign of the value (used by ``rup`` and ``rdn``).
    mode : In(RoundingMode)
        A :class:`RoundingMode` code, 3 bits.
    random : In(random_bits)
        Only with ``"stochastic"`` in ``modes``: the R-bit random number for this operation.
    rounded : Out(out_width + 1)
        The rounded magnitude; bit ``out_width`` is the carry out of the increment.
    inexact : Out(1)
        1 when any discarded bit is 1 (in every mode).
    """

    def __init__(self, in_width, *, out_width, modes=DETERMINISTIC_MODES, random_bits=None):
        check_width("Rounder", "in_width", in_width, low=2)
        check_int("Rounder out_width", out_width, 1, in_width - 1, OperationError)
        modes = (modes,) if isinstance(modes, str) else tuple(modes)
        if not modes:
            raise OperationError("Rounder modes must name at least one rounding mode")
        for mode in modes:
            if mode not in ROUNDING_MODES:
                raise OperationError(f"Rounder modes must be drawn from "
                                     f"{', '.join(ROUNDING_MODES)}, not {mode!r}")
        if STOCHASTIC in modes:
            if random_bits is None:
                raise OperationError("Rounder modes include 'stochastic', which needs "
                                     "random_bits=R (1 to 32)")
            check_int("Rounder random_bits", random_bits, 1, 32, OperationError)
        elif random_bits is not None:
            raise OperationError(f"Rounder random_bits={random_bits!r} needs 'stochastic' "
                                 f"in modes")
        self._in_width, self._out_width = in_width, out_width
        self._modes = tuple(m for m in ROUNDING_MODES if m in modes)  # golden order, no repeats
        self._random_bits = random_bits
        members = {
            "magnitude": In(in_width), "negative": In(1), "mode": In(RoundingMode),
            "rounded": Out(out_width + 1), "inexact": Out(1),
        }
        if random_bits is not None:
            members["random"] = In(random_bits)
        super().__init__(members)

    @property
    def shift(self) -> int:
        """The fixed right shift, ``in_width - out_width``."""
        return self._in_width - self._out_width

    @property
    def modes(self) -> tuple:
        """The implemented golden mode names, in :data:`ROUNDING_MODES` order."""
        return self._modes

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"in_width": self._in_width, "out_width": self._out_width,
                "modes": list(self._modes), "random_bits": self._random_bits,
                "mode_codes": {m: int(RoundingMode[m.upper()]) for m in self._modes}}

    def elaborate(self, platform):
        m = Module()
        shift = self.shift
        kept = self.magnitude[shift:]
        rem = self.magnitude[:shift]
        inexact = Signal()
        guard = Signal()
        sticky = Signal()
        odd = Signal()
        inc = Signal()
        m.d.comb += [
            inexact.eq(rem.any()),
            guard.eq(rem[-1]),
            sticky.eq(rem[:-1].any() if shift > 1 else 0),
            odd.eq(kept[0]),
        ]
        with m.Switch(self.mode):
            for mode in self._modes:
                with m.Case(RoundingMode[mode.upper()]):
                    if mode == "rne":
                        m.d.comb += inc.eq(guard & (sticky | odd))
                    elif mode == "rna":
                        m.d.comb += inc.eq(guard)
                    elif mode == "rtz":
                        m.d.comb += inc.eq(0)
                    elif mode == "rup":
                        m.d.comb += inc.eq(inexact & ~self.negative)
                    elif mode == "rdn":
                        m.d.comb += inc.eq(inexact & self.negative)
                    elif mode == "rto":
                        m.d.comb += inc.eq(inexact & ~odd)
                    else:  # stochastic: carry out of (top R discarded bits) + random
                        r = self._random_bits
                        # Fewer than R discarded bits are padded with zeros below, as golden.
                        top = rem[shift - r:] if shift >= r else Cat(Const(0, r - shift), rem)
                        total = Signal(r + 1)
                        m.d.comb += [total.eq(top + self.random), inc.eq(total[r])]
            with m.Default():
                m.d.comb += inc.eq(0)
        m.d.comb += [
            self.rounded.eq(kept + inc),
            self.inexact.eq(inexact),
        ]
        return m
