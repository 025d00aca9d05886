"""Hyperparameter search on Optuna: storage, one study shared by worker processes, results.

Storage (``--storage``): a file path -> Optuna's journal-file storage (one machine, any
number of worker processes); a URL (``postgresql://user@host:port/db``, ``sqlite:///f.db``)
-> Optuna's RDB storage, for workers on many machines (``postgresql://`` goes through
psycopg 3, the driver the ``search`` extra installs). The study is created once, before
any worker starts (concurrent schema creation on a fresh database kills a worker:
optuna#1092); workers then only load it. Each worker runs its own quota of trials, so W
workers asked for N trials run exactly N.

Sampling is random by default (no grid, as the course advises), TPE on request. Pruning
reports each epoch's dev cost (negated: the study maximises dev accuracy) to a median
pruner, which stops a trial whose cost is worse than the median of earlier trials at the
same epoch.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import asdict, dataclass

from dlx.errors import ConfigError
from dlx.strategy.objective import prepared_data, train_and_score
from dlx.strategy.search import parse_space

DIRECTION = "maximize"  # the study maximises the last epoch's dev accuracy


def optuna():
    try:
        import optuna as module
    except ImportError:
        raise ConfigError("dlx search needs Optuna: pip install 'dlx[search]'") from None
    module.logging.set_verbosity(module.logging.WARNING)
    return module


@dataclass
class SearchConfig:
    """Everything a worker needs (JSON-able: it is passed to worker processes as text)."""

    storage: str
    study: str
    space: dict  # name -> "kind:args" text
    model: str = "mlp"
    dataset: str = "digits"
    epochs: int = 10
    trials: int = 16
    sampler: str = "random"
    prune: bool = False
    seed: int = 0
    worker: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def open_storage(spec: str):
    """Optuna storage for a journal-file path or an RDB URL."""
    opt = optuna()
    if "://" in spec:
        if spec.startswith(("postgresql://", "postgres://")):
            # the driver the search extra installs, whatever SQLAlchemy's default is
            spec = "postgresql+psycopg://" + spec.split("://", 1)[1]
        try:
            return opt.storages.RDBStorage(spec)
        except ImportError:
            raise ConfigError(f"storage {spec.split('://')[0]}:// needs its database driver "
                              "(for PostgreSQL, psycopg: pip install 'dlx[search]')") from None
        except Exception as exc:
            if not type(exc).__module__.startswith("sqlalchemy"):
                raise
            first = str(exc).splitlines()[0]
            raise ConfigError(f"cannot open the search storage {spec}: {first}") from exc
    from optuna.storages.journal import JournalFileBackend

    return opt.storages.JournalStorage(JournalFileBackend(spec))


def sampler(name: str, seed: int):
    opt = optuna()
    if name == "random":
        return opt.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return opt.samplers.TPESampler(seed=seed)
    raise ConfigError(f"dlx search: sampler must be random or tpe, got {name!r}")


def create_study(config: SearchConfig):
    """Create the study (or load an existing one) once, before workers start."""
    return optuna().create_study(storage=open_storage(config.storage), study_name=config.study,
                                 direction=DIRECTION, load_if_exists=True)


def load_study(config: SearchConfig):
    opt = optuna()
    pruner = opt.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1) if config.prune \
        else opt.pruners.NopPruner()
    return opt.load_study(study_name=config.study, storage=open_storage(config.storage),
                          sampler=sampler(config.sampler, config.seed + 7919 * config.worker),
                          pruner=pruner)


def run_worker(config: SearchConfig) -> None:
    """Run ``config.trials`` trials of the (already created) study in this process."""
    opt = optuna()
    space = parse_space(config.space)
    study = load_study(config)
    data = prepared_data(config.model, config.dataset)

    def objective(trial):
        hyper = {n: d.suggest(trial, n) for n, d in space.items()}
        trial.set_user_attr("hyper", hyper)

        def report(epoch, logs):
            trial.report(-logs["dev_cost"], epoch)
            if trial.should_prune():
                raise opt.TrialPruned()

        result = train_and_score(config.model, config.dataset, hyper, config.epochs,
                                 seed=config.seed, on_epoch=report if config.prune else None,
                                 data=data)
        for key, value in result.items():
            trial.set_user_attr(key, value)
        return result["dev_accuracy"]

    study.optimize(objective, n_trials=config.trials)


def quotas(trials: int, workers: int) -> list[int]:
    """Trials per worker: ``trials`` shared as evenly as possible (they sum to ``trials``)."""
    return [trials // workers + (i < trials % workers) for i in range(workers)]


def run_search(config: SearchConfig, workers: int = 1):
    """Create the study, run ``config.trials`` trials over ``workers`` local processes (in
    this process when workers == 1) and return the study."""
    if workers < 1:
        raise ConfigError(f"dlx search: --workers must be >= 1, got {workers}")
    create_study(config)
    jobs = []
    for i, quota in enumerate(quotas(config.trials, workers)):
        if quota == 0:
            continue
        part = SearchConfig(**{**asdict(config), "trials": quota, "worker": i})
        if workers == 1:
            run_worker(part)
        else:
            jobs.append(subprocess.Popen([sys.executable, "-m", "dlx.strategy.search_worker",
                                          part.to_json()]))
    failed = [job.args[-1] for job in jobs if job.wait() != 0]
    if failed:
        raise ConfigError(f"dlx search: {len(failed)} worker process(es) failed (see above)")
    return load_study(config)


def finished(study) -> list:
    """Completed trials, best first."""
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    return sorted(done, key=lambda t: t.value, reverse=True)


def results_table(study, limit: int | None = None) -> str:
    """One row per trial (completed ones best first, then pruned/failed)."""
    names = sorted({k for t in study.trials for k in t.user_attrs.get("hyper", {})})
    rows = finished(study) + [t for t in study.trials if t.state.name != "COMPLETE"]
    lines = [" ".join([f"{'trial':>5}", f"{'state':<8}", f"{'dev_acc':>8}", f"{'dev_cost':>8}",
                       f"{'s':>5}", *[f"{n:>11}" for n in names]])]
    for t in rows[:limit]:
        hyper, attrs = t.user_attrs.get("hyper", {}), t.user_attrs
        lines.append(" ".join([
            f"{t.number:>5}", f"{t.state.name.lower():<8}", _cell(attrs.get("dev_accuracy"), 8),
            _cell(attrs.get("dev_cost"), 8), _cell(attrs.get("seconds"), 5, ".1f"),
            *[_cell(hyper.get(n), 11) for n in names]]))
    return "\n".join(lines)


def _cell(value, width: int, fmt: str = ".4g") -> str:
    if value is None:
        return f"{'-':>{width}}"
    if isinstance(value, float):
        return f"{value:>{width}{fmt}}"
    return f"{value!s:>{width}}"


def plot_search(study, space: dict, path):
    """The dev accuracy of each completed trial against each hyperparameter (log x-axes
    where the hyperparameter is sampled on a log scale; 1 - beta for betas)."""
    from dlx.strategy.search import OneMinusLogUniform
    from dlx.train.plots import _figure, _save

    done, names = finished(study), list(space)
    cols = max(1, min(3, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    fig = _figure((4.0 * cols, 3.2 * rows))  # a ConfigError naming the extra without matplotlib
    from matplotlib.ticker import NullFormatter
    for k, name in enumerate(names, start=1):
        ax, dist = fig.add_subplot(rows, cols, k), space[name]
        xs = [t.user_attrs["hyper"][name] for t in done]
        label = name
        if isinstance(dist, OneMinusLogUniform):
            xs, label = [1 - x for x in xs], f"1 - {name}"
        ax.scatter([str(x) for x in xs] if not hasattr(dist, "to_scale") else xs,
                   [t.value for t in done], s=18)
        if dist.log:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # unit counts span < 1 decade
        ax.set_xlabel(label + (" (log scale)" if dist.log else ""))
        ax.set_ylabel("dev accuracy")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{study.study_name}: {len(done)} completed trials")
    return _save(fig, path)
