"""dlx diagnose on a real run directory written by dlx train, with and without a recorded
splits.json that holds a training-dev set; the course's worked examples."""

import re

import pytest

from dlx.cli import main
from dlx.strategy import diagnose


@pytest.mark.parametrize("human,train,train_dev,dev,focus", [
    (0.01, 0.08, None, 0.10, "avoidable bias"),
    (0.075, 0.08, None, 0.10, "variance"),
    (0.0, 0.01, 0.015, 0.10, "data mismatch"),
])
def test_the_course_worked_examples(human, train, train_dev, dev, focus):
    assert diagnose(train, dev, human_error=human, train_dev_error=train_dev).focus == focus


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--model", "logreg", "--epochs", "2", "--quiet", "--backend",
                 "numpy", "--out", str(out)]) == 0
    return out


def _errors(text):
    return {m[0]: float(m[1]) / 100 for m in re.findall(r"^(\w+) error\s+([\d.]+)%", text, re.M)}


def _recorded_errors(run_dir):
    """Errors of the run's best.npz on the parts splits.json lists, computed here."""
    import json

    import numpy as np

    from dlx.cli import _load_trained
    from dlx.train.prepare import load_dataset

    model, _, prep = _load_trained(run_dir / "best.npz")
    X, y = load_dataset("digits")
    indices = json.loads((run_dir / "splits.json").read_text())["indices"]
    return {part: float(np.mean(model.predict(prep.apply(X[rows])) != y[rows]))
            for part, rows in indices.items()}


def test_diagnose_a_dlx_train_run(run_dir, capsys, tmp_path):
    """All four parts dlx train recorded are evaluated; the four gaps follow from them."""
    capsys.readouterr()
    assert main(["diagnose", str(run_dir), "--human-error", "0.01", "--error-sheet",
                 str(tmp_path / "errors.csv")]) == 0
    text = capsys.readouterr().out
    printed = _errors(text)
    assert set(printed) == {"train", "train_dev", "dev", "test", "human"}
    errors = _recorded_errors(run_dir)
    for part, value in errors.items():
        assert printed[part] == pytest.approx(value, abs=5e-5)
    gaps = {"avoidable bias": errors["train"] - 0.01,
            "variance": errors["train_dev"] - errors["train"],
            "data mismatch": errors["dev"] - errors["train_dev"],
            "overfitting to dev": errors["test"] - errors["dev"]}
    for name, gap in gaps.items():
        assert f"{name} {gap:8.2%}".split() == \
            re.search(name + r"\s+[-\d.]+%", text).group(0).split()
    assert "focus on" in text
    assert (tmp_path / "errors.csv").read_text().startswith("index,true,predicted")


def test_diagnose_a_run_without_a_training_dev_set(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "logreg", "--epochs", "1", "--quiet", "--backend",
                 "numpy", "--train-dev-fraction", "0", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["diagnose", str(out)]) == 0
    text = capsys.readouterr().out
    assert set(_errors(text)) == {"train", "dev", "test", "human"}
    assert "data mismatch" not in text


def test_diagnose_a_folder_without_a_model(tmp_path, capsys):
    assert main(["diagnose", str(tmp_path)]) == 2
    assert "no best.npz" in capsys.readouterr().err
