"""Layers and models with parameters."""

from dlx.nn.layers import (Activation, Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Softmax,
                           Tanh)
from dlx.nn.module import Module, as_input
from dlx.nn.l2 import l2_penalty
from dlx.nn.regularization import BatchNorm, BatchNorm2D, Dropout

__all__ = ["Activation", "Dense", "LeakyReLU", "Module", "ReLU", "Sequential", "Sigmoid",
           "Softmax", "Tanh", "as_input"]
__all__ += ["BatchNorm", "BatchNorm2D", "Dropout", "l2_penalty"]
from dlx.nn.conv import AvgPool2D, Conv2D, Flatten, GlobalAvgPool2D, MaxPool2D
from dlx.nn.residual import Residual, ResidualBlock

__all__ += ["AvgPool2D", "Conv2D", "Flatten", "GlobalAvgPool2D", "MaxPool2D", "Residual",
            "ResidualBlock"]
