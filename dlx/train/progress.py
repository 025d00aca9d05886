"""Progress reporting: a tqdm bar per epoch on a terminal, one line per epoch otherwise.

The bar advances by samples (so tqdm shows samples/s) and shows the epoch's cost and
accuracy once they are known — at the end of the epoch, because the cost is read back from
the device once per logging interval, not per batch. Modes:

* ``progress=True``/``False`` forces the bar on/off; ``None`` (default) asks the
  ``DLX_PROGRESS`` environment variable ("1"/"0"), else shows it only when stderr is a TTY.
* Without a bar (and unless ``quiet``), each epoch prints one line to ``stream`` (stdout),
  the form a log file wants:
  ``epoch 3/10  cost 0.1234  accuracy 0.9712  dev_cost 0.1456  dev_accuracy 0.9650  lr 0.001  1.21s  1190 samples/s``
"""

from __future__ import annotations

import os
import sys

_ORDER = ("cost", "accuracy", "dev_cost", "dev_accuracy", "lr")


def bar_wanted(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    env = os.environ.get("DLX_PROGRESS", "").strip().lower()
    if env:
        return env not in ("0", "false", "no", "off")
    return sys.stderr.isatty()


def format_epoch(record: dict, epochs: int) -> str:
    """One log line for an epoch record (see module docstring)."""
    width = len(str(epochs))
    parts = [f"epoch {record['epoch']:>{width}}/{epochs}"]
    for key in _ORDER:
        if record.get(key) is not None:
            parts.append(f"{key} {record[key]:.4g}" if key == "lr" else f"{key} {record[key]:.4f}")
    if "time" in record:
        parts.append(f"{record['time']:.2f}s")
    if "samples_per_s" in record:
        parts.append(f"{record['samples_per_s']:.0f} samples/s")
    return "  ".join(parts)


class Progress:
    """Reports epochs of ``n_samples`` each; ``quiet`` silences everything."""

    def __init__(self, epochs: int, n_samples: int, progress: bool | None = None,
                 quiet: bool = False, stream=None, log_file=None):
        self.epochs, self.n_samples = epochs, n_samples
        self.bar_enabled = not quiet and bar_wanted(progress)
        self.lines_enabled = not quiet and not self.bar_enabled
        self.stream = stream
        self.log_file = log_file
        self._bar = None

    def start_epoch(self, epoch: int) -> None:
        if self.bar_enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.n_samples, desc=f"epoch {epoch}/{self.epochs}",
                             unit="samples", file=sys.stderr, leave=True, dynamic_ncols=True,
                             mininterval=0.2)

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def end_epoch(self, record: dict) -> None:
        line = format_epoch(record, self.epochs)
        if self._bar is not None:
            self._bar.set_postfix({k: f"{record[k]:.4f}" for k in _ORDER[:-1]
                                   if record.get(k) is not None}, refresh=False)
            self._bar.close()
            self._bar = None
        elif self.lines_enabled:
            print(line, file=self.stream or sys.stdout, flush=True)
        if self.log_file is not None:
            print(line, file=self.log_file, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
