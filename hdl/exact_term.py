"""The exact term: ``(-1)**negative * sig * 2**exp`` plus NaN/Inf flags, as a group of ports.

Decoders, multipliers, block-term generators, adders and accumulator stages pass values to
each other in this form; :func:`term_members` builds the ports once for all of them.
"""

from amaranth.hdl import Cat, Signal, signed
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


def sum_flags(m, products) -> list:
    """Special-value flags of the exact sum of ``products``, as golden ``exact_sum`` derives
    them: ``[all_neg_zero, nan, inf, inf_negative]`` (every product -0; a NaN product or
    +Inf meeting -Inf; an infinite sum; a -Inf product seen).

    ``products`` are ``(multiplier, zero)`` pairs: an
    :class:`~lowbit.hdl.exact_multiplier.ExactMultiplier` (``negative``, ``nan``, ``inf``) and
    whether one of its operands is zero.
    """
    nan = Cat(*(mul.nan for mul, _ in products)).any()
    pos_inf = Cat(*(mul.inf & ~mul.negative for mul, _ in products)).any()
    neg_inf = Cat(*(mul.inf & mul.negative for mul, _ in products)).any()
    neg_zero = Cat(*(mul.negative & zero for mul, zero in products)).all()
    flags = [Signal(name=n) for n in ("all_neg_zero", "nan", "inf", "inf_negative")]
    m.d.comb += [
        flags[0].eq(neg_zero),
        flags[1].eq(nan | (pos_inf & neg_inf)),
        flags[2].eq((pos_inf | neg_inf) & ~flags[1]),
        flags[3].eq(neg_inf),
    ]
    return flags
