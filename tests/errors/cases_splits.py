"""The splits a `dlx train` run records (OUT/splits.json): bad fractions, resumes that would
train on other rows, damaged records, parts a run does not have."""

import json

import numpy as np

from errors.cases_checkpoint import run_cli
from errors.registry import registry

CASES, case = registry()


def _train(tmp_path, *extra):
    return run_cli("train", "--model", "logreg", "--epochs", 1, "--quiet", "--backend", "numpy",
                   "--out", tmp_path / "run", *extra)


def _record(tmp_path, **changes):
    from dlx.train.run_splits import RunSplits

    data = {"dataset": "d", "m": 10, "seed": 0, "train_dev_fraction": 0.0,
            "indices": {"train": [0, 1, 2, 3, 4, 5], "dev": [6, 7], "test": [8, 9]}, **changes}
    path = tmp_path / "splits.json"
    path.write_text(json.dumps(data))
    return RunSplits.read(path)


@case("split-fraction-range")
def _(tmp_path):
    """`dlx train --train-dev-fraction 1`"""
    _train(tmp_path, "--train-dev-fraction", 1)


@case("split-fraction-empty")
def _(tmp_path):
    """`dlx train --train-dev-fraction 0.001` on the 1259 training digits"""
    _train(tmp_path, "--train-dev-fraction", 0.001)


@case("split-resume-other-fraction")
def _(tmp_path):
    """`dlx train --resume --train-dev-fraction 0.2` of a run recorded with 0.1"""
    _train(tmp_path, "--train-dev-fraction", 0.1)
    _train(tmp_path, "--resume", "--train-dev-fraction", 0.2)


@case("split-resume-no-record")
def _(tmp_path):
    """`dlx train --resume` of a run without splits.json (written before runs recorded it)"""
    _train(tmp_path)
    (tmp_path / "run" / "splits.json").unlink()
    _train(tmp_path, "--resume")


@case("split-record-keys")
def _(tmp_path):
    """a splits.json without `m`"""
    from dlx.train.run_splits import RunSplits

    (tmp_path / "splits.json").write_text(json.dumps(
        {"dataset": "d", "seed": 0, "train_dev_fraction": 0,
         "indices": {"train": [0], "dev": [1], "test": [2]}}))
    RunSplits.read(tmp_path / "splits.json")


@case("split-record-row-range")
def _(tmp_path):
    """a splits.json whose test part lists row 10 of a 10-row dataset"""
    _record(tmp_path, indices={"train": [0, 1, 2], "dev": [3], "test": [10]})


@case("split-record-row-twice")
def _(tmp_path):
    """a splits.json listing row 3 in both dev and test"""
    _record(tmp_path, indices={"train": [0, 1, 2], "dev": [3], "test": [3]})


@case("split-record-dataset-size")
def _(tmp_path):
    """a splits.json for 10 rows applied to a dataset of 12"""
    _record(tmp_path).take("train", np.zeros((12, 2)), np.zeros(12))


@case("split-evaluate-no-train-dev")
def _(tmp_path):
    """`dlx evaluate --split train_dev` of a run trained with `--train-dev-fraction 0`"""
    _train(tmp_path, "--train-dev-fraction", 0)
    run_cli("evaluate", tmp_path / "run" / "checkpoint.npz", "--split", "train_dev",
            "--backend", "numpy")
