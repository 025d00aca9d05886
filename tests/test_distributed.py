"""Data-parallel training: shard arithmetic, transport choice, world size 1 in process, and
mpiexec -n 2 against one process with the same global batch (float64, 3 epochs)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlx import backends
from dlx.distributed import (DataParallel, DistributedError, LocalComm, choose_transport,
                             shard_bounds)
from dlx.errors import ConfigError
from dlx.models import mlp
from dlx.train import fit

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "distributed_digits.py"


def test_shards_cover_a_batch_once_in_order():
    for n, size in [(64, 2), (29, 2), (10, 3), (7, 7)]:
        bounds = [shard_bounds(n, r, size) for r in range(size)]
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        assert max(h - lo for lo, h in bounds) - min(h - lo for lo, h in bounds) <= 1


@pytest.mark.parametrize("requested,backend,nccl,expected", [
    ("auto", "numpy", False, "mpi"), ("auto", "emulated", True, "mpi"),
    ("auto", "cupy", True, "nccl"), ("auto", "cupy", False, "mpi"),
    ("mpi", "cupy", True, "mpi"), ("local", "numpy", False, "local"),
])
def test_transport_choice(requested, backend, nccl, expected):
    assert choose_transport(requested, backend, nccl) == expected


def test_transport_choice_rejects_nccl_off_the_gpu():
    with pytest.raises(ConfigError, match="cupy backend"):
        choose_transport("nccl", "numpy", False)
    with pytest.raises(ConfigError, match="not available"):
        choose_transport("nccl", "cupy", False)
    with pytest.raises(ConfigError, match="one of"):
        choose_transport("gloo", "numpy", False)


def _digits(backend, n=200):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    return X, y


def _float64_model(backend):
    backend.default_dtype = backend.xp.float64
    try:
        backend.seed(3)
        return mlp([6, 8, 3])
    finally:
        backend.default_dtype = backend.xp.float32


def test_world_size_one_equals_plain_fit(backend):
    """distributed=True on one process (LocalComm) takes exactly the plain steps."""
    X, y = _digits(backend)
    results = []
    for distributed in (False, True):
        model = _float64_model(backend)
        backend.seed(5)
        history = fit(model, (X, y), dev=(X[:50], y[:50]), epochs=2, batch_size=32, l2=0.01,
                      verbose=False, distributed=distributed)
        results.append((model.state_dict(), history.records[-1]))
    (plain, rec_a), (dp, rec_b) = results
    for name in plain:
        np.testing.assert_allclose(dp[name], plain[name], rtol=0, atol=1e-12)
    assert rec_a["dev_accuracy"] == pytest.approx(rec_b["dev_accuracy"], abs=1e-12)
    assert rec_a["cost"] == pytest.approx(rec_b["cost"], rel=1e-12)


class _TwoRanks(LocalComm):
    """A fake rank 1 of 2 whose peer reports other parameters."""

    rank, size = 1, 2

    def allgather(self, obj):
        return ["someone else's parameters", obj]


def test_drifted_parameters_raise_a_clear_error(backend):
    model = _float64_model(backend)
    from dlx.optim import Adam

    with pytest.raises(DistributedError, match=r"rank\(s\) \[1\] differ"):
        DataParallel(model, Adam(model.parameters(), lr=0.01), comm=_TwoRanks())


def test_batches_too_small_for_the_ranks_are_refused(backend):
    from dlx.data.batches import MiniBatches
    from dlx.optim import Adam

    model = _float64_model(backend)
    dp = DataParallel(model, Adam(model.parameters(), lr=0.01), comm=LocalComm())
    dp.size = 2
    X, y = _digits(backend, n=65)  # 64 + a last batch of 1
    with pytest.raises(ConfigError, match="at least 2 examples"):
        dp.shard(MiniBatches(X, y, batch_size=64))


def test_rank_other_than_zero_writes_no_checkpoint(tmp_path, backend):
    from dlx.optim import Adam
    from dlx.train.loop import Trainer

    class _RankOne(LocalComm):
        rank = 1

    model = _float64_model(backend)
    opt = Adam(model.parameters(), lr=0.01)
    trainer = Trainer(model, opt, [], 1)
    dp = DataParallel(model, opt, trainer, comm=_RankOne())
    assert not dp.is_writer and trainer.save(tmp_path / "ckpt.npz") is None
    assert not (tmp_path / "ckpt.npz").exists()
    trainer.writer = True
    trainer.save(tmp_path / "ckpt.npz")
    assert (tmp_path / "ckpt.npz").exists()


def _mpiexec():
    pytest.importorskip("mpi4py", reason="needs the mpi extra: pip install 'dlx[mpi]'")
    found = Path(sys.executable).with_name("mpiexec")
    found = str(found) if found.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("mpi4py is installed but no mpiexec is on the PATH")
    return found


def _run(cmd, out):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(cmd + ["--float64", "--epochs", "3", "--save", str(out)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_mpiexec_two_ranks_equal_one_process(model, tmp_path):
    """The same global batch of 64, split over 2 ranks: the same parameters after 3 epochs."""
    mpiexec = _mpiexec()
    base = [sys.executable, str(SCRIPT), "--model", model, "--l2", "0.001"]
    one = _run(base + ["--single"], tmp_path / "one.npz")
    two = _run([mpiexec, "-n", "2"] + base, tmp_path / "two.npz")
    assert (one["world_size"], two["world_size"]) == (1, 2)
    a, b = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    assert sorted(a.files) == sorted(b.files)
    worst = max(float(np.abs(a[k] - b[k]).max()) for k in a.files)
    assert worst <= 1e-6
    assert two["test_accuracy"] == pytest.approx(one["test_accuracy"], abs=1e-12)
    assert two["dev_accuracy"] == pytest.approx(one["dev_accuracy"], abs=1e-12)  # sharded
    assert f"{two['test_accuracy']:.4f}" == f"{one['test_accuracy']:.4f}"


@pytest.mark.gpu
def test_nccl_world_size_one_on_a_gpu():
    """Only on a GPU machine: NCCL's allreduce over one rank leaves the array unchanged."""
    from dlx.backends import nccl

    if not nccl.available():
        pytest.skip("needs CuPy with NCCL and a CUDA device (none here)")
    cupy = backends.get("cupy").xp
    comm = nccl.NcclComm(LocalComm())
    a = cupy.arange(10, dtype=cupy.float64)
    comm.allreduce_(a)
    comm.broadcast_(a)
    assert (a.get() == np.arange(10)).all() and comm.size == 1


def test_cost_model_ring_allreduce():
    from dlx.distributed.cost import Link, allreduce_seconds, speedup

    link = Link("test", bandwidth=1e9, latency=1e-5)
    assert allreduce_seconds(1e6, 1, link) == 0.0
    # N = 4: 2 * 3/4 * 1 MB / 1 GB/s + 6 * 10 us
    assert allreduce_seconds(1e6, 4, link) == pytest.approx(1.5e-3 + 6e-5)
    # no communication cost: perfect scaling; communication-bound: below 1
    assert speedup(1e-3, 64, 0, 8, Link("free", 1e30, 0)) == pytest.approx(8)
    assert speedup(1e-6, 64, 1e8, 8, link) < 1


@pytest.mark.slow
def test_mpiexec_dlx_train_resumes_like_one_uninterrupted_process(tmp_path):
    """mpiexec -n 2 dlx train --distributed for 1 epoch, then --resume to 2 epochs: rank 0
    alone writes, and the parameters match one process trained 2 epochs straight."""
    mpiexec = _mpiexec()
    dlx = [sys.executable, "-m", "dlx.cli", "train", "--model", "mlp", "--quiet",
           "--backend", "numpy"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    dp, one = tmp_path / "dp", tmp_path / "one"
    for cmd in ([mpiexec, "-n", "2", *dlx, "--distributed", "--epochs", "1", "--out", str(dp)],
                [mpiexec, "-n", "2", *dlx, "--distributed", "--epochs", "2", "--resume",
                 "--out", str(dp)],
                [*dlx, "--epochs", "2", "--out", str(one)]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.count("test accuracy") == 1  # printed by rank 0 only
    records = json.loads((dp / "history.json").read_text())["records"]
    assert [r["epoch"] for r in records] == [1, 2]
    # the same recorded splits as one process; a resume on other splits stops every rank
    assert (dp / "splits.json").read_text() == (one / "splits.json").read_text()
    other = subprocess.run([mpiexec, "-n", "2", *dlx, "--distributed", "--epochs", "3",
                            "--resume", "--train-dev-fraction", "0.2", "--out", str(dp)],
                           env=env, capture_output=True, text=True, timeout=300)
    assert other.returncode != 0 and "records a different split" in other.stderr
    a, b = np.load(dp / "checkpoint.npz"), np.load(one / "checkpoint.npz")
    params = [k for k in a.files if k.startswith("model/")]
    assert len(params) == 4
    for k in params:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-5)


class _PeerPlusOne(LocalComm):
    """Rank 0 of 2 whose peer holds every value + 1 (allreduce sums both)."""

    size = 2

    def allreduce_(self, a):
        a += a + 1
        return a

    def allgather(self, obj):
        return [obj, obj]


def test_batch_norm_running_statistics_are_averaged_over_ranks(backend):
    from dlx.nn import BatchNorm, Dense, Sequential
    from dlx.optim import Adam

    backend.seed(0)
    model = Sequential(Dense(4, 3), BatchNorm(3))
    before = {n: backend.to_host(b).copy() for n, b in model.named_buffers()}
    dp = DataParallel(model, Adam(model.parameters(), lr=0.01), comm=_PeerPlusOne())
    dp.end_epoch()
    for name, buf in model.named_buffers():
        np.testing.assert_allclose(backend.to_host(buf), before[name] + 0.5)  # (x + x+1) / 2
