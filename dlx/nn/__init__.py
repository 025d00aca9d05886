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
from dlx.nn.inception import Inception
from dlx.nn.transfer import cached_features, freeze, replace_head, unfreeze

__all__ += ["Inception", "cached_features", "freeze", "replace_head", "unfreeze"]
