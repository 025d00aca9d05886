"""Benchmarks that compare backends side by side, and against PyTorch on the CPU.

``dlx bench`` (or ``python -m dlx.bench``) times every case of :mod:`dlx.bench.cases` on
each available speed backend and on PyTorch, prints one table (median time, ratio to the
fastest column, GFLOP/s where the work is known, peak memory per training step) with the
speed targets underneath, and writes the result as JSON with the machine's description.
The same cases run under pytest-benchmark in ``benchmarks/``.

Modules: ``cases`` (the rows) and ``torch_ref`` (their PyTorch twins), ``timing``,
``memory``, ``machine``, ``targets``, ``report`` (table, JSON, compare), ``runner``,
``pytest_json`` (the table from a pytest-benchmark file) and ``cli``. Nothing is imported
here, so ``python -m dlx.bench.memory`` (the memory child) starts clean.
"""
