"""Fuzz the checkpoint loader: mutate a valid checkpoint and classify every load.

    python tools/fuzz_checkpoint.py --mutations 10000 [--seed 0] [--workdir DIR]

A valid checkpoint (a Dense-BatchNorm-Dense model after two epochs of ``fit`` with Adam,
early stopping's best weights, a checkpoint callback and extra arrays) is mutated and
loaded, with ``load_checkpoint(path)``, ``load_checkpoint(path, model, optimizer)`` and
``restore`` into a fresh model and optimiser. Every outcome must be

* ``refused``: a :class:`dlx.errors.DlxError` (counted by class), or
* ``identical``: a load whose every array is bit-identical (name, dtype, shape, bytes) to
  the original's;

anything else is a failure: ``different`` (a load whose arrays differ) or ``crash`` (any
other exception type). Mutations: byte flips, truncations, insertions, deletions, edits of
a ``.npy`` header in place (length field, text) and re-zipped with a valid CRC, member
removals, additions, replacements (other values, shape, dtype, NaN, pickled objects,
deflated), deflate bombs (a member that inflates to 1 GiB from about 1 MiB) and structural
edits of the JSON metadata (keys deleted, values of other types, with and without a
recomputed checksum). Prints the counts and the peak resident memory; exit status 1 on
any failure.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import random
import resource
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

import dlx.backends as B
from dlx.errors import DlxError
from dlx.nn import Dense, Sequential
from dlx.nn.regularization import BatchNorm
from dlx.optim import Adam
from dlx.train import Checkpoint, EarlyStopping, fit, load_checkpoint, restore
from dlx.train.checkpoint_schema import canonical_checksum

META = "__meta__"
BOMB_BYTES = 2 ** 30


# -- the valid checkpoint ------------------------------------------------------------------------
def make_model():
    B.current().seed(0)
    return Sequential(Dense(4, 6, "relu", bias=False), BatchNorm(6), Dense(6, 3))


def make_checkpoint(directory: Path) -> Path:
    """A checkpoint with every section: model, optimiser, callback arrays, extra, history."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 4)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    path = directory / "original.npz"
    model = make_model()
    fit(model, (X, y), dev=(X[:8], y[:8]), epochs=2, batch_size=8, verbose=False,
        callbacks=[EarlyStopping(patience=5), Checkpoint(path)],
        checkpoint_info={"dataset": "fuzz", "prep": {"layout": "features", "axis": [0]}},
        checkpoint_arrays={"norm_mean": X.mean(0, keepdims=True),
                           "norm_std": X.std(0, keepdims=True)})
    return path


def all_arrays(ckpt) -> dict:
    arrays = {f"model/{k}": v for k, v in ckpt.model_state.items()}
    arrays.update({f"optim/{k}": v for k, v in ckpt.optimizer_arrays.items()})
    arrays.update({f"extra/{k}": v for k, v in ckpt.extra.items()})
    arrays.update({f"cb/{i}/{k}": v for i, d in ckpt.callback_arrays.items() for k, v in d.items()})
    return arrays


def identical(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes()
        for k in a)


# -- zip surgery ---------------------------------------------------------------------------------
def members(data: bytes) -> dict:
    """Member name (with .npy) -> bytes of a valid archive."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def rezip(parts: dict, deflate: set = frozenset()) -> bytes:
    """An archive of ``parts`` (name -> bytes) with correct CRCs; names in ``deflate`` are
    compressed."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, raw in parts.items():
            method = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), raw, compress_type=method)
    return buf.getvalue()


def npy(array, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), allow_pickle=allow_pickle)
    return buf.getvalue()


def bomb_archive(parts: dict, name: str, size: int = BOMB_BYTES) -> bytes:
    """``parts`` with member ``name`` replaced by ``size`` bytes of zeros, deflated while
    streaming (the fuzzer itself never holds the inflated bytes)."""
    buf = io.BytesIO()
    header = _bomb_header(size)
    with zipfile.ZipFile(buf, "w", allowZip64=True) as z:
        for member, raw in parts.items():
            if member != name:
                z.writestr(member, raw)
                continue
            info = zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as f:
                f.write(header)
                chunk = bytes(2 ** 22)
                for _ in range(size // len(chunk)):
                    f.write(chunk)
    return buf.getvalue()


def _bomb_header(n: int) -> bytes:
    """A .npy v1 header for a uint8 vector of ``n`` elements."""
    text = "{'descr': '|u1', 'fortran_order': False, 'shape': (%d,), }" % n
    pad = 64 - (10 + len(text) + 1) % 64
    text = text + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")


# -- mutations -----------------------------------------------------------------------------------
WEIRD_VALUES = ["x", "abc", -1, 0, 1, 2 ** 70, 1.5, float("nan"), True, None, [], {}, [1, 2],
                {"a": 1}, "1", 10 ** 6]


class Mutator:
    def __init__(self, original: bytes, rng: random.Random, bombs: list[bytes]):
        self.original, self.rng, self.bombs = original, rng, bombs
        self.parts = members(original)
        self.meta = json.loads(np.lib.format.read_array(io.BytesIO(self.parts[META + ".npy"]))
                               .tobytes())
        self.kinds = [
            ("byte_flip", self.byte_flip, 18), ("truncate", self.truncate, 6),
            ("insert", self.insert, 6), ("delete", self.delete, 4),
            ("header_inplace", self.header_inplace, 10), ("header_rezip", self.header_rezip, 10),
            ("member_remove", self.member_remove, 6), ("member_add", self.member_add, 6),
            ("member_replace", self.member_replace, 12), ("json_edit", self.json_edit, 20),
            ("bomb", self.bomb, 2)]

    def mutate(self) -> tuple[str, bytes]:
        """(kind, bytes) of one mutation that changes the file (no-op edits are redrawn)."""
        names, funcs, weights = zip(*self.kinds)
        while True:
            i = self.rng.choices(range(len(names)), weights)[0]
            data = funcs[i]()
            if data != self.original:
                return names[i], data

    def _pos(self, data) -> int:
        return self.rng.randrange(len(data))

    def byte_flip(self) -> bytes:
        data = bytearray(self.original)
        for _ in range(self.rng.choice([1, 1, 1, 2, 8])):
            data[self._pos(data)] ^= self.rng.randrange(1, 256)
        return bytes(data)

    def truncate(self) -> bytes:
        return self.original[:self._pos(self.original)]

    def insert(self) -> bytes:
        pos = self._pos(self.original)
        junk = bytes(self.rng.randrange(256) for _ in range(self.rng.choice([1, 4, 36, 100])))
        return self.original[:pos] + junk + self.original[pos:]

    def delete(self) -> bytes:
        pos = self._pos(self.original)
        return self.original[:pos] + self.original[pos + self.rng.choice([1, 4, 36, 100]):]

    def _edit_header(self, raw: bytes) -> bytes:
        raw = bytearray(raw)
        choice = self.rng.randrange(3)
        if choice == 0:  # the header-length field (the issue's -36 case among others)
            length = int.from_bytes(raw[8:10], "little")
            delta = self.rng.choice([-36, -16, -1, 1, 16, 36, self.rng.randrange(-200, 200)])
            raw[8:10] = max(0, min(65535, length + delta)).to_bytes(2, "little")
        elif choice == 1:  # one character of the header text
            end = 10 + int.from_bytes(raw[8:10], "little")
            raw[self.rng.randrange(10, end)] = self.rng.choice(b"0123456789(),' <>fiuObO")
        else:  # another dtype or shape, same header length when possible
            text = raw[10:10 + int.from_bytes(raw[8:10], "little")].decode("latin1")
            swaps = [("<f4", "<f8"), ("<f4", "|O"), ("<f8", "<f4"), ("<i8", "<f8"),
                     ("'shape': (", "'shape': (1, "), ("False", "True"), ("|u1", "<f4")]
            old, new = self.rng.choice(swaps)
            raw[10:10 + len(text)] = text.replace(old, new, 1)[:len(text)].ljust(
                len(text)).encode("latin1")
        return bytes(raw)

    def header_inplace(self) -> bytes:
        """Edit a header where it lies in the file: the CRC no longer matches."""
        data = self.original
        starts = [i for i in range(len(data)) if data.startswith(b"\x93NUMPY", i)] \
            if not hasattr(self, "_starts") else self._starts
        self._starts = starts
        pos = self.rng.choice(starts)
        end = pos + 10 + int.from_bytes(data[pos + 8:pos + 10], "little")
        return data[:pos] + self._edit_header(data[pos:end]) + data[end:]

    def header_rezip(self) -> bytes:
        """Edit a header and write a valid archive around it (CRC correct)."""
        parts = dict(self.parts)
        name = self.rng.choice(list(parts))
        parts[name] = self._edit_header(parts[name])
        return rezip(parts)

    def member_remove(self) -> bytes:
        parts = dict(self.parts)
        del parts[self.rng.choice(list(parts))]
        return rezip(parts)

    def _random_array(self, like: np.ndarray | None = None):
        rng = np.random.default_rng(self.rng.randrange(2 ** 32))
        shape = like.shape if like is not None and self.rng.random() < 0.6 else \
            tuple(rng.integers(0, 5, rng.integers(0, 3)))
        kind = self.rng.choice(["same", "f8", "i8", "u1", "nan", "object"])
        if kind == "object":
            obj = np.empty(1, dtype=object)
            obj[0] = ["harmless"]
            return obj
        if kind == "nan":
            dtype = like.dtype if like is not None and like.dtype.kind == "f" else np.dtype("f4")
        elif kind == "same":
            dtype = like.dtype if like is not None else np.dtype("f4")
        else:
            dtype = np.dtype(kind)
        array = rng.standard_normal(shape).astype(dtype) if dtype.kind == "f" else \
            rng.integers(0, 3, shape).astype(dtype)
        if kind == "nan" and array.size:
            array.flat[0] = np.nan
        return array

    def member_add(self) -> bytes:
        parts = dict(self.parts)
        name = self.rng.choice(["model/layers.9.W", "optim/99.v", "optim/0.zz", "cb/7/w.x",
                                "extra/more", "model/layers.0.W2", "junk", "cb/x/y",
                                "model/a/b"]) + ".npy"
        array = self._random_array()
        parts[name] = npy(array, allow_pickle=array.dtype.hasobject)
        return rezip(parts)

    def member_replace(self) -> bytes:
        parts = dict(self.parts)
        name = self.rng.choice(list(parts))
        like = np.lib.format.read_array(io.BytesIO(parts[name]))
        array = self._random_array(like)
        parts[name] = npy(array, allow_pickle=array.dtype.hasobject)
        return rezip(parts, deflate={name} if self.rng.random() < 0.3 else set())

    def json_edit(self) -> bytes:
        meta = json.loads(json.dumps(self.meta))
        for _ in range(self.rng.choice([1, 1, 2, 3])):
            self._edit_json(meta)
        if self.rng.random() < 0.5 and isinstance(meta, dict):
            meta["checksum"] = canonical_checksum(meta)  # a consistent edit: types must hold
        text = json.dumps(meta, allow_nan=True)
        parts = dict(self.parts)
        parts[META + ".npy"] = npy(np.frombuffer(text.encode(), np.uint8))
        return rezip(parts)

    def _edit_json(self, node) -> None:
        path = []
        while isinstance(node, (dict, list)) and node and self.rng.random() < 0.6:
            key = self.rng.choice(list(node)) if isinstance(node, dict) else \
                self.rng.randrange(len(node))
            path.append((node, key))
            node = node[key]
        if not path:
            return
        parent, key = path[-1]
        if isinstance(parent, dict) and self.rng.random() < 0.3:
            del parent[key]
        else:
            parent[key] = self.rng.choice(WEIRD_VALUES)

    def bomb(self) -> bytes:
        return self.rng.choice(self.bombs)


# -- the run -------------------------------------------------------------------------------------
def classify(path: Path, reference: dict) -> tuple[str, str]:
    """('refused', class) | ('identical', '') | ('different', names) | ('crash', repr)."""
    try:
        with warnings.catch_warnings():  # an RNG state of another backend's family warns
            warnings.simplefilter("ignore")
            ckpt = load_checkpoint(path)
            strict = load_checkpoint(path, make_model(), None)
            model = make_model()
            opt = Adam(model.parameters(), lr=0.001)
            checked = load_checkpoint(path, model, opt)
            restore(checked, model, opt)
    except DlxError as exc:
        return "refused", type(exc).__name__
    except Exception as exc:  # the failure this fuzzer looks for
        return "crash", f"{type(exc).__name__}: {str(exc)[:120]}"
    for loaded in (ckpt, strict, checked):
        if not identical(all_arrays(loaded), reference):
            return "different", ", ".join(sorted(set(all_arrays(loaded)) ^ set(reference)))
    return "identical", ""


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(mutations: int, seed: int, workdir: Path, bombs: int = 2, bomb_bytes: int = BOMB_BYTES,
        say=print) -> dict:
    """Fuzz ``mutations`` times; returns the counts (and prints them with ``say``)."""
    with B.use("numpy"):
        original_path = make_checkpoint(workdir)
        reference = all_arrays(load_checkpoint(original_path))
        original = original_path.read_bytes()
        rng = random.Random(seed)
        parts = members(original)
        bomb_files = [bomb_archive(parts, name, bomb_bytes) for name in
                      rng.sample(sorted(parts), min(bombs, len(parts)))] if bombs else []
        mutator = Mutator(original, rng, bomb_files)
        target = workdir / "mutated.npz"
        before = peak_rss_mib()
        counts = collections.Counter()
        refused, failures = collections.Counter(), []
        started = time.perf_counter()
        for i in range(mutations):
            kind, data = mutator.mutate()
            target.write_bytes(data)
            outcome, detail = classify(target, reference)
            counts[(kind, outcome)] += 1
            if outcome == "refused":
                refused[detail] += 1
            elif outcome in ("different", "crash"):
                failures.append((i, kind, outcome, detail))
        elapsed = time.perf_counter() - started
    result = {"mutations": mutations, "by_kind": counts, "refused_by_class": refused,
              "failures": failures, "peak_rss_before_mib": before,
              "peak_rss_after_mib": peak_rss_mib(), "seconds": elapsed,
              "archive_bytes": len(original)}
    _report(result, say)
    return result


def _report(result: dict, say) -> None:
    counts = result["by_kind"]
    outcomes = ("refused", "identical", "different", "crash")
    kinds = sorted({k for k, _ in counts})
    say(f"{result['mutations']} mutations of a {result['archive_bytes']}-byte checkpoint in "
        f"{result['seconds']:.1f} s")
    say(f"{'mutation':<16}" + "".join(f"{o:>11}" for o in outcomes))
    for kind in kinds:
        say(f"{kind:<16}" + "".join(f"{counts[(kind, o)]:>11}" for o in outcomes))
    say(f"{'total':<16}" + "".join(f"{sum(counts[(k, o)] for k in kinds):>11}" for o in outcomes))
    say("refused as: " + ", ".join(f"{c} {n}" for c, n in result["refused_by_class"].most_common()))
    say(f"peak RSS: {result['peak_rss_before_mib']:.0f} MiB before fuzzing, "
        f"{result['peak_rss_after_mib']:.0f} MiB after")
    for failure in result["failures"][:20]:
        say(f"FAILURE #{failure[0]} {failure[1]}: {failure[2]} {failure[3]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutations", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bombs", type=int, default=2, help="deflate-bomb variants to build")
    parser.add_argument("--workdir", type=Path, help="default: a temporary directory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        result = run(args.mutations, args.seed, workdir, args.bombs)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
