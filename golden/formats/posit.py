"""Posits ``(n, es)``: tapered-precision numbers with a run-length regime.

``value = (-1)**s * useed**k * 2**e * 1.f`` with ``useed = 2**(2**es)``; a negative posit is the
two's complement of the whole word; ``0`` is all zeros and NaR ("not a real") is ``100...0``.
Exponent bits cut off by a long regime read as zero.

Rounding is on the bit string (Posit Standard 2022): the tie between adjacent n-bit patterns
``p`` and ``p+1`` is the value of the (n+1)-bit pattern ``2p+1``, which is a geometric midpoint
where exponent bits are cut off. A nonzero value never rounds to 0 (it gives +-minpos) and a
finite value never rounds to NaR (+-maxpos); the directed modes follow the same two rules.
NaN and +-Inf inputs encode as NaR. The 2022 standard fixes ``es = 2``; SoftPosit's posit8 and
posit16 are ``(8, 0)`` and ``(16, 1)``: always spell both.
"""

from dataclasses import dataclass, field

import numpy as np

from lowbit.errors import check_int
from lowbit.golden.binary import highest_bit
from lowbit.golden.exact import WINDOW_TOP
from lowbit.golden.formats.base import ScalarFormat
from lowbit.golden.rounding import shift_round

_U64 = np.uint64
_I64 = np.int64


@dataclass(frozen=True)
class PositFormat(ScalarFormat):
    """A posit with ``n`` bits (2..32) and ``es`` exponent bits (0..4)."""

    n: int
    es: int
    name: str = field(default="", compare=False)
    kind = "posit"
    signed = True
    overflow_policies = ("saturate",)
    default_overflow = "saturate"

    def __post_init__(self):
        check_int("n", self.n, 2, 32)
        check_int("es", self.es, 0, 4)
        if not self.name:
            object.__setattr__(self, "name", f"posit{self.n}_{self.es}")

    @property
    def bits(self) -> int:
        """Width in bits, ``n``."""
        return self.n

    @property
    def useed_log2(self) -> int:
        """``log2(useed) = 2**es``."""
        return 1 << self.es

    @property
    def nar_code(self) -> int:
        """The NaR pattern ``100...0``."""
        return 1 << (self.n - 1)

    @property
    def max_code(self) -> int:
        """maxpos, ``011...1``."""
        return (1 << (self.n - 1)) - 1

    @property
    def min_code(self) -> int:
        """-maxpos, ``100...01``."""
        return (1 << (self.n - 1)) + 1

    @property
    def has_nan(self) -> bool:
        """NaR plays the role of NaN."""
        return True

    @property
    def min_positive(self) -> float:
        """minpos, ``useed**-(n-2)``."""
        return 2.0 ** (-self.useed_log2 * (self.n - 2))

    min_normal = min_positive
    min_subnormal = None

    # --- decode -------------------------------------------------------------------------------
    def _decode(self, c):
        n, es = self.n, self.es
        body_bits = n - 1
        negative = (c >> _U64(n - 1)) == 1
        mag = np.where(negative, (_U64(1 << n) - c) & _U64((1 << n) - 1), c)
        body = mag & _U64((1 << body_bits) - 1)
        r0 = (body >> _U64(body_bits - 1)) & _U64(1)
        # Regime: a run of identical bits; its length is the leading-zero count of x.
        x = np.where(r0 == 1, ~body & _U64((1 << body_bits) - 1), body)
        run = (body_bits - 1) - highest_bit(x)
        k = np.where(r0 == 1, run - 1, -run)
        rest_len = np.maximum(body_bits - run - 1, 0)
        rest = body & ((_U64(1) << rest_len.astype(_U64)) - _U64(1))
        frac_len = np.maximum(rest_len - es, 0)
        e = np.where(rest_len >= es, rest >> frac_len.astype(_U64),
                     rest << np.maximum(es - rest_len, 0).astype(_U64)).astype(_I64)
        f = rest & ((_U64(1) << frac_len.astype(_U64)) - _U64(1))
        sig = (f | (_U64(1) << frac_len.astype(_U64))).astype(np.float64)
        v = np.ldexp(sig, k * self.useed_log2 + e - frac_len)
        v = np.where(negative, -v, v)
        v = np.where(c == 0, 0.0, v)
        return np.where(c == _U64(self.nar_code), np.nan, v)

    # --- encode -------------------------------------------------------------------------------
    @property
    def max_fraction_bits(self) -> int:
        """Most fraction bits any value has (next to the shortest regime): ``n - 3 - es``."""
        return max(self.n - 3 - self.es, 0)

    @property
    def significand_bits(self) -> int:
        """Most significand bits of any value: ``max_fraction_bits + 1``."""
        return self.max_fraction_bits + 1

    def _round(self, ex, rounding, overflow, on_nan):
        n, es = self.n, self.es
        special = ex.nan | ex.inf
        ex = ex.normalized()
        negative, sig = ex.negative, ex.sig
        nonzero = (sig != 0) & ~special
        scale = ex.exp + WINDOW_TOP  # exponent of the leading one
        k = scale >> es  # floor division by 2**es
        ebits = (scale & ((1 << es) - 1)).astype(_U64)
        # Beyond these bounds only maxpos/minpos are possible; capping keeps widths below 64.
        k = np.clip(k, -(n - 1), n - 2)
        pos = k >= 0
        run = np.where(pos, k + 1, -k)
        regime_len = run + 1
        regime = np.where(pos, ((_U64(1) << run.astype(_U64)) - _U64(1)) << _U64(1), _U64(1))
        # Bit string: regime | exponent | top (30 - es) fraction bits | sticky from the rest.
        frac_keep = 30 - es
        frac = sig & _U64((1 << WINDOW_TOP) - 1)
        top_frac = frac >> _U64(WINDOW_TOP - frac_keep)
        sticky = (frac & _U64((1 << (WINDOW_TOP - frac_keep)) - 1)) != 0
        string = (((regime << _U64(es)) | ebits) << _U64(frac_keep)) | top_frac
        length = regime_len + es + frac_keep  # <= n + 30 <= 62 bits
        # Keep n-1 body bits; jam the sticky bit in below everything (never changes a tie).
        string = (string << _U64(1)) | sticky.astype(_U64)
        p, _ = shift_round(string, length + 1 - (n - 1), negative, rounding)
        p = np.clip(p, _U64(1), _U64(self.max_code))
        code = np.where(negative, (_U64(1 << n) - p) & _U64((1 << n) - 1), p)
        code = np.where(nonzero, code, _U64(0))
        return np.where(special, _U64(self.nar_code), code)
