"""Datasets, splits, mini-batches and normalisation."""

from dlx.data.datasets import (Split, load_breast_cancer, load_digits, load_npz, make_spirals,
                               train_dev_test_split)

__all__ = ["Split", "load_breast_cancer", "load_digits", "load_npz", "make_spirals",
           "train_dev_test_split"]
