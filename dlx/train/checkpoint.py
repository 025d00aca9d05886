"""Checkpoints that cannot execute code or load corrupted data, written atomically.

A checkpoint is one uncompressed ``.npz`` archive (``numpy.savez``) of plain arrays:

==================  ==========================================================================
``__meta__``        uint8 array holding UTF-8 JSON: format tag, dlx version, epoch, backend,
                    model config, optimiser hyper-parameters, RNG state, history, JSON part of
                    callback state, free-form ``info``, the manifest of every array (dtype,
                    shape, SHA-256) and a checksum of all of it (``checkpoint_schema``)
``model/<name>``    parameters and buffers (batch-norm running statistics), ``Module.state_dict``
``optim/<i>.<key>`` optimiser state arrays, by parameter position (``Optimizer.state_dict``)
``cb/<i>/<key>``    array part of callback ``i``'s state (e.g. early stopping's best weights)
``extra/<name>``    further arrays (e.g. input standardisation statistics)
==================  ==========================================================================

Loading trusts nothing in the file (``checkpoint_archive``): no pickle, no ``literal_eval``,
every member read whole (CRC-32 checked) after its size was bounded by the manifest and —
when a model is given — by what the model needs, every array checked against its SHA-256,
the metadata against its checksum and its documented types, and every array for NaN/Inf.
Any failure is a :class:`~dlx.errors.CheckpointError` naming the member, what was expected
and what was found. Arrays come back on the host; ``restore`` moves them to the active
backend, so a checkpoint saved on one backend loads on any other.

Saving is atomic: the archive goes to a temporary file in the target's directory, which is
flushed and fsync'ed, renamed over the target with ``os.replace`` and the directory fsync'ed;
a crash at any moment leaves either the old or the new checkpoint, never a torn one, and the
next save removes the temporary a killed writer left.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np  # checkpoint file I/O (allowed outside dlx/backends)

from dlx import backends
from dlx.errors import CheckpointError, ConfigError
from dlx.train.checkpoint_archive import PICKLED, ArchiveReader, MemberSpec, atomic_save, digest
from dlx.train.checkpoint_schema import (FORMAT, META, VERSION, canonical_checksum, check_members,
                                         check_member_names, check_meta, check_model_config)

META_LIMIT = 64 * 2 ** 20  # bytes of JSON metadata a checkpoint may hold
RNG_FAMILIES = ("numpy", "cupy-xorwow")  # generator families of the backends' RNG states


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
    Non-finite arrays are refused (they could never be loaded).
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
    for name, array in arrays.items():
        _check_finite(f"save_checkpoint({path})", name, array)
    meta["arrays"] = {name: {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": digest(a)}
                      for name, a in arrays.items()}
    try:
        meta = json.loads(json.dumps(meta, allow_nan=True))  # the form a load will see
    except TypeError as exc:
        raise CheckpointError(f"save_checkpoint: metadata is not JSON-serialisable ({exc})") from None
    meta["checksum"] = canonical_checksum(meta)
    blob = json.dumps(meta, allow_nan=True).encode("utf-8")
    arrays[META] = np.frombuffer(blob, dtype=np.uint8)
    # looked up at call time, so a crash test can replace _write_archive
    return atomic_save(path, arrays, write=lambda f, a: _write_archive(f, a))


def _dlx_version() -> str:
    import dlx

    return getattr(dlx, "__version__", "unknown")


def _write_archive(fileobj, arrays: dict) -> None:
    """Serialise ``arrays`` into the open file (the one step a crash test interrupts)."""
    np.savez(fileobj, **arrays)


def _check_finite(where, name: str, array) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        first = np.argwhere(~np.isfinite(array))[0]
        raise CheckpointError(f"{where}: member {name!r} holds NaN or Inf (first at index "
                              f"{tuple(int(i) for i in first)}); expected finite values")


# -- loading --------------------------------------------------------------------------------------
def _open(path: Path) -> ArchiveReader:
    """The archive at ``path``, after the checks that need no zip parsing."""
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a directory, not a checkpoint file "
                              "(pass the .npz inside it, e.g. checkpoint.npz)")
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise CheckpointError(f"checkpoint {path} cannot be read ({exc.strerror or exc})") from None
    if magic[:1] == b"\x80":  # pickle protocol 2+ opcode
        raise CheckpointError(PICKLED.format(path=path))
    if magic != b"PK\x03\x04":
        raise CheckpointError(f"{path}: not a dlx checkpoint (not an .npz archive)")
    return ArchiveReader(path)


def _read_meta(archive: ArchiveReader, spec: MemberSpec | None) -> dict:
    path = archive.path
    if spec is None or spec.dtype != "|u1" or len(spec.shape) != 1:
        raise CheckpointError(f"{path}: not a dlx checkpoint (no '{META}' metadata)")
    if spec.nbytes > META_LIMIT:
        raise CheckpointError(f"{path}: metadata of {spec.nbytes} bytes exceeds the "
                              f"{META_LIMIT} a checkpoint may hold")
    blob = archive.read(META, spec)
    try:
        meta = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: metadata is not valid JSON ({exc})") from None
    return check_meta(path, meta)


def _manifest_specs(archive: ArchiveReader, meta: dict, specs: dict) -> dict:
    """Member name -> sha256 (None in version 1), after matching the manifest to the headers."""
    path = archive.path
    if meta["version"] < 2:  # no manifest: sizes are bounded by the file itself
        for name in specs:
            if not archive.is_stored(name):
                raise CheckpointError(f"{path}: member {name!r} is compressed; version-1 "
                                      "checkpoints are stored uncompressed")
        return dict.fromkeys(specs)
    manifest = meta["arrays"]
    for name in sorted(set(manifest) | set(specs)):
        if name not in specs:
            raise CheckpointError(f"{path}: member {name!r} is listed in the metadata but "
                                  "missing from the archive")
        if name not in manifest:
            raise CheckpointError(f"{path}: member {name!r} is not listed in the metadata; "
                                  "refused")
        entry, spec = manifest[name], specs[name]
        if (entry["dtype"], tuple(entry["shape"])) != (spec.dtype, spec.shape):
            raise CheckpointError(f"{path}: member {name!r} is {spec.dtype} of shape "
                                  f"{spec.shape}; the metadata records {entry['dtype']} of "
                                  f"shape {tuple(entry['shape'])}")
    return {name: manifest[name]["sha256"] for name in specs}


def load_checkpoint(path, model=None, optimizer=None) -> Checkpoint:
    """Read a checkpoint safely (no pickle, no code, no unverified byte).

    With ``model`` (and ``optimizer``), every member is checked against what they need
    before any array is read: names, shapes, optimiser moments (see ``checkpoint_schema``).
    Raises :class:`CheckpointError` when refused."""
    return _load(Path(path), lambda meta: model, optimizer)[1]


def load_model(path):
    """``(model, checkpoint)``: the model a checkpoint describes (``dlx.models.build_model``
    from its config), built before any array is read so every member is checked against it,
    then loaded with the checkpoint's parameters and buffers."""
    path = Path(path)
    model, ckpt = _load(path, lambda meta: _rebuild(path, meta.get("model_config")), None)
    restore(ckpt, model, rng=False)
    return model, ckpt


def _load(path: Path, make_model, optimizer):
    with _open(path) as archive:
        if META not in archive.infos:
            raise CheckpointError(f"{path}: not a dlx checkpoint (no '{META}' metadata)")
        check_member_names(path, archive.infos)
        specs = {name: archive.header(name) for name in archive.infos}
        meta = _read_meta(archive, specs.pop(META, None))
        digests = _manifest_specs(archive, meta, specs)
        model = make_model(meta)
        check_members(path, {n: s.shape for n, s in specs.items()}, meta, model, optimizer)
        arrays = {}
        for name, spec in specs.items():
            arrays[name] = archive.read(name, spec, digests[name])
            _check_finite(path, name, arrays[name])
    ckpt = Checkpoint(path=path, meta=meta)
    sections = {"model": ckpt.model_state, "optim": ckpt.optimizer_arrays, "extra": ckpt.extra}
    for name, value in arrays.items():
        section, _, key = name.partition("/")
        if section == "cb":
            index, _, cb_key = key.partition("/")
            ckpt.callback_arrays.setdefault(int(index), {})[cb_key] = value
        else:
            sections[section][key] = value
    return model, ckpt


def _shapes(ckpt: Checkpoint) -> dict:
    shapes = {f"model/{k}": v.shape for k, v in ckpt.model_state.items()}
    shapes.update({f"optim/{k}": v.shape for k, v in ckpt.optimizer_arrays.items()})
    shapes.update({f"cb/{i}/{k}": v.shape for i, arrays in ckpt.callback_arrays.items()
                   for k, v in arrays.items()})
    return shapes


def restore(ckpt: Checkpoint, model, optimizer=None, rng: bool = True) -> None:
    """Load parameters/buffers (and optimiser state, RNG state) onto the active backend,
    after checking every array against ``model`` and ``optimizer`` (``check_members``).

    The RNG state is restored only when it comes from the same generator family as the
    active backend's (resuming on another backend continues with its own generator).
    """
    if optimizer is not None and ckpt.meta.get("optimizer") is None:
        raise CheckpointError(f"{ckpt.path}: holds no optimiser state to resume from")
    check_members(ckpt.path, _shapes(ckpt), ckpt.meta, model, optimizer)
    model.load_state_dict(ckpt.model_state)
    if optimizer is not None:
        optimizer.load_state_dict({"hyper": ckpt.meta["optimizer"],
                                   "arrays": ckpt.optimizer_arrays})
    state = ckpt.meta.get("rng")
    if rng and state is not None:
        if state.get("family") not in RNG_FAMILIES:
            raise CheckpointError(f"{ckpt.path}: the RNG state's family is "
                                  f"{state.get('family')!r}; expected one of {RNG_FAMILIES}")
        try:
            backends.current().set_rng_state(state)
        except ConfigError as exc:
            warnings.warn(f"{ckpt.path}: RNG state not restored ({exc}); shuffling and "
                          "dropout continue from this backend's own generator", stacklevel=2)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{ckpt.path}: the RNG state is malformed ({exc!r})") from None


def _rebuild(path, config):
    """A fresh model from a checkpoint's model config."""
    if not config:
        raise CheckpointError(f"{path}: no model config stored (the model was not built "
                              "by dlx.models.build_model); build it yourself and call restore()")
    check_model_config(path, config)
    from dlx.models.zoo import build_model as zoo_build

    try:
        return zoo_build(config["name"], tuple(config["input_shape"]), config["n_classes"],
                         **config.get("kwargs", {}))
    except TypeError as exc:
        raise CheckpointError(f"{path}: model_config does not build a model ({exc})") from None


def build_model(ckpt: Checkpoint):
    """Rebuild the model a checkpoint describes (via ``dlx.models.build_model``) and load it."""
    model = _rebuild(ckpt.path, ckpt.model_config)
    restore(ckpt, model, rng=False)
    return model
