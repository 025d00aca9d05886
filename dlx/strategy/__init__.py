"""ML strategy (course 3): metrics, bias/variance diagnosis, error analysis, random search."""

from dlx.strategy.diagnosis import Diagnosis, diagnose, error_analysis
from dlx.strategy.metrics import accuracy, confusion_matrix, precision_recall_f1
from dlx.strategy.search import Choice, LogUniform, OneMinusLogUniform, Uniform, random_search

__all__ = ["Choice", "Diagnosis", "LogUniform", "OneMinusLogUniform", "Uniform", "accuracy",
           "confusion_matrix", "diagnose", "error_analysis", "precision_recall_f1",
           "random_search"]
