"""dlx search: search-space parsing, coarse-to-fine zoom, and real Optuna studies shared by
2 worker processes on a journal file and on a PostgreSQL server this module starts."""

import math
import os
import random
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from dlx.errors import ConfigError
from dlx.strategy.search import (Choice, IntRange, LogUniform, OneMinusLogUniform,
                                 parse_space, to_text, zoom)


def test_space_parses_every_kind_and_round_trips():
    space = parse_space(["lr=log:1e-4:1e-1", "hidden=intlog:16:256", "layers=int:1:3",
                         "beta1=beta:0.9:0.999", "optimizer=choice:adam,momentum",
                         "decay=uniform:0.8:1"])
    assert space["lr"] == LogUniform(1e-4, 1e-1)
    assert space["hidden"] == IntRange(16, 256, log=True)
    assert space["beta1"] == OneMinusLogUniform(0.9, 0.999)
    assert space["optimizer"] == Choice(("adam", "momentum"))
    assert parse_space({k: to_text(d) for k, d in space.items()}) == space


@pytest.mark.parametrize("bad,match", [("lr=log:1:0.1", "0 < low < high"),
                                       ("lr=grid:1:2", "kind must be"),
                                       ("lr=log:1e-3", "LOW:HIGH"), ("lr", "NAME=KIND")])
def test_bad_space_entries_are_refused(bad, match):
    with pytest.raises(ConfigError, match=match):
        parse_space([bad])


def test_integer_draws_stay_in_range_on_a_log_scale():
    rng = random.Random(0)
    draws = [IntRange(16, 256, log=True).sample(rng) for _ in range(2000)]
    assert min(draws) >= 16 and max(draws) <= 256
    assert sum(d < 64 for d in draws) == pytest.approx(1000, abs=120)  # half the log range


def test_zoom_narrows_around_the_best_on_the_sampling_scale():
    space = parse_space(["lr=log:1e-5:1", "hidden=int:1:100", "beta=beta:0.9:0.9999",
                         "optimizer=choice:adam,momentum,gd"])
    best = [{"lr": 1e-3, "hidden": 40, "beta": 0.99, "optimizer": "adam"},
            {"lr": 1e-2, "hidden": 60, "beta": 0.999, "optimizer": "adam"}]
    fine = zoom(space, best)
    # log10 span [-3, -2] widened by max(0.25 * 1, 0.1 * 5) = 0.5 each side
    assert math.log10(fine["lr"].low) == pytest.approx(-3.5)
    assert math.log10(fine["lr"].high) == pytest.approx(-1.5)
    assert 20 <= fine["hidden"].low <= 40 and 60 <= fine["hidden"].high <= 80
    assert 0.9 < fine["beta"].low < 0.99 and 0.999 < fine["beta"].high < 0.9999
    assert fine["optimizer"] == Choice(("adam",))
    with pytest.raises(ConfigError, match="at least one"):
        zoom(space, [])


def test_quotas_share_the_trials_exactly():
    pytest.importorskip("optuna", reason="needs the search extra: pip install 'dlx[search]'")
    from dlx.strategy.study import quotas

    assert quotas(16, 2) == [8, 8] and quotas(7, 3) == [3, 2, 2] and sum(quotas(5, 8)) == 5


def test_unknown_hyperparameters_are_refused(tmp_path):
    from dlx.cli import main

    assert main(["search", "--param", "momentum_beta=uniform:0:1", "--out",
                 str(tmp_path)]) == 2


# -- real studies ---------------------------------------------------------------------------
TINY = ["--model", "mlp", "--epochs", "2", "--param", "lr=log:1e-3:3e-2",
        "--param", "hidden=intlog:4:32", "--param", "l2=log:1e-4:1", "--backend", "numpy"]


def _search(tmp_path, *extra):
    pytest.importorskip("optuna", reason="needs the search extra: pip install 'dlx[search]'")
    from dlx.cli import main

    assert main(["search", *TINY, "--out", str(tmp_path), *extra]) == 0


def _every_trial_once(storage, study_name, n):
    from dlx.strategy.study import open_storage, optuna

    study = optuna().load_study(study_name=study_name, storage=open_storage(storage))
    trials = study.trials
    assert sorted(t.number for t in trials) == list(range(n))
    assert [t.state.name for t in trials] == ["COMPLETE"] * n
    assert len({t.user_attrs["hyper"]["lr"] for t in trials}) == n  # n distinct draws
    return study


@pytest.mark.slow
def test_two_workers_share_a_journal_file(tmp_path):
    _search(tmp_path, "--trials", "6", "--workers", "2")
    _every_trial_once(str(tmp_path / "study.journal"), "dlx-search", 6)
    assert "complete" in (tmp_path / "results.txt").read_text()
    assert (tmp_path / "search.png").stat().st_size > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server on a loopback port in a temporary directory, stopped afterwards.
    As root the server programs run as the ``postgres`` user (they refuse root)."""
    pytest.importorskip("psycopg", reason="needs the search extra: pip install 'dlx[search]'")
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.skip("PostgreSQL's initdb/pg_ctl are not on the PATH")
    as_user = []
    root = Path(tempfile.mkdtemp(prefix="dlx-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as postgres")
        try:
            shutil.chown(root, user="postgres")
        except LookupError:
            pytest.skip("running as root and there is no postgres user to run the server")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    subprocess.run(as_user + ["initdb", "-D", str(data), "-A", "trust", "-U", "postgres",
                              "--no-sync"], check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = subprocess.run(as_user + ["pg_ctl", "-D", str(data), "-o", options,
                                        "-l", str(root / "server.log"), "-w", "start"],
                             capture_output=True, text=True)
    assert started.returncode == 0, (root / "server.log").read_text()[-2000:]
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user + ["pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_two_workers_against_postgresql_run_every_trial_once(tmp_path, postgres_url):
    _search(tmp_path, "--trials", "6", "--workers", "2", "--storage", postgres_url,
            "--study", "pg-study")
    _every_trial_once(postgres_url, "pg-study", 6)


@pytest.mark.slow
def test_pruning_stops_trials_whose_dev_cost_lags(tmp_path):
    """Tiny learning rates make some trials' per-epoch dev cost worse than the median."""
    pytest.importorskip("optuna", reason="needs the search extra: pip install 'dlx[search]'")
    from dlx.strategy.study import SearchConfig, run_search

    config = SearchConfig(storage=str(tmp_path / "s.journal"), study="prune",
                          space={"lr": "log:1e-6:3e-2", "hidden": "int:4:8"}, epochs=3,
                          trials=8, prune=True, seed=0)
    study = run_search(config, workers=1)
    states = [t.state.name for t in study.trials]
    assert len(states) == 8 and "PRUNED" in states and "COMPLETE" in states
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert all(len(t.intermediate_values) < 3 for t in pruned)  # stopped before the end
