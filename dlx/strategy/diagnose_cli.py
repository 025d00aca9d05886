"""``dlx diagnose RUN_DIR``: the course's bias/variance/mismatch analysis of a trained run.

Evaluates the run's model (best.npz, else checkpoint.npz) on every part of its data —
train, training-dev, dev, test — prints the error levels and the gaps, and names the
largest gap with the course's remedies. Which examples each part holds comes from
``RUN_DIR/splits.json``, which ``dlx train`` writes (see :mod:`dlx.train.run_splits`); a run
directory without one (older runs) is evaluated on the fixed split every ``dlx`` command
uses. Without a training-dev part (``--train-dev-fraction 0``) variance is measured on dev.
"""

from __future__ import annotations

from pathlib import Path

from dlx.errors import ConfigError


def add_diagnose(subparsers, common):
    p = subparsers.add_parser("diagnose", parents=[common],
                              help="avoidable bias, variance, data mismatch of a trained run")
    p.add_argument("run_dir")
    p.add_argument("--human-error", type=float, default=0.0,
                   help="human-level error as a fraction (proxy for Bayes error), e.g. 0.01")
    p.add_argument("--error-sheet", metavar="CSV",
                   help="error analysis of the dev set: write the spreadsheet of misclassified "
                        "dev examples to CSV (tag columns to fill in), or, when CSV exists, "
                        "read the edited sheet and print each tag's share and ceiling")
    p.add_argument("--backend", default="auto")
    p.set_defaults(func=cmd_diagnose)


def cmd_diagnose(args) -> int:
    from dlx.cli import _load_trained, _use_backend
    from dlx.strategy.diagnosis import REMEDIES, diagnose
    from dlx.train import evaluate
    from dlx.train.prepare import load_dataset
    from dlx.train.run_splits import recorded_parts

    _use_backend(args.backend)
    run_dir = Path(args.run_dir)
    found = [run_dir / name for name in ("best.npz", "checkpoint.npz")
             if (run_dir / name).exists()]
    if not found:
        raise ConfigError(f"dlx diagnose: {run_dir} has no best.npz or checkpoint.npz "
                          "(is it a `dlx train --out` folder?)")
    model, ckpt, prep = _load_trained(found[0])
    dataset = ckpt.meta["info"].get("dataset")
    if not dataset:
        raise ConfigError(f"{found[0]} does not record its dataset")
    errors = {}
    parts = recorded_parts(run_dir, dataset, *load_dataset(dataset))
    for part, (X, y) in parts.items():
        errors[part] = 1.0 - evaluate(model, (prep.apply(X), y))["accuracy"]
        print(f"{part + ' error':<16} {errors[part]:7.2%}  ({len(y)} examples)")
    print(f"{'human error':<16} {args.human_error:7.2%}  (proxy for Bayes error)")
    result = diagnose(errors["train"], errors["dev"], human_error=args.human_error,
                      train_dev_error=errors.get("train_dev"), test_error=errors.get("test"))
    print(result)
    for gap in sorted(result.gaps, key=result.gaps.get, reverse=True)[1:]:
        if result.gaps[gap] > 0:
            print(f"  next: {gap} ({result.gaps[gap]:.2%}): {REMEDIES[gap]}")
    if args.error_sheet:
        _error_analysis(Path(args.error_sheet), model, prep, *parts["dev"])
    return 0


def _error_analysis(path: Path, model, prep, X_dev, y_dev) -> None:
    from dlx.strategy.error_sheet import error_sheet, read_error_sheet

    if path.exists():
        print(f"error analysis from {path} (edited):")
        print(read_error_sheet(path, n_dev=len(y_dev)))
        return
    sheet = error_sheet(y_dev, model.predict(prep.apply(X_dev)))
    sheet.to_csv(path)
    print(sheet)
    print(f"wrote {path}: mark the tag columns (add your own), then run this again")
