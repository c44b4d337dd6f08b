"""The base class of lowbit hardware units."""

from amaranth.lib import wiring


class Component(wiring.Component):
    """An Amaranth component whose constructor validates golden parameters first.

    Subclasses check their arguments, raising a :class:`~lowbit.errors.LowbitError` on bad
    ones, then call ``super().__init__(signature)``. Amaranth warns about every component that
    is never elaborated; a construction that was rejected is not such a bug, so the warning is
    silenced until the signature is in place.
    """

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls, *args, **kwargs)
        self._MustUse__silence = True
        self._arguments = (args, kwargs)
        return self

    def __init__(self, signature):
        super().__init__(signature)
        self._MustUse__silence = False

    def replica(self, **changes):
        """Return a new component built from this one's constructor arguments, with the keyword
        arguments in ``changes`` replaced (an array builds its processing elements this way)."""
        args, kwargs = self._arguments
        return type(self)(*args, **{**kwargs, **changes})

    @staticmethod
    def part(component):
        """Return ``component``, a submodule built in a constructor: it is elaborated exactly
        when its parent is, so only the parent may warn about being unused."""
        component._MustUse__silence = True
        return component
