"""Assertions shared by the table-driven bad-input tests."""

import pytest

from lowbit.errors import LowbitError


def raises_exactly(call, error, message):
    """Assert ``call()`` raises ``error`` (a LowbitError) whose text is exactly ``message``."""
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message
    assert isinstance(info.value, LowbitError)
    return info.value
