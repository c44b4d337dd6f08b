"""Draining an output-stationary tile: results copied out of the accumulators, one tile row
per cycle to the ``c`` port.

Output-stationary engines (the ``os`` systolic array, the broadcast matrix, the cube) hold an
``R x C`` tile of results in their accumulators when a tile's last K step has been added. On
a ``copy`` edge every result moves into a shift register of its own; the register shifts one
row per cycle toward row 0, whose ``C`` lanes are the output beat, so a tile leaves in ``R``
beats while the accumulators already sum the next tile. A result may be held as several
values (a carry-save pair): the drain shifts them all and ``resolve`` turns row 0's values into
the lane's result, one adder per column instead of one per accumulator.
"""

from amaranth.hdl import Cat, Const, Signal


def drain_tile(m, results, copy, *, resolve=None, name="drain"):
    """Add the drain of an ``R x C`` result tile to ``m``; return ``(out_valid, c)``.

    Parameters
    ----------
    results : list of list of tuple
        ``results[i][j]``: the values of result ``(i, j)`` (one accumulator code, or the two
        rows of a carry-save sum).
    copy : Value
        High in the cycle before the edge that copies every result into the drain (the
        accumulators then hold a finished tile).
    resolve : callable, optional
        ``resolve(m, values, name)``: a lane's result from row 0's values (needed when a result
        has more than one value).
    name : str
        Prefix of the drain's signal names.

    Returns ``out_valid`` (high for the ``R`` cycles after a copy edge, row ``i`` in the
    ``i``-th) and ``c`` (row 0's lanes, lane ``j`` in bits ``[j w, (j + 1) w)``).
    """
    rows = len(results)
    drain = [[tuple(Signal(len(v), name=f"{name}_{i}_{j}" + (f"_{k}" if len(lane) > 1 else ""))
                    for k, v in enumerate(lane))
              for j, lane in enumerate(row)] for i, row in enumerate(results)]
    for i in range(rows):
        for j, lane in enumerate(results[i]):
            for k, value in enumerate(lane):
                below = drain[i + 1][j][k] if i + 1 < rows else Const(0, len(value))
                with m.If(copy):
                    m.d.sync += drain[i][j][k].eq(value)
                with m.Else():
                    m.d.sync += drain[i][j][k].eq(below)
    remaining = Signal(range(rows + 1), name=f"{name}_remaining")
    with m.If(copy):
        m.d.sync += remaining.eq(rows)
    with m.Elif(remaining != 0):
        m.d.sync += remaining.eq(remaining - 1)
    lanes = []
    for j, values in enumerate(drain[0]):
        if len(values) == 1:
            lanes.append(values[0])
        else:
            lanes.append(resolve(m, values, f"{name}_lane{j}"))
    return remaining != 0, Cat(*lanes)


def last_beat_gate(m, accept_last, rows: int, name: str = "gate"):
    """A signal high when a tile's last beat may be accepted: ``rows`` edges or more after the
    previous one (so its drain has emitted all ``rows`` beats before the next copy). Always
    high for one row. ``accept_last`` is high in a cycle whose edge accepts a last beat."""
    if rows == 1:
        return Const(1, 1)
    age = Signal(range(rows + 1), init=rows, name=f"{name}_age")  # edges since the last one
    with m.If(accept_last):
        m.d.sync += age.eq(1)
    with m.Elif(age != rows):
        m.d.sync += age.eq(age + 1)
    return age == rows
