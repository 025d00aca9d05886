"""Checkpoints never load corrupted data: which layer catches what, fuzzing, property tests,
stale temporaries, the run-directory lock, and the CLI's one-line errors.

The refused inputs themselves (one per row of docs/errors.md) are in tests/errors/.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import signal
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dlx.backends as B
from dlx.cli import main
from dlx.errors import CheckpointError, DlxError
from dlx.train import checkpoint as C
from errors.cases_checkpoint import dataset, forge, model, read_all, trained

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shift_header_length(data: bytes, member: str, delta: int) -> bytes:
    data = bytearray(data)
    pos = data.index(b"\x93NUMPY", data.index(member.encode()))
    length = int.from_bytes(data[pos + 8:pos + 10], "little")
    data[pos + 8:pos + 10] = (length + delta).to_bytes(2, "little")
    return bytes(data)


# -- which layer protects ------------------------------------------------------------------------
def test_whole_member_reads_make_the_crc_catch_the_header_length_edit(tmp_path):
    """The issue's edit: numpy.load reads the weights 36 bytes early and, for a member
    larger than zipfile's 4 KiB read-ahead, never reaches the CRC; reading the member whole
    makes zipfile check it."""
    from dlx.nn import Dense, Sequential

    B.current().seed(0)
    net = Sequential(Dense(64, 128))  # 32 KiB of weights
    path = C.save_checkpoint(tmp_path / "c.npz", net)
    W = net.state_dict()["layers.0.W"]
    path.write_bytes(_shift_header_length(path.read_bytes(), "model/layers.0.W", -36))
    with np.load(path, allow_pickle=False) as f:  # the old loader's way: silently wrong
        early = f["model/layers.0.W"]
    assert early.shape == W.shape and not np.array_equal(early, W)
    with zipfile.ZipFile(path) as z, pytest.raises(zipfile.BadZipFile, match="CRC"):
        z.read("model/layers.0.W.npy")
    with pytest.raises(CheckpointError, match="corrupted"):
        C.load_checkpoint(path)


def test_only_the_digest_catches_a_member_rewritten_with_a_valid_crc(tmp_path):
    path, _, _ = trained(tmp_path)
    meta, arrays = read_all(path)
    arrays["model/layers.0.W"] = arrays["model/layers.0.W"] * 2
    forge(path, meta, arrays, consistent=False)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None  # every CRC is valid
    with pytest.raises(CheckpointError, match="SHA-256"):
        C.load_checkpoint(path)


def test_a_lying_header_within_a_valid_crc_is_refused_by_the_header_check(tmp_path):
    path, _, _ = trained(tmp_path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    raw = parts["model/layers.0.W.npy"]
    parts["model/layers.0.W.npy"] = _shift_header_length(raw, "", -36)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    with pytest.raises(CheckpointError, match="malformed .npy header"):
        C.load_checkpoint(path)


def test_a_loaded_checkpoint_is_bit_identical_and_resumable(tmp_path):
    path, net, opt = trained(tmp_path)
    fresh = model()
    from dlx.optim import Adam

    fresh_opt = Adam(fresh.parameters(), lr=0.01)
    ckpt = C.load_checkpoint(path, fresh, fresh_opt)
    C.restore(ckpt, fresh, fresh_opt)
    for (name, a), b in zip(net.state_dict().items(), fresh.state_dict().values()):
        assert a.tobytes() == b.tobytes(), name
    assert fresh_opt.t == opt.t


# -- fuzzing and properties ----------------------------------------------------------------------
def test_fuzz_2000_mutations_give_only_refusals_or_identical_loads(tmp_path):
    fuzz = _tool("fuzz_checkpoint")
    lines = []
    result = fuzz.run(2000, seed=1, workdir=tmp_path, bombs=1, bomb_bytes=2 ** 26,
                      say=lines.append)
    assert result["failures"] == [], "\n".join(lines)
    outcomes = {o for _, o in result["by_kind"]}
    assert outcomes <= {"refused", "identical"} and "refused" in outcomes
    assert sum(result["by_kind"].values()) == 2000
    kinds = {k for k, _ in result["by_kind"]}
    assert {"byte_flip", "truncate", "insert", "header_inplace", "header_rezip", "member_add",
            "member_remove", "member_replace", "json_edit", "bomb"} <= kinds


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), zip_magic=st.booleans())
def test_random_bytes_are_refused(tmp_path, data, zip_magic):
    path = tmp_path / "random.npz"
    path.write_bytes((b"PK\x03\x04" if zip_magic else b"") + data)
    with pytest.raises(CheckpointError):
        C.load_checkpoint(path)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """(meta, arrays) of a valid checkpoint, and its arrays as the reference."""
    with B.use("numpy"):
        path, _, _ = trained(tmp_path_factory.mktemp("orig"))
        return read_all(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(["set", "delete", "drop_member", "add_member",
                                                 "replace_member"]),
                                st.integers(0, 10 ** 6), _JSON), min_size=1, max_size=3),
       consistent=st.booleans())
def test_random_structural_edits_are_refused_or_load_exactly(tmp_path, original, edits,
                                                            consistent):
    """An edit that leaves manifest and checksum stale is refused or changes no array; one
    that recomputes them (a forgery, not corruption) is refused or loads exactly the arrays
    written, each fitting the model and the optimiser."""
    meta, arrays = json.loads(json.dumps(original[0])), dict(original[1])
    for op, index, value in edits:
        keys, names = sorted(meta), sorted(arrays)
        if op == "set":
            meta[keys[index % len(keys)]] = value
        elif op == "delete":
            meta.pop(keys[index % len(keys)])
        elif op == "drop_member" and names:
            arrays.pop(names[index % len(names)])
        elif op == "add_member":
            arrays[f"extra/x{index}"] = np.full(index % 4, index, np.float32)
        elif op == "replace_member" and names:
            name = names[index % len(names)]
            arrays[name] = np.resize(arrays[name], (index % 5,)).astype(arrays[name].dtype)
    path = tmp_path / "edited.npz"
    forge(path, meta, arrays, consistent=consistent)
    from dlx.optim import Adam

    net = model()
    opt = Adam(net.parameters(), lr=0.01)
    try:
        ckpt = C.load_checkpoint(path, net, opt)
        C.restore(ckpt, net, opt, rng=False)
    except DlxError:
        return
    loaded = {f"model/{k}": v for k, v in ckpt.model_state.items()}
    loaded.update({f"optim/{k}": v for k, v in ckpt.optimizer_arrays.items()})
    loaded.update({f"extra/{k}": v for k, v in ckpt.extra.items()})
    expected = arrays if consistent else original[1]
    assert loaded.keys() == expected.keys()
    for name, array in loaded.items():
        assert array.dtype == expected[name].dtype and array.shape == expected[name].shape
        assert array.tobytes() == expected[name].tobytes(), name


# -- saving: temporaries and the run lock --------------------------------------------------------
def test_next_save_removes_temporaries_of_killed_saves_only(tmp_path):
    stale = tmp_path / ".c.npz.k1ll3d.tmp"
    stale.write_bytes(b"half a checkpoint")
    other = tmp_path / ".other.npz.abc.tmp"
    other.write_bytes(b"another file's")
    C.save_checkpoint(tmp_path / "c.npz", model())
    assert not stale.exists() and other.exists()
    assert C.load_checkpoint(tmp_path / "c.npz").epoch == 0


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_sigkills_leave_loadable_checkpoints_and_an_exact_resume(tmp_path):
    """tools/sigkill_checkpoints.py with 3 kills (two inside a save, one at random)."""
    lines = []
    result = _tool("sigkill_checkpoints").run(kills=3, epochs=4, width=64, seed=0,
                                              workdir=tmp_path, say=lines.append)
    assert result["failures"] == [], "\n".join(lines)
    assert result["identical_to_uninterrupted"]
    assert result["temporaries_surviving_a_save"] == 0


def test_the_run_lock_is_released_when_the_run_ends(tmp_path):
    from dlx.train.rundir import RunDirectory

    with RunDirectory(tmp_path):
        pass
    with RunDirectory(tmp_path):  # a second, later run takes it
        pass


# -- the command line ----------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def keep_backend():
    previous = B.current()
    yield
    B.set_backend(previous)


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    return code, *capsys.readouterr()


@pytest.mark.parametrize("argv, env, message", [
    (["train", "--batch-size", "0"], {}, "--batch-size must be >= 1, got 0"),
    (["train", "--seed", "-1"], {}, "--seed must be >= 0, got -1"),
    (["train", "--epochs", "-2"], {}, "--epochs must be >= 0, got -2"),
    (["train", "--model", "logreg"], {"DLX_BACKEND": "nonsense"}, "DLX_BACKEND='nonsense'"),
    (["evaluate", "."], {}, "is a directory"),
])
def test_cli_refusals_are_one_line_with_exit_status_2(capsys, tmp_path, monkeypatch, argv, env,
                                                      message):
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = _cli(capsys, *argv, *(["--out", tmp_path] if argv[0] == "train" else []))
    assert code == 2 and err.count("\n") == 1 and message in err and "Traceback" not in err


def test_cli_refuses_bad_datasets_before_training(capsys, tmp_path):
    y = np.arange(40) % 2
    y[5] = -100
    bad = dataset(tmp_path, np.random.default_rng(0).standard_normal((40, 3)), y)
    code, _, err = _cli(capsys, "train", "--model", "logreg", "--dataset", bad, "--out", tmp_path / "r")
    assert code == 2 and "rows [5] hold [-100]" in err and err.count("\n") == 1
    assert not (tmp_path / "r" / "checkpoint.npz").exists()  # refused before training
    tiny = dataset(tmp_path, np.arange(18.0).reshape(6, 3), [0, 1] * 3)
    code, _, err = _cli(capsys, "train", "--model", "logreg", "--dataset", tiny, "--out", tmp_path / "r")
    assert code == 2 and "too small" in err and err.count("\n") == 1


def test_cli_train_honours_dlx_backend(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DLX_BACKEND", "emulated")
    X = np.random.default_rng(0).standard_normal((60, 3))
    data = dataset(tmp_path, X, (X[:, 0] > 0).astype(np.int64))
    code, out, err = _cli(capsys, "train", "--model", "logreg", "--dataset", data, "--epochs", 1,
                          "--out", tmp_path / "run")
    assert code == 0, err
    assert "backend emulated" in out
    code, out, err = _cli(capsys, "train", "--model", "logreg", "--dataset", data, "--epochs", 1,
                          "--out", tmp_path / "run", "--backend", "numpy")
    assert code == 0 and "backend numpy" in out  # --backend wins over the variable


def test_version_1_checkpoints_without_digests_still_load_with_every_other_check(tmp_path):
    path, net, opt = trained(tmp_path)
    meta, arrays = read_all(path)
    for key in ("arrays", "checksum"):
        meta.pop(key)
    forge(path, dict(meta, version=1), arrays, consistent=False)
    fresh = model()
    from dlx.optim import Adam

    ckpt = C.load_checkpoint(path, fresh, Adam(fresh.parameters(), lr=0.01))
    assert ckpt.model_state["layers.0.W"].tobytes() == net.state_dict()["layers.0.W"].tobytes()
    arrays.pop("optim/1.s")
    forge(path, dict(meta, version=1), arrays, consistent=False)
    with pytest.raises(CheckpointError, match="'optim/1.s' is missing"):
        C.load_checkpoint(path, fresh, Adam(fresh.parameters(), lr=0.01))


def test_version_1_checkpoints_must_be_stored_uncompressed(tmp_path):
    path, _, _ = trained(tmp_path)
    meta, arrays = read_all(path)
    for key in ("arrays", "checksum"):
        meta.pop(key)
    blob = np.frombuffer(json.dumps(dict(meta, version=1)).encode(), np.uint8)
    np.savez_compressed(path, __meta__=blob, **arrays)
    with pytest.raises(CheckpointError, match="version-1 checkpoints are stored uncompressed"):
        C.load_checkpoint(path)


def test_load_state_dict_refuses_a_buffer_of_the_wrong_shape():
    net = model()
    state = net.state_dict()
    state["layers.1.running_var"] = np.ones((1, 6), np.float32)
    with pytest.raises(CheckpointError, match=r"layers.1.running_var: saved shape \(1, 6\)"):
        net.load_state_dict(state)
