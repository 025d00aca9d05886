"""``python benchmarks/run.py [options]``: the same as ``dlx bench`` (see dlx/bench/cli.py)."""

import sys

from dlx.bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
