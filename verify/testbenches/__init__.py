"""cocotb testbenches; each runs in the simulator process, configured by environment."""
