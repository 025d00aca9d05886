"""Bias/variance diagnosis and error analysis (course 3, "Structuring ML projects").

    avoidable bias = training error - human-level (proxy for Bayes) error
    variance       = dev error - training error
    data mismatch  = dev error - training-dev error (when a training-dev set is given)

The largest gap names what to work on next, with the course's remedies.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from dlx.errors import ConfigError

REMEDIES = {
    "avoidable bias": "train a bigger network, train longer or with a better optimiser "
                      "(Momentum, RMSprop, Adam), or search architectures/hyperparameters",
    "variance": "get more training data, regularise (L2, dropout, data augmentation), "
                "or search architectures/hyperparameters",
    "data mismatch": "analyse how training and dev data differ; make training data more "
                     "like dev data (collect or synthesise it)",
    "overfitting to dev": "get a bigger dev set",
}


@dataclass
class Diagnosis:
    """The gaps between error levels and the one to work on first."""

    gaps: dict = field(default_factory=dict)
    focus: str = ""
    remedy: str = ""

    def __str__(self):
        rows = [f"  {name:<20} {value:7.2%}" for name, value in self.gaps.items()]
        return "\n".join(["error gaps:", *rows, f"focus on {self.focus}: {self.remedy}"])


def diagnose(train_error: float, dev_error: float, human_error: float = 0.0,
             train_dev_error: float | None = None, test_error: float | None = None) -> Diagnosis:
    """Compare error levels (fractions in [0, 1]) and say which gap dominates."""
    for name, value in [("train_error", train_error), ("dev_error", dev_error),
                        ("human_error", human_error), ("train_dev_error", train_dev_error),
                        ("test_error", test_error)]:
        if value is not None and not 0.0 <= value <= 1.0:
            raise ConfigError(f"diagnose: {name} must be a fraction in [0, 1], got {value}")
    gaps = {"avoidable bias": train_error - human_error}
    if train_dev_error is None:
        gaps["variance"] = dev_error - train_error
    else:
        gaps["variance"] = train_dev_error - train_error
        gaps["data mismatch"] = dev_error - train_dev_error
    if test_error is not None:
        gaps["overfitting to dev"] = test_error - dev_error
    focus = max(gaps, key=gaps.get)
    return Diagnosis(gaps, focus, REMEDIES[focus])


def error_analysis(y_true, y_pred, tags=None, top: int = 10) -> list[tuple[str, int, float]]:
    """Tally misclassified examples: by (true -> predicted) pair, or by a per-example tag.

    Returns up to ``top`` rows (category, count, fraction of all errors), most frequent
    first — the course's spreadsheet of mistakes that tells which fix pays most.
    """
    y_true, y_pred = list(map(int, y_true)), list(map(int, y_pred))
    wrong = [i for i, (t, p) in enumerate(zip(y_true, y_pred)) if t != p]
    if tags is None:
        keys = [f"{y_true[i]} -> {y_pred[i]}" for i in wrong]
    else:
        keys = [str(tags[i]) for i in wrong]
    counts = Counter(keys).most_common(top)
    return [(k, n, n / len(wrong)) for k, n in counts] if wrong else []
