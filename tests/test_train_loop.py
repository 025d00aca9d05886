"""fit / evaluate / predict / summary, exact resume, host reads per epoch, progress output."""

from __future__ import annotations

import io

import numpy as np
import pytest

import dlx.backends as B
from dlx.data import load_digits, train_dev_test_split
from dlx.errors import ConfigError, TrainingDivergedError
from dlx.nn import Dense, Sequential
from dlx.nn.regularization import BatchNorm, Dropout
from dlx.optim import ExponentialDecay
from dlx.train import Checkpoint, EarlyStopping, History, LRScheduler, fit


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    return train_dev_test_split(X, y, dev=0.15, test=0.2, seed=0)


def _mlp(seed=0, dropout=True):
    B.current().seed(seed)
    layers = [Dense(64, 32, "relu", bias=False), BatchNorm(32)]
    if dropout:
        layers.append(Dropout(0.9))
    return Sequential(*layers, Dense(32, 10))


@pytest.mark.slow
def test_fit_learns_digits_and_returns_history(backend, digits):
    model = _mlp()
    history = model.fit((digits.X_train, digits.y_train), dev=(digits.X_dev, digits.y_dev),
                        epochs=8, batch_size=32, optimizer="adam", lr=0.01, verbose=False)
    assert isinstance(history, History) and len(history) == 8
    assert history["epoch"] == list(range(1, 9))
    for key in ("cost", "accuracy", "dev_cost", "dev_accuracy", "lr", "time", "samples_per_s"):
        assert all(v is not None for v in history[key]), key
    assert history["cost"][-1] < history["cost"][0]
    result = model.evaluate((digits.X_test, digits.y_test))
    assert result["accuracy"] >= 0.95
    labels = model.predict(digits.X_test)
    assert labels.dtype == np.int64 and labels.shape == digits.y_test.shape
    assert np.mean(labels == digits.y_test) == pytest.approx(result["accuracy"])
    proba = model.predict_proba(digits.X_test)
    assert proba.shape == (len(digits.y_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), labels)


def test_binary_output_uses_bce_and_two_column_probabilities(rng):
    B.current().seed(0)
    X = rng.standard_normal((200, 2)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model = Sequential(Dense(2, 1))
    model.fit((X, y), epochs=30, batch_size=50, optimizer="adam", lr=0.05, verbose=False)
    assert model.evaluate((X, y))["accuracy"] >= 0.95
    proba = model.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_array_equal(proba.argmax(axis=1), model.predict(X))


def test_cost_is_read_back_once_per_epoch_not_per_batch(digits, monkeypatch):
    backend = B.current()
    reads = []
    real = backend.to_host
    monkeypatch.setattr(backend, "to_host", lambda a: reads.append(getattr(a, "shape", None))
                        or real(a))
    model = _mlp()
    epochs, batch = 3, 16  # ~64 batches per epoch
    fit(model, (digits.X_train, digits.y_train), dev=(digits.X_dev, digits.y_dev),
        epochs=epochs, batch_size=batch, verbose=False)
    # once per data set: one read of the validation flags (X finite, labels in range);
    # per epoch: train cost + correct count, dev cost + correct count
    assert len(reads) == 2 + 4 * epochs
    assert reads[:2] == [(2,), (2,)]
    assert all(shape == () for shape in reads[2:])


def test_resume_gives_bit_identical_parameters(tmp_path, digits):
    """6 epochs straight == 3 epochs + resume for 3 (NumPy): RNG (shuffling, dropout),
    Adam state, schedule, batch-norm statistics and callback state all restored."""
    train, dev = (digits.X_train, digits.y_train), (digits.X_dev, digits.y_dev)

    def run(model, epochs, path, resume=None):
        callbacks = [LRScheduler(ExponentialDecay(0.01, base=0.9)),
                     EarlyStopping(patience=100, restore_best_weights=False),
                     Checkpoint(path)]
        return fit(model, train, dev=dev, epochs=epochs, batch_size=32, optimizer="adam",
                   callbacks=callbacks, resume=resume, verbose=False)

    with B.use("numpy"):
        straight = _mlp(seed=0)
        h_straight = run(straight, 6, tmp_path / "straight.npz")
        first = _mlp(seed=0)
        run(first, 3, tmp_path / "half.npz")
        resumed = _mlp(seed=123)  # different init: everything must come from the checkpoint
        B.current().seed(999)    # and a different RNG position
        h_resumed = run(resumed, 6, tmp_path / "resumed.npz", resume=tmp_path / "half.npz")

    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert h_resumed["epoch"] == list(range(1, 7))
    assert h_resumed["cost"] == h_straight["cost"]
    assert h_resumed["lr"] == h_straight["lr"]


def test_resume_beyond_target_epochs_trains_nothing(tmp_path, digits):
    model = _mlp()
    fit(model, (digits.X_train, digits.y_train), epochs=2, verbose=False,
        callbacks=[Checkpoint(tmp_path / "c.npz")])
    before = model.state_dict()
    history = fit(model, (digits.X_train, digits.y_train), epochs=2, verbose=False,
                  resume=tmp_path / "c.npz")
    assert len(history) == 2
    for (name, a), b in zip(before.items(), model.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_raises_a_clear_error(rng):
    X = rng.standard_normal((64, 4)).astype(np.float32) * 1e3
    y = rng.standard_normal((64, 1)).astype(np.float32)
    model = Sequential(Dense(4, 16, "relu"), Dense(16, 1))
    with pytest.raises(TrainingDivergedError, match=r"cost is (nan|inf) at epoch \d+.*learning rate"):
        fit(model, (X, y), epochs=20, optimizer="gd", lr=10.0, verbose=False)


def test_one_line_per_epoch_when_no_bar(digits):
    out = io.StringIO()
    log = io.StringIO()
    from dlx.train.progress import Progress

    report = Progress(2, 100, progress=False, stream=out, log_file=log)
    for e in (1, 2):
        report.start_epoch(e)
        report.advance(100)
        report.end_epoch({"epoch": e, "cost": 0.5, "accuracy": 0.9, "lr": 0.01, "time": 0.1,
                          "samples_per_s": 1000.0})
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2  cost 0.5000  accuracy 0.9000")
    assert "1000 samples/s" in lines[1]
    assert log.getvalue() == out.getvalue()


def test_quiet_prints_nothing(digits, capsys):
    fit(_mlp(), (digits.X_train, digits.y_train), epochs=1, verbose=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_forced_progress_bar_writes_tqdm_to_stderr(digits, capsys):
    fit(_mlp(), (digits.X_train, digits.y_train), epochs=1, progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "samples" in err and "cost=" in err


def test_unknown_optimizer_and_loss_are_config_errors(digits):
    train = (digits.X_train, digits.y_train)
    with pytest.raises(ConfigError, match="unknown optimizer 'adamw'"):
        fit(_mlp(), train, epochs=1, optimizer="adamw", verbose=False)
    with pytest.raises(ConfigError, match="unknown loss"):
        fit(_mlp(), train, epochs=1, loss="hinge", verbose=False)
    with pytest.raises(ConfigError, match=r"\(X, y\) pair"):
        fit(_mlp(), digits.X_train, epochs=1, verbose=False)


def test_summary_lists_layers_shapes_and_counts():
    model = _mlp()
    text = model.summary((64,), print_fn=None)
    assert "layers.0" in text and "(m, 32)" in text and "(m, 10)" in text
    assert f"trainable parameters: {model.num_parameters():,}" in text
    assert "2,048" in text  # Dense(64, 32) without bias
    assert "buffers: 64" in text  # BatchNorm running mean and variance
    # the forward methods were only wrapped for the trace
    assert all("forward" not in vars(m) for m in model.modules())
