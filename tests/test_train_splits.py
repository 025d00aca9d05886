"""`dlx train` records its splits (OUT/splits.json): a training-dev set carved out of the fixed
training split, dev and test untouched; resume reuses the record and refuses a different one."""

import json

import numpy as np
import pytest

from dlx.cli import main
from dlx.data import train_dev_test_split
from dlx.train.prepare import SPLIT, load_dataset

BASE = ["train", "--model", "logreg", "--quiet", "--backend", "numpy"]


def _train(out, *extra):
    return main(BASE + ["--out", str(out), *map(str, extra)])


def _fixed_rows(y):
    """The fixed split's row lists, computed here from dlx.data's splitter."""
    parts = train_dev_test_split(np.arange(len(y)), y, dev=SPLIT["dev"], test=SPLIT["test"],
                                 seed=SPLIT["seed"])
    return {"train": parts.X_train.tolist(), "dev": parts.X_dev.tolist(),
            "test": parts.X_test.tolist()}


@pytest.fixture(scope="module")
def digits_y():
    return load_dataset("digits")[1]


def test_the_record_carves_training_dev_out_of_the_training_split(tmp_path, digits_y):
    assert _train(tmp_path, "--epochs", 1, "--train-dev-fraction", 0.2) == 0
    record = json.loads((tmp_path / "splits.json").read_text())
    assert (record["dataset"], record["m"], record["train_dev_fraction"]) == \
        ("digits", len(digits_y), 0.2)
    parts, fixed = record["indices"], _fixed_rows(digits_y)
    assert parts["dev"] == fixed["dev"] and parts["test"] == fixed["test"]
    assert sorted(parts["train"] + parts["train_dev"]) == sorted(fixed["train"])
    assert not set(parts["train"]) & set(parts["train_dev"])
    n_train = len(fixed["train"])
    assert abs(len(parts["train_dev"]) - 0.2 * n_train) <= 10  # stratified: rounded per class
    # stratified: every digit is in the training-dev set
    assert set(digits_y[parts["train_dev"]].tolist()) == set(range(10))


def test_fraction_zero_trains_on_the_fixed_training_rows_in_order(tmp_path, digits_y):
    assert _train(tmp_path, "--epochs", 1, "--train-dev-fraction", 0) == 0
    parts = json.loads((tmp_path / "splits.json").read_text())["indices"]
    assert "train_dev" not in parts
    assert parts == _fixed_rows(digits_y)


def test_evaluate_reads_the_recorded_parts(tmp_path, capsys):
    assert _train(tmp_path, "--epochs", 1) == 0
    parts = json.loads((tmp_path / "splits.json").read_text())["indices"]
    capsys.readouterr()
    for split in ("train", "train_dev"):
        assert main(["evaluate", str(tmp_path / "checkpoint.npz"), "--split", split,
                     "--backend", "numpy"]) == 0
        assert f"/{len(parts[split])})" in capsys.readouterr().out


def test_resume_reuses_the_record_and_refuses_another(tmp_path, capsys):
    assert _train(tmp_path, "--epochs", 1, "--train-dev-fraction", 0.15) == 0
    before = (tmp_path / "splits.json").read_text()
    assert _train(tmp_path, "--epochs", 2, "--resume") == 0  # the recorded fraction is kept
    assert (tmp_path / "splits.json").read_text() == before
    capsys.readouterr()
    assert _train(tmp_path, "--epochs", 3, "--resume", "--train-dev-fraction", 0.1) == 2
    err = capsys.readouterr().err
    assert "records a different split" in err and "train_dev_fraction 0.15" in err
    assert _train(tmp_path, "--epochs", 3, "--resume", "--train-dev-fraction", 0.15) == 0


def test_resume_of_a_run_without_a_record_needs_fraction_zero(tmp_path, capsys):
    assert _train(tmp_path, "--epochs", 1, "--train-dev-fraction", 0) == 0
    (tmp_path / "splits.json").unlink()  # as a run written before splits were recorded
    capsys.readouterr()
    assert _train(tmp_path, "--epochs", 2, "--resume") == 2
    assert "--train-dev-fraction 0" in capsys.readouterr().err
    assert _train(tmp_path, "--epochs", 2, "--resume", "--train-dev-fraction", 0) == 0
    assert (tmp_path / "splits.json").exists()


def test_the_same_splits_on_every_rank():
    from dlx.distributed.comm import DistributedError
    from dlx.train.run_splits import RunSplits, check_same_on_ranks

    y = np.arange(100) % 3
    a = RunSplits.make("d", y, 0.1, 0)

    class TwoRanks:  # rank 1 reports another split's digest
        def allgather(self, obj):
            return [obj, RunSplits.make("d", y, 0.2, 0).digest()]

    check_same_on_ranks(a, type("One", (), {"allgather": lambda self, o: [o, o]})())
    with pytest.raises(DistributedError, match=r"rank\(s\) \[1\]"):
        check_same_on_ranks(a, TwoRanks())
