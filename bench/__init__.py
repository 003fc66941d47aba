"""dagrad's benchmark suite: `python -m bench` (what `make bench` runs) prints one table and records it
with the date and the machine's facts in bench/RESULTS.md. `python -m bench --quick` is a smoke run.

Every case times dagrad, PyTorch (with NumPy's BLAS thread count) and hand-written NumPy in turns in
one process, and reports median [min, max] plus the ratios the performance issue sets targets for.

Layout: harness.py (timing, rows, table), machine.py (facts, RSS), cases/ (one module per case, numbered
as in the issue), __main__.py (command line, RESULTS.md). Options: --case N, --quick, --no-write,
--write, --settle SECONDS (for a loaded machine).
"""
