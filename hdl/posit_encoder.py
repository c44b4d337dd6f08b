"""Posit encoder: an exact sign/magnitude/exponent value rounded to a posit code.

Equal bit for bit to golden ``fmt.round_exact(Exact(negative, sig, exp, nar, 0))``: the value
is written as the posit bit string (regime, exponent bits, fraction, sticky) and rounded to its
top ``n - 1`` bits by the shared :class:`~lowbit.hdl.rounder.Rounder` in nearest-even mode, so
a tie between the patterns ``p`` and ``p + 1`` is the ``(n + 1)``-bit pattern ``2p + 1`` (a
geometric midpoint where exponent bits are cut off). A nonzero value never rounds to 0 (it
gives +-minpos) and a finite value never to NaR (+-maxpos).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError, check_int
from lowbit.hdl.component import Component
from lowbit.hdl.exact_term import signed_width
from lowbit.hdl.leading_zeros import check_width
from lowbit.hdl.normalizer import Normalizer
from lowbit.hdl.posit_decoder import check_posit_format
from lowbit.hdl.rounder import Rounder, RoundingMode

EXP_LIMIT = 1 << 16
"""``exp_min`` and ``exp_max`` lie in ``[-EXP_LIMIT, EXP_LIMIT]``."""


class PositEncoder(Component):
    """Round ``(-1)**negative * sig * 2**exp`` (or NaR) to a code of ``fmt`` (combinational).

    The scale of the value comes from a :class:`~lowbit.hdl.normalizer.Normalizer` (``sig`` may
    have any number of leading zeros, e.g. the magnitude of a quire); the regime is built by an
    arithmetic right shift of ``[r, ~r, exponent, fraction, sticky]`` by the run length minus
    one, which replicates the regime bit ``r``; the string then goes through a nearest-even
    :class:`~lowbit.hdl.rounder.Rounder` with a fixed shift. Scales beyond maxpos's regime
    saturate to +-maxpos, below minpos's to +-minpos, as golden does.

    Parameters
    ----------
    fmt : PositFormat
        The posit ``(n, es)``, 2 to 32 bits.
    sig_width : int
        Width of ``sig`` in bits, 1 to 4096.
    exp_min, exp_max : int
        Range of ``exp`` (weights, powers of two), within +-65536; equal for a fixed-point
        input such as a quire.

    Members
    -------
    negative : In(1)
        Sign of the value.
    sig : In(sig_width)
        Unsigned magnitude in units of ``2**exp``; 0 encodes as the zero code.
    exp : In(signed(k))
        Weight of ``sig``'s LSB, from ``exp_min`` to ``exp_max``.
    nar : In(1)
        The value is NaR (NaN or an infinity in golden): the code is ``100...0``.
    code : Out(n)
        The posit code.
    """

    def __init__(self, fmt, *, sig_width, exp_min, exp_max):
        self._fmt = check_posit_format("PositEncoder", fmt)
        check_width("PositEncoder", "sig_width", sig_width)
        check_int("PositEncoder exp_min", exp_min, -EXP_LIMIT, EXP_LIMIT, OperationError)
        check_int("PositEncoder exp_max", exp_max, exp_min, EXP_LIMIT, OperationError)
        self._sig_width, self._exp_min, self._exp_max = sig_width, exp_min, exp_max
        super().__init__({
            "negative": In(1), "sig": In(sig_width),
            "exp": In(signed(signed_width(exp_min, exp_max))), "nar": In(1),
            "code": Out(fmt.n),
        })

    @property
    def fmt(self):
        """The posit format of ``code``."""
        return self._fmt

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"fmt": self._fmt.to_dict(), "sig_width": self._sig_width,
                "exp_min": self._exp_min, "exp_max": self._exp_max}

    def elaborate(self, platform):
        m = Module()
        fmt = self._fmt
        n, es = fmt.n, fmt.es
        width = self._sig_width
        m.submodules.normalizer = norm = Normalizer(width)
        m.d.comb += norm.value.eq(self.sig)
        # Scale: the weight of the leading one (exp + width - 1 - leading zeros).
        scale = Signal(signed(signed_width(self._exp_min - 1, self._exp_max + width - 1)))
        m.d.comb += scale.eq(self.exp + (width - 1) - norm.shift)
        # Regime k = floor(scale / 2**es), clamped where only maxpos or minpos remain possible
        # (golden clamps the same way, so the bits below the regime cannot change the result).
        k_min, k_max = -(n - 1), n - 2
        k = Signal(signed(signed_width(k_min, k_max)))
        floor_k = scale[es:].as_signed() if es else scale
        m.d.comb += k.eq(Mux(floor_k > k_max, k_max, Mux(floor_k < k_min, k_min, floor_k)))
        ones = Signal()  # regime bit r: a run of k + 1 ones, or of -k zeros
        m.d.comb += ones.eq(k >= 0)
        extra_run = Signal(range(n - 1))  # run length - 1: k for ones, -k - 1 for zeros
        m.d.comb += extra_run.eq(Mux(ones, k, ~k))
        # Fraction bits below the hidden one: every bit a posit can keep, plus the guard bit;
        # the rest only matter as a sticky bit (which never changes a tie).
        keep = fmt.max_fraction_bits + 1
        below = norm.normalized[:width - 1]
        if width - 1 >= keep:
            fraction = below[width - 1 - keep:]
            sticky = below[:width - 1 - keep].any() if width - 1 > keep else Const(0, 1)
        else:
            fraction = Cat(Const(0, keep - (width - 1)), below)
            sticky = Const(0, 1)
        string = Cat(sticky, fraction, scale[:es], ~ones, ones)
        # Room below for the n - 2 positions the shift can move the string by: no bit is lost.
        shifted = Signal(len(string) + n - 2)
        m.d.comb += shifted.eq(Cat(Const(0, n - 2), string).as_signed() >> extra_run)
        m.submodules.rounder = rounder = Rounder(len(shifted), out_width=n - 1, modes="rne")
        m.d.comb += [
            rounder.magnitude.eq(shifted),
            rounder.negative.eq(self.negative),
            rounder.mode.eq(RoundingMode.RNE),
        ]
        # Nonzero never rounds to 0, finite never carries into NaR.
        body = Signal(n)
        rounded = rounder.rounded
        m.d.comb += body.eq(Mux(rounded == 0, 1, Mux(rounded[-1], fmt.max_code, rounded)))
        code = Signal(n)
        m.d.comb += code.eq(Mux(self.negative, -body, body))  # two's complement mod 2**n
        m.d.comb += self.code.eq(Mux(self.nar, fmt.nar_code, Mux(norm.zero, 0, code)))
        return m
