"""The lowbit error family.

Every error a user can cause (bad format name, impossible parameter, malformed config, NaN into
a format that has none) is a :class:`LowbitError`. The CLI prints its message as one line on
stderr and exits 2. Messages name the field, the bad value and what is allowed.

This module imports nothing, so every layer (golden included) may raise these errors.
"""


class LowbitError(Exception):
    """Base class of every error lowbit raises on bad user input."""


class FormatParameterError(LowbitError, ValueError):
    """A number format was constructed with an impossible parameter."""


class UnknownFormatError(LowbitError, ValueError):
    """A format name is not in the catalog and matches no format family."""


class EncodeError(LowbitError, ValueError):
    """A value cannot be encoded under the requested policy (NaN without a NaN policy, ...)."""


class CodeFormatError(LowbitError, ValueError):
    """Codes of one number format given to an operation of another."""


class OperationError(LowbitError, ValueError):
    """An operation lowbit cannot do exactly (too wide) or does not define for these formats."""


class RoundingError(LowbitError, ValueError):
    """An unknown rounding mode, or stochastic rounding without its random source."""


class QuantizerError(LowbitError, ValueError):
    """A quantizer, requantizer or transform got an impossible parameter or input."""


class AccumulatorOverflowError(LowbitError, OverflowError):
    """An integer intermediate (such as ``acc * multiplier``) does not fit its register."""


class OutputError(LowbitError):
    """An output folder or file lowbit cannot write: a file in the way, no permission, a
    read-only or full disk."""


class DamagedStateError(LowbitError):
    """A results file a run resumes from is damaged or belongs to another run."""


def check_int(field: str, value, low: int, high: int, error=FormatParameterError) -> int:
    """Return ``value`` if it is an integer in ``[low, high]``; raise ``error`` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{field} must be an integer from {low} to {high}, not {value!r}")
    if not low <= value <= high:
        raise error(f"{field} must be an integer from {low} to {high}, not {value}")
    return value


def check_choice(field: str, value, allowed, error=FormatParameterError):
    """Return ``value`` if it is one of ``allowed``; raise ``error`` naming ``field``."""
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise error(f"{field} must be one of {listed}, not {value!r}{did_you_mean(value, allowed)}")
    return value


def did_you_mean(value, known) -> str:
    """``"; did you mean 'x'?"`` naming the known names closest to ``value`` (or ``''``).

    Append it to an error message about an unknown name: ``f"... not {value!r}{did_you_mean(
    value, names)}"``. Closeness is :class:`difflib.SequenceMatcher`'s ratio, case-insensitive,
    at least 0.75 (one or two characters off in a name of ten); names tied for the best ratio
    are all given (``'fp8_e4m3' or 'fp8_e5m2'``), at most three.
    """
    import difflib

    if not isinstance(value, str):
        return ""
    scored = []
    for name in dict.fromkeys(str(k) for k in known):
        if name == value:
            return ""
        ratio = difflib.SequenceMatcher(None, value.lower(), name.lower()).ratio()
        if ratio >= 0.75:
            scored.append((ratio, name))
    if not scored:
        return ""
    best = max(r for r, _ in scored)
    names = [repr(n) for r, n in scored if r == best][:3]
    return f"; did you mean {' or '.join(names)}?"
