"""Engines built in Python with :mod:`lowbit.hdl`, as the cycle model's configs.

:func:`engine_config` turns a :class:`~lowbit.hdl.systolic_array.SystolicArray`, an
:class:`~lowbit.hdl.adder_tree_engine.AdderTreeEngine`, a
:class:`~lowbit.hdl.lut_tensor_core.LutTensorCore` or a
:class:`~lowbit.hdl.mixpe_array.MixPEArray` into the
:class:`~lowbit.sim.hardware.EngineConfig` that describes it, so ``sim.run(my_array, ...)``
simulates the engine the user just built. The config is exact or refused: its design's
closed-form cycles must equal the engine's own ``cycles(M, K, N)``; a pipelined PE's stages
become ``pe_stages``.
"""

from lowbit.errors import LowbitError
from lowbit.golden import accumulators
from lowbit.sim.hardware import EngineConfig, HardwareError

#: Shapes on which a converted engine's cycles must equal the engine's own (square, ragged,
#: K far beyond the array).
_CHECK_SHAPES = ((1, 1, 1), (7, 33, 5), (64, 300, 48))

ENGINE_CLASSES = ("SystolicArray", "AdderTreeEngine", "LutTensorCore", "MixPEArray")


def engine_config(engine) -> EngineConfig:
    """The :class:`EngineConfig` of the hdl ``engine`` (an EngineConfig is returned as is).

    Raises :class:`HardwareError` for an engine the cycle model has no config for, naming it
    and the engines it takes.
    """
    if isinstance(engine, EngineConfig):
        return engine
    kind = type(engine).__name__
    if kind not in ENGINE_CLASSES:
        raise HardwareError(f"arch must be an ArchConfig, an EngineConfig, a "
                            f"{', '.join(ENGINE_CLASSES)}, a TOML file or a preset name, "
                            f"not {kind}")
    try:
        cfg = _config(kind, engine)
    except LowbitError as err:
        raise HardwareError(f"{kind} cannot run in the cycle model: {err}") from None
    _check_cycles(kind, engine, cfg)
    return cfg


def _config(kind: str, engine) -> EngineConfig:
    if kind == "LutTensorCore":
        lut = engine.config
        if lut.weight_encoding != "offset" or lut.symmetric_table:
            raise HardwareError("the cycle model's LUT core has offset weights and full "
                                f"tables, not {lut.weight_encoding} weights"
                                f"{' and symmetric tables' if lut.symmetric_table else ''}")
        return EngineConfig(kind="lut", weight_bits=lut.weight_bits, lut_group=lut.group,
                            lut_tile=engine.tile, a_fmt=engine.a_fmt.name,
                            b_fmt=engine.b_fmt.name, accumulator=f"int{engine.acc_bits}")
    if kind == "MixPEArray":
        return _mixpe_config(engine)
    pe = engine.pe
    for name in ("a_fmt", "b_fmt", "accumulator"):
        if not hasattr(pe, name):
            raise HardwareError(f"its PE {type(pe).__name__} has no single {name}")
    common = {"a_fmt": pe.a_fmt.name, "b_fmt": pe.b_fmt.name,
              "accumulator": accumulators.name_of(pe.accumulator),
              "pe_stages": getattr(pe, "stages", 1)}
    if kind == "AdderTreeEngine":
        return EngineConfig(kind="adder_tree", lanes=engine.lanes, **common)
    return EngineConfig(kind="systolic", rows=engine.rows, cols=engine.cols,
                        dataflow=engine.dataflow, **common)


def _mixpe_config(engine) -> EngineConfig:
    """A MixPE array's config: the catalogue's MixPEs have fp16 scales and the weight kind's
    default zero points (unsigned weights have them)."""
    pe, scheme = engine.pe, engine.pe.scheme
    if scheme.scale.name != "fp16" or scheme.zero_point != scheme.weight.startswith("uint"):
        raise HardwareError(f"the cycle model's MixPEs have fp16 scales and zero points for "
                            f"unsigned weights only, not scheme {scheme.name}")
    rows, cols = engine.tile
    return EngineConfig(kind="mixpe", rows=rows, cols=cols, a_fmt=pe.act_fmt.name,
                        b_fmt=scheme.weight, accumulator=accumulators.name_of(pe.accumulator),
                        group_size=scheme.group, k_step=pe.k_step)


def _check_cycles(kind: str, engine, cfg: EngineConfig):
    """Refuse a config whose design counts other cycles than ``engine`` does."""
    from lowbit.sim.engine_model import engine_spec

    spec = engine_spec(cfg)
    for shape in _CHECK_SHAPES:
        ours, theirs = spec.cycles(*shape), engine.cycles(*shape)
        if ours != theirs:
            raise HardwareError(f"{kind} cannot run in the cycle model: its config "
                                f"{spec.name} takes {ours} cycles for M, K, N = {shape} where "
                                f"the engine takes {theirs}")
