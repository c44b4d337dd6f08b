"""Yosys ``write_json`` netlists written by hand, for tests whose expected values are computed
by hand from the cell data (timing, switching activity, energy)."""

from lowbit.reports import netlist


class Builder:
    """A Yosys ``write_json`` netlist written by hand: ports and cells on named nets."""

    def __init__(self, module="m"):
        self.module, self.nets, self.ports, self.cells = module, {}, {}, {}

    def net(self, name):
        return self.nets.setdefault(name, len(self.nets) + 2)

    def port(self, name, direction, width=1):
        bits = [self.net(f"{name}[{i}]" if width > 1 else name) for i in range(width)]
        self.ports[name] = {"direction": direction, "bits": bits}
        return self

    def cell(self, name, ctype, **pins):
        self.cells[name] = {"type": ctype, "connections": {
            p: [n if n in ("0", "1", "x") else self.net(n)] for p, n in pins.items()}}
        return self

    def json(self):
        names = {n: {"bits": [b], "hide_name": 0} for n, b in self.nets.items()}
        return {"modules": {self.module: {"attributes": {"top": 1}, "ports": self.ports,
                                          "cells": self.cells, "netnames": names}}}

    def netlist(self, kinds=None):
        return netlist.netlist_from_json(self.json(), kinds, "hand netlist")
