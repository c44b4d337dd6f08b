"""What a fault did to one run, judged against golden: masked, silent data corruption, or hang.

``classify(expected, got, fmt)`` takes the golden result codes and the codes the faulty design
produced (``None`` when a result never came: a hang or timeout) and returns an
:class:`Outcome` with the numeric damage: the absolute and relative error of the worst
result (values decoded with the result format ``fmt``; a fault that turns a finite result
into NaN or infinity has an infinite error) and the OR of every result's flipped bits.
"""

from dataclasses import dataclass

import numpy as np

from lowbit.errors import LowbitError

OUTCOMES = ("masked", "sdc", "hang")


class FaultOutcomeError(LowbitError, ValueError):
    """Results that cannot be compared (shapes or widths that do not match)."""


@dataclass(frozen=True)
class Outcome:
    """One fault run: ``kind`` (masked, sdc, hang), errors of the worst result, flipped bits."""

    kind: str
    abs_error: float = 0.0
    rel_error: float = 0.0
    flipped_bits: int = 0      # OR over results of expected ^ got
    wrong_results: int = 0

    def to_dict(self) -> dict:
        return {"outcome": self.kind, "abs_error": self.abs_error, "rel_error": self.rel_error,
                "flipped_bits": self.flipped_bits, "wrong_results": self.wrong_results}


def classify(expected, got, fmt) -> Outcome:
    """Compare result codes bit for bit; measure the numeric error of the differences."""
    if got is None:
        return Outcome("hang")
    expected = np.asarray(expected, dtype=np.uint64).ravel()
    got = np.asarray(got, dtype=np.uint64).ravel()
    if expected.shape != got.shape:
        raise FaultOutcomeError(f"expected {expected.size} result codes, got {got.size}")
    mask = np.uint64((1 << fmt.bits) - 1)
    diff = (expected ^ got) & mask
    wrong = np.flatnonzero(diff)
    if wrong.size == 0:
        return Outcome("masked")
    want = fmt.decode(expected[wrong]).astype(np.float64)
    have = fmt.decode(got[wrong]).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        abs_err = np.where(np.isfinite(have) | ~np.isfinite(want), np.abs(have - want), np.inf)
        abs_err = np.where(np.isnan(abs_err), np.inf, abs_err)
        rel_err = np.where(want != 0, abs_err / np.abs(want), np.where(abs_err > 0, np.inf, 0.0))
    worst = int(np.argmax(rel_err))
    flipped = int(np.bitwise_or.reduce(diff[wrong]))
    return Outcome("sdc", float(abs_err[worst]), float(rel_err[worst]), flipped, int(wrong.size))
