"""The exact term: ``(-1)**negative * sig * 2**exp`` plus NaN/Inf flags, as a group of ports.

Decoders, multipliers, block-term generators, adders and accumulator stages pass values to
each other in this form; :func:`term_members` builds the ports once for all of them.
"""

from amaranth.hdl import signed
from amaranth.lib.wiring import In, Out

TERM_PORTS = ("negative", "sig", "exp", "nan", "inf")
"""The fields of an exact term, in port order."""


def signed_width(low: int, high: int) -> int:
    """Bits of the smallest two's complement signal holding every integer in ``[low, high]``."""
    width = 1
    while not -(1 << (width - 1)) <= low <= high <= (1 << (width - 1)) - 1:
        width += 1
    return width


def term_members(direction: str, sig_width: int, exp_min: int, exp_max: int, prefix: str = "",
                 zero: bool = False) -> dict:
    """Signature members ``<prefix>negative`` (1 bit), ``sig`` (``sig_width`` bits), ``exp``
    (signed, holding ``exp_min..exp_max``), ``nan``, ``inf`` (1 bit each) and, with ``zero``,
    ``<prefix>zero``; ``direction`` is ``"in"`` or ``"out"``."""
    port = In if direction == "in" else Out
    members = {
        f"{prefix}negative": port(1), f"{prefix}sig": port(sig_width),
        f"{prefix}exp": port(signed(signed_width(exp_min, exp_max))),
    }
    if zero:
        members[f"{prefix}zero"] = port(1)
    members.update({f"{prefix}nan": port(1), f"{prefix}inf": port(1)})
    return members


def connect_terms(target, source, target_prefix: str = "", source_prefix: str = "") -> list:
    """Statements driving ``target``'s term ports from ``source``'s."""
    return [getattr(target, f"{target_prefix}{name}").eq(getattr(source, f"{source_prefix}{name}"))
            for name in TERM_PORTS]
