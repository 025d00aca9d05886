"""Train / training-dev / dev / test splits as the course sets them up (course 3).

Sizes are fractions of m (``0.01``) or absolute counts (``10_000`` of a million: in the big
data era dev and test need only be big enough to tell models apart). Splits are seeded,
stratified by label when asked, and returned as index lists so a run can record exactly
which examples each part holds (``Splits.to_json``).

Mismatched distributions (``mismatched_split``): dev and test come only from the target
distribution (the data the system must do well on); the rest of the target data joins the
other-source data in training; a training-dev set — same distribution as training, never
trained on — is carved out of training so the gaps separate variance from data mismatch.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from dlx.errors import ConfigError, ShapeError

PARTS = ("train", "train_dev", "dev", "test")


@dataclass
class Splits:
    """Index lists per part (into the arrays given to the splitter) and ``take``."""

    indices: dict = field(default_factory=dict)

    def take(self, part: str, *arrays):
        """The rows of ``arrays`` (anything indexable by an integer list) in ``part``."""
        if part not in self.indices:
            raise ConfigError(f"Splits: no part {part!r}; parts are {', '.join(self.indices)}")
        rows = self.indices[part]
        taken = tuple(a[rows] for a in arrays)
        return taken[0] if len(taken) == 1 else taken

    def sizes(self) -> dict:
        return {k: len(v) for k, v in self.indices.items()}

    def to_json(self) -> str:
        return json.dumps({k: [int(i) for i in v] for k, v in self.indices.items()})

    @classmethod
    def from_json(cls, text: str) -> "Splits":
        return cls({k: list(v) for k, v in json.loads(text).items()})


def part_size(size, m: int, name: str) -> int:
    """A fraction in [0, 1) of m, or an absolute count (an integer >= 1)."""
    if isinstance(size, bool) or size is None:
        raise ConfigError(f"split: {name} must be a fraction or a count, got {size!r}")
    if isinstance(size, float) and 0 <= size < 1:
        return int(round(size * m))
    if float(size) == int(size) and size >= 0:
        return int(size)
    raise ConfigError(f"split: {name} must be a fraction in [0, 1) or a whole count, got {size}")


def _groups(y, stratify: bool, m: int):
    if not stratify:
        return [list(range(m))]
    labels = [int(v) for v in y]
    by_label: dict = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    return [by_label[k] for k in sorted(by_label)]


def split_indices(m: int, y=None, sizes: dict | None = None, stratify: bool = False,
                  seed: int = 0) -> Splits:
    """Seeded split of range(m) into parts of the given sizes (the rest is ``train``).

    sizes: {"dev": ..., "test": ..., "train_dev": ...} (fractions or counts, of m).
    Stratified: each label contributes to each part in proportion (needs ``y``).
    """
    sizes = {k: v for k, v in (sizes or {}).items()}
    unknown = set(sizes) - set(PARTS[1:])
    if unknown:
        raise ConfigError(f"split: unknown part(s) {sorted(unknown)}; use train_dev, dev, test")
    if stratify and (y is None or len(y) != m):
        raise ShapeError(f"split: stratifying needs labels y of length {m}")
    counts = {k: part_size(v, m, k) for k, v in sizes.items()}
    if sum(counts.values()) >= m:
        raise ConfigError(f"split: parts {counts} leave no training examples out of {m}")
    rng = random.Random(seed)
    parts = {k: [] for k in ("train", *counts)}
    groups = _groups(y, stratify, m)
    for group in groups:
        rng.shuffle(group)
        start = 0
        for name, count in counts.items():
            share = int(round(count * len(group) / m)) if stratify else count
            parts[name] += group[start:start + share]
            start += share
        parts["train"] += group[start:]
    for rows in parts.values():
        rng.shuffle(rows)
    return Splits(parts)


def train_dev_test(X, y, dev=0.1, test=0.1, train_dev=0, stratify: bool = True,
                   seed: int = 0) -> Splits:
    """Split (X, y) of one distribution; ``train_dev`` carves a training-dev set."""
    if len(X) != len(y):
        raise ShapeError(f"split: X has {len(X)} examples but y has {len(y)}")
    sizes = {"dev": dev, "test": test}
    if train_dev:
        sizes["train_dev"] = train_dev
    return split_indices(len(y), y, sizes, stratify, seed)


def mismatched_split(y_source, y_target, dev, test, train_dev=0, seed: int = 0) -> Splits:
    """The course's recipe for training data from another distribution.

    Indices refer to the concatenation [source examples; target examples]: dev and test
    (sizes of the target set) are drawn from the target examples only, the remaining
    target examples join all source examples in training, and ``train_dev`` (a size of
    that training set) is held out of training as the training-dev set.
    """
    n_source, n_target = len(y_source), len(y_target)
    target = split_indices(n_target, y_target, {"dev": dev, "test": test}, False, seed)
    shifted = {k: [n_source + i for i in v] for k, v in target.indices.items()}
    pool = list(range(n_source)) + shifted["train"]
    parts = {"dev": shifted["dev"], "test": shifted["test"]}
    if train_dev:
        held = split_indices(len(pool), None, {"train_dev": train_dev}, False, seed + 1)
        parts["train"] = [pool[i] for i in held.indices["train"]]
        parts["train_dev"] = [pool[i] for i in held.indices["train_dev"]]
    else:
        parts["train"] = pool
    return Splits(parts)
