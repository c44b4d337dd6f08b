"""Boolean functions of cells, in Liberty's ``function`` syntax: parsed once, evaluated on words.

A function is text such as ``"!((A1 & A2) | B)"`` over a cell's pin names (and, for a
flip-flop's outputs, the state variables of its ``ff`` group, ``IQ``/``IQN``). Operators, from
the highest precedence to the lowest (the Liberty reference's order): inversion ``!x`` and
``x'``, exclusive or ``^``, conjunction ``&``, ``*`` or juxtaposition (``A B``), disjunction
``|`` and ``+``; constants ``0`` and ``1``; parentheses.

:func:`parse` returns an expression tree of tuples: ``("var", name)``, ``("const", 0|1)``,
``("not", e)``, ``("and", a, b)``, ``("or", a, b)``, ``("xor", a, b)``; :func:`truth_table`
evaluates one on every input combination. :data:`GENERIC_FUNCTIONS` holds the functions of
Yosys's generic gates (the semantics of Yosys's ``simcells.v``), so the generic and the
liberty netlists are simulated by the same code.
"""

import functools
import re

import numpy as np

from lowbit.errors import LowbitError


class FunctionError(LowbitError, ValueError):
    """A cell function that does not parse, or that names a pin the cell does not have."""


#: Yosys's generic cells as Boolean functions of their pins (``$_MUX_``: ``Y = S ? B : A``).
GENERIC_FUNCTIONS = {
    "$_BUF_": "A", "$_NOT_": "!A",
    "$_AND_": "A & B", "$_NAND_": "!(A & B)", "$_OR_": "A | B", "$_NOR_": "!(A | B)",
    "$_XOR_": "A ^ B", "$_XNOR_": "!(A ^ B)",
    "$_MUX_": "(A & !S) | (B & S)",
    "$_AOI3_": "!((A & B) | C)", "$_OAI3_": "!((A | B) & C)",
    "$_AOI4_": "!((A & B) | (C & D))", "$_OAI4_": "!((A | B) & (C | D))",
}
#: Next state of Yosys's generic flip-flops from their pins (asynchronous reset and set are
#: taken at the clock edge: the simulator is cycle based).
GENERIC_NEXT_STATE = {"$_DFF_P_": "D", "$_DFF_PN0_": "D & R", "$_DFF_PN1_": "D | !S"}

_TOKEN = re.compile(r"\s*(?:([A-Za-z_][\w\[\].$]*)|([01])|(\S))")


@functools.lru_cache(maxsize=4096)
def parse(text: str):
    """The expression tree of the function ``text`` (module docstring); one error naming the
    text and the position otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise FunctionError(f"cell function must be a non-empty Boolean expression, not "
                            f"{text!r}")
    tokens = []
    for m in _TOKEN.finditer(text.strip().strip('"')):
        name, const, op = m.groups()
        if name is not None:
            tokens.append(("var", name))
        elif const is not None:
            tokens.append(("const", int(const)))
        elif op is not None:
            if op not in "!'^&*|+()":
                raise FunctionError(f"cell function {text!r}: unknown operator {op!r}")
            tokens.append(("op", op))
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else ("end", None)

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def fail(what):
        raise FunctionError(f"cell function {text!r} does not parse: {what}")

    def disjunction():
        left = conjunction()
        while peek() in (("op", "|"), ("op", "+")):
            take()
            left = ("or", left, conjunction())
        return left

    def starts_operand(tok):
        return tok[0] in ("var", "const") or tok in (("op", "!"), ("op", "("))

    def conjunction():
        left = exclusive()
        while True:
            tok = peek()
            if tok in (("op", "&"), ("op", "*")):
                take()
            elif not starts_operand(tok):  # juxtaposition is a conjunction too
                return left
            left = ("and", left, exclusive())

    def exclusive():
        left = unary()
        while peek() == ("op", "^"):
            take()
            left = ("xor", left, unary())
        return left

    def unary():
        tok = take() if pos < len(tokens) else fail("it ends where an operand should be")
        if tok == ("op", "!"):
            node = ("not", unary())
        elif tok == ("op", "("):
            node = disjunction()
            if peek() != ("op", ")"):
                fail("a '(' is not closed")
            take()
        elif tok[0] in ("var", "const"):
            node = tok
        else:
            fail(f"{tok[1]!r} where an operand should be")
        while peek() == ("op", "'"):
            take()
            node = ("not", node)
        return node

    tree = disjunction()
    if pos != len(tokens):
        fail(f"unexpected {tokens[pos][1]!r}")
    return tree


def variables(tree) -> tuple:
    """The variable names of an expression tree, in order of first appearance."""
    if tree[0] == "var":
        return (tree[1],)
    if tree[0] == "const":
        return ()
    return tuple(dict.fromkeys(v for child in tree[1:] for v in variables(child)))


def evaluate(tree, values: dict):
    """The value of ``tree`` with each variable bound in ``values`` (NumPy unsigned integer
    arrays or Python ints used as bit vectors; ``0``/``1`` constants are all-zero / all-one
    words of ``values``' type)."""
    kind = tree[0]
    if kind == "var":
        return values[tree[1]]
    if kind == "const":
        ref = next(iter(values.values()))
        return (ref & 0) | (~(ref & 0) if tree[1] else 0)
    if kind == "not":
        return ~evaluate(tree[1], values)
    a, b = evaluate(tree[1], values), evaluate(tree[2], values)
    return {"and": a & b, "or": a | b, "xor": a ^ b}[kind]


def truth_table(tree, names) -> np.ndarray:
    """The function's value (bool) for every assignment of ``names`` (input ``i`` is bit ``i``
    of the row index)."""
    n = len(names)
    rows = np.arange(1 << n, dtype=np.uint64)
    values = {name: (rows >> np.uint64(i)) & np.uint64(1) for i, name in enumerate(names)}
    if not values:
        values = {"_": np.zeros(1, np.uint64)}
    return (evaluate(tree, values) & np.uint64(1)).astype(bool)
