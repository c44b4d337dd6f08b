"""Hypothesis strategies for fault campaigns and property tests: operand bit patterns that weight
specials and boundaries, MAC operation runs, fault sites and injection cycles.

Each strategy draws codes (unsigned bit patterns), the currency between layers. Operand codes
come half from :func:`~lowbit.verify.vectors.corner_codes` (zeros, +-1 LSB, extremes, the sign
boundary, NaN/inf/NaR, +-1.0) and half from the whole code space; Hypothesis shrinks toward the
first corner codes and small integers, so a counterexample comes out minimal.
"""

from hypothesis import strategies as st

from lowbit.verify.vectors import corner_codes


def operand_codes(fmt) -> st.SearchStrategy:
    """One code of ``fmt``: a corner code or any code, with equal weight."""
    corners = [int(c) for c in corner_codes(fmt)]
    return st.one_of(st.sampled_from(corners), st.integers(0, (1 << fmt.bits) - 1))


def mac_runs(a_fmt, b_fmt, max_ops: int = 4) -> st.SearchStrategy:
    """A run of 1 to ``max_ops`` MAC operations ``(a, b)`` accumulated from a clear."""
    return st.lists(st.tuples(operand_codes(a_fmt), operand_codes(b_fmt)), min_size=1,
                    max_size=max_ops)


def fault_sites(count: int) -> st.SearchStrategy:
    """A fault id from 1 to ``count`` (0 is the fault-free design)."""
    return st.integers(1, count)


def injection_cycles(last: int) -> st.SearchStrategy:
    """The clock cycle (0 to ``last``) at which a transient upset strikes."""
    return st.integers(0, last)
