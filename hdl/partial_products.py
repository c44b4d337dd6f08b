"""Partial products of an integer multiplication, along the bits of the weight operand.

``a x w`` for ``n``-bit ``a`` and ``m``-bit ``w`` is the sum over the weight's bit weights
``j`` of the row ``(a AND w_j) 2**j``: ``n m`` one-bit partial products ``a_i w_j`` of weight
``2**(i + j)``. Nothing is added here; the bits go into a
:class:`~lowbit.hdl.carry_save.BitHeap`, so the partial products of many multiplications (and
an accumulator) can be compressed together and resolved by one carry-propagate adder: the
bit-weight rewrite of a MAC.

Signed operands (two's complement) follow Baugh and Wooley: a partial product that involves
exactly one sign bit weighs negatively, ``-a_i w_j 2**k``, and is added as its complement
``(1 - a_i w_j) 2**k`` with ``-2**k`` folded into the heap's constant; the product of the two
sign bits is positive. Unsigned operands have no sign bits. So ``uint4 x int8`` and
``int4 x int4`` are exact with the same AND array.
"""

from amaranth.hdl import Value


def add_product(heap, a, w, *, a_signed: bool, w_signed: bool, shift: int = 0):
    """Add the partial products of ``a x w`` times ``2**shift`` to ``heap``.

    Parameters
    ----------
    heap : BitHeap
        Receives ``n m`` bits (``n = len(a)``, ``m = len(w)``) and a constant.
    a, w : Value
        The operand codes: ``a`` (activation, ``n`` bits) and ``w`` (weight, ``m`` bits,
        whose bits select the rows).
    a_signed, w_signed : bool
        Whether each operand is two's complement.
    shift : int
        Weight of the product's LSB in the heap.
    """
    a, w = Value.cast(a), Value.cast(w)
    n, m = len(a), len(w)
    for j in range(m):  # the weight's bit weight 2**j selects row j
        w_sign = w_signed and j == m - 1
        for i in range(n):
            bit = a[i] & w[j]
            column = shift + i + j
            if (a_signed and i == n - 1) != w_sign:
                heap.add_bit(column, ~bit)
                heap.add_constant(-(1 << column))
            else:
                heap.add_bit(column, bit)


def product_range(a_fmt, b_fmt) -> tuple:
    """``(low, high)``: the smallest and largest product of two codes of the integer or
    fixed-point formats (in product LSBs)."""
    ends = [x * y for x in (a_fmt.min_int, a_fmt.max_int) for y in (b_fmt.min_int, b_fmt.max_int)]
    return min(ends), max(ends)
