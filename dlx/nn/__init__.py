"""Layers and models with parameters."""

from dlx.nn.conv import AvgPool2D, Conv2D, Flatten, GlobalAvgPool2D, MaxPool2D
from dlx.nn.l2 import l2_penalty
from dlx.nn.layers import (Activation, Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Softmax,
                           Tanh)
from dlx.nn.module import Module
from dlx.nn.regularization import BatchNorm, BatchNorm2D, Dropout
from dlx.nn.residual import Residual, ResidualBlock

__all__ = ["Activation", "AvgPool2D", "BatchNorm", "BatchNorm2D", "Conv2D", "Dense", "Dropout",
           "Flatten", "GlobalAvgPool2D", "LeakyReLU", "MaxPool2D", "Module", "ReLU", "Residual",
           "ResidualBlock", "Sequential", "Sigmoid", "Softmax", "Tanh", "l2_penalty"]
from dlx.nn.caches import Cache, record_caches  # noqa: E402

__all__ += ["Cache", "record_caches"]
from dlx.nn.recurrent import (GRU, LSTM, RNN, Bidirectional, GRUCell, LSTMCell, LSTMState,
                              RecurrentOutput, RNNCell)

__all__ += ["Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "LSTMState",
            "RecurrentOutput", "RNN", "RNNCell"]
from dlx.nn.embedding import Embedding

__all__ += ["Embedding"]
from dlx.nn.attention import AdditiveAttention, length_mask

__all__ += ["AdditiveAttention", "length_mask"]
from dlx.nn.inception import Inception
from dlx.nn.transfer import cached_features, freeze, replace_head, unfreeze

__all__ += ["Inception", "cached_features", "freeze", "replace_head", "unfreeze"]
