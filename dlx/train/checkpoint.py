"""Checkpoints that cannot execute code when loaded, written atomically.

A checkpoint is one uncompressed ``.npz`` archive (``numpy.savez``) of plain arrays:

==================  ==========================================================================
``__meta__``        uint8 array holding UTF-8 JSON: format tag, dlx version, epoch, backend,
                    model config, optimiser hyper-parameters, RNG state, history, JSON part of
                    callback state, free-form ``info``
``model/<name>``    parameters and buffers (batch-norm running statistics), ``Module.state_dict``
``optim/<i>.<key>`` optimiser state arrays, by parameter position (``Optimizer.state_dict``)
``cb/<i>/<key>``    array part of callback ``i``'s state (e.g. early stopping's best weights)
``extra/<name>``    further arrays (e.g. input standardisation statistics)
==================  ==========================================================================

Loading uses ``numpy.load(allow_pickle=False)`` and ``json.loads`` only, so a crafted file can
at worst be refused: object (pickled) arrays raise :class:`~dlx.errors.CheckpointError`.
Arrays come back on the host; ``restore`` moves them to the active backend, so a checkpoint
saved on one backend loads on any other.

Saving is atomic: the archive goes to a temporary file in the target's directory, which is
flushed and fsync'ed, renamed over the target with ``os.replace`` and the directory fsync'ed;
a crash at any moment leaves either the old or the new checkpoint, never a torn one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np  # checkpoint file I/O (allowed outside dlx/backends)

from dlx import backends
from dlx.errors import CheckpointError, ConfigError

FORMAT = "dlx-checkpoint"
VERSION = 1
_META = "__meta__"
_PICKLE_REFUSED = ("{path}: refused to load: it contains pickled Python objects, which could "
                   "run code; dlx checkpoints hold plain arrays only")


@dataclass
class Checkpoint:
    """A loaded checkpoint: ``meta`` (dict from JSON) and host arrays by section."""

    path: Path
    meta: dict
    model_state: dict = field(default_factory=dict)
    optimizer_arrays: dict = field(default_factory=dict)
    callback_arrays: dict = field(default_factory=dict)  # index -> {key: array}
    extra: dict = field(default_factory=dict)

    @property
    def epoch(self) -> int:
        return int(self.meta.get("epoch", 0))

    @property
    def model_config(self) -> dict | None:
        return self.meta.get("model_config")

    def callback_state(self, index: int) -> dict:
        """JSON and array state of callback ``index`` merged into one dict."""
        states = self.meta.get("callbacks", [])
        state = dict(states[index]["state"]) if index < len(states) else {}
        state.update(self.callback_arrays.get(index, {}))
        return state


def model_config(model) -> dict | None:
    """The JSON config that rebuilds ``model`` (``model.config``, set by the model builders:
    ``{"name": ..., "input_shape": [...], "n_classes": k, "kwargs": {...}}``), or None."""
    config = getattr(model, "config", None)
    return dict(config) if config else None


def _host(array) -> np.ndarray:
    return np.ascontiguousarray(backends.backend_of(array).to_host(array))


def save_checkpoint(path, model, optimizer=None, *, epoch: int = 0, history=None,
                    callbacks=(), extra: dict | None = None, info: dict | None = None) -> Path:
    """Write ``model`` (+ optimiser, RNG state, history, callback state) to ``path`` atomically.

    ``callbacks``: objects with ``state_dict() -> dict``; host/device arrays in that dict are
    stored as arrays, everything else must be JSON-serialisable. ``extra``: name -> array.
    """
    backend = backends.current()
    arrays = {f"model/{k}": _host(v) for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "version": VERSION, "dlx_version": _dlx_version(),
            "epoch": int(epoch), "backend": backend.name, "model_class": type(model).__name__,
            "model_config": model_config(model), "rng": backend.get_rng_state(),
            "history": history.to_dict() if history is not None else None,
            "info": info or {}, "optimizer": None, "callbacks": []}
    if optimizer is not None:
        state = optimizer.state_dict()
        meta["optimizer"] = state["hyper"]
        arrays.update({f"optim/{k}": _host(v) for k, v in state["arrays"].items()})
    for i, cb in enumerate(callbacks):
        json_part = {}
        for key, value in cb.state_dict().items():
            if hasattr(value, "shape") and hasattr(value, "dtype"):
                arrays[f"cb/{i}/{key}"] = _host(value)
            else:
                json_part[key] = value
        meta["callbacks"].append({"type": type(cb).__name__, "state": json_part})
    arrays.update({f"extra/{k}": _host(v) for k, v in (extra or {}).items()})
    try:
        blob = json.dumps(meta, allow_nan=True).encode("utf-8")
    except TypeError as exc:
        raise CheckpointError(f"save_checkpoint: metadata is not JSON-serialisable ({exc})") from None
    arrays[_META] = np.frombuffer(blob, dtype=np.uint8)
    return atomic_save(path, arrays)


def _dlx_version() -> str:
    import dlx

    return getattr(dlx, "__version__", "unknown")


def _write_archive(fileobj, arrays: dict) -> None:
    """Serialise ``arrays`` into the open file (the one step a crash test interrupts)."""
    np.savez(fileobj, **arrays)


def atomic_save(path, arrays: dict) -> Path:
    """Write an ``.npz`` of ``arrays`` to ``path``: temp file, flush+fsync, rename, fsync dir."""
    path = Path(path)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_archive(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)
    return path


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); directories cannot be opened this way on Windows."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint safely (no pickle, no code). Raises CheckpointError when refused."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:1] == b"\x80":  # pickle protocol 2+ opcode
        raise CheckpointError(_PICKLE_REFUSED.format(path=path))
    if magic != b"PK\x03\x04":
        raise CheckpointError(f"{path}: not a dlx checkpoint (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise CheckpointError(_PICKLE_REFUSED.format(path=path)) from None
        raise CheckpointError(f"{path}: not a dlx checkpoint ({exc})") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
        raise CheckpointError(f"{path}: not a dlx checkpoint (unreadable or truncated archive: "
                              f"{exc})") from None
    for name, value in arrays.items():
        if not isinstance(value, np.ndarray) or value.dtype.hasobject:
            raise CheckpointError(f"{path}: member {name!r} is not a plain array; refused")
    meta = _read_meta(path, arrays.pop(_META, None))
    ckpt = Checkpoint(path=path, meta=meta)
    for name, value in arrays.items():
        section, _, key = name.partition("/")
        if section == "model":
            ckpt.model_state[key] = value
        elif section == "optim":
            ckpt.optimizer_arrays[key] = value
        elif section == "cb":
            index, _, cb_key = key.partition("/")
            if not index.isdigit():
                raise CheckpointError(f"{path}: malformed callback array name {name!r}")
            ckpt.callback_arrays.setdefault(int(index), {})[cb_key] = value
        elif section == "extra":
            ckpt.extra[key] = value
        else:
            raise CheckpointError(f"{path}: unexpected array {name!r} in checkpoint")
    return ckpt


def _read_meta(path, blob) -> dict:
    if blob is None or blob.dtype != np.uint8 or blob.ndim != 1:
        raise CheckpointError(f"{path}: not a dlx checkpoint (no '{_META}' metadata)")
    try:
        meta = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a dlx checkpoint (format tag "
                              f"{meta.get('format') if isinstance(meta, dict) else None!r})")
    if int(meta.get("version", 0)) > VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {meta['version']} is newer "
                              f"than this dlx understands ({VERSION}); upgrade dlx")
    return meta


def restore(ckpt: Checkpoint, model, optimizer=None, rng: bool = True) -> None:
    """Load parameters/buffers (and optimiser state, RNG state) onto the active backend.

    The RNG state is restored only when it comes from the same generator family as the
    active backend's (resuming on another backend continues with its own generator).
    """
    model.load_state_dict(ckpt.model_state)
    if optimizer is not None:
        if ckpt.meta.get("optimizer") is None:
            raise CheckpointError(f"{ckpt.path}: holds no optimiser state to resume from")
        optimizer.load_state_dict({"hyper": ckpt.meta["optimizer"],
                                   "arrays": ckpt.optimizer_arrays})
    if rng and ckpt.meta.get("rng") is not None:
        try:
            backends.current().set_rng_state(ckpt.meta["rng"])
        except ConfigError as exc:
            warnings.warn(f"{ckpt.path}: RNG state not restored ({exc}); shuffling and "
                          "dropout continue from this backend's own generator", stacklevel=2)


def build_model(ckpt: Checkpoint):
    """Rebuild the model a checkpoint describes (via ``dlx.models.build_model``) and load it."""
    config = ckpt.model_config
    if not config:
        raise CheckpointError(f"{ckpt.path}: no model config stored (the model was not built "
                              "by dlx.models.build_model); build it yourself and call restore()")
    from dlx.models.zoo import build_model as zoo_build

    model = zoo_build(config["name"], tuple(config["input_shape"]), int(config["n_classes"]),
                      **config.get("kwargs", {}))
    restore(ckpt, model, rng=False)
    return model
