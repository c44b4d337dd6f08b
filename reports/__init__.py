"""Area reports: ``lowbit.reports.synth(design, targets=...)`` runs Yosys on a lowbit component
or a Verilog file (see :mod:`lowbit.reports.synthesis`); tables, plots and baselines live in
the submodules."""


def __getattr__(name):
    # Lazy, so that importing a writer (tables, plots) does not load Amaranth and Yosys glue.
    if name == "synth":
        from lowbit.reports.synthesis import synth

        return synth
    raise AttributeError(f"module 'lowbit.reports' has no attribute {name!r}")
