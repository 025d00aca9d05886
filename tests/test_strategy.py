"""ML-strategy tools: metrics against hand counts, diagnosis against the course's examples."""

import math

import numpy as np
import pytest

from dlx.errors import ConfigError
from dlx.strategy import (Choice, LogUniform, OneMinusLogUniform, accuracy, confusion_matrix,
                          diagnose, error_analysis, precision_recall_f1, random_search)


def test_metrics_match_hand_counts(backend):
    y_true = backend.asarray(np.array([1, 1, 0, 0, 1, 2]))
    y_pred = backend.asarray(np.array([1, 0, 0, 1, 1, 2]))
    assert accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    cm = confusion_matrix(y_true, y_pred)
    assert cm.tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    prf = precision_recall_f1(y_true, y_pred, positive=1)
    assert prf["precision"] == pytest.approx(2 / 3) and prf["recall"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("human,train,dev,focus", [
    (0.01, 0.08, 0.10, "avoidable bias"),   # the course's cat classifier, humans at 1%
    (0.075, 0.08, 0.10, "variance"),        # humans at 7.5%: reduce variance instead
])
def test_diagnosis_follows_the_course_examples(human, train, dev, focus):
    d = diagnose(train, dev, human_error=human)
    assert d.focus == focus and d.remedy
    assert focus in str(d)


def test_diagnosis_with_a_training_dev_set_finds_data_mismatch():
    d = diagnose(0.01, 0.10, train_dev_error=0.015)
    assert d.focus == "data mismatch"
    assert d.gaps["variance"] == pytest.approx(0.005)


def test_diagnosis_rejects_percentages():
    with pytest.raises(ConfigError, match="fraction"):
        diagnose(8, 10)


def test_error_analysis_ranks_the_commonest_mistakes():
    rows = error_analysis([3, 3, 3, 5, 8], [8, 8, 3, 6, 8])
    assert rows[0] == ("3 -> 8", 2, pytest.approx(2 / 3))
    tagged = error_analysis([1, 1, 1], [0, 0, 1], tags=["blurry", "dog", "ok"])
    assert {r[0] for r in tagged} == {"blurry", "dog"}


def test_random_search_samples_learning_rates_on_a_log_scale():
    import random

    rng = random.Random(0)
    draws = [LogUniform(1e-4, 1).sample(rng) for _ in range(4000)]
    decades = [sum(10 ** (-k - 1) <= d < 10 ** -k for d in draws) for k in range(4)]
    assert min(decades) > 800  # about a quarter of the draws in each decade
    betas = [OneMinusLogUniform(0.9, 0.999).sample(rng) for _ in range(1000)]
    assert all(0.9 <= b <= 0.999 for b in betas)


def test_random_search_returns_the_best_first():
    results = random_search(lambda lr, act: (math.log10(lr) + 2) ** 2,
                            {"lr": LogUniform(1e-4, 1), "act": Choice(("relu", "tanh"))},
                            trials=30, seed=1)
    assert results[0][1] <= results[-1][1]
    assert abs(math.log10(results[0][0]["lr"]) + 2) < 0.3
