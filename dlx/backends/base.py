"""The interface every backend implements.

A backend owns an array module ``xp`` (numpy or cupy), a seeded random generator living on
its device, the default dtype, the host<->device moves, and the three hot primitives
(im2col/col2im, max pooling, softmax cross-entropy) in its own implementation. Layers never
ask which backend they run on: they call ``backend.xp`` and the primitives.

Shapes and semantics of the primitives (identical on every backend):

* ``im2col(x, kernel, stride, padding) -> cols``
  x: (N, C, H, W); kernel=(fh, fw), stride=(sh, sw), padding=(ph, pw) (zero padding, symmetric).
  OH = (H + 2ph - fh) // sh + 1, OW likewise.
  cols: (C*fh*fw, N*OH*OW), C-contiguous; row index ``(c*fh + i)*fw + j``, column index
  ``(n*OH + oh)*OW + ow``; ``cols[row, col] = xpad[n, c, oh*sh + i, ow*sw + j]``.
* ``col2im(cols, x_shape, kernel, stride, padding) -> dx``: the adjoint of im2col, (N, C, H, W);
  every input pixel sums the column entries that read it.
* ``maxpool_fwd(x, kernel, stride, padding) -> (y, argmax)``: y (N, C, OH, OW); argmax int32
  (N, C, OH, OW), the position ``i*fw + j`` of the maximum inside the window; padded cells
  count as -inf; ties go to the first maximum in row-major window order; a NaN in a window
  makes its y NaN and its argmax the first NaN (as NumPy's max/argmax and PyTorch).
* ``maxpool_bwd(gy, argmax, x_shape, kernel, stride, padding) -> dx``: routes each gy to the
  input pixel its argmax names, summing where windows overlap.
* ``softmax_ce_fwd(z, t, ignore_index, sample_weight=None) -> (loss, lse, scale)``
  z: (m, K) logits, t: (m,) integer labels. Per row lse_i = logsumexp(z_i) and
  l_i = lse_i - z_i[t_i].
  scale: (m,) per-row factor; without weights 1/n_valid for rows with t_i != ignore_index and
  0 for ignored rows, with weights ``sample_weight`` (0 for ignored rows).
  loss: 0-d array, sum_i scale_i * l_i (the mean over valid rows by default). Computed on the
  device, no host synchronisation. lse: (m,) -- all the backward needs besides z, so no
  (m, K) probability array is kept between forward and backward.
* ``softmax_ce_bwd(z, lse, t, scale, gloss, ignore_index) -> dz``
  dz_i = (exp(z_i - lse_i) - onehot(t_i)) * scale_i * gloss; rows whose label is
  ignore_index are 0, rows with an out-of-range label NaN.
  gloss is a 0-d array (the upstream gradient of the loss).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from dlx.backends import inputs


def as_pair(value, name: str) -> tuple[int, int]:
    """Normalise an int or a pair of ints to ``(a, b)``; raise a clear error otherwise."""
    from dlx.errors import ConfigError

    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ConfigError(f"{name} must be an int or a pair of ints, got {value!r}")
        a, b = value
    else:
        a = b = value
    try:
        a, b = int(a), int(b)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    return a, b


def conv_output_size(n: int, f: int, s: int, p: int) -> int:
    """Output length of a convolution or pooling: floor((n + 2p - f) / s) + 1."""
    return (n + 2 * p - f) // s + 1


class Backend(ABC):
    """One compute backend; see the module docstring for the primitives' contract."""

    name: str = "abstract"
    #: the array module (numpy or cupy)
    xp: Any = None
    #: largest column matrix (bytes) a convolution builds at once; bigger batches are
    #: processed in chunks (cache-sized on a CPU; effectively unlimited on a GPU)
    conv_chunk_bytes: int = 1 << 40

    def __init__(self, seed: int = 0):
        self.seed(seed)

    @property
    def default_dtype(self):
        """The process-wide default floating dtype (``dlx.set_default_dtype``), shared by
        every backend; assigning it is the same as calling ``dlx.set_default_dtype``."""
        return inputs.np.dtype(inputs.get_default_dtype())

    @default_dtype.setter
    def default_dtype(self, dtype) -> None:
        inputs.set_default_dtype(dtype)

    # -- random numbers --------------------------------------------------------------------
    def seed(self, seed: int) -> None:
        """Reset the backend's generator: same seed, same backend -> same numbers."""
        self._seed = int(seed)
        self.rng = self.xp.random.default_rng(self._seed)

    @abstractmethod
    def get_rng_state(self) -> dict:
        """The generator's state as a JSON-serialisable dict."""

    @abstractmethod
    def set_rng_state(self, state: dict) -> None:
        """Restore a state returned by :meth:`get_rng_state` (from this backend's family)."""

    # -- host <-> device ---------------------------------------------------------------------
    @abstractmethod
    def asarray(self, a, dtype=None):
        """Move/convert ``a`` (host array, list, scalar or device array) to this backend."""

    @abstractmethod
    def to_host(self, a):
        """Return ``a`` as a NumPy array on the host."""

    def owns(self, a) -> bool:
        """Whether ``a`` is an array of this backend's array type."""
        return isinstance(a, self.xp.ndarray)

    def synchronize(self) -> None:
        """Wait for queued device work (a no-op on the CPU)."""

    def scatter_add(self, target, index, values) -> None:
        """``target[index] += values`` with repeated indices accumulated (in place)."""
        self.xp.add.at(target, index, values)

    def parallel_workers(self) -> int:
        """How many of :meth:`map_chunks`'s calls may run at once (1: one after another)."""
        return 1

    def map_chunks(self, fn, chunks, cache_sized: bool = False) -> list:
        """``[fn(chunk) for chunk in chunks]``, in order. ``fn`` must only write disjoint
        parts of shared arrays; a CPU backend may run the calls on parallel threads.
        ``cache_sized``: every chunk is small (a CPU backend may then keep BLAS on one
        thread)."""
        return [fn(chunk) for chunk in chunks]

    def describe(self) -> dict:
        """Facts about the device for `dlx info` and benchmark reports."""
        return {"backend": self.name}

    def conv_columns(self, x_shape, kernel, stride, padding, dtype=None):
        """The layout a convolution of this geometry and dtype runs through (see
        :mod:`dlx.backends.conv_columns`): the im2col/col2im primitives by default."""
        from dlx.backends.conv_columns import Im2colColumns

        dtype = self.default_dtype if dtype is None else dtype
        return Im2colColumns(self, x_shape, kernel, stride, padding, dtype)

    def batch_norm_kernels(self, x):
        """An object with fused ``forward``/``backward`` for batch-normalising ``x`` (see
        :class:`~dlx.backends.batch_norm_kernels.CompiledBatchNorm`), or None: the array
        module's code in :mod:`dlx.functional.normalization` then runs."""
        return None

    # -- the three hot primitives (see module docstring) -------------------------------------
    @abstractmethod
    def im2col(self, x, kernel, stride, padding): ...

    @abstractmethod
    def col2im(self, cols, x_shape, kernel, stride, padding): ...

    @abstractmethod
    def maxpool_fwd(self, x, kernel, stride, padding): ...

    @abstractmethod
    def maxpool_bwd(self, gy, argmax, x_shape, kernel, stride, padding): ...

    @abstractmethod
    def softmax_ce_fwd(self, z, t, ignore_index=-100, sample_weight=None): ...

    @abstractmethod
    def softmax_ce_bwd(self, z, lse, t, scale, gloss, ignore_index=-100): ...

    def __repr__(self) -> str:
        return f"<dlx backend {self.name}>"
