"""The NumPy backend's malloc thresholds (dlx.backends.host_allocator).

The policy is process-wide and applied once, so its effect is checked in fresh child
processes: a pattern that frees and re-allocates 8 MiB of 200 KiB arrays, as a training
step does, page-faults them in again every round with glibc's start-up thresholds and not
with dlx's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dlx.backends import host_allocator
from dlx.errors import ConfigError

glibc_only = pytest.mark.skipif(host_allocator._glibc() is None,
                                reason="the thresholds are glibc's (this C library is not)")

CHILD = """
import json, resource
import numpy as np
from dlx import backends
state = backends.get("numpy").describe()["malloc"]
def round_of_arrays():
    arrays = [np.ones(200 << 8, np.float32) for _ in range(40)]  # 40 x 200 KiB, touched
    del arrays
round_of_arrays()
round_of_arrays()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    round_of_arrays()
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10
print(json.dumps({"state": state, "faults": faults}))
"""


def run_child(**env_overrides) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", "DLX_HOST_MALLOC")}
    env.update(env_overrides)
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    return json.loads(proc.stdout)


@glibc_only
def test_freed_arrays_are_not_faulted_in_again_under_dlx_thresholds():
    dlx = run_child()
    system = run_child(DLX_HOST_MALLOC="system")
    assert dlx["state"]["policy"] == "dlx"
    assert dlx["state"]["mmap_threshold"] == 32 << 20
    assert dlx["state"]["trim_threshold"] == 64 << 20
    assert system["state"] == {"policy": "system", "reason": "DLX_HOST_MALLOC=system",
                               "glibc": dlx["state"]["glibc"]}
    assert system["faults"] > 1000  # 8 MiB = 2,048 pages handed back and faulted in per round
    assert dlx["faults"] < 0.05 * system["faults"]


@glibc_only
@pytest.mark.parametrize("name,value", [("MALLOC_TRIM_THRESHOLD_", "131072"),
                                        ("MALLOC_ARENA_MAX", "2"),
                                        ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536")])
def test_malloc_settings_in_the_environment_win(name, value):
    got = run_child(**{name: value})
    assert got["state"]["policy"] == "system"
    assert got["state"]["reason"] == f"set by {name}"


def test_an_unknown_choice_is_refused(monkeypatch):
    monkeypatch.setenv("DLX_HOST_MALLOC", "jemalloc")
    with pytest.raises(ConfigError, match="DLX_HOST_MALLOC must be 'dlx' or 'system'"):
        host_allocator._left_to_environment()


def test_tunables_of_other_glibc_parts_leave_the_choice_to_dlx(monkeypatch):
    for name in host_allocator.MALLOC_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("DLX_HOST_MALLOC", raising=False)
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX512F")
    assert host_allocator._left_to_environment() is None


def test_without_glibc_nothing_is_set(monkeypatch):
    monkeypatch.setattr(host_allocator, "_glibc", lambda: None)
    assert host_allocator._apply(None) == {"policy": "system", "reason": "the C library is not glibc"}


def test_the_backend_reports_what_was_applied():
    from dlx import backends

    reported = backends.get("numpy").describe()["malloc"]
    assert reported == host_allocator.state()
    assert reported["policy"] in ("dlx", "system")
