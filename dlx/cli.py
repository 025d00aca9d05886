"""The ``dlx`` command: train, evaluate, predict, info, bench.

Each subcommand is one ``add_<name>(subparsers, common)`` function that registers its parser
and sets ``func``; ``COMMANDS`` lists them, so a new subcommand is one function more.
Errors (DlxError, file errors) print one line on stderr and exit with status 2; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dlx.errors import ConfigError, DlxError

CONV_MODELS = ("cnn", "lenet5", "resnet")
MODELS = ("logreg", "mlp") + CONV_MODELS
OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
BACKENDS = ("auto", "numpy", "cupy", "emulated")
# per-model defaults of `dlx train` (the default run must finish in < 60 s on 2 CPU cores);
# "decay": base of the exponential learning-rate decay per epoch (1 = constant rate);
# "model": builder options (stored in the checkpoint's model config)
TRAIN_DEFAULTS = {
    "logreg": {"epochs": 30, "batch_size": 64, "lr": 0.01, "decay": 1.0, "model": {}},
    "mlp": {"epochs": 20, "batch_size": 64, "lr": 0.003, "decay": 0.9, "model": {}},
    "cnn": {"epochs": 12, "batch_size": 64, "lr": 0.003, "decay": 0.9,
            "model": {"channels": [32, 64], "hidden": 128}},
    "lenet5": {"epochs": 15, "batch_size": 64, "lr": 0.002, "decay": 0.9, "model": {}},
    "resnet": {"epochs": 10, "batch_size": 64, "lr": 0.003, "decay": 0.9, "model": {}},
}


# -- shared helpers ------------------------------------------------------------------------------
def _use_backend(name: str | None):
    """``--backend`` when given, else ``DLX_BACKEND`` (as the library), else auto."""
    import dlx.backends as B

    return B.set_backend(name if name is not None else B.env_backend_name("auto"))


def _check_at_least(args, minimums: dict) -> None:
    """ConfigError unless every given option ``--name`` is an int >= its minimum."""
    for name, low in minimums.items():
        value = getattr(args, name.replace("-", "_"))
        if value is not None and value < low:
            raise ConfigError(f"--{name} must be >= {low}, got {value}")


def _build_model(name: str, input_shape, n_classes: int, kwargs: dict):
    from dlx.models.zoo import build_model

    return build_model(name, tuple(input_shape), int(n_classes), **kwargs)


def _load_trained(path):
    """(model, checkpoint, Preparation) from a checkpoint written by `dlx train`."""
    from dlx.train.checkpoint import load_model
    from dlx.train.prepare import Preparation

    model, ckpt = load_model(path)
    return model, ckpt, Preparation.from_checkpoint(
        ckpt.meta["info"].get("prep", {}), ckpt.extra, ckpt.model_config["input_shape"])


def _accuracy_line(name: str, result: dict, m: int) -> str:
    acc = result["accuracy"]
    return (f"{name} accuracy: {acc:.4f} ({round(acc * m)}/{m})  cost: {result['cost']:.4f}")


# -- dlx train ------------------------------------------------------------------------------------
def add_train(subparsers, common):
    p = subparsers.add_parser("train", parents=[common], help="train a model (default: a CNN on "
                              "the bundled digits) and write history, plots and a checkpoint",
                              description="Train a model and write history.json, plots and "
                              "checkpoints into --out.")
    p.add_argument("--model", choices=MODELS + ("charlm", "seq2seq"), default="cnn",
                   help="charlm: character-level language model (--dataset names); "
                        "seq2seq: date translation with attention (--dataset dates)")
    p.add_argument("--dataset", default="digits",
                   help="digits, breast-cancer, or a path to an .npz with arrays X and y")
    p.add_argument("--backend", choices=BACKENDS, default=None,
                   help="auto = cupy when a GPU works, else numpy; emulated = the CUDA kernels "
                        "compiled for the CPU (debugging); default: $DLX_BACKEND, else auto")
    p.add_argument("--epochs", type=int, help="total epochs (a resumed run continues up to it)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="learning rate (initial, with --lr-decay)")
    p.add_argument("--lr-decay", type=float, metavar="BASE",
                   help="multiply the learning rate by BASE every epoch (1 = constant)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/latest", help="output folder (default runs/latest)")
    p.add_argument("--resume", nargs="?", const="", default=None, metavar="CHECKPOINT",
                   help="continue from CHECKPOINT (default: OUT/checkpoint.npz)")
    p.add_argument("--quiet", action="store_true", help="print only the final result")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="force the progress bar on/off (default: on when stderr is a terminal;"
                        " also DLX_PROGRESS=1/0)")
    p.add_argument("--distributed", action="store_true", help="data-parallel over the ranks "
                   "of mpiexec: mpiexec -n N dlx train --distributed (rank 0 writes)")
    p.add_argument("--train-dev-fraction", type=float, default=None, metavar="F",
                   help="hold this fraction of the training split out as a training-dev set "
                        "for `dlx diagnose` (default 0.1, 0 = none; a resumed run keeps the "
                        "recorded one); the split is written to OUT/splits.json")
    p.set_defaults(func=cmd_train)


def cmd_train(args) -> int:
    from dlx.train import run_splits
    from dlx.train.prepare import SPLIT, dataset_id, load_dataset
    from dlx.train.rundir import RunDirectory

    _check_at_least(args, {"epochs": 0, "batch-size": 1, "seed": 0})
    if args.model in ("charlm", "seq2seq"):
        _refuse_classifier_options(args)
    if args.model == "charlm":
        from dlx.models.charlm_cli import cmd_train_charlm

        return cmd_train_charlm(args)
    if args.model == "seq2seq":
        from dlx.text.seq2seq_cli import cmd_train_seq2seq

        return cmd_train_seq2seq(args)
    started = time.perf_counter()
    backend = _use_backend(args.backend)
    backend.seed(args.seed)
    X, y = load_dataset(args.dataset)
    resume = None if args.resume is None else (args.resume or Path(args.out) / "checkpoint.npz")
    splits = run_splits.for_run(dataset_id(args.dataset), y, args.train_dev_fraction,
                                SPLIT["seed"], resume)
    if args.distributed:
        from dlx.distributed import world

        run_splits.check_same_on_ranks(splits, world())
    parts = {part: splits.take(part, X, y) for part in splits.parts()}
    if _rank(args.distributed):  # only rank 0 writes (and locks) the run directory
        Path(args.out).mkdir(parents=True, exist_ok=True)
        return _train(args, parts, splits, resume, backend, started)
    with RunDirectory(args.out):  # one writer per run directory
        return _train(args, parts, splits, resume, backend, started)


#: `dlx train` options only the classifier models honour, with their defaults
CLASSIFIER_OPTIONS = {"lr_decay": None, "optimizer": "adam", "resume": None, "progress": None,
                      "distributed": False, "train_dev_fraction": None}


def _refuse_classifier_options(args) -> None:
    """ConfigError when a sequence model (charlm, seq2seq) is given an option it ignores."""
    given = [f"--{name.replace('_', '-')}" for name, default in CLASSIFIER_OPTIONS.items()
             if getattr(args, name) != default]
    if given:
        raise ConfigError(f"dlx train --model {args.model} does not use {', '.join(given)} "
                          f"(only the classifier models {', '.join(MODELS)} do)")


def _train(args, parts, splits, resume, backend, started: float) -> int:
    from dlx.optim import ExponentialDecay
    from dlx.train import Checkpoint, LRScheduler, fit
    from dlx.train.prepare import Preparation

    defaults = TRAIN_DEFAULTS[args.model]
    epochs = args.epochs if args.epochs is not None else defaults["epochs"]
    batch_size = args.batch_size if args.batch_size is not None else defaults["batch_size"]
    lr = args.lr if args.lr is not None else defaults["lr"]
    decay = args.lr_decay if args.lr_decay is not None else defaults["decay"]
    out = Path(args.out)
    prep = Preparation.fit(parts["train"][0], "images" if args.model in CONV_MODELS
                           else "features")
    train, dev, test = ((prep.apply(parts[p][0]), parts[p][1]) for p in ("train", "dev", "test"))
    n_classes = max(int(part_y.max()) for _, part_y in parts.values()) + 1
    model = _build_model(args.model, train[0].shape[1:], n_classes, defaults["model"])
    prep_info, prep_arrays = prep.to_checkpoint()
    info = {"dataset": splits.dataset, "prep": prep_info, "optimizer": args.optimizer}
    rank = _rank(args.distributed)
    if not rank:
        splits.write(out)
    say = (lambda *a: None) if args.quiet or rank else print
    sizes = ", ".join(f"{part.replace('_', '-')} {len(part_y)}" for part, (_, part_y)
                      in parts.items())
    say(f"dlx train: {args.model} ({model.num_parameters():,} parameters) on {args.dataset} "
        f"({sizes}), "
        f"backend {backend.name}, {args.optimizer} lr {lr:g}"
        + (f" x {decay:g}^epoch" if decay != 1 else "") + f", batch {batch_size}, "
        f"{epochs} epochs" + (f", resuming from {resume}" if resume else ""))

    callbacks = [Checkpoint(out / "checkpoint.npz", best_path=out / "best.npz",
                            monitor="dev_accuracy")]
    if decay != 1:
        callbacks.append(LRScheduler(ExponentialDecay(lr, decay)))
    with open(out / "train.log", "a") as log:
        history = fit(model, train, dev=dev, epochs=epochs, batch_size=batch_size,
                      optimizer=args.optimizer, lr=lr, resume=resume,
                      callbacks=callbacks,
                      verbose=not args.quiet, progress=args.progress, log_file=log,
                      checkpoint_info=info, checkpoint_arrays=prep_arrays,
                      distributed=args.distributed)
    result = _evaluate_test(model, test, args.distributed)
    if rank:
        return 0
    history.save_json(out / "history.json")
    written = ["history.json", "checkpoint.npz", "best.npz", "train.log", "splits.json"]
    written += _write_plots(model, history, test, out, say)
    print(_accuracy_line("test", result, len(test[1])))
    say(f"wrote {', '.join(written)} to {out}/ in {time.perf_counter() - started:.1f} s")
    return 0


def _rank(distributed: bool) -> int:
    from dlx.distributed import world

    return world().rank if distributed else 0


def _evaluate_test(model, test, distributed: bool) -> dict:
    from dlx.distributed import evaluate as evaluate_sharded
    from dlx.train import evaluate

    return evaluate_sharded(model, test) if distributed else evaluate(model, test)


def _write_plots(model, history, test, out: Path, say) -> list[str]:
    from dlx.train import plots

    try:
        plots.plot_learning_curves(history, out / "learning_curves.png")
        plots.plot_accuracy(history, out / "accuracy.png")
        plots.plot_confusion_matrix(test[1], model.predict(test[0]), out / "confusion_matrix.png")
    except ConfigError as exc:  # matplotlib missing: the run is still complete
        say(f"note: no plots ({exc})")
        return []
    return ["learning_curves.png", "accuracy.png", "confusion_matrix.png"]


# -- dlx evaluate ---------------------------------------------------------------------------------
def add_evaluate(subparsers, common):
    p = subparsers.add_parser("evaluate", parents=[common],
                              help="accuracy and cost of a checkpoint on a dataset split")
    p.add_argument("checkpoint")
    p.add_argument("--dataset", help="default: the dataset the checkpoint was trained on")
    p.add_argument("--split", choices=("test", "dev", "train", "train_dev", "all"),
                   default="test", help="a part of the run's split (OUT/splits.json)")
    p.add_argument("--backend", choices=BACKENDS, default=None,
                   help="default: $DLX_BACKEND, else auto")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args) -> int:
    from dlx.train import evaluate
    from dlx.train.prepare import dataset_id, load_dataset

    _use_backend(args.backend)
    model, ckpt, prep = _load_trained(args.checkpoint)
    dataset = args.dataset or ckpt.meta["info"].get("dataset")
    if not dataset or not isinstance(dataset, str):
        raise ConfigError(f"{args.checkpoint} does not record its dataset; pass --dataset")
    X, y = load_dataset(dataset)
    if args.split != "all":
        from dlx.train.run_splits import recorded_parts

        parts = recorded_parts(Path(args.checkpoint).parent, dataset_id(dataset), X, y)
        if args.split not in parts:
            raise ConfigError(f"{args.checkpoint}: the run has no {args.split} part "
                              f"(it has {', '.join(parts)})")
        X, y = parts[args.split]
    result = evaluate(model, (prep.apply(X), y))
    print(_accuracy_line(args.split, result, len(y)))
    return 0


# -- dlx predict ----------------------------------------------------------------------------------
def add_predict(subparsers, common):
    p = subparsers.add_parser("predict", parents=[common],
                              help="class predictions of a checkpoint for X in an .npz")
    p.add_argument("checkpoint")
    p.add_argument("input", help=".npz file with an array X (raw, as in the training data)")
    p.add_argument("--output", help="write labels and probabilities to a .npz or .csv file "
                                    "(default: print one label per line)")
    p.add_argument("--backend", choices=BACKENDS, default=None,
                   help="default: $DLX_BACKEND, else auto")
    p.set_defaults(func=cmd_predict)


def _read_inputs(path):
    from dlx.data.datasets import read_npz

    X = read_npz(path, ("X",), "input file")["X"]
    if X.ndim == 0 or X.shape[0] == 0:
        raise ConfigError(f"input file {path}: X has no rows (shape {X.shape}); nothing to "
                          "predict")
    return X


def _write_predictions(path: Path, labels, proba) -> None:
    import numpy as np  # file I/O

    if path.suffix == ".npz":
        np.savez(path, labels=labels, probabilities=proba)
    elif path.suffix == ".csv":
        header = "label," + ",".join(f"p{k}" for k in range(proba.shape[1]))
        table = np.column_stack([labels, proba])
        np.savetxt(path, table, delimiter=",", header=header, comments="",
                   fmt=["%d"] + ["%.6f"] * proba.shape[1])
    else:
        raise ConfigError(f"--output must end in .npz or .csv, got {path.name}")


def cmd_predict(args) -> int:
    from dlx.train import predict_proba

    _use_backend(args.backend)
    model, _, prep = _load_trained(args.checkpoint)
    proba = predict_proba(model, prep.apply(_read_inputs(args.input)))
    labels = proba.argmax(axis=1)
    if args.output:
        _write_predictions(Path(args.output), labels, proba)
        print(f"wrote {len(labels)} predictions to {args.output}")
    else:
        print("\n".join(str(int(v)) for v in labels))
    return 0


# -- dlx info -------------------------------------------------------------------------------------
def add_info(subparsers, common):
    p = subparsers.add_parser("info", parents=[common],
                              help="dlx version, backends available (and why not), devices, BLAS")
    p.set_defaults(func=cmd_info)


def _format_value(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def cmd_info(args) -> int:
    import platform

    import dlx
    import dlx.backends as B

    print(f"dlx {dlx.__version__}  (Python {platform.python_version()}, {platform.platform()})")
    print(f"auto backend: {B.get('auto').name}")
    for name, (ok, why) in B.available().items():
        print(f"{name}: {'available' if ok else 'unavailable'}" + ("" if ok else f" - {why}"))
        if ok:
            for key, value in B.get(name).describe().items():
                if key != "backend":
                    print(f"    {key}: {_format_value(value)}")
    return 0


# -- dlx bench ------------------------------------------------------------------------------------
def add_bench(subparsers, common):
    from dlx.bench.cli import add_arguments

    p = subparsers.add_parser("bench", parents=[common],
                              help="benchmark the backends side by side and against PyTorch")
    add_arguments(p)
    p.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    from dlx.bench.cli import run_from_args

    return run_from_args(args)


# -- entry point ----------------------------------------------------------------------------------
COMMANDS = [add_train, add_evaluate, add_predict, add_info, add_bench]
from dlx.models.charlm_cli import add_sample  # noqa: E402  (dlx sample)

COMMANDS.append(add_sample)


def add_search(subparsers, common):
    from dlx.strategy.search_cli import add_search as add

    add(subparsers, common)


def add_diagnose(subparsers, common):
    from dlx.strategy.diagnose_cli import add_diagnose as add

    add(subparsers, common)


COMMANDS += [add_search, add_diagnose]


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")
    parser = _Parser(prog="dlx", parents=[common],
                                     description="dlx: deep learning on NumPy or CuPy")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(subparsers, common)
    from dlx.vision.style_cli import add_parser as add_style
    add_style(subparsers, common)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.func(args)
    except (DlxError, OSError) as exc:
        if getattr(args, "debug", False):
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"dlx {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dlx: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
