"""``python -m dlx.bench``: the same as ``dlx bench``."""

import sys

from dlx.bench.cli import main

sys.exit(main())
