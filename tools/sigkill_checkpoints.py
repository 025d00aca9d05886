"""SIGKILL a checkpointing run at random moments; every checkpoint on disk must load, the
resumed run must finish with the parameters of an uninterrupted run, and no temporary file
may survive the next save.

    python tools/sigkill_checkpoints.py --kills 50 [--epochs 80] [--width 512] [--seed 0]

The run (a child process) trains an MLP (64-width-width-10) on the bundled digits with
Adam, writing ``checkpoint.npz`` every epoch and ``best.npz`` on improvement, and resumes
from ``checkpoint.npz`` when one exists. Each round starts the child and kills it after a
random delay (every other round: the moment a new temporary file appears, i.e. inside
a save); the parent then loads every ``*.npz`` in the run directory and notes the
temporaries left. A temporary must be gone once a later child has saved again. After the
kills the run is finished without interruption and compared, bit for bit, with a run that
was never killed. Needs POSIX (SIGKILL) and the ``data`` extra (scikit-learn's digits).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import sys
from pathlib import Path
import numpy as np
import dlx.backends as B
from dlx.nn import Dense, Sequential
from dlx.train import Checkpoint, fit

out, epochs, width = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
B.set_backend("numpy")
B.current().seed(0)
with np.load(out.parent / "digits.npz") as f:  # written once by the parent
    X, y = f["X"] / 16.0, f["y"]
model = Sequential(Dense(64, width, "relu"), Dense(width, width, "relu"), Dense(width, 10))
ckpt = out / "checkpoint.npz"
print("started", flush=True)
fit(model, (X, y), dev=(X[:300], y[:300]), epochs=epochs, batch_size=128, verbose=False,
    callbacks=[Checkpoint(ckpt, best_path=out / "best.npz", monitor="dev_accuracy")],
    resume=ckpt if ckpt.exists() else None)
"""


def child(out: Path, epochs: int, width: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(out), str(epochs), str(width)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(out: Path, epochs: int, width: int) -> None:
    proc = child(out, epochs, width)
    _, err = proc.communicate(timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"run in {out} failed: {err.strip().splitlines()[-1:]}")


def wait_for_temporary(out: Path, known: set, proc, timeout: float = 120.0) -> None:
    """Return once a temporary file not in ``known`` exists (or the child has exited)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if any(e.name.endswith(".tmp") and e.name not in known for e in os.scandir(out)):
            return
        time.sleep(0.0002)


def temporaries(out: Path) -> set[str]:
    return {p.name for p in out.glob(".*.tmp")}


def check_checkpoints(out: Path) -> dict:
    """name -> epoch of every checkpoint on disk (each must load)."""
    from dlx.train import load_checkpoint

    return {p.name: load_checkpoint(p).epoch for p in sorted(out.glob("*.npz"))}


def run(kills: int, epochs: int, width: int, seed: int, workdir: Path, say=print) -> dict:
    from dlx.train import load_checkpoint

    import numpy as np

    from dlx.data import load_digits

    rng = random.Random(seed)
    X, y = load_digits()
    np.savez(workdir / "digits.npz", X=X, y=y)
    reference, out = workdir / "reference", workdir / "killed"
    reference.mkdir()
    out.mkdir()
    started = time.perf_counter()
    finish(reference, epochs, width)
    one_run = time.perf_counter() - started
    failures, left, hit_saves, done_early, survived = [], {}, 0, 0, 0
    for k in range(kills):
        proc = child(out, epochs, width)
        proc.stdout.readline()  # "started": imports and data are done
        if k % 2:  # a random moment within about two epochs
            time.sleep(rng.uniform(0.0, 2 * one_run / epochs))
        else:  # a moment inside a save: as soon as a new temporary file appears
            wait_for_temporary(out, set(left), proc)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        else:
            done_early += 1
        proc.wait()
        try:
            epochs_on_disk = check_checkpoints(out)
        except Exception as exc:  # every checkpoint on disk must load
            failures.append(f"kill {k}: {type(exc).__name__}: {exc}")
            continue
        now = temporaries(out)
        saved_epoch = epochs_on_disk.get("checkpoint.npz", 0)
        for name, epoch_at_kill in list(left.items()):
            if saved_epoch > epoch_at_kill:  # a save happened since: it must be gone
                if name in now:
                    survived += 1
                    failures.append(f"kill {k}: temporary {name} survived a later save")
                del left[name]
        for name in now - set(left):
            left[name] = saved_epoch
            hit_saves += 1
    finish(out, epochs, width)
    final_temporaries = temporaries(out)
    if final_temporaries:
        failures.append(f"temporaries after the final run: {sorted(final_temporaries)}")
    a = load_checkpoint(out / "checkpoint.npz").model_state
    b = load_checkpoint(reference / "checkpoint.npz").model_state
    identical = a.keys() == b.keys() and all(a[n].tobytes() == b[n].tobytes() for n in a)
    if not identical:
        failures.append("the resumed run's parameters differ from the uninterrupted run's")
    result = {"kills": kills, "kills_during_save": hit_saves, "finished_before_kill": done_early,
              "temporaries_surviving_a_save": survived, "identical_to_uninterrupted": identical,
              "failures": failures, "seconds": time.perf_counter() - started}
    say(f"{kills} SIGKILLs ({hit_saves} left a temporary file, i.e. landed in a save; "
        f"{done_early} rounds finished before their kill) in {result['seconds']:.0f} s")
    say(f"every checkpoint on disk loaded after every kill: {not any('kill' in f and 'temporary' not in f for f in failures)}")
    say(f"temporaries surviving a later save: {survived}; after the final run: "
        f"{len(final_temporaries)}")
    say(f"resumed run bit-identical to an uninterrupted run: {identical}")
    for failure in failures[:20]:
        say(f"FAILURE {failure}")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.kills, args.epochs, args.width, args.seed, Path(tmp))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
