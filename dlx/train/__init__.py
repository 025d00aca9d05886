"""Training: fit / evaluate / predict, callbacks, history, checkpoints, progress and plots."""

from dlx.train.callbacks import (BoldDriver, Callback, Checkpoint, EarlyStopping, LRScheduler,
                                 NaNGuard)
from dlx.train.checkpoint import build_model, load_checkpoint, restore, save_checkpoint
from dlx.train.history import History
from dlx.train.loop import Trainer, evaluate, fit, predict, predict_proba
from dlx.train.summary import summary

__all__ = ["BoldDriver", "Callback", "Checkpoint", "EarlyStopping", "History", "LRScheduler",
           "NaNGuard", "Trainer", "build_model", "evaluate", "fit", "load_checkpoint",
           "predict", "predict_proba", "restore", "save_checkpoint", "summary"]
