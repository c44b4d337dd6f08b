"""Fault injection against generated netlists: test adequacy and resilience campaigns."""
