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


def test_diagnose_a_dlx_train_run(run_dir, capsys):
    capsys.readouterr()
    assert main(["diagnose", str(run_dir), "--human-error", "0.01"]) == 0
    text = capsys.readouterr().out
    errors = _errors(text)
    assert set(errors) == {"train", "dev", "test", "human"}
    bias = errors["train"] - 0.01
    assert f"avoidable bias {bias:8.2%}".split() == \
        re.search(r"avoidable bias\s+[-\d.]+%", text).group(0).split()
    assert "focus on" in text


def test_diagnose_uses_a_recorded_training_dev_set(run_dir, capsys, tmp_path):
    from dlx.strategy.splits import split_indices
    from dlx.train.prepare import load_dataset

    X, y = load_dataset("digits")
    splits = split_indices(len(y), y, {"dev": 0.1, "test": 0.2, "train_dev": 0.1}, True, 0)
    (run_dir / "splits.json").write_text(splits.to_json())
    try:
        capsys.readouterr()
        assert main(["diagnose", str(run_dir), "--error-sheet",
                     str(tmp_path / "errors.csv")]) == 0
    finally:
        (run_dir / "splits.json").unlink()
    text = capsys.readouterr().out
    assert set(_errors(text)) == {"train", "train_dev", "dev", "test", "human"}
    assert "data mismatch" in text
    assert (tmp_path / "errors.csv").read_text().startswith("index,true,predicted")


def test_diagnose_a_folder_without_a_model(tmp_path, capsys):
    assert main(["diagnose", str(tmp_path)]) == 2
    assert "no best.npz" in capsys.readouterr().err
