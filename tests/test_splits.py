"""Splits: fractions or counts, stratified, seeded, training-dev, mismatched distributions."""

import numpy as np
import pytest

from dlx.errors import ConfigError
from dlx.strategy.splits import Splits, mismatched_split, split_indices, train_dev_test


def _disjoint_cover(splits, m):
    rows = [i for part in splits.indices.values() for i in part]
    assert sorted(rows) == list(range(m))


def test_counts_out_of_a_million_like_the_course():
    s = split_indices(1_000_000, sizes={"dev": 10_000, "test": 10_000}, seed=0)
    assert s.sizes() == {"train": 980_000, "dev": 10_000, "test": 10_000}


def test_fractions_stratified_seeded_with_training_dev():
    y = np.repeat(np.arange(4), [500, 300, 150, 50])
    X = np.arange(len(y))
    s = train_dev_test(X, y, dev=0.1, test=0.2, train_dev=0.1, seed=3)
    _disjoint_cover(s, len(y))
    assert s.sizes()["test"] == 200 and s.sizes()["dev"] == 100
    y_test = s.take("test", y)
    assert np.bincount(y_test).tolist() == [100, 60, 30, 10]  # the label mix of the whole
    again = train_dev_test(X, y, dev=0.1, test=0.2, train_dev=0.1, seed=3)
    assert again.indices == s.indices
    assert train_dev_test(X, y, seed=4).indices != train_dev_test(X, y, seed=3).indices
    assert Splits.from_json(s.to_json()).indices == s.indices


def test_mismatched_distributions_keep_dev_and_test_on_the_target():
    # the course: 200,000 web images, 10,000 from the mobile app (scaled down by 100)
    web, mobile = np.zeros(2000), np.ones(100)
    s = mismatched_split(web, mobile, dev=25, test=25, train_dev=50, seed=0)
    y = np.concatenate([web, mobile])
    _disjoint_cover(s, len(y))
    assert (s.take("dev", y) == 1).all() and (s.take("test", y) == 1).all()
    assert s.sizes() == {"dev": 25, "test": 25, "train": 2000, "train_dev": 50}
    assert int(s.take("train", y).sum() + s.take("train_dev", y).sum()) == 50  # mobile rest


@pytest.mark.parametrize("sizes,match", [({"dev": 0.6, "test": 0.5}, "no training"),
                                         ({"dev": -1}, "fraction"), ({"val": 0.1}, "unknown")])
def test_bad_sizes_are_refused(sizes, match):
    with pytest.raises(ConfigError, match=match):
        split_indices(100, sizes=sizes)
