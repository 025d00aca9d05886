"""Optimisers and learning-rate schedules."""

from dlx.optim.optimizer import GD, GradientDescent, Optimizer

__all__ = ["GD", "GradientDescent", "Optimizer"]
