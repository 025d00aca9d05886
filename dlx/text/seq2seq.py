"""Sequence-to-sequence with attention (the course's date translator, week 3).

Encoder: an embedding of the input tokens, then a bidirectional LSTM giving
a<t'> = [a_fwd<t'>, a_bwd<t'>] (m, T_x, 2 n_a). Decoder: an LSTM cell whose state s<t>
reads, at step t, the attention context over a (see :class:`dlx.nn.AdditiveAttention`,
computed from s<t-1>) joined with the embedding of the previous output token
y<t-1> (``<s>`` at t = 1); y^<t> = softmax(W_y s<t> + b_y). Training uses teacher forcing:
y<t-1> is the reference token, and the loss is the mean cross-entropy over all output
steps. Decoding feeds back the model's own outputs through :mod:`dlx.text.beam`.
"""

from __future__ import annotations

from typing import NamedTuple

from dlx import backends
from dlx import functional as F
from dlx.core import Tensor, no_grad
from dlx.nn.attention import AdditiveAttention, length_mask
from dlx.nn.embedding import Embedding
from dlx.nn.layers import Dense
from dlx.nn.module import Module
from dlx.nn.recurrent import LSTM, Bidirectional, LSTMCell, LSTMState
from dlx.text import beam


def _ids(y):
    return y.data if isinstance(y, Tensor) else backends.current().asarray(y)


class DecoderState(NamedTuple):
    """Everything a decoding step needs, each with the batch (or beam) first."""

    s: LSTMState      # decoder state s<t-1>, c<t-1>
    a: Tensor         # encoder activations (N, T_x, 2 n_a)
    keys: Tensor      # W_a a<t'> (N, T_x, n_hidden)
    mask: object      # (N, T_x) bool, True on real positions


class AttentionSeq2Seq(Module):
    """``model(x, lengths, y)`` -> teacher-forced logits (m, T_y, V_out)."""

    accepts_integer_input = True  # token indices, never cast to float

    def __init__(self, n_in_tokens: int, n_out_tokens: int, bos: int, eos: int,
                 embed_dim: int = 16, n_a: int = 32, n_s: int = 64, n_hidden: int = 10,
                 pad: int = 0):
        super().__init__()
        self.bos, self.eos = int(bos), int(eos)
        self.source_embedding = Embedding(n_in_tokens, embed_dim, padding_idx=pad, std=0.1)
        self.encoder = Bidirectional(LSTM(embed_dim, n_a), merge="concat")
        self.attention = AdditiveAttention(n_s, 2 * n_a, n_hidden)
        self.target_embedding = Embedding(n_out_tokens, embed_dim, std=0.1)
        self.decoder = LSTMCell(2 * n_a + embed_dim, n_s)
        self.output = Dense(n_s, n_out_tokens)

    def encode(self, x, lengths) -> DecoderState:
        a = self.encoder(self.source_embedding(x), lengths).outputs
        m, T = a.shape[0], a.shape[1]
        return DecoderState(self.decoder.zero_state(m), a, self.attention.keys(a),
                            length_mask(lengths, T))

    def step(self, previous, state: DecoderState):
        """One decoder step: previous tokens (N,) -> (logits (N, V_out), state, alpha)."""
        context, alpha = self.attention(state.s.a, state.a, state.mask, state.keys)
        inputs = F.concat([context, self.target_embedding(previous)], axis=1)
        s = self.decoder(inputs, state.s)
        return self.output(s.a), state._replace(s=s), alpha

    def forward(self, x, lengths, y) -> list:
        """Teacher forcing: the reference y (m, T_y) shifted right behind ``<s>``; returns
        the T_y logits (m, V_out), one per output step."""
        state = self.encode(x, lengths)
        y = _ids(y)
        previous = backends.current().xp.full((y.shape[0],), self.bos, dtype=y.dtype)
        logits = []
        for t in range(y.shape[1]):
            out, state, _ = self.step(previous, state)
            logits.append(out)
            previous = y[:, t]
        return logits

    def loss(self, x, lengths, y):
        """Mean cross-entropy over the T_y output steps of every sample."""
        logits = self.forward(x, lengths, y)
        y = _ids(y)
        return F.softmax_cross_entropy(F.concat(logits, axis=0), y.T.reshape(-1))

    def log_prob_step(self, tokens, state):
        """The step function :mod:`dlx.text.beam` drives: log P(y<t> | ...) (N, V_out)."""
        logits, state, _ = self.step(tokens, state)
        return F.log_softmax(logits, axis=1), state

    def translate(self, x, lengths, beam_width: int = 1, max_len: int = 11,
                  alpha: float = 0.7) -> beam.Decoded:
        """Greedy (beam_width=1) or beam-search translations of a batch."""
        with no_grad():
            state = self.encode(x, lengths)
            m = state.a.shape[0]
            if beam_width == 1:
                return beam.greedy_decode(self.log_prob_step, state, m, self.bos, self.eos,
                                          max_len, alpha)
            return beam.beam_search(self.log_prob_step, state, m, self.bos, self.eos,
                                    beam_width, max_len, alpha)

    def attention_map(self, x, lengths, max_len: int = 11):
        """Greedy translation of a batch with its attention weights: (tokens (m, T),
        alphas (m, T, T_x)) as device arrays."""
        xp = backends.current().xp
        with no_grad():
            state = self.encode(x, lengths)
            m = state.a.shape[0]
            previous = xp.full((m,), self.bos, dtype=xp.int64)
            tokens, alphas = [], []
            for _ in range(max_len):
                logits, state, alpha = self.step(previous, state)
                previous = xp.argmax(logits.data, axis=1)
                tokens.append(previous)
                alphas.append(alpha.data)
        return xp.stack(tokens, axis=1), xp.stack(alphas, axis=1)


def fit_seq2seq(model: AttentionSeq2Seq, data, epochs: int = 10, batch_size: int = 100,
                lr: float = 0.005, decay: float = 1.0, clip: float | None = 5.0, log=None):
    """Teacher-forced training with Adam on ``data`` = (X, lengths, Y) device arrays; the
    learning rate is ``lr * decay^epoch``, gradients clipped to global norm ``clip``.
    ``log(epoch, mean loss)`` after each epoch."""
    from dlx.optim import Adam, clip_grad_norm

    backend = backends.current()
    X, lengths, Y = data
    optimiser = Adam(model.parameters(), lr=lr)
    n = X.shape[0]
    for epoch in range(epochs):
        optimiser.lr = lr * decay ** epoch
        order = backend.xp.argsort(backend.rng.random(n))
        total = 0.0
        for start in range(0, n, batch_size):
            i = order[start:start + batch_size]
            loss = model.loss(X[i], lengths[i], Y[i])
            optimiser.zero_grad()
            loss.backward()
            if clip is not None:
                clip_grad_norm(model.parameters(), clip)
            optimiser.step()
            total = total + loss.data * i.shape[0]
        if log is not None:
            log(epoch, float(total) / n)
    return model


def exact_match(tokens, targets) -> float:
    """Fraction of rows whose first T_y tokens all equal the target's (m, T_y)."""
    xp = backends.current().xp
    targets = _ids(targets)
    return float(xp.all(tokens[:, :targets.shape[1]] == targets, axis=1).mean())
