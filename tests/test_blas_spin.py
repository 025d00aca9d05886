"""OpenBLAS's idle spin after a threaded call (dlx.backends.blas_spin).

OpenBLAS reads the setting once, when NumPy loads it, so each case runs in a fresh child
process. The effect is measured as CPU time: after a threaded GEMM the helper threads
busy-wait through a following sleep with OpenBLAS's default, and go to sleep at once with
dlx's setting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dlx.backends import blas_spin
from dlx.errors import ConfigError

CHILD = """
import json, os, sys, time
{first}
import dlx
import numpy as np
from dlx import backends
out = {{"state": backends.get("numpy").describe()["blas_spin"],
        "env": os.environ.get("OPENBLAS_THREAD_TIMEOUT")}}
try:
    from threadpoolctl import threadpool_info
    out["blas"] = [(p["internal_api"], p["num_threads"]) for p in threadpool_info()
                   if p["user_api"] == "blas"]
except ImportError:
    out["blas"] = []
if {measure}:
    a = np.ones((512, 512), np.float32)
    burned = []
    for _ in range(4):
        a @ a  # threaded: wakes the helpers
        start = time.process_time()
        time.sleep(0.06)
        burned.append(time.process_time() - start)
    out["burned_s"] = sorted(burned)[1:3]
print(json.dumps(out))
"""


def run_child(first: str = "", measure: bool = False, **env_overrides) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in (blas_spin.SPIN_ENV, blas_spin.OPT_OUT_ENV)}
    env.update(env_overrides)
    code = CHILD.format(first=first, measure=measure)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    return json.loads(proc.stdout)


def test_importing_dlx_first_sets_the_short_spin():
    got = run_child()
    assert got["state"] == {"policy": "dlx", "log2_cycles": blas_spin.SPIN_LOG2_CYCLES}
    assert got["env"] == str(blas_spin.SPIN_LOG2_CYCLES)


def test_numpy_loaded_before_dlx_keeps_openblas_default_and_says_so():
    got = run_child(first="import numpy")
    assert got["state"]["policy"] == "system"
    assert got["state"]["reason"].startswith("numpy was imported before dlx")
    assert got["env"] is None


def test_the_environment_and_the_opt_out_win():
    got = run_child(OPENBLAS_THREAD_TIMEOUT="24")
    assert got["state"] == {"policy": "system", "reason": "set by OPENBLAS_THREAD_TIMEOUT=24"}
    assert got["env"] == "24"
    got = run_child(DLX_BLAS_SPIN="system")
    assert got["state"] == {"policy": "system", "reason": "DLX_BLAS_SPIN=system"}
    assert got["env"] is None


def test_an_unknown_choice_is_refused(monkeypatch):
    monkeypatch.setenv("DLX_BLAS_SPIN", "fast")
    with pytest.raises(ConfigError, match="DLX_BLAS_SPIN must be 'dlx' or 'system'"):
        blas_spin.state()


def test_helpers_stop_spinning_soon_after_a_threaded_gemm():
    probe = run_child(OPENBLAS_NUM_THREADS="2")
    if probe["blas"] != [["openblas", 2]] or (os.cpu_count() or 1) < 2:
        pytest.skip(f"needs OpenBLAS on 2 threads and 2 cores (BLAS: {probe['blas']}, "
                    f"{os.cpu_count()} cores)")
    default = run_child(measure=True, OPENBLAS_NUM_THREADS="2", DLX_BLAS_SPIN="system")
    short = run_child(measure=True, OPENBLAS_NUM_THREADS="2")
    # OpenBLAS's default 2^28 cycles (~0.1 s) outlasts the 60 ms sleep: a helper burns it
    assert min(default["burned_s"]) > 0.03, default
    assert max(short["burned_s"]) < 0.015, short
