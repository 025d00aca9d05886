"""The objective ``dlx search`` optimises: train a dlx model with a trial's hyperparameters
on a dataset's training split and score it on the dev split (the test split stays unseen).

Hyperparameters it understands (any other name is an error): ``lr``, ``l2``, ``hidden``
(units per hidden layer), ``layers`` (hidden layers, mlp), ``batch_size``, ``optimizer``,
``beta`` (momentum), ``beta1``/``beta2`` (Adam; ``beta2`` also RMSprop), ``decay`` (learning
rate x decay^epoch). Unset ones take ``dlx train``'s defaults for the model.
"""

from __future__ import annotations

import time

from dlx.errors import ConfigError

HYPERPARAMETERS = ("lr", "l2", "hidden", "layers", "batch_size", "optimizer", "beta",
                   "beta1", "beta2", "decay")
BETAS = {"momentum": ("beta",), "adam": ("beta1", "beta2"), "rmsprop": ("beta2",), "gd": ()}


def check_names(space: dict) -> None:
    unknown = sorted(set(space) - set(HYPERPARAMETERS))
    if unknown:
        raise ConfigError(f"dlx search: unknown hyperparameter(s) {', '.join(unknown)}; "
                          f"expected some of {', '.join(HYPERPARAMETERS)}")


def default_configuration(model: str) -> dict:
    """``dlx train``'s defaults for ``model`` as hyperparameter values."""
    from dlx.cli import TRAIN_DEFAULTS

    d = TRAIN_DEFAULTS[model]
    hidden = d["model"].get("hidden", 64)
    return {"lr": d["lr"], "l2": 0.0, "hidden": hidden, "layers": 1,
            "batch_size": d["batch_size"], "optimizer": "adam", "decay": d["decay"]}


def prepared_data(model: str, dataset: str):
    """(train, dev, n_classes) standardised as ``dlx train`` does."""
    from dlx.cli import CONV_MODELS
    from dlx.train.prepare import Preparation, load_dataset, split

    data = split(*load_dataset(dataset))
    prep = Preparation.fit(data.X_train, "images" if model in CONV_MODELS else "features")
    return ((prep.apply(data.X_train), data.y_train), (prep.apply(data.X_dev), data.y_dev),
            data.n_classes)


def _build(model: str, input_shape, n_classes: int, h: dict):
    from dlx.models.zoo import build_model

    if model == "mlp":
        kwargs = {"hidden": [int(h["hidden"])] * int(h["layers"])}
    elif model == "cnn":
        kwargs = {"channels": [32, 64], "hidden": int(h["hidden"])}
    else:
        kwargs = {}
    return build_model(model, input_shape, n_classes, **kwargs)


def _optimizer(h: dict, params):
    from dlx.train.loop import OPTIMIZERS

    name = str(h["optimizer"]).lower()
    if name not in BETAS:
        raise ConfigError(f"dlx search: optimizer must be one of {', '.join(BETAS)}, got {name}")
    betas = {key: float(h[key]) for key in BETAS[name] if key in h}
    return OPTIMIZERS[name](params, lr=float(h["lr"]), **betas)


def train_and_score(model: str, dataset: str, hyper: dict, epochs: int, seed: int = 0,
                    on_epoch=None, data=None) -> dict:
    """Train with ``hyper`` (defaults filled in); ``on_epoch(epoch, record)`` is called after
    every epoch (pruning raises from it). Returns the last epoch's dev metrics and seconds."""
    from dlx import backends
    from dlx.optim import ExponentialDecay
    from dlx.train import LRScheduler, fit
    from dlx.train.callbacks import Callback

    h = {**default_configuration(model), **hyper}
    train, dev, n_classes = data or prepared_data(model, dataset)
    backends.current().seed(seed)
    net = _build(model, train[0].shape[1:], n_classes, h)
    callbacks = []
    if float(h["decay"]) != 1:
        callbacks.append(LRScheduler(ExponentialDecay(float(h["lr"]), float(h["decay"]))))
    if on_epoch is not None:
        class _Report(Callback):
            def on_epoch_end(self, trainer, logs):
                on_epoch(trainer.epoch, logs)
        callbacks.append(_Report())
    start = time.perf_counter()
    history = fit(net, train, dev=dev, epochs=epochs, batch_size=int(h["batch_size"]),
                  optimizer=_optimizer(h, net.parameters()), l2=float(h["l2"]),
                  callbacks=callbacks, verbose=False)
    last = history.records[-1]
    return {"dev_accuracy": last["dev_accuracy"], "dev_cost": last["dev_cost"],
            "train_accuracy": last["accuracy"], "seconds": time.perf_counter() - start}
