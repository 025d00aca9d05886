"""One ``dlx search`` worker process: ``python -m dlx.strategy.search_worker CONFIG_JSON``."""

import json
import sys

from dlx.strategy.study import SearchConfig, run_worker

if __name__ == "__main__":
    run_worker(SearchConfig(**json.loads(sys.argv[1])))
