"""Refused inputs of checkpoints and the ``dlx`` command: ``CASES[id](tmp_path)`` performs
the bad action and must raise (the class and message are the row of ``docs/errors.md``).

Forged checkpoints (:func:`forge`) rewrite the manifest and checksum consistently, so the
check that fires is the one the row names, not the integrity digests in front of it.
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

import dlx.backends as B
from dlx.nn import Dense, Sequential
from dlx.nn.regularization import BatchNorm
from dlx.optim import Adam
from dlx.train import checkpoint as C
from dlx.train.checkpoint_archive import digest
from dlx.train.checkpoint_schema import canonical_checksum


# -- helpers -------------------------------------------------------------------------------------
def model():
    B.current().seed(0)
    return Sequential(Dense(4, 6, "relu", bias=False), BatchNorm(6), Dense(6, 3))


def trained(tmp_path, name: str = "c.npz"):
    """(path, model, optimizer) of a checkpoint after two Adam steps."""
    from dlx import functional as F
    from dlx.core import Tensor

    net = model()
    opt = Adam(net.parameters(), lr=0.01)
    X = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    for _ in range(2):
        opt.zero_grad()
        F.softmax_cross_entropy(net(Tensor(X)), np.arange(8) % 3).backward()
        opt.step()
    path = C.save_checkpoint(tmp_path / name, net, opt, epoch=2, info={"dataset": "x"})
    return path, net, opt


def read_all(path) -> tuple[dict, dict]:
    """(meta, arrays) of a checkpoint, read with numpy directly (test side only)."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    return json.loads(arrays.pop("__meta__").tobytes()), arrays


def forge(path, meta: dict, arrays: dict, consistent: bool = True) -> None:
    """Write ``meta`` + ``arrays`` as a checkpoint; with ``consistent``, manifest and checksum
    are recomputed so that only the semantic checks can refuse it."""
    if consistent:
        meta = dict(meta, arrays={n: {"dtype": a.dtype.str, "shape": list(a.shape),
                                      "sha256": digest(a)} for n, a in arrays.items()})
        meta["checksum"] = canonical_checksum(meta)
    blob = np.frombuffer(json.dumps(meta, allow_nan=True).encode(), np.uint8)
    np.savez(path, __meta__=blob, **arrays)


def edited(tmp_path, edit, consistent: bool = True):
    """A trained checkpoint after ``edit(meta, arrays)``; returns (path, model, optimizer)."""
    path, net, opt = trained(tmp_path)
    meta, arrays = read_all(path)
    edit(meta, arrays)
    forge(path, meta, arrays, consistent)
    return path, net, opt


def load_into_fresh(path):
    net = model()
    return C.load_checkpoint(path, net, Adam(net.parameters(), lr=0.01))


def run_cli(*argv):
    """``dlx`` in-process with ``--debug``, so its errors propagate as exceptions."""
    from dlx.cli import main

    previous = B.current()
    try:
        return main([*map(str, argv), "--debug"])
    finally:
        B.set_backend(previous)


def dataset(tmp_path, X, y):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.asarray(X, np.float32), y=np.asarray(y))
    return path


# -- the cases -----------------------------------------------------------------------------------
def ckpt_directory(tmp_path):
    C.load_checkpoint(tmp_path)


def ckpt_missing(tmp_path):
    C.load_checkpoint(tmp_path / "none.npz")


def ckpt_unreadable(tmp_path):
    path, _, _ = trained(tmp_path)
    if os.geteuid() != 0:  # root reads anything: simulate the refusal of the OS instead
        path.chmod(0)
        C.load_checkpoint(path)
    import unittest.mock

    denied = PermissionError(13, "Permission denied", str(path))
    with unittest.mock.patch("builtins.open", side_effect=denied):
        C.load_checkpoint(path)


def ckpt_not_zip(tmp_path):
    (tmp_path / "t.npz").write_text("hello")
    C.load_checkpoint(tmp_path / "t.npz")


def ckpt_truncated(tmp_path):
    path, _, _ = trained(tmp_path)
    path.write_bytes(path.read_bytes()[:3000])
    C.load_checkpoint(path)


def ckpt_header_length(tmp_path):
    """The issue's edit: a .npy header length lowered by 36 bytes (in place)."""
    path, _, _ = trained(tmp_path)
    data = bytearray(path.read_bytes())
    pos = data.index(b"\x93NUMPY", data.index(b"model/layers.0.W"))
    length = int.from_bytes(data[pos + 8:pos + 10], "little")
    data[pos + 8:pos + 10] = (length - 36).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    C.load_checkpoint(path)


def ckpt_rewritten_member(tmp_path):
    """A member rewritten with a valid CRC and header: only the digest can tell."""
    path, _, _ = trained(tmp_path)
    meta, arrays = read_all(path)
    arrays["model/layers.0.W"] = arrays["model/layers.0.W"] + 1
    forge(path, meta, arrays, consistent=False)  # the recorded digests stay the old ones
    C.load_checkpoint(path)


def ckpt_meta_edit(tmp_path):
    edited(tmp_path, lambda meta, arrays: meta.update(epoch=3), consistent=False)
    C.load_checkpoint(tmp_path / "c.npz")


def ckpt_version_text(tmp_path):
    edited(tmp_path, lambda meta, arrays: meta.update(version="x"))
    C.load_checkpoint(tmp_path / "c.npz")


def ckpt_version_newer(tmp_path):
    edited(tmp_path, lambda meta, arrays: meta.update(version=C.VERSION + 1))
    C.load_checkpoint(tmp_path / "c.npz")


def ckpt_epoch_text(tmp_path):
    edited(tmp_path, lambda meta, arrays: meta.update(epoch="abc"))
    C.load_checkpoint(tmp_path / "c.npz")


def ckpt_no_info(tmp_path):
    edited(tmp_path, lambda meta, arrays: meta.pop("info"))
    C.load_checkpoint(tmp_path / "c.npz")


def ckpt_bad_optimizer_t(tmp_path):
    edited(tmp_path, lambda meta, arrays: meta["optimizer"].update(t=-1))
    C.load_checkpoint(tmp_path / "c.npz")


def ckpt_no_meta(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    C.load_checkpoint(tmp_path / "plain.npz")


def ckpt_pickled(tmp_path):
    evil = np.empty(1, dtype=object)
    evil[0] = ["harmless"]
    np.savez(tmp_path / "evil.npz", __meta__=np.zeros(2, np.uint8), **{"model/W": evil})
    C.load_checkpoint(tmp_path / "evil.npz")


def ckpt_extra_member(tmp_path):
    edited(tmp_path, lambda meta, arrays: arrays.update({"model/layers.9.W": np.ones(2, "f4")}))
    load_into_fresh(tmp_path / "c.npz")


def ckpt_missing_member(tmp_path):
    edited(tmp_path, lambda meta, arrays: arrays.pop("model/layers.2.b"))
    load_into_fresh(tmp_path / "c.npz")


def ckpt_unlisted_member(tmp_path):
    path, _, _ = trained(tmp_path)
    meta, arrays = read_all(path)
    arrays["extra/more"] = np.ones(3)
    forge(path, meta, arrays, consistent=False)
    C.load_checkpoint(path)


def ckpt_missing_moment(tmp_path):
    edited(tmp_path, lambda meta, arrays: arrays.pop("optim/0.v"))
    load_into_fresh(tmp_path / "c.npz")


def ckpt_moment_shape(tmp_path):
    edited(tmp_path, lambda meta, arrays: arrays.update({"optim/0.s": np.ones(1, "f4")}))
    load_into_fresh(tmp_path / "c.npz")


def ckpt_batchnorm_buffer(tmp_path):
    edited(tmp_path, lambda meta, arrays: arrays.update(
        {"model/layers.1.running_mean": np.zeros((1, 7), "f4")}))
    load_into_fresh(tmp_path / "c.npz")


def ckpt_nan_weight(tmp_path):
    def poison(meta, arrays):
        arrays["model/layers.0.W"] = arrays["model/layers.0.W"].copy()
        arrays["model/layers.0.W"][1, 2] = np.nan
    edited(tmp_path, poison)
    C.load_checkpoint(tmp_path / "c.npz")


def ckpt_save_nan(tmp_path):
    net = model()
    net.layers[0].W.data[0, 0] = np.inf
    C.save_checkpoint(tmp_path / "c.npz", net)


def ckpt_other_optimizer(tmp_path):
    from dlx.optim import Momentum

    path, _, _ = trained(tmp_path)
    net = model()
    C.load_checkpoint(path, net, Momentum(net.parameters(), lr=0.1))


def ckpt_other_hyper(tmp_path):
    path, _, _ = trained(tmp_path)
    net = model()
    C.load_checkpoint(path, net, Adam(net.parameters(), lr=0.1, beta1=0.5))


def ckpt_deflate_bomb(tmp_path):
    """A member that inflates to 256 MiB from a few hundred KiB."""
    path, _, _ = trained(tmp_path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % (2 ** 26)
    text += " " * (64 - (10 + len(text) + 1) % 64) + "\n"
    header = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, raw in parts.items():
            if name == "model/layers.0.W.npy":
                with z.open(zipfile.ZipInfo(name), "w", force_zip64=True) as f:
                    f.write(header)
                    for _ in range(64):
                        f.write(bytes(2 ** 22))
            else:
                z.writestr(name, raw)
    load_into_fresh(path)


def ckpt_norm_std_shape(tmp_path):
    from dlx.train.prepare import Preparation

    Preparation.from_checkpoint({"layout": "features", "axis": [0]},
                                {"norm_mean": np.zeros((1, 64)), "norm_std": np.ones((1, 1))},
                                input_shape=[64])


def ckpt_model_config(tmp_path):
    net = model()
    net.config = {"name": "mlp", "input_shape": ["64"], "n_classes": 10}
    C.save_checkpoint(tmp_path / "c.npz", net)
    C.load_model(tmp_path / "c.npz")


def cli_batch_size_zero(tmp_path):
    run_cli("train", "--batch-size", 0, "--out", tmp_path)


def cli_seed_negative(tmp_path):
    run_cli("train", "--seed", -1, "--out", tmp_path)


def cli_backend_env(tmp_path):
    import unittest.mock

    with unittest.mock.patch.dict(os.environ, {"DLX_BACKEND": "nonsense"}):
        run_cli("train", "--model", "logreg", "--epochs", 1, "--out", tmp_path)


def cli_predict_no_rows(tmp_path):
    X = np.random.default_rng(0).standard_normal((60, 3))
    data = dataset(tmp_path, X, (X[:, 0] > 0).astype(np.int64))
    run_cli("train", "--model", "logreg", "--dataset", data, "--epochs", 1,
            "--out", tmp_path / "run", "--quiet")
    np.savez(tmp_path / "empty.npz", X=np.zeros((0, 3), np.float32))
    run_cli("predict", tmp_path / "run" / "checkpoint.npz", tmp_path / "empty.npz")


def cli_tiny_dataset(tmp_path):
    data = dataset(tmp_path, np.arange(18.0).reshape(6, 3), [0, 1, 0, 1, 0, 1])
    run_cli("train", "--model", "logreg", "--dataset", data, "--epochs", 1, "--out", tmp_path)


def cli_label_ignore_index(tmp_path):
    y = np.arange(40) % 2
    y[5] = -100
    data = dataset(tmp_path, np.random.default_rng(0).standard_normal((40, 3)), y)
    run_cli("train", "--model", "logreg", "--dataset", data, "--epochs", 1, "--out", tmp_path)


def cli_run_dir_locked(tmp_path):
    from dlx.train.rundir import RunDirectory

    with RunDirectory(tmp_path / "run"):
        run_cli("train", "--model", "logreg", "--dataset", "breast-cancer", "--epochs", 1,
                "--out", tmp_path / "run")


def cli_evaluate_directory(tmp_path):
    run_cli("evaluate", tmp_path)


def cli_sequence_model_option(tmp_path):
    run_cli("train", "--model", "seq2seq", "--dataset", "dates", "--distributed", "--out",
            tmp_path)


CASES = {
    "ckpt-directory": ckpt_directory,
    "ckpt-missing": ckpt_missing,
    "ckpt-unreadable": ckpt_unreadable,
    "ckpt-not-zip": ckpt_not_zip,
    "ckpt-truncated": ckpt_truncated,
    "ckpt-header-length": ckpt_header_length,
    "ckpt-rewritten-member": ckpt_rewritten_member,
    "ckpt-meta-edited": ckpt_meta_edit,
    "ckpt-version-text": ckpt_version_text,
    "ckpt-version-newer": ckpt_version_newer,
    "ckpt-epoch-text": ckpt_epoch_text,
    "ckpt-no-info": ckpt_no_info,
    "ckpt-optimizer-t": ckpt_bad_optimizer_t,
    "ckpt-no-meta": ckpt_no_meta,
    "ckpt-pickled": ckpt_pickled,
    "ckpt-extra-member": ckpt_extra_member,
    "ckpt-missing-member": ckpt_missing_member,
    "ckpt-unlisted-member": ckpt_unlisted_member,
    "ckpt-missing-moment": ckpt_missing_moment,
    "ckpt-moment-shape": ckpt_moment_shape,
    "ckpt-batchnorm-buffer": ckpt_batchnorm_buffer,
    "ckpt-nan-weight": ckpt_nan_weight,
    "ckpt-save-nan": ckpt_save_nan,
    "ckpt-other-optimizer": ckpt_other_optimizer,
    "ckpt-other-hyper": ckpt_other_hyper,
    "ckpt-deflate-bomb": ckpt_deflate_bomb,
    "ckpt-norm-std-shape": ckpt_norm_std_shape,
    "ckpt-model-config": ckpt_model_config,
    "cli-batch-size-0": cli_batch_size_zero,
    "cli-seed-negative": cli_seed_negative,
    "cli-backend-env": cli_backend_env,
    "cli-predict-0-rows": cli_predict_no_rows,
    "cli-6-row-dataset": cli_tiny_dataset,
    "cli-label-minus-100": cli_label_ignore_index,
    "cli-run-dir-locked": cli_run_dir_locked,
    "cli-evaluate-directory": cli_evaluate_directory,
    "cli-sequence-model-option": cli_sequence_model_option,
}
