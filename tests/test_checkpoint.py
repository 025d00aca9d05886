"""Checkpoints: round trip, no code on load, atomic writes that survive SIGKILL, other backends."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import dlx.backends as B
from dlx.errors import CheckpointError
from dlx.nn import Dense, Sequential
from dlx.nn.regularization import BatchNorm
from dlx.optim import Adam
from dlx.train import checkpoint as C

from conftest import backend_status


def _model():
    B.current().seed(0)
    return Sequential(Dense(4, 6, "relu", bias=False), BatchNorm(6), Dense(6, 3))


def _trained(model, steps=3):
    """A few Adam steps so parameters, running statistics and optimiser state are non-trivial."""
    from dlx import functional as F
    from dlx.core import Tensor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    opt = Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        opt.zero_grad()
        F.softmax_cross_entropy(model(Tensor(X)), y).backward()
        opt.step()
    return opt, X


def test_round_trip_restores_params_buffers_optimizer_and_rng(tmp_path):
    model = _model()
    opt, X = _trained(model)
    model.config = {"name": "custom", "input_shape": [4], "n_classes": 3, "kwargs": {}}
    rng_before = B.current().get_rng_state()
    path = C.save_checkpoint(tmp_path / "c.npz", model, opt, epoch=7,
                             extra={"mean": np.arange(4.0)}, info={"dataset": "x"})
    ckpt = C.load_checkpoint(path)
    assert ckpt.epoch == 7 and ckpt.meta["info"] == {"dataset": "x"}
    assert ckpt.model_config["name"] == "custom"
    np.testing.assert_array_equal(ckpt.extra["mean"], np.arange(4.0))
    assert set(ckpt.model_state) == set(model.state_dict())
    assert "layers.1.running_mean" in ckpt.model_state

    B.current().rng.random(10)  # move the generator on; restore must bring it back
    fresh = _model()
    fresh_opt = Adam(fresh.parameters(), lr=0.5)
    C.restore(ckpt, fresh, fresh_opt)
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert fresh_opt.t == opt.t == 3 and fresh_opt.lr == opt.lr
    for p, q in zip(opt.params, fresh_opt.params):
        for key in opt.state[p]:
            np.testing.assert_array_equal(opt.state[p][key], fresh_opt.state[q][key])
    assert B.current().get_rng_state() == rng_before


def test_missing_and_foreign_files_give_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        C.load_checkpoint(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="not a dlx checkpoint"):
        C.load_checkpoint(tmp_path / "text.npz")
    C.save_checkpoint(tmp_path / "good.npz", _model())
    data = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "torn.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a dlx checkpoint"):
        C.load_checkpoint(tmp_path / "torn.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(CheckpointError, match="metadata"):
        C.load_checkpoint(tmp_path / "plain.npz")


class _Payload:
    """Unpickling this creates ``flag`` — the proof that code ran."""

    def __init__(self, flag):
        self.flag = str(flag)

    def __reduce__(self):
        return (open, (self.flag, "w"))


def _meta_blob():
    meta = {"format": C.FORMAT, "version": C.VERSION, "epoch": 1}
    return np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)


def test_pickled_object_in_archive_is_refused_and_never_runs(tmp_path):
    flag, control_flag = tmp_path / "pwned", tmp_path / "control"
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload(flag)
    np.savez(tmp_path / "evil.npz", __meta__=_meta_blob(), **{"model/W": evil})

    # control: the same kind of payload really does run when unpickled
    control = np.empty(1, dtype=object)
    control[0] = _Payload(control_flag)
    np.savez(tmp_path / "control.npz", x=control)
    with np.load(tmp_path / "control.npz", allow_pickle=True) as f:
        f["x"]
    assert control_flag.exists()

    with pytest.raises(CheckpointError, match="pickled"):
        C.load_checkpoint(tmp_path / "evil.npz")
    assert not flag.exists()


def test_raw_pickle_file_is_refused_and_never_runs(tmp_path):
    flag = tmp_path / "pwned"
    (tmp_path / "evil.npz").write_bytes(pickle.dumps(_Payload(flag)))
    with pytest.raises(CheckpointError, match="pickled"):
        C.load_checkpoint(tmp_path / "evil.npz")
    assert not flag.exists()


def test_newer_format_version_is_refused(tmp_path):
    meta = {"format": C.FORMAT, "version": C.VERSION + 1}
    np.savez(tmp_path / "new.npz", __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    with pytest.raises(CheckpointError, match="newer"):
        C.load_checkpoint(tmp_path / "new.npz")


def test_restore_rejects_state_of_another_architecture(tmp_path):
    path = C.save_checkpoint(tmp_path / "c.npz", _model())
    other = Sequential(Dense(4, 3))
    with pytest.raises(CheckpointError, match="missing"):
        C.restore(C.load_checkpoint(path), other)


def test_atomic_save_leaves_no_temporary_files(tmp_path):
    model = _model()
    for epoch in range(3):
        C.save_checkpoint(tmp_path / "c.npz", model, epoch=epoch)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]
    assert C.load_checkpoint(tmp_path / "c.npz").epoch == 2


_KILLED_WRITER = textwrap.dedent("""
    import io, sys, time
    import numpy as np
    import dlx.backends as B
    from dlx.nn import Dense, Sequential
    from dlx.train import checkpoint as C

    path, ready, expected = sys.argv[1:4]
    B.current().seed(0)
    model = Sequential(Dense(4, 3))
    C.save_checkpoint(path, model, epoch=1)                 # the good, previous checkpoint
    np.save(expected, model.state_dict()["layers.0.W"])

    real_write = C._write_archive
    def slow_write(f, arrays):                               # test hook: stall mid-write
        buf = io.BytesIO()
        real_write(buf, arrays)
        data = buf.getvalue()
        f.write(data[: len(data) // 2])
        f.flush()
        open(ready, "w").close()
        time.sleep(120)
        f.write(data[len(data) // 2:])
    C._write_archive = slow_write

    model.layers[0].W.data += 1.0
    C.save_checkpoint(path, model, epoch=2)                  # killed while writing this one
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_sigkill_during_save_keeps_previous_checkpoint(tmp_path):
    path, ready, expected = tmp_path / "c.npz", tmp_path / "ready", tmp_path / "W.npy"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path), str(ready),
                             str(expected)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if proc.poll() is not None:
                pytest.fail(f"writer exited early: {proc.stderr.read().decode()}")
            if time.monotonic() > deadline:
                pytest.fail("writer never reached the slow write")
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers, "the kill should have interrupted a write into a temporary file"
    ckpt = C.load_checkpoint(path)
    assert ckpt.epoch == 1
    np.testing.assert_array_equal(ckpt.model_state["layers.0.W"], np.load(expected))


@pytest.mark.parametrize("target", ["numpy", "emulated", "cupy"])
def test_checkpoint_saved_on_numpy_loads_on_other_backend(tmp_path, target):
    ok, why = backend_status(target)
    if not ok:
        pytest.skip(f"{target} backend unavailable: {why}")
    from dlx.train import predict

    with B.use("numpy"):
        model = _model()
        _trained(model)
        X = np.random.default_rng(1).standard_normal((20, 4)).astype(np.float32)
        expected = predict(model, X)
        logits = model.eval()(X).to_numpy()
        path = C.save_checkpoint(tmp_path / "c.npz", model)
    with B.use(target):
        other = _model()
        C.restore(C.load_checkpoint(path), other)
        np.testing.assert_array_equal(predict(other, X), expected)
        np.testing.assert_allclose(other.eval()(X).to_numpy(), logits, rtol=1e-5, atol=1e-6)
