"""The course's additive attention (Bahdanau et al., 2015) for sequence-to-sequence models.

For decoder step t with previous decoder state s<t-1> (m, n_s) and encoder activations
a<t'> (m, T_x, n_a):

    e<t,t'> = v . tanh(W [s<t-1>, a<t'>] + b)       a small dense network (n_hidden units)
    alpha<t,t'> = exp(e<t,t'>) / sum_{t''} exp(e<t,t''>)   softmax over t', padding masked
    context<t> = sum_{t'} alpha<t,t'> a<t'>

W [s, a] is computed as W_s s + W_a a (the same product with W = [W_s | W_a] split by
columns), so the encoder part W_a a<t'> -- the "keys" -- is computed once per sequence and
reused at every decoder step. Padded positions (t' >= length) get alpha = 0 exactly.
"""

from __future__ import annotations

from dlx import backends, init
from dlx import functional as F
from dlx.core import Parameter, Tensor
from dlx.errors import ConfigError, ShapeError
from dlx.nn.module import Module

_MASKED = -1e9  # added to the energy of padded positions; exp() of it is exactly 0


def length_mask(lengths, T: int):
    """(m, T) boolean device array: True where t' < lengths[i] (a real, unpadded position)."""
    backend = backends.current()
    lengths = lengths.data if isinstance(lengths, Tensor) else backend.asarray(lengths)
    return backend.xp.arange(T)[None, :] < lengths[:, None]


class AdditiveAttention(Module):
    """``attention(s_prev, a, mask=None, keys=None) -> (context (m, n_a), alpha (m, T_x))``."""

    def __init__(self, n_s: int, n_a: int, n_hidden: int = 10):
        super().__init__()
        if min(int(n_s), int(n_a), int(n_hidden)) <= 0:
            raise ConfigError(f"AdditiveAttention: n_s, n_a and n_hidden must be positive, got "
                              f"{n_s}, {n_a}, {n_hidden}")
        self.n_s, self.n_a, self.n_hidden = int(n_s), int(n_a), int(n_hidden)
        self.W_s = Parameter(init.glorot((self.n_hidden, self.n_s)), name="W_s")
        self.W_a = Parameter(init.glorot((self.n_hidden, self.n_a)), name="W_a")
        self.b = Parameter(init.zeros((self.n_hidden,)), name="b")
        self.v = Parameter(init.glorot((1, self.n_hidden)).reshape(self.n_hidden), name="v")

    def keys(self, a):
        """W_a a<t'> for every t': (m, T_x, n_hidden), reusable across decoder steps."""
        if a.ndim != 3 or a.shape[2] != self.n_a:
            raise ShapeError(f"AdditiveAttention: encoder activations must be (m, T_x, "
                             f"n_a={self.n_a}), got {tuple(a.shape)}")
        return a @ self.W_a.T

    def forward(self, s_prev, a, mask=None, keys=None):
        keys = self.keys(a) if keys is None else keys
        m, T = a.shape[0], a.shape[1]
        if s_prev.shape != (m, self.n_s):
            raise ShapeError(f"AdditiveAttention: s<t-1> must be (m={m}, n_s={self.n_s}), got "
                             f"{tuple(s_prev.shape)}")
        query = F.linear(s_prev, self.W_s, self.b).reshape(m, 1, self.n_hidden)
        energies = F.tanh(keys + query) @ self.v                       # (m, T_x)
        if mask is not None:
            mask = mask.data if isinstance(mask, Tensor) else mask
            if mask.shape != (m, T):
                raise ShapeError(f"AdditiveAttention: mask must be (m, T_x) = ({m}, {T}), got "
                                 f"{tuple(mask.shape)}")
            xp = backends.current().xp
            energies = energies + Tensor(xp.where(mask, 0.0, _MASKED).astype(energies.dtype))
        alpha = F.softmax(energies, axis=1)
        context = (alpha.reshape(m, T, 1) * a).sum(axis=1)
        return context, alpha

    def __repr__(self):
        return f"AdditiveAttention(n_s={self.n_s}, n_a={self.n_a}, n_hidden={self.n_hidden})"
