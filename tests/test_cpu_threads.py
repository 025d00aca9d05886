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
        out = cpu_threads.map_parallel(lambda c: c * c, list(range(9)))
        assert cpu_threads.blas_threads() == 2
    assert out == [c * c for c in range(9)]
    assert cpu_threads.blas_threads() == before


def test_the_calling_thread_and_a_pool_thread_share_the_chunks():
    both_busy = threading.Barrier(2, timeout=10)  # chunks 0 and 1 must run at the same time

    def chunk(c):
        if c < 2:
            both_busy.wait()
        return threading.current_thread().name

    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        names = cpu_threads.map_parallel(chunk, list(range(6)))
    assert threading.current_thread().name in names[:2]
    assert any(name.startswith("dlx-chunk") for name in names[:2])


def test_an_error_in_a_chunk_is_raised_after_the_others_finished():
    done = []

    def chunk(c):
        if c == 0:
            raise ValueError("chunk 0")
        done.append(c)

    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        with pytest.raises(ValueError, match="chunk 0"):
            cpu_threads.map_parallel(chunk, list(range(5)))
        assert cpu_threads.blas_threads() == 2
    assert sorted(done) == [1, 2, 3, 4]


@pytest.mark.parametrize("cache_sized, threads_inside", [(True, 1), (False, 2)])
def test_a_lone_chunk_keeps_blas_on_one_thread_only_when_cache_sized(cache_sized,
                                                                     threads_inside):
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        inside = cpu_threads.map_parallel(
            lambda c: (threading.current_thread().name, cpu_threads.blas_threads()), [0],
            cache_sized)
        assert cpu_threads.blas_threads() == 2
    assert inside == [(threading.current_thread().name, threads_inside)]


def test_conv_chunks_are_cache_sized_unless_one_sample_exceeds_the_budget(monkeypatch,
                                                                          numpy_columns):
    backend = dlx.backends.get("numpy")
    x = dlx.Tensor(np.ones((6, 3, 8, 8), np.float32))
    w = dlx.Parameter(np.ones((4, 3, 3, 3), np.float32))
    calls = []
    real = backend.map_chunks
    monkeypatch.setattr(backend, "map_chunks",
                        lambda fn, chunks, cache_sized=False: (calls.append(
                            (len(chunks), cache_sized)), real(fn, chunks, cache_sized))[1])
    with dlx.backends.use(backend):
        F.conv2d(x, w, None, 1, 1)
        monkeypatch.setattr(backend, "conv_chunk_bytes", 1)
        F.conv2d(x, w, None, 1, 1)
    assert calls == [(1, True), (6, False)]


@pytest.mark.parametrize("workers, sizes", [(1, [4, 4, 4]), (2, [3, 3, 3, 3]),
                                             (3, [4, 4, 4]), (5, [3, 3, 3, 3])])
def test_conv_chunks_are_of_one_size_and_a_multiple_of_the_workers(monkeypatch, workers,
                                                                     sizes, numpy_columns):
    backend = dlx.backends.get("numpy")
    x = dlx.Tensor(np.ones((12, 3, 32, 32), np.float32))  # 110,592 bytes of columns a sample
    w = dlx.Parameter(np.ones((4, 3, 3, 3), np.float32))
    whole_batch = F.conv2d(x, w, None, 1, 1).data
    seen = []
    real = backend.map_chunks
    monkeypatch.setattr(backend, "map_chunks", lambda fn, chunks, cache_sized=False: (
        seen.append([n1 - n0 for n0, n1 in chunks]), real(fn, chunks, cache_sized))[1])
    monkeypatch.setattr(backend, "parallel_workers", lambda: workers)
    monkeypatch.setattr(backend, "conv_chunk_bytes", 5 * 27 * 32 * 32 * 4)  # 5 samples
    with dlx.backends.use(backend):
        z = F.conv2d(x, w, None, 1, 1)
    assert seen == [sizes]
    np.testing.assert_allclose(z.data, whole_batch, rtol=1e-6)


def test_one_blas_thread_means_no_worker_threads():
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        names = cpu_threads.map_parallel(lambda c: threading.current_thread().name, [1, 2, 3])
    assert names == [threading.current_thread().name] * 3


def test_parallel_and_serial_convolutions_give_the_same_bits(rng, monkeypatch, numpy_columns):
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
