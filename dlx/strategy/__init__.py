"""ML strategy (course 3): metrics, bias/variance diagnosis, error analysis, random search."""

from dlx.strategy.diagnosis import Diagnosis, diagnose, error_analysis
from dlx.strategy.metrics import accuracy, confusion_matrix, precision_recall_f1
from dlx.strategy.search import Choice, LogUniform, OneMinusLogUniform, Uniform, random_search

__all__ = ["Choice", "Diagnosis", "LogUniform", "OneMinusLogUniform", "Uniform", "accuracy",
           "confusion_matrix", "diagnose", "error_analysis", "precision_recall_f1",
           "random_search"]
from dlx.strategy.metrics import AVERAGES
from dlx.strategy.search import IntRange, parse_space, zoom
from dlx.strategy.selection import prediction_ms, select
from dlx.strategy.splits import Splits, mismatched_split, split_indices, train_dev_test
from dlx.strategy.error_sheet import error_sheet, read_error_sheet

__all__ += ["AVERAGES", "IntRange", "Splits", "error_sheet", "mismatched_split", "parse_space",
            "prediction_ms", "read_error_sheet", "select", "split_indices", "train_dev_test",
            "zoom"]
