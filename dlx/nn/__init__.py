"""Layers and models with parameters."""

from dlx.nn.layers import (Activation, Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Softmax,
                           Tanh)
from dlx.nn.module import Module, as_input

__all__ = ["Activation", "Dense", "LeakyReLU", "Module", "ReLU", "Sequential", "Sigmoid",
           "Softmax", "Tanh", "as_input"]
