"""Sequence models built from the recurrent layers: the recurrent layer by name and a
many-to-one classifier (the character-level language model is :mod:`dlx.models.charlm`)."""

from __future__ import annotations

from dlx.errors import ConfigError
from dlx.nn import GRU, LSTM, RNN, Dense, Module

CELLS = {"rnn": RNN, "gru": GRU, "lstm": LSTM}


def recurrent_layer(cell: str, n_x: int, n_a: int, **options):
    """``RNN``, ``GRU`` or ``LSTM`` by name."""
    if cell not in CELLS:
        raise ConfigError(f"unknown cell {cell!r}; expected one of {', '.join(CELLS)}")
    return CELLS[cell](n_x, n_a, **options)


class SequenceClassifier(Module):
    """x (m, T, n_x) -> logits (m, n_classes): a recurrent layer read at each sequence's last
    step (many-to-one), then a Dense layer."""

    def __init__(self, n_x: int, n_a: int, n_classes: int, cell: str = "lstm", **options):
        super().__init__()
        self.config = {"name": "sequence-classifier", "n_x": n_x, "n_a": n_a,
                       "n_classes": n_classes, "cell": cell,
                       **{k: v for k, v in options.items() if k != "dtype"}}
        self.rnn = recurrent_layer(cell, n_x, n_a, return_sequences=False, **options)
        self.head = Dense(n_a, n_classes)
        if "dtype" in options:
            for p in self.head.parameters():
                p.data = p.data.astype(options["dtype"])

    def forward(self, x, lengths=None):
        return self.head(self.rnn(x, lengths=lengths).outputs)


