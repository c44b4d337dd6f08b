"""Block term generator: one exact accumulator term from a pair of scaled blocks.

The hardware half of :func:`lowbit.golden.gemm._block_terms`: the element products of a block
pair are exact, they are summed exactly into the block partial sum, and the partial sum times
``X_A * X_B`` (the exact product of the two block scales) is one term of the accumulator.
:class:`~lowbit.hdl.mx_dot.MxDotUnit` feeds one such term per cycle into its accumulator stage.
"""

from amaranth.hdl import Cat, Module, Mux, Signal, Value, signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.binary import floor_log2
from lowbit.hdl.component import Component
from lowbit.hdl.exact_multiplier import ExactMultiplier
from lowbit.hdl.exact_term import signed_width, sum_flags, term_members
from lowbit.hdl.float_decoder import FloatDecoder

MAX_BLOCK_SIZE = 64
"""Largest block size the generators accept (MX uses 32, NVFP4 16)."""

MAX_ELEMENT_BITS = 8
"""Widest element format accepted (MX and NVFP4 elements have at most 8 bits)."""

SCALE_FORMATS = ("e8m0", "ue4m3")
"""Catalogue names of the supported block scale formats (MX and NVFP4)."""


def check_block_format(unit: str, block_fmt) -> None:
    """Raise :class:`~lowbit.errors.OperationError` unless ``unit`` can compute with
    ``block_fmt``: a BlockFormat with float, integer or fixed-point elements of at most
    :data:`MAX_ELEMENT_BITS` bits, a power-of-two block size from 2 to :data:`MAX_BLOCK_SIZE`
    and an E8M0 or UE4M3 scale.

    Posit elements never get this far: :class:`~lowbit.golden.formats.BlockFormat` rejects
    them at construction, so every element is a float, integer or fixed-point format.
    """
    if getattr(block_fmt, "kind", None) != "block":
        raise OperationError(f"{unit} block_fmt must be a BlockFormat (MX, NVFP4 or BFP), not "
                             f"{getattr(block_fmt, 'name', block_fmt)!r}")
    size = block_fmt.block_size
    if not 2 <= size <= MAX_BLOCK_SIZE or size & (size - 1):
        raise OperationError(f"{unit} block_size must be a power of two from 2 to "
                             f"{MAX_BLOCK_SIZE}, not {size} ({block_fmt.name})")
    element = block_fmt.element
    if element.bits > MAX_ELEMENT_BITS:
        raise OperationError(f"{unit} elements must have at most {MAX_ELEMENT_BITS} bits, not "
                             f"{element.bits} ({element.name})")
    if block_fmt.scale not in tuple(F.get(name) for name in SCALE_FORMATS):
        raise OperationError(f"{unit} scale must be one of {', '.join(SCALE_FORMATS)}, not "
                             f"{block_fmt.scale.name!r}")


def _lsb_exp_range(fmt):
    """Smallest and largest LSB exponent of the finite values of float ``fmt`` (the lowest
    binade's, which subnormals share, and the largest finite value's)."""
    return int(floor_log2(fmt.min_normal)) - fmt.man_bits, fmt.emax - fmt.man_bits


class BlockTermGenerator(Component):
    """``(-1)**s * term_sig * 2**term_exp = X_A * X_B * sum_i a_i * b_i`` for one block pair,
    exactly (combinational).

    Element products are exact; each is placed on the common fixed-point grid of weight
    ``2**(2 * e)`` (``e`` the element's smallest LSB exponent, ``-frac_bits`` for integer and
    fixed-point elements), the ``block_size`` grid values are summed by a balanced adder tree of
    ``log2(block_size)`` levels in two's complement, and the sum's magnitude is multiplied by the
    product of the scale significands while the scale exponents are added.

    Specials follow golden (``exact_sum`` then ``mul_exact_values``): a NaN element, a NaN scale,
    ``0 * Inf``, +Inf meeting -Inf in the block, or an infinite block sum with a zero scale give
    NaN; otherwise any infinite product makes the term an infinity, negative if any infinite
    product is. An exact zero sum is -0 only when every product is -0 (then times the scales,
    which are never negative); a product's sign is the exclusive or of its factors' signs, for
    zero integer products too, as in golden. ``term_sig`` is 0 and ``term_exp`` is :attr:`exp_min` for NaN and
    infinite terms.

    Parameters
    ----------
    block_fmt : BlockFormat
        MXFP8/6/4, MXINT8, NVFP4 or another block format passing
        :func:`check_block_format`. Both operands use it.
    pipeline : Pipeline, optional
        The owning unit's :class:`~lowbit.hdl.pipeline.Pipeline`; its cut points
        ``products`` (the element products, flags and scale codes registered before the
        adder tree) and ``tree`` (the tree's nodes registered halfway up, at level
        ``ceil(log2(block_size) / 2)``) are built here when used. Then the generator has a
        ``valid`` input (the registers load with it) and ``term_valid`` output (``valid``
        delayed by the registers).

    Members
    -------
    a, b : In(ArrayLayout(element bits, block_size))
        Element codes; as a flat vector, element ``i`` is bits ``[i * w, (i + 1) * w)``.
    a_scale, b_scale : In(scale bits)
        Block scale codes.
    term_negative : Out(1)
        Sign of the term (of the zero or the infinity too).
    term_sig : Out(sig_width)
        Magnitude significand, from 0 to ``2**sig_width - 1``.
    term_exp : Out(signed(k))
        Weight of ``term_sig``'s LSB, from :attr:`exp_min` to :attr:`exp_max`.
    term_nan, term_inf : Out(1)
        The term is NaN; is an infinity of sign ``term_negative``.
    """

    #: The cut points a :class:`~lowbit.hdl.pipeline.Pipeline` can place inside the generator.
    CUTS = ("products", "tree")

    def __init__(self, block_fmt, *, pipeline=None):
        check_block_format("BlockTermGenerator", block_fmt)
        self._fmt = block_fmt
        self._pipeline = pipeline
        self._cuts = [c for c in self.CUTS if pipeline is not None and pipeline.has(c)]
        element, scale = block_fmt.element, block_fmt.scale
        if element.kind == "float":
            self._grid_exp = _lsb_exp_range(element)[0]  # weight of one element grid step
            step_max = int(element.max_value / 2.0 ** self._grid_exp)
            self._product_range = (-step_max * step_max, step_max * step_max)
        else:
            self._grid_exp = -element.frac_bits
            ends = [x * y for x in (element.min_int, element.max_int)
                    for y in (element.min_int, element.max_int)]
            self._product_range = (min(ends), max(ends))
        low, high = self._product_range
        self._magnitude_max = block_fmt.block_size * max(-low, high)
        self._scale_sig_max = (1 << (scale.man_bits + 1)) - 1
        self._scale_exp = _lsb_exp_range(scale)
        sig_max = self._magnitude_max * self._scale_sig_max ** 2
        elements = data.ArrayLayout(element.bits, block_fmt.block_size)
        super().__init__({
            "a": In(elements), "a_scale": In(scale.bits),
            "b": In(elements), "b_scale": In(scale.bits),
            **term_members("out", sig_max.bit_length(), self.exp_min, self.exp_max,
                           prefix="term_"),
            **({"valid": In(1), "term_valid": Out(1)} if self._cuts else {}),
        })

    @property
    def registers(self) -> int:
        """Pipeline registers inside the generator (``term_valid`` lags ``valid`` by these)."""
        return len(self._cuts)

    @property
    def block_fmt(self):
        """The block format of both operands."""
        return self._fmt

    @property
    def sig_width(self) -> int:
        """Width of ``term_sig`` in bits."""
        return len(self.term_sig)

    @property
    def exp_min(self) -> int:
        """Smallest ``term_exp``: the element grid times the two smallest scales."""
        return 2 * self._grid_exp + 2 * self._scale_exp[0]

    @property
    def exp_max(self) -> int:
        """Largest ``term_exp`` of a finite term: the element grid times the two largest finite
        scales."""
        return 2 * self._grid_exp + 2 * self._scale_exp[1]

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"block_fmt": self._fmt.to_dict(), "term_sig_width": self.sig_width,
                "term_exp_min": self.exp_min, "term_exp_max": self.exp_max}

    def elaborate(self, platform):
        m = Module()
        if self._fmt.element.kind == "float":
            leaves, flags = self._float_products(m)
        else:
            leaves, flags = self._int_products(m)
        low, high = self._product_range
        valid, scales = (self.valid if self._cuts else None), (self.a_scale, self.b_scale)

        def cut(name, values):  # one stage register; returns the registered values
            nonlocal valid
            valid, held = self._pipeline.register(m, name, valid, values)
            return held

        if "products" in self._cuts:
            held = cut("products", [*leaves, *flags, *scales])
            leaves, flags = held[:len(leaves)], held[len(leaves):-2]
            scales = held[-2:]
        levels = (len(leaves) - 1).bit_length()
        halfway = -(-levels // 2) if "tree" in self._cuts else None

        def at_halfway(nodes):
            nonlocal flags, scales
            held = cut("tree", [*nodes, *flags, *scales])
            flags, scales = held[len(nodes):-2], held[-2:]
            return held[:len(nodes)]

        total = _adder_tree(m, leaves, low, high, halfway, at_halfway)
        if self._cuts:
            m.d.comb += self.term_valid.eq(valid)

        # Block partial sum: sign and magnitude, specials (golden exact_sum).
        all_neg_zero, partial_nan, partial_inf, inf_negative = flags
        partial_neg = Signal()
        partial_mag = Signal(self._magnitude_max.bit_length())
        m.d.comb += [
            partial_mag.eq(Mux(total < 0, -total, total)),
            partial_neg.eq(Mux(total == 0, all_neg_zero, total < 0)),
        ]

        # Scales: exact product of the two (both unsigned: the term keeps the partial's sign).
        scale = self._fmt.scale
        m.submodules.a_scale_decoder = sa = FloatDecoder(scale)
        m.submodules.b_scale_decoder = sb = FloatDecoder(scale)
        m.d.comb += [sa.code.eq(scales[0]), sb.code.eq(scales[1])]
        scale_exp = Signal(signed(signed_width(2 * sa.exp_min, 2 * sa.exp_max)))
        m.d.comb += scale_exp.eq(sa.exp + sb.exp)
        if self._scale_sig_max == 1:  # E8M0: powers of two, the significand is always 1
            sig = partial_mag
        else:
            sig = partial_mag * (sa.sig * sb.sig)

        special = Signal()
        m.d.comb += [
            self.term_nan.eq(partial_nan | sa.nan | sb.nan
                             | (partial_inf & (sa.zero | sb.zero))),
            self.term_inf.eq(partial_inf & ~self.term_nan),
            special.eq(self.term_nan | self.term_inf),
            self.term_negative.eq(Mux(partial_inf, inf_negative, partial_neg)),
            self.term_sig.eq(Mux(special, 0, sig)),
            self.term_exp.eq(Mux(special, self.exp_min, scale_exp + 2 * self._grid_exp)),
        ]
        return m

    def _int_products(self, m):
        """Grid values (the integer products) of integer or fixed-point elements, and the
        block's flags as :meth:`_float_products` gives them (never NaN or infinite).

        As in golden (``Exact.from_int`` then ``mul_exact_values``), a product's sign is the
        exclusive or of the factors' signs even when one is 0: a block of negative elements
        times zeros sums to -0.
        """
        element = self._fmt.element
        low, high = self._product_range
        leaves, neg_zero = [], []
        for i in range(self._fmt.block_size):
            a, b = Value.cast(self.a[i]), Value.cast(self.b[i])
            if element.signed:
                a, b = a.as_signed(), b.as_signed()
                neg_zero.append((a[-1] ^ b[-1]) & ((a == 0) | (b == 0)))
            product = Signal(signed(signed_width(low, high)), name=f"product{i}")
            m.d.comb += product.eq(a * b)
            leaves.append(product)
        all_neg_zero = Signal(name="all_neg_zero")
        m.d.comb += all_neg_zero.eq(Cat(*neg_zero).all() if neg_zero else 0)
        return leaves, (all_neg_zero, 0, 0, 0)

    def _float_products(self, m):
        """Grid values of float element products, and the block's special flags
        ``(all_negative_zero, nan, inf, inf_negative)``."""
        element = self._fmt.element
        low, high = self._product_range
        leaves, products = [], []
        for i in range(self._fmt.block_size):
            decoders = []
            for side, code in (("a", self.a[i]), ("b", self.b[i])):
                dec = FloatDecoder(element)
                m.submodules[f"{side}{i}_decoder"] = dec
                m.d.comb += dec.code.eq(code)
                decoders.append(dec)
            da, db = decoders
            mul = ExactMultiplier(x_width=da.sig_width, x_exp=(da.exp_min, da.exp_max),
                                  y_width=db.sig_width, y_exp=(db.exp_min, db.exp_max))
            m.submodules[f"multiply{i}"] = mul
            m.d.comb += [*mul.connect("x", da), *mul.connect("y", db)]
            # NaN and Inf elements carry a reserved exponent: their grid value is garbage, but
            # the flags below replace the whole term.
            shift = Signal(range(2 * (da.exp_max - da.exp_min) + 1), name=f"shift{i}")
            magnitude = Signal(high.bit_length(), name=f"magnitude{i}")
            product = Signal(signed(signed_width(low, high)), name=f"product{i}")
            m.d.comb += [
                shift.eq(mul.exp - 2 * self._grid_exp),
                magnitude.eq(mul.sig << shift),
                product.eq(Mux(mul.negative, -magnitude, magnitude)),
            ]
            leaves.append(product)
            products.append((mul, da.zero | db.zero))
        return leaves, sum_flags(m, products)


def _adder_tree(m, leaves, low, high, cut_depth=None, cut=None):
    """Sum ``leaves`` (a power-of-two count of signed values in ``[low, high]``) with a balanced
    tree of two-input adders, each node just wide enough for its range; return the root.
    ``cut(nodes)``, called on the nodes of level ``cut_depth``, returns their registers."""
    level, depth = list(leaves), 0
    while len(level) > 1:
        if depth == cut_depth:
            level = cut(level)
        depth += 1
        low, high = 2 * low, 2 * high
        nodes = []
        for j in range(0, len(level), 2):
            node = Signal(signed(signed_width(low, high)), name=f"sum{depth}_{j // 2}")
            m.d.comb += node.eq(level[j] + level[j + 1])
            nodes.append(node)
        level = nodes
    if depth == cut_depth:  # halfway up a one-level tree is its root
        level = cut(level)
    return level[0]
