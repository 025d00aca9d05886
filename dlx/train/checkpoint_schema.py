"""What a checkpoint's metadata must hold, and what a model and an optimiser expect of it.

Metadata (format version 2) is a JSON object with these fields:

=================  =====================================================================
``format``         ``"dlx-checkpoint"``
``version``        int, 1 or 2 (1: written before digests; read without them)
``epoch``          int >= 0, epochs completed
``info``           object, free-form (``dlx train`` keeps the dataset and preparation here)
``optimizer``      null or {"type": str, "lr": number > 0, "t": int >= 0, ...hyper}
``callbacks``      list of {"type": str, "state": object}
``history``        null or {"records": [object, ...]}
``model_config``   null or object (see :func:`check_model_config`)
``rng``            null or object (the backend's generator state)
``arrays``         (v2) member name -> {"dtype": str, "shape": [int], "sha256": hex}
``checksum``       (v2) SHA-256 of the canonical JSON of every other field
=================  =====================================================================

Members are checked against the model (``model/<name>``: every parameter and buffer, same
shape), the optimiser (``optim/<i>.<key>``: every state key of every parameter once a step
has been taken, shape of parameter i) and callback arrays that mirror either; all of it
from shapes alone, so it runs before a single array is read.
"""

from __future__ import annotations

import hashlib
import json
import math
import re

from dlx.errors import CheckpointError

FORMAT = "dlx-checkpoint"
VERSION = 2
META = "__meta__"
_OPTIM_NAME = re.compile(r"(\d{1,9})\.(\w{1,32})")
_MEMBER_NAME = re.compile(r"(model|extra)/[^/]+|optim/\d{1,9}\.\w{1,32}|cb/\d{1,9}/[^/]+")


def check_member_names(path, names) -> None:
    """Every member is ``__meta__``, ``model/<name>``, ``optim/<i>.<key>``, ``cb/<i>/<key>``
    or ``extra/<name>``."""
    for name in names:
        if name != META and _MEMBER_NAME.fullmatch(name) is None:
            raise CheckpointError(f"{path}: unexpected member {name!r} (expected model/<name>, "
                                  "optim/<i>.<key>, cb/<i>/<key> or extra/<name>)")


def canonical_checksum(meta: dict) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of ``meta`` minus its checksum."""
    body = {k: v for k, v in meta.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _require(path, meta: dict, key: str, ok, expected: str) -> None:
    if key not in meta:
        raise CheckpointError(f"{path}: metadata field {key!r} is missing (expected {expected})")
    if not ok(meta[key]):
        raise CheckpointError(f"{path}: metadata field {key!r} must be {expected}, got "
                              f"{_show(meta[key])}")


def check_meta(path, meta) -> dict:
    """``meta`` if every field has the documented type; CheckpointError naming the first that
    does not. Format tag and version are checked first."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        tag = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(f"{path}: not a dlx checkpoint (format tag {_show(tag)})")
    version = meta.get("version")
    if _is_int(version) and version > VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version} is newer than this "
                              f"dlx understands ({VERSION}); upgrade dlx")
    _require(path, meta, "version", lambda v: _is_int(v) and 1 <= v, f"an int 1..{VERSION}")
    _require(path, meta, "epoch", lambda v: _is_int(v) and v >= 0, "an int >= 0")
    _require(path, meta, "info", lambda v: isinstance(v, dict), "an object")
    _require(path, meta, "optimizer", lambda v: v is None or isinstance(v, dict),
             "null or an object")
    if meta["optimizer"] is not None:
        check_optimizer_hyper(path, meta["optimizer"])
    _require(path, meta, "callbacks", lambda v: isinstance(v, list) and all(
        isinstance(c, dict) and isinstance(c.get("type"), str) and isinstance(c.get("state"), dict)
        for c in v), 'a list of {"type": str, "state": object}')
    _require(path, meta, "history", lambda v: v is None or (
        isinstance(v, dict) and isinstance(v.get("records"), list)
        and all(isinstance(r, dict) for r in v["records"])), 'null or {"records": [object]}')
    for key in ("model_config", "rng"):
        _require(path, meta, key, lambda v: v is None or isinstance(v, dict), "null or an object")
    if version >= 2:
        _require(path, meta, "arrays", _is_manifest,
                 'an object of {"dtype": str, "shape": [int], "sha256": str}')
        _require(path, meta, "checksum", lambda v: isinstance(v, str), "a hex string")
        if canonical_checksum(meta) != meta["checksum"]:
            raise CheckpointError(f"{path}: metadata does not match its checksum: the file is "
                                  "corrupted or was edited")
    return meta


def _is_manifest(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(entry, dict) and isinstance(entry.get("dtype"), str)
        and isinstance(entry.get("sha256"), str) and isinstance(entry.get("shape"), list)
        and all(_is_int(n) and n >= 0 for n in entry["shape"]) for entry in value.values())


def check_optimizer_hyper(path, hyper: dict) -> None:
    for key, ok, expected in (("type", lambda v: isinstance(v, str), "a string"),
                              ("lr", lambda v: _is_number(v) and v > 0, "a number > 0"),
                              ("t", lambda v: _is_int(v) and v >= 0, "an int >= 0")):
        if key not in hyper or not ok(hyper[key]):
            raise CheckpointError(f"{path}: optimiser field {key!r} must be {expected}, got "
                                  f"{_show(hyper.get(key))}")


def check_model_config(path, config) -> dict:
    """A model config ``{"name": str, "input_shape": [int > 0], "n_classes": int > 0,
    "kwargs": object}`` (what ``dlx.models.build_model`` takes)."""
    ok = (isinstance(config, dict) and isinstance(config.get("name"), str)
          and isinstance(config.get("input_shape"), list)
          and all(_is_int(n) and n > 0 for n in config["input_shape"])
          and _is_int(config.get("n_classes")) and config["n_classes"] > 0
          and isinstance(config.get("kwargs", {}), dict))
    if not ok:
        raise CheckpointError(f"{path}: model_config must be {{'name': str, 'input_shape': "
                              f"[int > 0], 'n_classes': int > 0, 'kwargs': object}}, got "
                              f"{_show(config)}")
    return config


# -- members against a model and an optimiser --------------------------------------------------
def model_shapes(model) -> dict:
    """``model/<name>`` -> shape of every parameter and buffer."""
    shapes = {f"model/{name}": tuple(p.shape) for name, p in model.named_parameters()}
    shapes.update({f"model/{name}": tuple(b.shape) for name, b in model.named_buffers()})
    return shapes


def _optimizer_shapes(path, optimizer, hyper) -> dict:
    """``optim/<i>.<key>`` -> shape the optimiser needs to continue exactly."""
    if hyper["type"] != type(optimizer).__name__:
        raise CheckpointError(f"{path}: optimiser state is for {hyper['type']}, this optimiser "
                              f"is {type(optimizer).__name__}")
    for key, value in optimizer.hyperparameters().items():
        if hyper.get(key) != value:
            raise CheckpointError(f"{path}: optimiser {key} is {_show(hyper.get(key))} in the "
                                  f"checkpoint but {value!r} here; resuming would not continue "
                                  "exactly")
    keys = optimizer.state_keys if hyper["t"] > 0 else ()
    return {f"optim/{i}.{key}": tuple(p.shape) for i, p in enumerate(optimizer.params)
            for key in keys}


def _mirrored_shape(name: str, model: dict, params: list):
    """Shape a callback array must have when it mirrors a model or optimiser array
    (``cb/<i>/<prefix>.<model name>`` or ``cb/<i>/optim.<j>.<key>``), else None."""
    key = name.split("/", 2)[-1]
    prefix, _, rest = key.partition(".")
    if f"model/{rest}" in model:
        return model[f"model/{rest}"]
    match = _OPTIM_NAME.fullmatch(rest)
    if prefix == "optim" and match and int(match.group(1)) < len(params):
        return tuple(params[int(match.group(1))].shape)
    return None


def check_members(path, shapes: dict, meta: dict, model=None, optimizer=None) -> None:
    """Refuse members (name -> shape) that do not fit ``model`` / ``optimizer``: a missing or
    unexpected model array, a wrong shape, an optimiser moment missing or of the wrong shape,
    a callback snapshot of the wrong shape. Message: member, expected, found."""
    if model is None:
        return
    want = model_shapes(model)
    have = {n: s for n, s in shapes.items() if n.startswith("model/")}
    for name in sorted(set(want) | set(have)):
        if name not in have:
            raise CheckpointError(f"{path}: member {name!r} is missing; the model "
                                  f"{type(model).__name__} needs shape {want[name]}")
        if name not in want:
            raise CheckpointError(f"{path}: member {name!r} is unexpected; the model "
                                  f"{type(model).__name__} has no such parameter or buffer")
    for name in sorted(want):
        if have[name] != want[name]:
            raise CheckpointError(f"{path}: member {name!r} has shape {have[name]}, the model "
                                  f"needs {want[name]}")
    params = model.parameters()
    optim = {n: s for n, s in shapes.items() if n.startswith("optim/")}
    for name, shape in optim.items():
        match = _OPTIM_NAME.fullmatch(name[len("optim/"):])
        if match is None or int(match.group(1)) >= len(params):
            raise CheckpointError(f"{path}: member {name!r} names no parameter of the model "
                                  f"({len(params)} parameters)")
        need = tuple(params[int(match.group(1))].shape)
        if shape != need:
            raise CheckpointError(f"{path}: member {name!r} has shape {shape}, parameter "
                                  f"{match.group(1)} needs {need}")
    if optimizer is not None and meta.get("optimizer") is not None:
        need = _optimizer_shapes(path, optimizer, meta["optimizer"])
        for name in sorted(set(need) | set(optim)):
            if name not in optim:
                raise CheckpointError(f"{path}: member {name!r} is missing; "
                                      f"{type(optimizer).__name__} at step "
                                      f"{meta['optimizer']['t']} needs shape {need[name]}")
            if name not in need:
                raise CheckpointError(f"{path}: member {name!r} is unexpected for "
                                      f"{type(optimizer).__name__}")
    for name, shape in shapes.items():
        if name.startswith("cb/"):
            need = _mirrored_shape(name, want, params)
            if need is not None and shape != need:
                raise CheckpointError(f"{path}: member {name!r} has shape {shape}, expected "
                                      f"{need}")
