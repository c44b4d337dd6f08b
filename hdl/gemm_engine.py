"""The streaming GEMM interface every compute engine shares, and its host-side contract.

Hardware handshake (one clock domain, ``sync``)
-----------------------------------------------
``in_valid`` / ``in_ready``
    The input stream. A beat is accepted at a rising edge where both are high; ``in_valid``
    never depends on ``in_ready``. The payload ports (``a``, ``b``, flags, ``c_in`` ...) are
    engine-specific and documented by each engine.
``out_valid`` / ``c``
    The output stream, without backpressure: the sink takes every beat in the cycle
    ``out_valid`` is high. ``c`` packs result lanes, lane ``i`` in bits ``[i w, (i + 1) w)``.

Host-side contract (Python, for testbenches and the cycle model)
-----------------------------------------------------------------
``input_beats(A, B)``
    The input beats of a whole GEMM in stream order, each a dict ``port -> int``; a value may
    be a :class:`Feedback`, meaning "the ``c`` of output beat ``i``" (partial sums the host
    streams back in). The host tiles the GEMM; the engine skews, preloads and drains.
``output_map(M, K, N)``
    For every output beat, for every lane: ``(m, n, k_end)``, the element ``C[m, n]`` summed
    over ``k < k_end`` (``k_end = K`` for final results), or ``None`` for a padding lane.
``cycles(M, K, N)``
    A closed form: rising edges from the one accepting the first input beat to the one
    registering the last output beat, both included, when the source is always valid.
``golden(A, B, k_end)``
    The golden results the lanes must equal, as codes: ``C`` over ``k < k_end``.
"""

import numpy as np
from amaranth.hdl import Shape

from lowbit.hdl.component import Component
from lowbit.hdl.gemm_stream import (MAX_ARRAY_SIDE, Feedback, check_dimension,  # noqa: F401
                                    check_shape, pack, tiles, unpack)

# The host-side helpers live in lowbit.hdl.gemm_stream (no Amaranth); imported here as well, so
# `from lowbit.hdl.gemm_engine import tiles, pack, Feedback, ...` keeps working.
__all__ = ["MAX_ARRAY_SIDE", "Feedback", "GemmEngine", "check_dimension", "check_shape", "pack",
           "port_width", "tiles", "unpack"]


def port_width(component, name: str) -> int:
    """Width in bits of port ``name`` of ``component`` (layouts as flat vectors)."""
    return Shape.cast(component.signature.members[name].shape).width


class GemmEngine(Component):
    """Base of engines computing ``C = A @ B`` over the streaming interface above.

    Subclasses define the payload ports, :meth:`input_beats`, :meth:`output_map`,
    :meth:`cycles` and :meth:`golden`; :attr:`lanes_out` and :attr:`out_bits` give the
    ``c`` port's lane count and lane width.

    An engine is also the host-side model of itself (the cycle model builds engines for
    :meth:`cycles` and never elaborates them), so an unelaborated engine is not a bug and
    Amaranth's unused-component warning is silenced.
    """

    def __init__(self, signature):
        super().__init__(signature)
        self.part(self)

    def cycles(self, M: int, K: int, N: int) -> int:
        """Closed-form cycle count of an ``M x K`` by ``K x N`` GEMM (see the module docstring)."""
        raise NotImplementedError

    def input_beats(self, A, B) -> list:
        """The input beats of ``C = A @ B`` in stream order."""
        raise NotImplementedError

    def output_map(self, M: int, K: int, N: int) -> list:
        """For each output beat, for each lane, ``(m, n, k_end)`` or ``None``."""
        raise NotImplementedError

    def golden(self, A, B, k_end: int) -> np.ndarray:
        """Golden result codes ``(M, N)`` of ``A[:, :k_end] @ B[:k_end, :]``."""
        raise NotImplementedError

    @property
    def natural_tile(self) -> tuple:
        """``(tm, tk, tn)``: the extent of ``M``, ``K`` and ``N`` one pass of the engine covers
        (test shapes are chosen around it)."""
        raise NotImplementedError

    @property
    def lanes_out(self) -> int:
        """Result lanes per output beat."""
        raise NotImplementedError

    @property
    def out_bits(self) -> int:
        """Width of one result lane."""
        raise NotImplementedError

    def macs(self, M: int, K: int, N: int) -> int:
        """Multiply-accumulates of the GEMM: ``M K N``."""
        check_shape(M, K, N)
        return M * K * N

    def utilization(self, M: int, K: int, N: int) -> float:
        """Fraction of peak MACs the GEMM achieves: ``macs / (cycles * peak_macs_per_cycle)``."""
        return self.macs(M, K, N) / (self.cycles(M, K, N) * self.peak_macs_per_cycle)

    @property
    def peak_macs_per_cycle(self) -> int:
        """Multiply-accumulates per cycle with every multiplier busy."""
        raise NotImplementedError
