"""Parallel chunks on the CPU: results in order, BLAS threads restored, same bits as serial."""

import threading

import numpy as np
import pytest

import dlx
import dlx.functional as F
from dlx.backends import cpu_threads

threadpoolctl = pytest.importorskip("threadpoolctl", reason="parallel chunks need threadpoolctl")


def test_results_come_back_in_chunk_order_and_blas_threads_are_restored():
    before = cpu_threads.blas_threads()
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        seen = []
        out = cpu_threads.map_parallel(
            lambda c: (seen.append(threading.current_thread().name), c * c)[1], list(range(9)))
        assert cpu_threads.blas_threads() == 2
    assert out == [c * c for c in range(9)]
    assert any(name.startswith("dlx-chunk") for name in seen)
    assert cpu_threads.blas_threads() == before


def test_one_blas_thread_means_no_worker_threads():
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        names = cpu_threads.map_parallel(lambda c: threading.current_thread().name, [1, 2, 3])
    assert names == [threading.current_thread().name] * 3


def test_parallel_and_serial_convolutions_give_the_same_bits(rng, monkeypatch):
    x = dlx.Tensor(rng.normal(size=(9, 3, 10, 10)).astype(np.float32), requires_grad=True)
    w = dlx.Parameter(rng.normal(size=(4, 3, 3, 3)).astype(np.float32))
    gz = rng.normal(size=(9, 4, 10, 10)).astype(np.float32)
    backend = dlx.backends.get("numpy")
    monkeypatch.setattr(backend, "conv_chunk_bytes", 1)  # one sample per chunk

    def run(threads):
        x.grad = w.grad = None
        with threadpoolctl.threadpool_limits(threads, user_api="blas"):
            with dlx.backends.use(backend):
                z = F.conv2d(x, w, None, 1, 1)
                z.backward(gz)
        return z.data.copy(), x.grad.copy(), w.grad.copy()

    for serial, parallel in zip(run(1), run(2)):
        np.testing.assert_array_equal(serial, parallel)
