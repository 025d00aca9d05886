"""One full Adam training step per model and batch size, on every column, with the peak host
memory of a step (device memory on CuPy) recorded in ``extra_info``."""

import pytest
from conftest import cases_of, run_case


@pytest.mark.parametrize("case", cases_of("model"))
def test_adam_step(benchmark, case, column):
    benchmark.group = case.name
    run_case(benchmark, case, column, with_memory=True)
