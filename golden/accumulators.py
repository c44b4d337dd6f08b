"""Accumulator models: how a MAC unit's register sums exact products.

The same objects parameterize the RTL generators. Each model reduces exact products (an
:class:`~lowbit.golden.exact.Exact` array) along its last axis into codes of its result format
(:attr:`out_fmt`), with :meth:`reduce`.

::

  ``ExactAccumulator(out_fmt)``      Kulisch: exact sum, one rounding into ``out_fmt`` at the end.
  ``FixedAccumulator(int_bits, frac_bits, overflow)``
                                     each product rounded onto the register's grid
                                     (``2**-frac_bits``, with ``rounding``), summed in a two's
                                     complement register of ``int_bits + frac_bits`` bits that
                                     wraps, or saturates after every addition.
  ``FloatAccumulator(fmt, rounding, order)``
                                     ``order="sequential"``: ``acc = round(acc + p_k)`` for k in
                                     order, starting from +0; ``order=tree(f)``: products in
                                     consecutive groups of ``f`` are summed by a balanced binary
                                     adder tree rounding at every node, and the group sums are
                                     accumulated sequentially; ``order=interleaved(L)``: ``L``
                                     partial registers, product ``k`` of a run (``k = 0, 1,
                                     ...`` since the clear) added into partial ``k mod L``
                                     (``p = round(p + product)``, every partial from +0), the
                                     result the partials reduced by a balanced tree in index
                                     order, each node rounded: ``round(round(p0 + p1) +
                                     round(p2 + p3))`` for ``L = 4`` (what a pipelined MAC
                                     whose add takes ``L`` cycles computes, see
                                     :class:`~lowbit.hdl.float_mac.FloatMac`).
  ``Quire(posit_fmt, standard)``     the posit quire: exact sum, one rounding into the posit.
                                     Width 16n bits (Posit Standard 2022) or n*n/2 (the older
                                     draft, SoftPosit's quire8/16/32 widths 32/128/512), LSB
                                     ``minpos**2``; a sum the register cannot hold (the draft
                                     quire8 after 128 terms of maxpos**2) raises instead of
                                     wrapping.
  """

import re
from dataclasses import dataclass, field

import numpy as np

from lowbit.errors import LowbitError, OperationError, check_choice, check_int
from lowbit.golden.arith import add_exact_values
from lowbit.golden.binary import highest_bit
from lowbit.golden.exact import Exact, exact_sum, stack
from lowbit.golden.formats import FixedFormat, FloatFormat, PositFormat
from lowbit.golden.rounding import check_rounding

_U64 = np.uint64


@dataclass(frozen=True)
class Tree:
    """Adder-tree order: groups of ``fan_in`` products (2..4096, a power of two)."""

    fan_in: int

    def __post_init__(self):
        check_int("fan_in", self.fan_in, 2, 4096, OperationError)
        if self.fan_in & (self.fan_in - 1):
            raise OperationError(f"fan_in must be a power of two, not {self.fan_in}")

    def __str__(self):
        return f"tree({self.fan_in})"


def tree(fan_in: int) -> Tree:
    """Return the adder-tree order with ``fan_in`` products per tree."""
    return Tree(fan_in)


@dataclass(frozen=True)
class Interleaved:
    """Interleaved order: ``partials`` (2..64, a power of two) sequential partial sums, product
    ``k`` into partial ``k mod partials``, reduced at the output by a balanced tree."""

    partials: int

    def __post_init__(self):
        check_int("interleaved partials", self.partials, 2, 64, OperationError)
        if self.partials & (self.partials - 1):
            raise OperationError(f"interleaved partials must be a power of two, not "
                                 f"{self.partials}")

    def __str__(self):
        return f"interleaved({self.partials})"


def interleaved(partials: int) -> Interleaved:
    """Return the interleaved order with ``partials`` partial registers."""
    return Interleaved(partials)


class _Accumulator:
    """Shared checks; subclasses define ``out_fmt`` and ``_reduce(products)``."""

    def reduce(self, products: Exact, split: bool = False) -> np.ndarray:
        """Sum exact products along the last axis; return codes of :attr:`out_fmt`.

        ``split=True``: each term comes as parts on a further last axis whose exact sum is the
        term (block terms from :func:`~lowbit.golden.exact.exact_sum_split`); the terms then
        sum along the second-to-last axis. A NaN result is the format's canonical (positive,
        quiet) NaN code.
        """
        if split:
            codes = self._reduce_split(products)
        else:
            codes = self._reduce(products)
        return self.finish(codes)

    @property
    def name(self) -> str:
        """The canonical name (grammar: :data:`GRAMMAR`); ``get(name)`` rebuilds it."""
        return name_of(self)

    def to_dict(self) -> dict:
        """Plain data for results and sidecars (:func:`from_dict` rebuilds it)."""
        return to_dict(self)

    #: A class with ``round_sum(total)``: its result is one rounding of the exact sum, so the
    #: results after every product of a run stream from :class:`~.exact.PrefixSum`.
    rounds_exact_sum = False

    def finish(self, codes) -> np.ndarray:
        """Codes as :attr:`out_fmt`'s dtype, any NaN as the format's canonical NaN code."""
        codes = codes.astype(self.out_fmt.code_dtype)
        nan_code = getattr(self.out_fmt, "nan_code", None)
        if nan_code is not None:
            codes = np.where(np.isnan(self.out_fmt.decode(codes)), nan_code, codes)
        return codes.astype(self.out_fmt.code_dtype)

    def check_operands(self, a_fmt, b_fmt):
        """Raise if this accumulator cannot hold one product of ``a_fmt`` and ``b_fmt``."""

    def _reduce_split(self, parts: Exact):
        """Terms in parts: exact sums need no regrouping; accumulators that round each term
        (or each sum) override this."""
        shape = parts.shape[:-2] + (parts.shape[-2] * parts.shape[-1],)
        return self._reduce(Exact(*(getattr(parts, f).reshape(shape)
                                    for f in ("negative", "sig", "exp", "nan", "inf"))))


@dataclass(frozen=True)
class ExactAccumulator(_Accumulator):
    """Kulisch accumulator: exact sum of exact products, rounded once into ``out_fmt``."""

    out_fmt: object
    rounding: str = "rne"
    kind = "exact"
    rounds_exact_sum = True

    def __post_init__(self):
        check_rounding(self.rounding)

    def width_bits(self, a_fmt, b_fmt, terms: int) -> int:
        """Register width in bits for ``terms`` products: product range, carries, sign."""
        lo = np.log2(a_fmt.min_positive) + np.log2(b_fmt.min_positive)
        hi = np.log2(a_fmt.max_value) + np.log2(b_fmt.max_value)
        return int(np.ceil(hi - lo)) + 1 + int(np.ceil(np.log2(max(terms, 2)))) + 1

    def _reduce(self, products):
        return self.round_sum(exact_sum(products))

    def round_sum(self, total: Exact) -> np.ndarray:
        """Codes of :attr:`out_fmt` for exact sums ``total`` (one rounding)."""
        return self.out_fmt.round_exact(total, self.rounding)


@dataclass(frozen=True)
class Quire(_Accumulator):
    """The posit quire of ``posit_fmt``: exact sum, one RNE rounding into the posit."""

    posit_fmt: PositFormat
    standard: str = "2022"
    kind = "quire"
    rounds_exact_sum = True

    def __post_init__(self):
        if not isinstance(self.posit_fmt, PositFormat):
            raise OperationError(f"Quire needs a posit format, not "
                                 f"{getattr(self.posit_fmt, 'name', self.posit_fmt)!r}")
        check_choice("standard", self.standard, ("2022", "draft"), OperationError)

    @property
    def out_fmt(self):
        return self.posit_fmt

    @property
    def width_bits(self) -> int:
        """16n bits (2022 standard) or n*n/2 (older draft)."""
        n = self.posit_fmt.n
        return 16 * n if self.standard == "2022" else n * n // 2

    def check_operands(self, a_fmt, b_fmt):
        if a_fmt != self.posit_fmt or b_fmt != self.posit_fmt:
            raise OperationError(f"Quire({self.posit_fmt.name}) accumulates products of "
                                 f"{self.posit_fmt.name} only, not {a_fmt.name} x {b_fmt.name}")

    @property
    def lsb_exponent(self) -> int:
        """Weight of the quire's LSB: ``minpos**2``."""
        return -2 * (self.posit_fmt.n - 2) * self.posit_fmt.useed_log2

    def _reduce(self, products):
        return self.round_sum(exact_sum(products))

    def round_sum(self, total: Exact) -> np.ndarray:
        """Posit codes for exact sums ``total``; raises if one overflows the quire."""
        # The two's complement quire holds |sum| < 2**(width - 1) LSBs; beyond that the register
        # wraps (SoftPosit's quire8 returns garbage). Say so instead of modelling a wrap.
        lead = total.exp + highest_bit(total.sig)
        limit = self.width_bits - 1 + self.lsb_exponent
        over = (total.sig != 0) & ~total.nan & ~total.inf & (lead >= limit)
        if over.any():
            raise OperationError(
                f"Quire({self.posit_fmt.name}, {self.standard!r}) overflow: a sum reaches "
                f"2**{int(lead[over].max())}, the {self.width_bits}-bit quire holds magnitudes "
                f"below 2**{limit}")
        return self.posit_fmt.round_exact(total)


@dataclass(frozen=True)
class FixedAccumulator(_Accumulator):
    """A two's complement register of ``int_bits + frac_bits`` bits (LSB ``2**-frac_bits``)."""

    int_bits: int
    frac_bits: int
    overflow: str = "wrap"
    rounding: str = "rne"
    kind = "fixed"

    def __post_init__(self):
        check_int("accumulator int_bits + frac_bits", self.int_bits + self.frac_bits, 2, 62,
                  OperationError)
        check_choice("overflow", self.overflow, ("wrap", "saturate"), OperationError)
        check_rounding(self.rounding)

    @classmethod
    def for_products(cls, bits: int, a_fmt, b_fmt, overflow: str = "wrap"):
        """A ``bits``-wide register whose LSB is one product LSB of ``a_fmt x b_fmt``
        (``frac_bits`` = the operands' fraction bits summed), such as int32 for int8 x int8."""
        frac = a_fmt.frac_bits + b_fmt.frac_bits
        return cls(bits - frac, frac, overflow)

    @property
    def out_fmt(self):
        return FixedFormat(self.int_bits, self.frac_bits)

    def check_operands(self, a_fmt, b_fmt):
        largest = a_fmt.max_value * b_fmt.max_value
        smallest = max(-a_fmt.min_value * b_fmt.max_value if a_fmt.min_value < 0 else 0,
                       -b_fmt.min_value * a_fmt.max_value if b_fmt.min_value < 0 else 0,
                       a_fmt.min_value * b_fmt.min_value)
        top = max(largest, smallest)
        if top > self.out_fmt.max_value:
            raise OperationError(
                f"accumulator fixed{self.int_bits}_{self.frac_bits} (max "
                f"{self.out_fmt.max_value!r}) is narrower than one product of {a_fmt.name} x "
                f"{b_fmt.name} (up to {top!r})")

    def _reduce_split(self, parts):
        # Each term is rounded onto the grid once: its parts' jammed exact sum suffices.
        return self._reduce(exact_sum(parts))

    def _reduce(self, products):
        fmt = self.out_fmt
        terms = fmt.to_int(fmt.round_exact(products, self.rounding, "saturate"))
        if self.overflow == "wrap":
            total = np.sum(terms.astype(np.uint64), axis=-1)  # modulo 2**64, then 2**bits
            return fmt.round_exact(Exact.from_int(_as_signed(total, fmt.bits), -fmt.frac_bits),
                                   "rtz", "wrap")
        acc = np.zeros(terms.shape[:-1], np.int64)
        for k in range(terms.shape[-1]):
            acc = np.clip(acc + terms[..., k], fmt.min_int, fmt.max_int)
        return fmt.round_exact(Exact.from_int(acc, -fmt.frac_bits), "rtz", "saturate")


def _as_signed(total, bits):
    """Low ``bits`` bits of uint64 ``total`` as a signed int64."""
    low = total & _U64((1 << bits) - 1)
    return np.where(low >= _U64(1 << (bits - 1)), low.astype(np.int64) - (1 << bits),
                    low.astype(np.int64))


@dataclass(frozen=True)
class FloatAccumulator(_Accumulator):
    """A float register: every addition rounded into ``fmt`` with ``rounding``."""

    fmt: FloatFormat
    rounding: str = "rne"
    order: object = "sequential"
    overflow: str | None = field(default=None)
    kind = "float"

    def __post_init__(self):
        if not isinstance(self.fmt, FloatFormat):
            raise OperationError(f"FloatAccumulator needs a FloatFormat, not "
                                 f"{getattr(self.fmt, 'name', self.fmt)!r}")
        check_rounding(self.rounding)
        if not (self.order == "sequential" or isinstance(self.order, (Tree, Interleaved))):
            raise OperationError(f"order must be 'sequential', tree(fan_in) or "
                                 f"interleaved(partials), not {self.order!r}")

    @property
    def out_fmt(self):
        return self.fmt

    def _add(self, acc_codes, x: Exact):
        acc = self.fmt.to_exact(acc_codes)
        return self.fmt.round_exact(add_exact_values(acc, x, self.rounding == "rdn"),
                                    self.rounding, self.overflow)

    def _round(self, x: Exact):
        return self.fmt.round_exact(x, self.rounding, self.overflow)

    def _reduce_split(self, parts):
        if isinstance(self.order, Tree):  # tree leaves round each whole term once
            return self._reduce(exact_sum(parts))
        if isinstance(self.order, Interleaved):  # each partial: a sequential split sum
            L = self.order.partials
            return self._reduce_partials([self._sequential_split(parts[..., j::L, :])
                                          for j in range(L)])
        return self._sequential_split(parts)

    def _sequential_split(self, parts):
        acc = np.zeros(parts.shape[:-2], dtype=np.uint64)  # +0
        hi, lo = parts[..., 0], parts[..., 1]
        for k in range(parts.shape[-2]):
            plain = self._add(acc, hi[..., k])
            # Where the term has a nonzero low part, acc + hi + lo with one rounding; an exact
            # zero sum of nonzero values is +0, or -0 rounding down (IEEE 754 6.3).
            total = exact_sum(stack([self.fmt.to_exact(acc), hi[..., k], lo[..., k]]))
            zero = (total.sig == 0) & ~total.nan & ~total.inf
            total = Exact(np.where(zero, self.rounding == "rdn", total.negative), total.sig,
                          total.exp, total.nan, total.inf)
            acc = np.where(lo[..., k].sig != 0, self._round(total), plain)
        return acc

    def _reduce_partials(self, partials):
        """Codes of partial sums (a list of arrays, in partial order) reduced by a balanced
        tree, each node ``round(x + y)``."""
        level = list(partials)
        while len(level) > 1:
            level = [self._add(level[i], self.fmt.to_exact(level[i + 1]))
                     for i in range(0, len(level), 2)]
        return level[0]

    def _reduce(self, products):
        if self.order == "sequential":
            return self._sequential(products)
        if isinstance(self.order, Interleaved):
            L = self.order.partials
            return self._reduce_partials([self._sequential(products[..., j::L])
                                          for j in range(L)])
        f = self.order.fan_in
        k = products.shape[-1]
        groups = -(-k // f)
        pad = groups * f - k
        if pad:  # +0 terms: adding +0 changes nothing but the sign of an all -0 group
            zeros = Exact.from_int(np.zeros(products.shape[:-1] + (pad,), np.int64))
            products = _concat(products, zeros)
        level = self._round(products)  # tree leaves: products rounded into the register
        level = level.reshape(products.shape[:-1] + (groups, f))
        while level.shape[-1] > 1:
            a = self.fmt.to_exact(level[..., 0::2])
            b = self.fmt.to_exact(level[..., 1::2])
            level = self.fmt.round_exact(add_exact_values(a, b, self.rounding == "rdn"),
                                         self.rounding, self.overflow)
        return self._sequential(self.fmt.to_exact(level[..., 0]))

    def _sequential(self, terms: Exact):
        acc = np.zeros(terms.shape[:-1], dtype=np.uint64)  # +0
        for k in range(terms.shape[-1]):
            acc = self._add(acc, terms[..., k])
        return acc


def _concat(x: Exact, y: Exact) -> Exact:
    return Exact(*(np.concatenate([getattr(x, f), getattr(y, f)], axis=-1)
                   for f in ("negative", "sig", "exp", "nan", "inf")))


# --- canonical names ------------------------------------------------------------------------
GRAMMAR = ("{fp}[_{overflow}][_{rounding}]", "tree{K}_{fp}[_{overflow}][_{rounding}]",
           "il{L}_{fp}[_{overflow}][_{rounding}]",
           "exact_{fmt}[_{rounding}]", "int{B}[_sat][_{rounding}]",
           "fixed{I}_{F}[_sat][_{rounding}]", "quire", "quire_draft")
"""The accumulator name grammar (:func:`get`), one pattern per accumulator kind.

``{fp}`` is a float format name (``fp32``, ``fp16``, ``bf16``, ``fp_e8m10``, ...), ``{fmt}`` any
format name; ``{rounding}``, always the last part, is ``rna rtz rup rdn rto`` (``rne``, the
default, is never written); ``{overflow}`` is ``inf``, ``sat`` or ``nan`` (omitted: the format's default policy);
``tree{K}`` sums groups of ``K`` products in a balanced tree (``K`` a power of two);
``il{L}`` interleaves ``L`` partial sums (``L`` a power of two, see :class:`Interleaved`);
``int{B}`` is a ``B``-bit integer register (``fixed{B}_0``); ``_sat`` saturates after every
add (omitted: wraps; ``_wrap`` is accepted and dropped); ``quire`` is the 2022 posit quire of
the operands' posit format (``quire_draft``: the older draft's width).
"""

_ROUNDING_NAMES = ("rna", "rtz", "rup", "rdn", "rto")
_FLOAT_OVERFLOW = {"inf": "inf", "sat": "saturate", "nan": "nan"}
_FIXED_OVERFLOW = {"sat": "saturate", "wrap": "wrap"}


class AccumulatorNameError(OperationError):
    """A text that names no accumulator (the message gives the grammar)."""


def _suffixes(text: str, table: dict) -> tuple:
    """``(stem, value)``: ``text`` without a trailing ``_<key>`` of ``table`` and its value
    (``None`` when it has none)."""
    for key, value in table.items():
        if text.endswith("_" + key):
            return text[: -len(key) - 1], value
    return text, None


def _unknown(name, why=""):
    from lowbit.errors import did_you_mean

    hint = did_you_mean(name, _EXAMPLES)
    return AccumulatorNameError(
        f"unknown accumulator {name!r}{f' ({why})' if why else ''}{hint}; accumulator names "
        f"are {', '.join(GRAMMAR)}")


_EXAMPLES = ("fp32", "fp16", "bf16", "fp16_rtz", "exact_fp32", "exact_fp16", "exact_bf16",
             "int32", "int24", "int16", "int32_sat", "tree8_fp32", "tree16_fp32", "quire",
             "quire_draft")


def get(name: str, operands=None):
    """The accumulator called ``name`` (grammar: :data:`GRAMMAR`).

    ``operands`` (a format, or the pair of operand formats) is needed by names that depend on
    the products they sum: ``quire`` and ``quire_draft`` take the operands' posit format.
    Raises :class:`AccumulatorNameError` naming the value and the grammar.
    """
    if not isinstance(name, str) or not name.strip():
        raise _unknown(name, "a name is a non-empty string")
    text = name.strip().lower()
    if text in ("quire", "quire_draft"):
        posits = [f for f in (operands if isinstance(operands, (tuple, list)) else [operands])
                  if f is not None]
        fmt = posits[0] if posits else None
        if fmt is None:
            raise AccumulatorNameError(
                f"accumulator {name!r} is the quire of its operands' posit format; give it "
                f"(accumulators.get({text!r}, operands=posit_format))")
        if not isinstance(fmt, PositFormat) or any(f != fmt for f in posits):
            raise AccumulatorNameError(
                f"accumulator {name!r} sums products of one posit format, not "
                f"{' x '.join(getattr(f, 'name', str(f)) for f in posits)}")
        return Quire(fmt, "draft" if text.endswith("draft") else "2022")
    stem, rounding = _suffixes(text, {r: r for r in _ROUNDING_NAMES})
    rounding = rounding or "rne"
    m = re.fullmatch(r"int(\d+)|fixed(-?\d+)_(\d+)", _suffixes(stem, _FIXED_OVERFLOW)[0])
    if m:
        stem, overflow = _suffixes(stem, _FIXED_OVERFLOW)
        int_bits, frac_bits = ((int(m[1]), 0) if m[1] is not None else (int(m[2]), int(m[3])))
        try:
            return FixedAccumulator(int_bits, frac_bits, overflow or "wrap", rounding)
        except OperationError as err:
            raise _unknown(name, str(err)) from None
    if stem.startswith("exact_"):
        return ExactAccumulator(_format(name, stem[len("exact_"):]), rounding)
    stem, overflow = _suffixes(stem, _FLOAT_OVERFLOW)
    order = "sequential"
    m = re.fullmatch(r"(tree|il)(\d+)_(.+)", stem)
    if m:
        try:
            order = (tree if m[1] == "tree" else interleaved)(int(m[2]))
        except OperationError as err:
            raise _unknown(name, str(err)) from None
        stem = m[3]
    fmt = _format(name, stem)
    if fmt.kind != "float":
        raise _unknown(name, f"{fmt.name} is not a float format; integer registers are "
                             f"int{{B}} or fixed{{I}}_{{F}}")
    return FloatAccumulator(fmt, rounding, order, overflow)


def _format(name, text):
    """The format ``text`` inside accumulator name ``name``; an unknown one names both."""
    from lowbit.errors import UnknownFormatError
    from lowbit.golden import formats

    try:
        return formats.get(text)
    except UnknownFormatError:
        raise _unknown(name, f"no format {text!r}") from None
    except LowbitError as err:
        raise _unknown(name, str(err)) from None


def name_of(acc) -> str:
    """The canonical name of accumulator ``acc`` (:func:`get` of it gives an equal object)."""
    if isinstance(acc, Quire):
        return "quire" if acc.standard == "2022" else "quire_draft"
    rounding = "" if acc.rounding == "rne" else f"_{acc.rounding}"
    if isinstance(acc, ExactAccumulator):
        return f"exact_{acc.out_fmt.name}{rounding}"
    if isinstance(acc, FixedAccumulator):
        base = (f"int{acc.int_bits}" if acc.frac_bits == 0
                else f"fixed{acc.int_bits}_{acc.frac_bits}")
        return base + ("_sat" if acc.overflow == "saturate" else "") + rounding
    order = ("" if acc.order == "sequential" else f"tree{acc.order.fan_in}_"
             if isinstance(acc.order, Tree) else f"il{acc.order.partials}_")
    overflow = {v: f"_{k}" for k, v in _FLOAT_OVERFLOW.items()}.get(acc.overflow, "")
    return f"{order}{acc.fmt.name}{overflow}{rounding}"


def to_dict(acc) -> dict:
    """``acc`` as plain data: its canonical name, plus the posit format a quire sums."""
    d = {"name": name_of(acc)}
    if isinstance(acc, Quire):
        d["operands"] = acc.posit_fmt.name
    return d


def from_dict(d: dict):
    """The accumulator :func:`to_dict` described."""
    from lowbit.golden import formats

    if not isinstance(d, dict) or "name" not in d:
        raise AccumulatorNameError(f"accumulator dict must have a 'name' key, not {d!r}")
    operands = formats.get(d["operands"]) if d.get("operands") else None
    return get(d["name"], operands)
