"""The NumPy backend recycles its layers' large outputs and gradients from step to step."""

import numpy as np

import dlx
import dlx.functional as F
from dlx.backends import numpy_backend


def _step(x, w, gamma, beta):
    """conv -> batch norm -> ReLU forward and backward; the output array."""
    y = F.relu(F.batch_norm(F.conv2d(x, w, None, 1, 1), gamma, beta))
    y.sum().backward()
    return y.data


def test_a_repeated_step_reuses_the_pooled_buffers_and_never_a_live_one(rng):
    backend = dlx.backends.get("numpy")
    x = dlx.Tensor(rng.normal(size=(8, 16, 32, 32)).astype(np.float32), requires_grad=True)
    w = dlx.Parameter(rng.normal(size=(16, 16, 3, 3)).astype(np.float32) * 0.1)
    gamma, beta = dlx.Parameter(np.ones(16, np.float32)), dlx.Parameter(np.zeros(16, np.float32))
    with dlx.backends.use(backend):
        first = _step(x, w, gamma, beta)  # 512 KiB: from the pool
        pooled = numpy_backend._layer_arrays.pooled_bytes()
        kept = [first, x.grad]
        x.grad = None
        second = _step(x, w, gamma, beta)
        grown = numpy_backend._layer_arrays.pooled_bytes() - pooled
        del second
        x.grad = None
        _step(x, w, gamma, beta)
        assert numpy_backend._layer_arrays.pooled_bytes() - pooled == grown  # steady state
    assert grown == first.nbytes + kept[1].nbytes  # only the two arrays still held were new
    assert not np.shares_memory(first, x.grad)
    np.testing.assert_array_equal(first, _step(x, w, gamma, beta))
