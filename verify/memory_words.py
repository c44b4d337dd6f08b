"""Stimulus and expected words of the fast path: port fields packed into integers and the
memory files that carry them into the simulator.

A word packs one value per field, the first field least significant, each masked to its width
(bits). The wrapper loads binary files with ``$fread`` (:func:`write_columns`: every word in
``ceil(bits / 8)`` bytes, most significant byte first, as ``$fread`` fills a memory word):
Verilator's ``$readmemh`` parses text a character at a time through C++ strings and took
0.29 s of CPU per million IntMac operations (stimulus and expected files), four times the
model's own evaluation. :func:`write_memory` writes the same words as ``$readmemh`` text.

This module imports NumPy only: the fast path's cocotb testbench imports it inside the
simulator process, whose start-up time is part of every run (Amaranth alone costs about 0.5 s
of CPU there).
"""

from pathlib import Path

import numpy as np

from lowbit.paths import write_atomic

#: Widths up to this many bits pack and format as NumPy ``uint64`` columns (vectorized); wider
#: words go through Python integers.
NUMPY_BITS = 64
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _fits(columns, widths) -> bool:
    return sum(widths) <= NUMPY_BITS and all(isinstance(c, np.ndarray) for c in columns)


def pack_array(columns, widths) -> np.ndarray:
    """:func:`pack` as a ``uint64`` array; every width together at most :data:`NUMPY_BITS`
    bits and every column a NumPy array of codes."""
    words = np.zeros(len(columns[0]), dtype=np.uint64)
    shift = 0
    for column, width in zip(columns, widths):
        mask = np.uint64((1 << width) - 1)
        words |= (column.astype(np.int64).view(np.uint64) & mask) << np.uint64(shift)
        shift += width
    return words


def pack(columns, widths) -> list:
    """Python integers packing ``columns`` (one per field, equal lengths; each an array of
    codes or a list of integers) at ``widths`` bits each, the first field least significant;
    every code is masked to its width."""
    if _fits(columns, widths):
        return pack_array(columns, widths).tolist()
    words = [0] * len(columns[0])
    shift = 0
    for column, width in zip(columns, widths):
        mask = (1 << width) - 1
        words = [w | ((int(c) & mask) << shift) for w, c in zip(words, column)]
        shift += width
    return words


def unpack(word: int, fields) -> dict:
    """The fields ``(name, width)`` of ``word`` (packed as by :func:`pack`), by name."""
    out, shift = {}, 0
    for name, width in fields:
        out[name] = (word >> shift) & ((1 << width) - 1)
        shift += width
    return out


def hex_lines(words, bits: int) -> bytes:
    """``words`` as ``$readmemh`` text: one lower-case hex word per line, ``bits`` wide (zero
    padded). ``words``: a ``uint64`` array (formatted vectorized) or Python integers."""
    digits = max(1, (bits + 3) // 4)
    if isinstance(words, np.ndarray) and bits <= NUMPY_BITS:
        shifts = np.arange(4 * (digits - 1), -1, -4, dtype=np.uint64)
        nibbles = (words.astype(np.uint64)[:, None] >> shifts) & np.uint64(15)
        text = np.empty((len(words), digits + 1), dtype=np.uint8)
        text[:, :digits] = _HEX[nibbles]
        text[:, digits] = ord("\n")
        return text.tobytes()
    return "".join(f"{int(w):0{digits}x}\n" for w in words).encode()


def write_memory(path, words, bits: int) -> Path:
    """Write ``words`` as a ``$readmemh`` file (:func:`hex_lines`)."""
    return write_atomic(path, hex_lines(words, bits))


def word_bytes(bits: int) -> int:
    """Bytes a ``bits``-wide word takes in a binary memory file."""
    return max(1, (bits + 7) // 8)


def binary_words(words, bits: int) -> bytes:
    """``words`` as a binary memory file's bytes: each in :func:`word_bytes` bytes, most
    significant first. ``words``: a ``uint64`` array (vectorized) or Python integers."""
    size = word_bytes(bits)
    if isinstance(words, np.ndarray) and bits <= NUMPY_BITS:
        big = words.astype(">u8").view(np.uint8).reshape(-1, 8)
        return big[:, 8 - size:].tobytes()
    return b"".join(int(w).to_bytes(size, "big") for w in words)


def write_columns(path, columns, widths) -> Path:
    """Pack ``columns`` at ``widths`` (:func:`pack`) and write them as a binary memory file
    (:func:`binary_words`); vectorized when the words fit in :data:`NUMPY_BITS` bits."""
    bits = sum(widths)
    words = pack_array(columns, widths) if _fits(columns, widths) else pack(columns, widths)
    return write_atomic(path, binary_words(words, bits))
