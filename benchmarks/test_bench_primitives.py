"""Per-primitive benchmarks (im2col, col2im, conv, max pooling, softmax CE, dense), the GEMM
throughput reference and the per-op framework overhead, on every column."""

import pytest
from conftest import cases_of, run_case


@pytest.mark.parametrize("case", cases_of("reference", "primitive", "overhead"))
def test_primitive(benchmark, case, column):
    benchmark.group = case.name
    run_case(benchmark, case, column)
