"""Float decoder: a code of any golden FloatFormat as an exact term (sign, significand, exponent).

Every float-input unit (FloatMac, MxDotUnit's elements and scales) decodes through it, so the
subnormal, NaN/Inf and sign conventions exist once in hardware, mirroring
``FloatFormat._decode``.
"""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.hdl.component import Component
from lowbit.hdl.exact_term import signed_width


class FloatDecoder(Component):
    """Decode a code of ``fmt`` into ``(-1)**negative * sig * 2**exp`` plus special flags.

    Combinational. ``sig`` carries the implicit bit (0 for zeros, and for subnormals of a
    flush-to-zero format), ``exp`` is the weight of ``sig``'s LSB.

    Parameters
    ----------
    fmt : FloatFormat
        Any golden float format: IEEE-style or "fn" specials, unsigned, FTZ, zero-less (E8M0).

    Members
    -------
    code : In(fmt.bits)
        The code.
    negative : Out(1)
        Sign bit (0 for unsigned formats).
    sig : Out(man_bits + 1)
        Significand, implicit bit included.
    exp : Out(signed(k))
        Exponent of ``sig``'s LSB, from :attr:`exp_min` to :attr:`exp_max`.
    zero, nan, inf : Out(1)
        The code is a zero (``sig == 0``), a NaN, an infinity.
    """

    def __init__(self, fmt):
        if getattr(fmt, "kind", None) != "float":
            raise OperationError(f"FloatDecoder needs a FloatFormat, not "
                                 f"{getattr(fmt, 'name', fmt)!r}")
        self._fmt = fmt
        super().__init__({
            "code": In(fmt.bits),
            "negative": Out(1),
            "sig": Out(fmt.man_bits + 1),
            "exp": Out(signed(signed_width(self.exp_min, self.exp_max))),
            "zero": Out(1), "nan": Out(1), "inf": Out(1),
        })

    @property
    def fmt(self):
        """The decoded format."""
        return self._fmt

    @property
    def sig_width(self) -> int:
        """Width of ``sig`` in bits: ``man_bits + 1``."""
        return self._fmt.man_bits + 1

    @property
    def exp_min(self) -> int:
        """Smallest LSB exponent: that of the lowest binade (subnormals share it)."""
        fmt = self._fmt
        return (1 if fmt.zero else 0) - fmt.bias - fmt.man_bits

    @property
    def exp_max(self) -> int:
        """Largest LSB exponent (the all-ones exponent field, reserved or not)."""
        fmt = self._fmt
        return (1 << fmt.exp_bits) - 1 - fmt.bias - fmt.man_bits

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"fmt": self._fmt.to_dict()}

    def elaborate(self, platform):
        m = Module()
        fmt = self._fmt
        man, ebits = fmt.man_bits, fmt.exp_bits
        frac = self.code[:man] if man else 0
        field = self.code[man:man + ebits]
        low_binade = Signal()
        m.d.comb += low_binade.eq((field == 0) if fmt.zero else 0)
        hidden = ~low_binade
        flush = fmt.zero and not fmt.subnormals and man  # FTZ: subnormal codes read as zero
        frac_kept = Mux(low_binade, 0, frac) if flush else frac
        all_ones = (1 << ebits) - 1
        if fmt.inf:
            top = field == all_ones
            m.d.comb += [
                self.inf.eq(top & (frac == 0) if man else top),
                self.nan.eq(top & (frac != 0) if man else 0),
            ]
        elif fmt.nan:
            m.d.comb += self.nan.eq(self.code[:man + ebits] == (1 << (man + ebits)) - 1)
        sig = (frac_kept | (hidden << man)) if man else hidden
        m.d.comb += [
            self.sig.eq(sig),
            self.exp.eq(Mux(low_binade, 1, field) - (fmt.bias + man)),
            self.zero.eq(self.sig == 0),
            self.negative.eq(self.code[-1] if fmt.signed else 0),
        ]
        return m
