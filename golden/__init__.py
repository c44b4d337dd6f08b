"""The golden reference model: bit-exact formats, rounding and arithmetic in NumPy only."""
