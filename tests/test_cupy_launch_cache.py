"""CupyBackend's launch path without a GPU: a stand-in for the cupy module counts how often
kernels are compiled and looked up, and supplies device properties."""

from __future__ import annotations

import types

import numpy as np

from dlx.backends import cupy_backend
from dlx.backends.cupy_backend import CupyBackend


def _fake_cupy(counts):
    class RawModule:
        def __init__(self, code, options):
            counts["modules"] += 1

        def get_function(self, name):
            counts["get_function"] += 1
            return lambda grid, block, args: counts["launches"].append((name, grid, block))

    runtime = types.SimpleNamespace(getDeviceProperties=lambda i: {
        "name": b"Fake GPU", "multiProcessorCount": 4, "maxThreadsPerBlock": 1024,
        "maxThreadsPerMultiProcessor": 1536})
    cuda = types.SimpleNamespace(Device=lambda: types.SimpleNamespace(id=7), runtime=runtime)
    return types.SimpleNamespace(RawModule=RawModule, cuda=cuda, empty=np.empty,
                                 asarray=np.asarray, ascontiguousarray=np.ascontiguousarray)


def test_raw_kernels_are_cached_and_grids_follow_the_device(monkeypatch):
    counts = {"modules": 0, "get_function": 0, "launches": []}
    monkeypatch.setattr(cupy_backend, "_modules", {})
    monkeypatch.setattr(cupy_backend, "_functions", {})
    monkeypatch.setattr(cupy_backend, "_limits", {})
    be = object.__new__(CupyBackend)
    be.xp = _fake_cupy(counts)
    x = np.zeros((8, 8, 16, 16), np.float32)
    for _ in range(3):
        be.im2col(x, 3, 1, 1)
    assert counts["modules"] == 1 and counts["get_function"] == 1
    assert be.device_limits().name == "Fake GPU"
    name, grid, block = counts["launches"][0]
    # 8 channels x 2048 columns at 256 threads: 64 blocks wanted, capped at
    # 4 SMs x (1536 // 256) blocks x 2 waves = 48
    assert (name, grid, block) == ("im2col_i32_f32", (48,), (256,))
