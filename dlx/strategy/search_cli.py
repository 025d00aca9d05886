"""``dlx search``: random (or TPE) hyperparameter search on Optuna, over worker processes
on one machine (journal file) or many (one PostgreSQL database). See docs/search.md."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from dlx.errors import ConfigError

DEFAULT_SPACE = {"lr": "log:1e-4:3e-2", "hidden": "intlog:16:256", "l2": "log:1e-4:3"}


def add_search(subparsers, common):
    p = subparsers.add_parser(
        "search", parents=[common], help="hyperparameter search on Optuna (dlx[search])",
        description="Random search (TPE with --sampler tpe) over a space given with --param or "
                    "--space-file; W local workers share one storage; results table and plot "
                    "go to --out.")
    p.add_argument("--model", choices=("logreg", "mlp", "cnn", "lenet5", "resnet"),
                   default="mlp")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--trials", type=int, default=16,
                   help="trials this command runs in total (0: only create the study)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes")
    p.add_argument("--param", action="append", default=[], metavar="NAME=KIND:ARGS",
                   help="e.g. lr=log:1e-4:1e-1, hidden=intlog:16:256, layers=int:1:3, "
                        "beta1=beta:0.8:0.999, optimizer=choice:adam,momentum (default space: "
                        + " ".join(f"{k}={v}" for k, v in DEFAULT_SPACE.items()) + ")")
    p.add_argument("--space-file", help="JSON object NAME -> KIND:ARGS (added to --param)")
    p.add_argument("--sampler", choices=("random", "tpe"), default="random")
    p.add_argument("--prune", action="store_true",
                   help="stop trials whose per-epoch dev cost is worse than the median")
    p.add_argument("--refine", type=int, default=0, metavar="TRIALS",
                   help="coarse to fine: a second search of TRIALS trials zoomed around the "
                        "best quarter of the first")
    p.add_argument("--storage", help="journal file path (default OUT/study.journal) or an "
                                     "RDB URL such as postgresql://user@host:5432/db")
    p.add_argument("--study", default="dlx-search", help="study name (shared by all workers)")
    p.add_argument("--compare-default", action="store_true",
                   help="also train dlx train's default configuration and report it")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/search")
    p.add_argument("--backend", choices=("numpy", "cupy", "emulated"), default="numpy")
    p.set_defaults(func=cmd_search)


def _space_text(args) -> dict:
    from dlx.strategy.objective import check_names
    from dlx.strategy.search import parse_space

    text = {}
    if args.space_file:
        text.update(json.loads(Path(args.space_file).read_text()))
    for item in args.param:
        name, _, spec = item.partition("=")
        text[name.strip()] = spec.strip()
    text = text or dict(DEFAULT_SPACE)
    space = parse_space(text)  # fails early on a bad entry
    check_names(space)
    return text


def _report(study, space, out: Path, tag: str) -> dict:
    from dlx.strategy.study import finished, plot_search, results_table

    table = results_table(study)
    print(table)
    (out / f"results{tag}.txt").write_text(table + "\n")
    best = finished(study)
    written = [f"results{tag}.txt"]
    try:
        plot_search(study, space, out / f"search{tag}.png")
        written.append(f"search{tag}.png")
    except ConfigError as exc:  # matplotlib missing: the table is still there
        print(f"note: no plot ({exc})")
    states = {}
    for t in study.trials:
        states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
    print(f"{study.study_name}: {len(study.trials)} trials ({states}); wrote "
          f"{', '.join(written)} to {out}/")
    if best:
        print(f"best: trial {best[0].number} dev accuracy {best[0].value:.4f} with "
              f"{best[0].user_attrs['hyper']}")
    return {"best": best[0].value if best else None, "trials": len(study.trials)}


def cmd_search(args) -> int:
    from dlx import backends
    from dlx.strategy.objective import train_and_score
    from dlx.strategy.search import parse_space, to_text, zoom
    from dlx.strategy.study import SearchConfig, create_study, finished, run_search

    backends.set_backend(args.backend)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = _space_text(args)
    config = SearchConfig(storage=args.storage or str(out / "study.journal"), study=args.study,
                          space=text, model=args.model, dataset=args.dataset,
                          epochs=args.epochs, trials=args.trials, sampler=args.sampler,
                          prune=args.prune, seed=args.seed)
    if args.trials == 0:
        create_study(config)
        print(f"created study {config.study} in {config.storage}; start the workers now")
        return 0
    print(f"dlx search: {args.trials} trials of {args.model} on {args.dataset} "
          f"({args.epochs} epochs each), {args.sampler} sampling, {args.workers} worker(s), "
          f"storage {config.storage}")
    study = run_search(config, args.workers)
    _report(study, parse_space(text), out, "")
    if args.refine:
        best = finished(study)
        top = [t.user_attrs["hyper"] for t in best[:max(2, len(best) // 4)]]
        fine = zoom(parse_space(text), top)
        fine_text = {name: to_text(dist) for name, dist in fine.items()}
        print(f"coarse to fine: {fine_text}")
        fine_config = SearchConfig(**{**asdict(config), "study": f"{config.study}-fine",
                                      "space": fine_text, "trials": args.refine})
        _report(run_search(fine_config, args.workers), fine, out, "_fine")
    if args.compare_default:
        result = train_and_score(args.model, args.dataset, {}, args.epochs, seed=args.seed)
        print(f"default configuration ({args.epochs} epochs): dev accuracy "
              f"{result['dev_accuracy']:.4f}")
    return 0
