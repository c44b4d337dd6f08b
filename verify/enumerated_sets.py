"""Enumerated vector sets: every case of a one-cycle MAC's input space, far beyond memory.

An enumerated set names input ports whose codes, packed least significant first, form a
*case code* of ``bits`` bits (32 for both sets here: 2**32 cases), and the constant value of
the other inputs. Case ``i`` of the set is the code ``(i * MULTIPLIER) mod 2**bits``: an odd
multiplier makes this a bijection, so cases ``0 .. 2**bits - 1`` are every code exactly once,
and any stretch of consecutive cases (the slice ``make test`` runs) is spread over the whole
space instead of sweeping one operand. Expected results come from golden in chunks
(:meth:`EnumeratedSet.expected`); nothing holds the whole set.

``every_pair`` (PositMac)
    every ``a x b`` operand pair with ``clear`` high: the product rounded into the result
    format, as the in-memory ``exhaustive`` sets check 8-bit pairs.
``every_state`` (FloatMac with a float register)
    every (register state, ``a``, ``b``) with ``clear`` low: ``round(state + a * b)``, the
    next-state function of the one-cycle MAC. The state enters through the *chained* unit's
    ``acc_in`` port (:class:`~lowbit.hdl.mac_unit.MacUnit` ``chained=True``): the chained and
    the unchained unit are the same generator code (``AccumulatorStage._float_register``), the
    adder reading ``Mux(clear, 0, acc_in)`` instead of ``Mux(clear, 0, acc)``, so no port or
    mux is added to the tested logic. With the pair set (``clear`` high: the state is
    ignored) and the register's enable (``valid`` low: the state is held), this checks the
    whole next-state function of the one-cycle MAC on every input.
"""

from dataclasses import dataclass

import numpy as np

from lowbit.errors import LowbitError, did_you_mean
from lowbit.golden.arith import add_exact_values, exact_mul

#: The odd multiplier mapping case indices to case codes (Knuth's 2**32 / golden ratio).
MULTIPLIER = 0x9E37_79B1


class EnumeratedSetError(LowbitError):
    """An enumerated set that does not exist or does not fit the design."""


def product_codes(fmt, a, b) -> np.ndarray:
    """Codes of ``round(a * b)`` in ``fmt`` (posit or float; one RNE rounding), golden's
    ``decode`` and ``encode`` around a float64 product.

    Exact: the significands of two formats of at most 26 significand bits multiply exactly in
    float64's 53, and 16-bit formats' exponents stay far inside float64's range (checked).
    """
    if 2 * fmt.significand_bits > 53 or fmt.bits > 16:
        raise EnumeratedSetError(f"product_codes needs formats of at most 16 bits, not "
                                 f"{fmt.name}")
    with np.errstate(invalid="ignore"):  # 0 x Inf and NaR operands give NaN: NaR / NaN codes
        x = fmt.decode(a) * fmt.decode(b)
    return fmt.encode(x)


def next_state_codes(acc, a_fmt, b_fmt, state, a, b) -> np.ndarray:
    """Codes of ``round(state + a * b)`` of FloatAccumulator ``acc`` (its format, rounding and
    overflow): what a float register holds after one operation without ``clear``.

    Fast where it is exact, golden's exact arithmetic elsewhere: operand products of formats
    of at most 8 bits are exact in float64; the sum ``state + product`` is too unless its
    operands span more than 53 bits, which Knuth's TwoSum error term finds for each case
    (nonzero error); those cases, and under ``rdn`` every zero sum (IEEE 754's -0), take
    golden's :func:`~lowbit.golden.arith.add_exact_values` and ``round_exact``. NaN results
    are the format's canonical NaN (as golden's accumulators give them).
    """
    fmt = acc.fmt
    if max(a_fmt.bits, b_fmt.bits) > 8 or fmt.bits > 16:
        raise EnumeratedSetError(f"next_state_codes needs operands of at most 8 bits and a "
                                 f"register of at most 16, not {a_fmt.name} x {b_fmt.name} "
                                 f"into {fmt.name}")
    with np.errstate(invalid="ignore", over="ignore"):
        x, p = fmt.decode(state), a_fmt.decode(a) * b_fmt.decode(b)
        total = x + p
        back = total - x  # TwoSum: the rounding error of x + p is exactly (x - (total -
        err = (x - (total - back)) + (p - back)  # back)) + (p - back), 0 when exact
    slow = np.isfinite(total) & (err != 0)
    if acc.rounding == "rdn":
        slow |= total == 0
    codes = np.asarray(fmt.encode(total, acc.rounding, acc.overflow)).astype(np.uint64)
    if slow.any():
        where = np.flatnonzero(slow)
        exact = add_exact_values(fmt.to_exact(np.asarray(state)[where]),
                                 exact_mul(np.asarray(a)[where], np.asarray(b)[where],
                                           a_fmt, b_fmt), acc.rounding == "rdn")
        codes[where] = fmt.round_exact(exact, acc.rounding, acc.overflow)
    return acc.finish(codes)


@dataclass(frozen=True)
class EnumeratedSet:
    """A set of every case of some input ports of a MAC (module docstring).

    ``fields(spec)``: the enumerated ports as ``(port, format)``, least significant first in
    the case code; ``constants``: ``(port, value)`` of the other inputs; ``build(spec)``: the
    component run; ``golden(spec, columns)``: expected ``acc`` codes of the cases whose port
    codes are ``columns`` (a dict); ``kinds``: the catalogue spec classes it applies to.
    """

    name: str
    fields: object
    constants: tuple
    build: object
    golden: object
    applies: object
    summary: str

    def ports(self, spec) -> tuple:
        """``(port, width)`` of the enumerated ports, least significant first."""
        return tuple((p, fmt.bits) for p, fmt in self.fields(spec))

    def bits(self, spec) -> int:
        """Width of a case code (bits); the set has ``2**bits`` cases."""
        return sum(w for _, w in self.ports(spec))

    def cases(self, spec) -> int:
        """Number of cases of the whole set."""
        return 1 << self.bits(spec)

    def codes(self, spec, first: int, count: int) -> np.ndarray:
        """Case codes of cases ``first .. first + count - 1`` (uint64)."""
        index = np.arange(first, first + count, dtype=np.uint64)
        return (index * np.uint64(MULTIPLIER)) & np.uint64(self.cases(spec) - 1)

    def columns(self, spec, codes) -> dict:
        """The enumerated ports' codes of case codes ``codes``, by port."""
        out, shift = {}, 0
        for port, fmt in self.fields(spec):
            out[port] = ((np.asarray(codes, dtype=np.uint64) >> np.uint64(shift))
                         & np.uint64((1 << fmt.bits) - 1)).astype(fmt.code_dtype)
            shift += fmt.bits
        return out

    def expected(self, spec, first: int, count: int) -> np.ndarray:
        """Golden ``acc`` codes of cases ``first .. first + count - 1`` (uint64)."""
        codes = self.codes(spec, first, count)
        return np.asarray(self.golden(spec, self.columns(spec, codes))).astype(np.uint64)

    def check(self, spec):
        """Raise unless the set applies to ``spec`` (a catalogue design)."""
        if not self.applies(spec):
            raise EnumeratedSetError(f"vector set {self.name!r} ({self.summary}) does not "
                                     f"apply to {spec.name}")


def _posit_pairs_apply(spec) -> bool:
    return spec.unit == "PositMac" and spec.stages == 1


def _float_states_apply(spec) -> bool:
    acc = spec.accumulator
    return (spec.unit == "FloatMac" and spec.stages == 1 and acc.kind == "float"
            and acc.order == "sequential")


def _chained_float_mac(spec):
    return spec.build_chained()


EVERY_PAIR = EnumeratedSet(
    "every_pair",
    fields=lambda spec: (("a", spec.a_fmt), ("b", spec.b_fmt)),
    constants=(("clear", 1),),
    build=lambda spec: spec.build(),
    golden=lambda spec, c: product_codes(spec.a_fmt, c["a"], c["b"]),
    applies=_posit_pairs_apply,
    summary="every operand pair of a one-stage PositMac into a cleared quire")
EVERY_STATE = EnumeratedSet(
    "every_state",
    fields=lambda spec: (("a", spec.a_fmt), ("b", spec.b_fmt),
                         ("acc_in", spec.accumulator.fmt)),
    constants=(("clear", 0),),
    build=_chained_float_mac,
    golden=lambda spec, c: next_state_codes(spec.accumulator, spec.a_fmt, spec.b_fmt,
                                            c["acc_in"], c["a"], c["b"]),
    applies=_float_states_apply,
    summary="every (register state, a, b) of a one-stage FloatMac with a float register")

#: The enumerated sets, by name.
SETS = {s.name: s for s in (EVERY_PAIR, EVERY_STATE)}


def get(name: str) -> EnumeratedSet:
    """The enumerated set called ``name``."""
    if name not in SETS:
        raise EnumeratedSetError(f"enumerated set must be one of {', '.join(SETS)}, not "
                                 f"{name!r}{did_you_mean(name, SETS)}")
    return SETS[name]
