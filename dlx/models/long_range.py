"""The long-range memory experiment: classify a sequence by its first token (after T - 1 steps
of distractors, :func:`dlx.data.sequences.first_token_task`) with an RNN, GRU or LSTM
classifier. Shared by ``examples/long_range.py`` (T = 50) and its test (shorter)."""

from __future__ import annotations

from dlx import backends
from dlx.data.sequences import first_token_task
from dlx.models.sequence import SequenceClassifier


def run_first_token(cell: str, T: int = 50, n_train: int = 640, n_test: int = 500,
                    n_a: int = 16, epochs: int = 8, lr: float = 0.01, seed: int = 0) -> dict:
    """Train one classifier with Adam (batches of 32, fixed seeds); returns the test accuracy
    after each epoch (``"accuracy"``, a list) and the number of parameters."""
    backend = backends.current()
    backend.seed(seed)
    X, y = first_token_task(n_train, T, seed=seed + 1)
    X_test, y_test = first_token_task(n_test, T, seed=seed + 2)
    model = SequenceClassifier(X.shape[2], n_a, 2, cell=cell)
    history = model.fit((X, y), (X_test, y_test), epochs=epochs, batch_size=32, lr=lr,
                        verbose=False)
    return {"accuracy": list(history["dev_accuracy"]), "parameters": model.num_parameters()}
