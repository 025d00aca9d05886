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


# -- metrics against scikit-learn, satisficing selection ---------------------------------------
@pytest.mark.parametrize("k,seed", [(2, 0), (3, 1), (5, 2), (7, 3)])
def test_metrics_equal_scikit_learn_on_random_labels(backend, k, seed):
    sk = pytest.importorskip("sklearn.metrics", reason="needs scikit-learn: dlx[data]")
    rng = np.random.default_rng(seed)
    t, p = rng.integers(0, k, 300), rng.integers(0, k, 300)
    yt, yp = backend.asarray(t), backend.asarray(p)
    labels = list(range(k))
    assert confusion_matrix(yt, yp, k).tolist() == sk.confusion_matrix(t, p, labels=labels).tolist()
    for average in ("macro", "micro") + (("binary",) if k == 2 else ()):
        ours = precision_recall_f1(yt, yp, average=average, n_classes=k)
        kw = {"average": average, "labels": labels, "zero_division": 0}
        assert ours["precision"] == pytest.approx(sk.precision_score(t, p, **kw), abs=1e-12)
        assert ours["recall"] == pytest.approx(sk.recall_score(t, p, **kw), abs=1e-12)
        assert ours["f1"] == pytest.approx(sk.f1_score(t, p, **kw), abs=1e-12)


def test_binary_metrics_of_a_class_that_is_never_predicted_are_zero(backend):
    yt, yp = backend.asarray(np.array([0, 1, 1])), backend.asarray(np.array([0, 0, 0]))
    assert precision_recall_f1(yt, yp) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    with pytest.raises(ConfigError, match="average"):
        precision_recall_f1(yt, yp, average="weighted")


def test_selection_maximises_accuracy_subject_to_prediction_time():
    from dlx.strategy.selection import select

    runs = [{"name": "A", "accuracy": 0.90, "predict_ms": 80},
            {"name": "B", "accuracy": 0.92, "predict_ms": 95},
            {"name": "C", "accuracy": 0.95, "predict_ms": 1500}]  # the course's example
    best, feasible = select(runs, "accuracy", ["predict_ms <= 100"])
    assert best["name"] == "B" and [r["name"] for r in feasible] == ["B", "A"]
    assert select(runs, "accuracy", ["predict_ms < 50"])[0] is None
    assert select(runs, "predict_ms", maximize=False)[0]["name"] == "A"
    with pytest.raises(ConfigError, match="METRIC OP NUMBER"):
        select(runs, "accuracy", ["fast please"])
    with pytest.raises(ConfigError, match="no such metric"):
        select(runs, "accuracy", ["memory_mb <= 3"])


def test_prediction_time_is_measured_on_the_model(backend):
    from dlx.models import mlp
    from dlx.strategy.selection import prediction_ms

    ms = prediction_ms(mlp([4, 3]), np.zeros((10, 4)), repeats=3)
    assert ms > 0 and math.isfinite(ms)


# -- the error-analysis spreadsheet -----------------------------------------------------------
def test_error_sheet_counts_tags_and_the_improvement_ceiling(tmp_path):
    from dlx.strategy.error_sheet import error_sheet, read_error_sheet

    y_true = [0, 1, 1, 2, 2, 2, 0, 1, 2, 0]
    y_pred = [0, 0, 1, 1, 0, 2, 2, 1, 2, 0]  # 4 errors out of 10: dev error 40%

    def tags(index, true, predicted):
        return {"blurry"} if index % 2 else {"dog"} if true == 2 else set()

    sheet = error_sheet(y_true, y_pred, tags=tags)
    assert [r["index"] for r in sheet.rows] == [1, 3, 4, 6]
    summary = {tag: (n, share, ceiling) for tag, n, share, ceiling in sheet.summary()}
    assert summary["blurry"] == (2, 0.5, pytest.approx(0.2))  # errors 1 and 3
    assert summary["dog"] == (1, 0.25, pytest.approx(0.1))    # error 4 (true 2, even)
    assert summary["incorrectly_labelled"][0] == 0
    path = sheet.to_csv(tmp_path / "errors.csv")
    text = path.read_text().splitlines()
    assert text[0] == "index,true,predicted,blurry,dog,incorrectly_labelled,comment"
    # the user marks error 6 as a wrong label and adds a tag column of their own
    edited = [text[0].replace(",comment", ",great cat,comment")]
    for line in text[1:]:
        cells = line.split(",")
        if cells[0] == "6":
            cells[5] = "x"
        edited.append(",".join(cells[:-1] + ["1" if cells[0] == "1" else "", cells[-1]]))
    path.write_text("\n".join(edited) + "\n")
    again = {t: n for t, n, _, _ in read_error_sheet(path, n_dev=10).summary()}
    assert again == {"blurry": 2, "dog": 1, "incorrectly_labelled": 1, "great cat": 1}
    assert "ceiling" in str(sheet)
