"""Backend selection, the CuPy error path and the rule that only dlx/backends imports numpy."""

import ast
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import dlx
import dlx.backends as B
from dlx.errors import BackendUnavailableError, ConfigError

PACKAGE = pathlib.Path(dlx.__file__).parent
#: modules outside dlx/backends allowed to import numpy: file I/O and host-side data
#: preparation that runs before anything reaches a device
FILE_IO_MODULES = {"data/datasets.py", "data/normalize.py", "train/checkpoint.py",
                   "train/checkpoint_archive.py",
                   "train/prepare.py", "cli.py",
                   "data/sequences.py",  # seeded synthetic sequences, generated on the host
                   "text/io.py",  # word-vector files (GloVe text, .npz)
                   "data/images.py",  # image files: read, resize on the host, write PNG
                   "data/shapes.py",  # the synthetic detection data set, drawn on the host
                   "data/glyphs.py"}  # font glyphs rasterised on the host (Pillow)


def _imported_roots(path: pathlib.Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def test_only_backends_and_file_io_import_numpy_or_cupy():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("backends/") or rel in FILE_IO_MODULES:
            continue
        bad = {"numpy", "cupy", "cupyx"} & set(_imported_roots(path))
        if bad:
            offenders.append(f"{rel}: {sorted(bad)}")
    assert offenders == []


def test_import_scan_detects_a_stray_import(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text("def f():\n    import numpy as np\n    return np\n")
    assert "numpy" in set(_imported_roots(stray))


def test_select_by_name_and_context_manager():
    with B.use("numpy") as be:
        assert B.current() is be and be.name == "numpy" and be.xp is np
    assert B.get("numpy") is B.get("numpy")


def test_unknown_backend_name_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown backend 'tpu'.*numpy"):
        B.get("tpu")


def test_auto_picks_cupy_only_when_it_can_run():
    ok, _ = B.cupy_status()
    assert B.get("auto").name == ("cupy" if ok else "numpy")


def test_env_var_selects_the_backend():
    code = "import dlx.backends as B; print(B.current().name)"
    env = dict(os.environ, DLX_BACKEND="numpy")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "numpy", out.stderr
    env["DLX_BACKEND"] = "nonsense"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "unknown backend 'nonsense'" in out.stderr


def test_importing_dlx_does_not_import_cupy():
    code = "import sys, dlx, dlx.nn, dlx.functional; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_cupy_without_a_device_raises_the_reason():
    ok, why = B.cupy_status()
    if ok:
        pytest.skip("a CUDA device is available here; the error path cannot be exercised")
    assert why  # the reason is a sentence, not empty
    with pytest.raises(BackendUnavailableError) as info:
        B.get("cupy")
    assert why in str(info.value)


def test_backend_of_maps_arrays_to_backends():
    with B.use("numpy"):
        assert B.backend_of(np.zeros(3)).name == "numpy"


def test_rng_is_seeded_and_restorable():
    be = B.get("numpy")
    be.seed(7)
    a = be.rng.standard_normal(4)
    state = be.get_rng_state()
    b = be.rng.standard_normal(4)
    be.seed(7)
    assert np.array_equal(a, be.rng.standard_normal(4))
    be.set_rng_state(state)
    assert np.array_equal(b, be.rng.standard_normal(4))


def test_default_dtype_is_float32():
    assert B.get("numpy").default_dtype == np.float32
    assert dlx.Tensor([1.0, 2.0]).dtype == np.float32


def test_npz_reader_refuses_pickles_and_non_archives(tmp_path):
    from dlx.data.datasets import load_npz, read_npz

    np.savez(tmp_path / "obj.npz", X=np.array([object()], dtype=object), y=np.zeros(1))
    with pytest.raises(ConfigError, match="not a plain-array"):
        load_npz(tmp_path / "obj.npz")
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(ConfigError, match="expected an .npz archive"):
        read_npz(tmp_path / "a.npy", ("X",))
    np.savez(tmp_path / "noy.npz", X=np.zeros((2, 3)))
    with pytest.raises(ConfigError, match=r"expected arrays \['X', 'y'\], found \['X'\]"):
        load_npz(tmp_path / "noy.npz")
