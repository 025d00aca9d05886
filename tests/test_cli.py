"""The `dlx` command: the default `dlx train`, evaluate/predict on its checkpoint, info, errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import dlx.backends as B
from dlx.cli import main
from dlx.train import load_checkpoint

from conftest import backend_status

ACCURACY = re.compile(r"^test accuracy: (\d\.\d{4}) \((\d+)/(\d+)\)  cost: \S+$", re.M)


@pytest.fixture(autouse=True)
def keep_backend():
    """The command sets the process-wide backend; put the previous one back."""
    previous = B.current()
    yield
    B.set_backend(previous)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """`dlx train --progress --out DIR`: the default model (CNN), data (digits) and settings."""
    out_dir = tmp_path_factory.mktemp("run")
    import io
    import sys

    capture = pytest.MonkeyPatch()
    stdout, stderr = io.StringIO(), io.StringIO()
    capture.setattr(sys, "stdout", stdout)
    capture.setattr(sys, "stderr", stderr)
    previous = B.current()
    try:
        code = main(["train", "--progress", "--out", str(out_dir)])
    finally:
        capture.undo()
        B.set_backend(previous)
    return code, stdout.getvalue(), stderr.getvalue(), out_dir


@pytest.mark.slow
def test_default_train_shows_progress_reaches_97_percent_and_writes_outputs(default_run):
    code, out, err, out_dir = default_run
    assert code == 0, err
    assert re.search(r"epoch 1/\d+", err) and "samples/s" in err and "cost=" in err  # tqdm bar
    match = ACCURACY.search(out)
    assert match, out
    assert float(match.group(1)) >= 0.97
    history = json.loads((out_dir / "history.json").read_text())["records"]
    assert len(history) >= 1 and {"cost", "dev_cost", "accuracy", "dev_accuracy"} <= set(history[0])
    for png in ("learning_curves.png", "accuracy.png", "confusion_matrix.png"):
        assert (out_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    ckpt = load_checkpoint(out_dir / "checkpoint.npz")
    assert ckpt.epoch == len(history) and ckpt.model_config["name"] == "cnn"
    assert (out_dir / "best.npz").is_file() and (out_dir / "train.log").read_text().count("\n") == len(history)


@pytest.mark.slow
def test_evaluate_reproduces_the_reported_accuracy_exactly(default_run, capsys):
    _, out, _, out_dir = default_run
    code, evaluated, err = run(capsys, "evaluate", out_dir / "checkpoint.npz")
    assert code == 0, err
    assert ACCURACY.search(evaluated).group(0) == ACCURACY.search(out).group(0)


@pytest.mark.slow
def test_checkpoint_on_emulated_backend_gives_the_same_predictions(default_run, capsys, tmp_path):
    ok, why = backend_status("emulated")
    if not ok:
        pytest.skip(f"emulated backend unavailable: {why}")
    _, _, _, out_dir = default_run
    from dlx.data import load_digits

    X, _ = load_digits()
    np.savez(tmp_path / "inputs.npz", X=X)
    for backend in ("numpy", "emulated"):
        code, _, err = run(capsys, "predict", out_dir / "checkpoint.npz", tmp_path / "inputs.npz",
                           "--backend", backend, "--output", tmp_path / f"{backend}.npz")
        assert code == 0, err
    with np.load(tmp_path / "numpy.npz") as a, np.load(tmp_path / "emulated.npz") as b:
        np.testing.assert_array_equal(a["labels"], b["labels"])
        np.testing.assert_allclose(a["probabilities"], b["probabilities"], atol=1e-5)
    _, on_numpy, _ = run(capsys, "evaluate", out_dir / "checkpoint.npz", "--backend", "numpy")
    _, on_emulated, _ = run(capsys, "evaluate", out_dir / "checkpoint.npz", "--backend", "emulated")
    assert ACCURACY.search(on_numpy).group(1, 2) == ACCURACY.search(on_emulated).group(1, 2)


def test_resume_continues_to_the_total_epochs(capsys, tmp_path):
    args = ["train", "--model", "logreg", "--dataset", "breast-cancer", "--out", tmp_path,
            "--quiet", "--lr", "0.01"]
    assert run(capsys, *args, "--epochs", 2)[0] == 0
    code, out, err = run(capsys, *args, "--epochs", 4, "--resume")
    assert code == 0, err
    records = json.loads((tmp_path / "history.json").read_text())["records"]
    assert [r["epoch"] for r in records] == [1, 2, 3, 4]
    assert out.strip().startswith("test accuracy:")  # --quiet: only the result


def test_predict_writes_csv_and_prints_labels(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    assert run(capsys, "train", "--model", "mlp", "--dataset", tmp_path / "data.npz",
               "--epochs", 3, "--out", tmp_path / "run", "--quiet")[0] == 0
    np.savez(tmp_path / "new.npz", X=X[:4])
    code, out, err = run(capsys, "predict", tmp_path / "run" / "checkpoint.npz",
                         tmp_path / "new.npz")
    assert code == 0, err
    assert len(out.split()) == 4 and set(out.split()) <= {"0", "1"}
    code, _, err = run(capsys, "predict", tmp_path / "run" / "checkpoint.npz",
                       tmp_path / "new.npz", "--output", tmp_path / "p.csv")
    assert code == 0, err
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "label,p0,p1" and len(lines) == 5


def test_info_lists_every_backend_with_reasons(capsys):
    code, out, _ = run(capsys, "info")
    assert code == 0
    assert out.startswith("dlx ")
    for name, (ok, why) in B.available().items():
        assert f"{name}: available" in out if ok else f"{name}: unavailable - {why}" in out
    assert "blas:" in out


@pytest.mark.parametrize("argv, message", [
    (["train", "--model", "vgg"], "invalid choice: 'vgg'"),
    (["evaluate", "missing.npz"], "checkpoint missing.npz does not exist"),
    (["train", "--dataset", "nope.npz", "--epochs", "1"], "dataset file nope.npz does not exist"),
    (["train", "--dataset", "mnist"], "unknown dataset 'mnist'"),
])
def test_errors_are_one_line_with_exit_code_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    assert code == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_cupy_without_gpu_is_a_clear_error(capsys, tmp_path):
    ok, why = backend_status("cupy")
    if ok:
        pytest.skip("a GPU is available here")
    code, _, err = run(capsys, "train", "--backend", "cupy", "--out", tmp_path)
    assert code == 2 and err.count("\n") == 1 and "dlx train: error:" in err


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    from dlx.errors import CheckpointError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError):
        main(["evaluate", "missing.npz", "--debug"])
