"""Optimisers and learning-rate schedules."""

from dlx.optim.adam import Adam
from dlx.optim.momentum import Momentum
from dlx.optim.optimizer import GD, GradientDescent, Optimizer
from dlx.optim.rmsprop import RMSprop
from dlx.optim.schedules import (BoldDriver, BoldDriverAction, ExponentialDecay,
                                 InverseSqrtBatchDecay, InverseSqrtDecay, InverseTimeDecay,
                                 Schedule, StaircaseDecay)

__all__ = ["Adam", "BoldDriver", "BoldDriverAction", "ExponentialDecay", "GD",
           "GradientDescent", "InverseSqrtBatchDecay", "InverseSqrtDecay", "InverseTimeDecay",
           "Momentum", "Optimizer", "RMSprop", "Schedule", "StaircaseDecay"]
from dlx.optim.clipping import clip_grad_norm, clip_grad_value, with_clipping

__all__ += ["clip_grad_norm", "clip_grad_value", "with_clipping"]
