"""Which examples each part of a ``dlx train`` run holds, recorded as ``RUN_DIR/splits.json``.

The parts: the fixed train/dev/test split every ``dlx`` command uses
(:func:`dlx.train.prepare.split`: stratified, seeded, 70/10/20), and a **training-dev** set —
``train_dev_fraction`` of that training split, stratified, seeded — held out of training so
that ``dlx diagnose`` separates variance (train -> training-dev) from data mismatch
(training-dev -> dev). Dev and test are the fixed split's, whatever the fraction, so
``dlx evaluate --split test`` and the accuracy ``dlx train`` prints agree.

splits.json (indices are rows of the dataset as :func:`dlx.train.prepare.load_dataset`
returns it)::

    {"dataset": "digits", "m": 1797, "seed": 0, "train_dev_fraction": 0.1,
     "indices": {"train": [...], "train_dev": [...], "dev": [...], "test": [...]}}

A resumed run reads the record and trains on exactly those rows; a different dataset, size,
seed or fraction is refused (:meth:`RunSplits.check_resumes`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from dlx.errors import ConfigError
from dlx.strategy.splits import PARTS, Splits, split_indices

FILE = "splits.json"
DEFAULT_TRAIN_DEV_FRACTION = 0.1


@dataclass
class RunSplits:
    """The recipe (dataset, m, seed, fraction) and the index lists it gave."""

    dataset: str
    m: int
    seed: int
    train_dev_fraction: float
    splits: Splits

    @classmethod
    def make(cls, dataset: str, y, train_dev_fraction: float, seed: int,
             required: bool = True) -> "RunSplits":
        """The fixed split of the (m,) host labels ``y`` (an array) plus a training-dev carve-out of
        ``train_dev_fraction`` of its training rows (stratified, seeded with ``seed``).
        A carve-out that rounds to no example is an error when ``required``, else none."""
        from dlx.train.prepare import split

        check_fraction(train_dev_fraction)
        fixed = split(list(range(len(y))), y)  # rows of the fixed split, its checks included
        train = [int(i) for i in fixed.X_train]
        indices = {"train": train, "dev": [int(i) for i in fixed.X_dev],
                   "test": [int(i) for i in fixed.X_test]}
        held = split_indices(len(train), y[train], {"train_dev": float(train_dev_fraction)},
                             stratify=True, seed=seed).indices if train_dev_fraction else {}
        if held and not held["train_dev"] and required:
            raise ConfigError(f"dlx train: --train-dev-fraction {train_dev_fraction} of "
                              f"{len(train)} training examples holds none; use a larger "
                              "fraction, or 0 for no training-dev set")
        if held and held["train_dev"]:
            indices["train_dev"] = [train[i] for i in held["train_dev"]]
            indices["train"] = [train[i] for i in held["train"]]
        else:
            train_dev_fraction = 0.0
        return cls(dataset, len(y), int(seed), float(train_dev_fraction), Splits(indices))

    # -- the parts ----------------------------------------------------------------------------
    def take(self, part: str, X, y):
        """(X, y) rows of ``part`` (``train``, ``train_dev``, ``dev`` or ``test``)."""
        if len(y) != self.m:
            raise ConfigError(f"{FILE}: records a dataset of {self.m} examples, but "
                              f"{self.dataset!r} now has {len(y)}")
        return self.splits.take(part, X, y)

    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in PARTS if p in self.splits.indices)

    def digest(self) -> str:
        """SHA-256 of the JSON record: equal on every rank that holds the same splits."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    # -- JSON ---------------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps({"dataset": self.dataset, "m": self.m, "seed": self.seed,
                           "train_dev_fraction": self.train_dev_fraction,
                           "indices": {k: [int(i) for i in v]
                                       for k, v in self.splits.indices.items()}})

    def write(self, run_dir) -> Path:
        path = Path(run_dir) / FILE
        path.write_text(self.to_json() + "\n")
        return path

    @classmethod
    def read(cls, path) -> "RunSplits":
        """The record in ``path``, checked: index lists of distinct rows in [0, m)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            record = cls(str(data["dataset"]), int(data["m"]), int(data["seed"]),
                         float(data["train_dev_fraction"]), Splits(dict(data["indices"])))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{path}: not a splits record written by `dlx train` ({exc!r}); "
                              "expected keys dataset, m, seed, train_dev_fraction, indices")
        record._check(path)
        return record

    def _check(self, path) -> None:
        rows = []
        for part, found in self.splits.indices.items():
            if part not in PARTS or not isinstance(found, list) or \
                    not all(isinstance(i, int) and not isinstance(i, bool) for i in found):
                raise ConfigError(f"{path}: part {part!r} must be one of {', '.join(PARTS)} "
                                  "with a list of integer row indices")
            rows += found
        missing = [p for p in ("train", "dev", "test") if p not in self.splits.indices]
        if missing:
            raise ConfigError(f"{path}: lacks the part(s) {', '.join(missing)}")
        if any(i < 0 or i >= self.m for i in rows) or len(set(rows)) != len(rows):
            raise ConfigError(f"{path}: indices must be distinct rows in [0, {self.m}); a row "
                              "is out of range or in two parts")

    # -- resuming -----------------------------------------------------------------------------
    def check_resumes(self, wanted: "RunSplits", path) -> None:
        """ConfigError unless ``wanted`` (what this invocation would split) is this record."""
        differ = [f"{name} {getattr(self, name)!r} (this run: {getattr(wanted, name)!r})"
                  for name in ("dataset", "m", "seed", "train_dev_fraction")
                  if getattr(self, name) != getattr(wanted, name)]
        if not differ and self.splits.indices != wanted.splits.indices:
            differ = ["the index lists (the dataset's labels changed)"]
        if differ:
            raise ConfigError(f"resume: {path} records a different split: " + "; ".join(differ)
                              + ". Resume with the recorded options, or train into a fresh "
                              "--out")


def check_fraction(fraction) -> None:
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or \
            not 0 <= fraction < 1:
        raise ConfigError(f"dlx train: --train-dev-fraction must be in [0, 1), got {fraction!r}")


def for_run(dataset: str, y, train_dev_fraction: float | None, seed: int, resume) -> RunSplits:
    """The splits of a ``dlx train`` run: made fresh, or, when ``resume`` names a checkpoint,
    the record beside it (``train_dev_fraction`` None = the recorded one, else
    :data:`DEFAULT_TRAIN_DEV_FRACTION`, or none where that rounds to no example). A
    checkpoint without a record (written before runs recorded their splits) resumes only
    with ``train_dev_fraction`` 0, its training set."""
    recorded_path = None if resume is None else Path(resume).parent / FILE
    if recorded_path is None or not recorded_path.exists():
        if recorded_path is not None and train_dev_fraction != 0:
            raise ConfigError(f"resume: {resume} has no {FILE} beside it (written before runs "
                              "recorded their splits); resume it with --train-dev-fraction 0, "
                              "the training set it was trained on")
        if train_dev_fraction is None:  # the default: a dataset too small for it has none
            return RunSplits.make(dataset, y, DEFAULT_TRAIN_DEV_FRACTION, seed, required=False)
        return RunSplits.make(dataset, y, train_dev_fraction, seed)
    recorded = RunSplits.read(recorded_path)
    fraction = recorded.train_dev_fraction if train_dev_fraction is None else train_dev_fraction
    recorded.check_resumes(RunSplits.make(dataset, y, fraction, seed), recorded_path)
    return recorded


def check_same_on_ranks(splits: RunSplits, comm) -> None:
    """DistributedError unless every rank of ``comm`` holds the same splits."""
    from dlx.distributed.comm import DistributedError
    from dlx.distributed.data_parallel import host_comm

    digests = host_comm(comm).allgather(splits.digest())
    differ = [r for r, d in enumerate(digests) if d != digests[0]]
    if differ:
        raise DistributedError(f"dlx train --distributed: rank(s) {differ} split the data "
                               "differently from rank 0; every rank needs the same dataset, "
                               "--train-dev-fraction and run directory")


def recorded_parts(run_dir, dataset: str, X, y) -> dict:
    """{part: (X, y)} of a run on ``dataset``: the parts ``RUN_DIR/splits.json`` records,
    else (runs written before ``dlx train`` recorded its splits, or another dataset) the
    fixed train/dev/test split every ``dlx`` command uses."""
    from dlx.train.prepare import split

    path = Path(run_dir) / FILE
    if path.exists():
        splits = RunSplits.read(path)
        if splits.dataset == dataset:
            return {part: splits.take(part, X, y) for part in splits.parts()}
    data = split(X, y)
    return {"train": (data.X_train, data.y_train), "dev": (data.X_dev, data.y_dev),
            "test": (data.X_test, data.y_test)}
