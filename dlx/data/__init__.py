"""Datasets, splits, mini-batches and normalisation."""

from dlx.data.datasets import (Split, load_breast_cancer, load_digits, load_npz, make_spirals,
                               train_dev_test_split)
from dlx.data.batches import MiniBatches
from dlx.data.normalize import Standardizer, scale_images

__all__ = ["Split", "load_breast_cancer", "load_digits", "load_npz", "make_spirals",
           "train_dev_test_split"]
__all__ += ["MiniBatches", "Standardizer", "scale_images"]
