"""Block-scaled formats: OCP Microscaling (MX), NVFP4 and block floating point.

A block of ``block_size`` elements along one axis shares one scale code; the element codes are
an ordinary scalar format. Scale rules:

``floor`` (OCP MX v1.0, default)
    ``shared_exp = floor(log2(amax)) - emax_elem`` with the floor taken exactly from the
    exponent bits; clamped below at the scale format's smallest exponent (``-127`` for E8M0);
    above its largest, or when the block holds Inf/NaN, the scale is NaN (0xFF) and every
    element decodes to NaN (element codes are then 0). An all-zero block gets the smallest
    scale (``2**-127``). Elements are ``V / X`` rounded to nearest-even, clamped to +-max.
``rceil`` (cuBLAS / CUTLASS MXFP8 recipe)
    ``X = 2**ceil(log2(amax / max_elem))``, computed exactly; the same clamps and NaN rules.
``nvfp4`` (TransformerEngine recipe, computed in float32 as TE does)
    Per tensor: ``s_enc = 448 * 6 / amax_tensor`` (1 if amax is 0), ``s_dec = 1 / s_enc``,
    stored as FP32. Per block: ``sf = e4m3_rne(min(amax_block / 6 * s_enc, 448))``, optionally
    clamped below at E4M3's smallest normal ``2**-6`` (``scale_floor="min_normal"``, torchao);
    elements ``q = e2m1_rne(clamp(x * min(1 / (sf * s_dec), FLT_MAX), -6, 6))`` (a zero
    ``sf`` gives FLT_MAX, as TE does; the block then decodes to zeros). Inputs are rounded to
    float32 first. Value: ``q * sf * s_dec``, computed exactly in float64.

The element scale ``X`` is applied once per block: hardware multiplies the block's
element-product sum by ``X_A * X_B``, which the arithmetic layer models.

Ragged last block: the blocked axis is padded with zeros to a multiple of ``block_size``
(zeros never change a block's amax); :meth:`BlockFormat.decode` drops the padding.
"""

from dataclasses import dataclass, field

import numpy as np

from lowbit.errors import EncodeError, FormatParameterError, check_choice, check_int
from lowbit.golden.binary import floor_log2
from lowbit.golden.formats.base import ScalarFormat
from lowbit.golden.formats.floating import FloatFormat

SCALE_RULES = ("floor", "rceil", "nvfp4")
SCALE_FLOORS = ("none", "min_normal")


@dataclass(frozen=True)
class BlockArray:
    """Encoded block-format data.

    Attributes
    ----------
    fmt : BlockFormat
        The format that produced it.
    elements : ndarray of element codes
        Shape ``(..., n_blocks * block_size)``: the blocked axis moved last and zero-padded.
    scales : ndarray of scale codes
        Shape ``(..., n_blocks)``.
    shape : tuple
        Shape of the original array.
    axis : int
        The blocked axis of the original array (non-negative).
    tensor_scale : float or None
        NVFP4's FP32 per-tensor decode scale ``s_dec``; None for MX and BFP.
    """

    fmt: "BlockFormat"
    elements: np.ndarray
    scales: np.ndarray
    shape: tuple
    axis: int
    tensor_scale: float | None = None


@dataclass(frozen=True)
class BlockFormat:
    """Elements of a scalar format sharing one scale per block.

    Parameters
    ----------
    element : ScalarFormat
        Element format (FloatFormat, IntFormat or FixedFormat).
    block_size : int
        Elements per block, 1..4096 (32 for MX, 16 for NVFP4).
    scale : FloatFormat
        Scale code format: E8M0 for MX/BFP (power of two), ``ue4m3`` for NVFP4.
    scale_rule : {"floor", "rceil", "nvfp4"}
        How the scale is chosen (module docstring).
    scale_floor : {"none", "min_normal"}
        NVFP4 only: clamp the block scale below at the scale format's smallest normal.
    scale_storage_bits : int
        Bits a scale occupies in memory (8: a byte per block), for :attr:`bits_per_element`.
    """

    element: ScalarFormat
    block_size: int
    scale: FloatFormat
    scale_rule: str = "floor"
    scale_floor: str = "none"
    scale_storage_bits: int = 8
    name: str = field(default="", compare=False)
    kind = "block"

    def __post_init__(self):
        if not isinstance(self.element, ScalarFormat) or self.element.kind == "posit":
            raise FormatParameterError(
                f"element must be a FloatFormat, IntFormat or FixedFormat, not "
                f"{getattr(self.element, 'name', self.element)!r}"
            )
        check_int("block_size", self.block_size, 1, 4096)
        if not isinstance(self.scale, FloatFormat):
            raise FormatParameterError(
                f"scale must be a FloatFormat, not {getattr(self.scale, 'name', self.scale)!r}")
        check_choice("scale_rule", self.scale_rule, SCALE_RULES)
        check_choice("scale_floor", self.scale_floor, SCALE_FLOORS)
        check_int("scale_storage_bits", self.scale_storage_bits, self.scale.bits, 64)
        if self.scale_rule in ("floor", "rceil") and (self.scale.man_bits != 0 or self.scale.signed):
            raise FormatParameterError(
                f"scale_rule {self.scale_rule!r} needs an unsigned power-of-two scale "
                f"(man_bits 0, like e8m0), not {self.scale.name}"
            )
        if self.scale_rule == "nvfp4" and self.scale.signed:
            raise FormatParameterError(
                f"scale_rule 'nvfp4' needs an unsigned scale format like ue4m3, not {self.scale.name}"
            )
        if self.scale_floor != "none" and self.scale_rule != "nvfp4":
            raise FormatParameterError(
                f"scale_floor {self.scale_floor!r} applies to scale_rule 'nvfp4' only"
            )
        if not self.name:
            object.__setattr__(self, "name",
                               f"block_{self.element.name}_b{self.block_size}_{self.scale.name}")

    @property
    def bits(self) -> int:
        """Element width in bits."""
        return self.element.bits

    @property
    def bits_per_element(self) -> float:
        """Storage per element including the block scale (NVFP4's FP32 tensor scale excluded)."""
        return self.element.bits + self.scale_storage_bits / self.block_size

    @property
    def emax_elem(self) -> int:
        """``floor(log2(element max))``: 8 for E4M3, 15 E5M2, 4 E3M2, 2 E2M3/E2M1, 0 MXINT8."""
        return int(floor_log2(self.element.max_value))

    @property
    def max_value(self) -> float:
        """Largest finite value: element max times the largest scale."""
        return self.element.max_value * self.scale.max_value

    @property
    def min_positive(self) -> float:
        """Smallest positive value: element min_positive times the smallest nonzero scale."""
        return self.element.min_positive * self.scale.min_positive

    min_normal = property(lambda self: self.element.min_normal * self.scale.min_positive)
    min_subnormal = property(lambda self: (self.element.min_subnormal or 0.0)
                             * self.scale.min_positive or None)
    has_inf = property(lambda self: self.element.has_inf)
    has_nan = property(lambda self: self.scale.has_nan or self.element.has_nan)

    def to_dict(self) -> dict:
        """Return a JSON-ready dict (element and scale formats nested)."""
        return {"kind": "block", "element": self.element.to_dict(), "block_size": self.block_size,
                "scale": self.scale.to_dict(), "scale_rule": self.scale_rule,
                "scale_floor": self.scale_floor, "scale_storage_bits": self.scale_storage_bits,
                "name": self.name}

    def __str__(self):
        return self.name

    # --- encode -------------------------------------------------------------------------------
    def encode(self, x, axis=-1, rounding="rne") -> BlockArray:
        """Quantize ``x`` in blocks along ``axis``; return a :class:`BlockArray`.

        Only ``rounding="rne"`` is defined by the MX and NVFP4 specs; other modes round the
        elements (stochastic included, as in FP4 training recipes).
        """
        x = np.asarray(x, dtype=np.float64)
        shape = x.shape  # a 0-d input is blocked as (1,) and decodes back to shape ()
        x = x.reshape(shape or (1,))
        axis = check_int("axis", axis, -x.ndim, x.ndim - 1, EncodeError) % x.ndim
        blocks = self._to_blocks(x, axis)
        if self.scale_rule == "nvfp4":
            elements, scales, s_dec = self._encode_nvfp4(blocks, rounding)
        else:
            elements, scales = self._encode_pow2(blocks, rounding)
            s_dec = None
        lead, n_blocks = blocks.shape[:-2], blocks.shape[-2]
        return BlockArray(self, elements.reshape(*lead, n_blocks * self.block_size), scales,
                          shape, axis, s_dec)

    def _to_blocks(self, x, axis):
        """Move ``axis`` last, zero-pad it to a multiple of block_size, split into blocks."""
        y = np.moveaxis(x, axis, -1)
        pad = (-y.shape[-1]) % self.block_size
        if pad:
            y = np.concatenate([y, np.zeros(y.shape[:-1] + (pad,))], axis=-1)
        return y.reshape(*y.shape[:-1], y.shape[-1] // self.block_size, self.block_size)

    def _encode_pow2(self, blocks, rounding):
        elem, sc = self.element, self.scale
        special = ~np.isfinite(blocks).all(axis=-1)
        amax = np.max(np.abs(np.where(np.isfinite(blocks), blocks, 0.0)), axis=-1)
        zero = amax == 0
        safe = np.where(zero, 1.0, amax)
        if self.scale_rule == "floor":
            shared = floor_log2(safe) - self.emax_elem
        else:
            # Smallest k with amax <= max_elem * 2**k (exact: the products are float64-exact).
            k0 = floor_log2(safe) - floor_log2(elem.max_value) - 1
            fits = lambda k: np.ldexp(elem.max_value, k) >= safe
            shared = np.where(fits(k0), k0, np.where(fits(k0 + 1), k0 + 1, k0 + 2))
        e_lo, e_hi = sc._emin, sc.emax
        shared = np.where(zero, e_lo, np.maximum(shared, e_lo))
        nan_scale = special | (shared > e_hi)
        shared = np.where(nan_scale, e_lo, shared)
        usable = np.isfinite(blocks) & ~nan_scale[..., None]  # NaN-scale blocks encode zeros
        scaled = np.ldexp(np.where(usable, blocks, 0.0), -shared[..., None])
        codes = elem.encode(scaled, rounding=rounding, overflow=_saturate(elem))
        codes = np.where(nan_scale[..., None], 0, codes).astype(elem.code_dtype)
        scale_codes = sc.encode(np.ldexp(1.0, shared))
        scale_codes = np.where(nan_scale, sc.nan_code, scale_codes).astype(sc.code_dtype)
        return codes, scale_codes

    def _encode_nvfp4(self, blocks, rounding):
        f32 = np.float32
        elem, sc = self.element, self.scale
        too_big = ~(np.abs(blocks) <= np.finfo(f32).max)
        if too_big.any():
            raise EncodeError(
                f"{self.name} input must be finite in float32 (|x| <= 3.4028235e38; the FP32 "
                f"tensor scale has no Inf/NaN rule), got {float(blocks[too_big][0])!r}")
        xb = blocks.astype(f32)
        emax = f32(elem.max_value)
        big = np.finfo(f32).max
        amax_t = np.max(np.abs(xb)) if xb.size else f32(0)
        with np.errstate(divide="ignore", over="ignore"):
            s_enc = np.minimum(f32(sc.max_value) * emax / amax_t, big) if amax_t > 0 else f32(1)
            s_enc = f32(1) if s_enc == 0 else f32(s_enc)
            s_dec = f32(1) / s_enc
            amax_b = np.max(np.abs(xb), axis=-1)
            sf_val = np.minimum(amax_b / emax * s_enc, f32(sc.max_value)).astype(f32)
            if self.scale_floor == "min_normal":
                sf_val = np.maximum(sf_val, f32(sc.min_normal))
            sf_codes = sc.encode(sf_val.astype(np.float64))
            sf = sc.decode(sf_codes).astype(f32)
            # TE: 1 / (sf * s_dec), clamped to FLT_MAX (a zero scale gives FLT_MAX).
            inv = np.minimum(f32(1) / (sf * s_dec), big).astype(f32)
            scaled = np.clip(xb * inv[..., None], -emax, emax).astype(f32)
        codes = elem.encode(scaled.astype(np.float64), rounding=rounding, overflow=_saturate(elem))
        return codes, sf_codes.astype(sc.code_dtype), float(s_dec)

    # --- decode -------------------------------------------------------------------------------
    def decode(self, data: BlockArray) -> np.ndarray:
        """Return the exact float64 values of a :class:`BlockArray` in the original shape."""
        if not isinstance(data, BlockArray) or data.fmt != self:
            raise EncodeError(f"decode needs a BlockArray made by {self.name}")
        scale = self.scale.decode(data.scales)
        if data.tensor_scale is not None:
            scale = scale * np.float64(data.tensor_scale)
        el = self.element.decode(data.elements).reshape(*scale.shape, self.block_size)
        v = (el * scale[..., None]).reshape(data.elements.shape)
        moved = list(data.shape or (1,))
        moved.append(moved.pop(data.axis))
        v = v[..., :moved[-1]]
        return np.moveaxis(v, -1, data.axis).reshape(data.shape)


def _saturate(elem):
    """The element overflow policy of block formats: clamp to +-max (symmetric for integers)."""
    return "saturate_symmetric" if elem.kind in ("int", "fixed") else "saturate"
