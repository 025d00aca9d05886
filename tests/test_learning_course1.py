"""Course-1 learning results on real data, fixed seeds (the code is the shipped example)."""

import importlib.util
import pathlib

import pytest

EXAMPLE = pathlib.Path(__file__).parents[1] / "examples" / "course1_logistic_and_deep.py"
spec = importlib.util.spec_from_file_location("course1_example", EXAMPLE)
course1 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(course1)

pytestmark = pytest.mark.slow


def test_logistic_regression_on_breast_cancer_reaches_95_percent(backend):
    assert course1.logistic_regression_breast_cancer(seed=0) >= 0.95


def test_depth_solves_spirals_where_logistic_regression_cannot(backend):
    assert course1.spirals_accuracy((), seed=0) < 0.90
    assert course1.spirals_accuracy((64, 64), seed=0) >= 0.95
