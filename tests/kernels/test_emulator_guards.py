"""The emulator refuses launches a GPU would silently misread, and catches missing barriers."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from kernel_cases import SOFTMAX_CASES, softmax_inputs, softmax_outputs

from dlx.backends import kernel_sources
from dlx.backends.emulated_backend import EmulatedBackend
from dlx.backends.emulation import (EmulatedModule, KernelArgumentError, KernelLaunchError,
                                    build, find_compiler)
from dlx.backends.emulation.signature import SignatureError, parse_entry_points
from dlx.errors import DtypeError, ShapeError


@pytest.fixture()
def im2col_call(emulated):
    """The raw im2col_f32 entry point and a set of arguments that are all correct."""
    x = np.zeros((1, 2, 4, 4), np.float32)
    cols = np.zeros((2 * 9, 16), np.float32)
    geometry = [np.int64(v) for v in (1, 2, 4, 4, 3, 3, 1, 1, 1, 1, 4, 4)]
    return emulated._function("im2col", "im2col_f32"), [x, cols, *geometry]


def test_correct_arguments_launch(im2col_call):
    kernel, args = im2col_call
    kernel((1,), (64,), args)


@pytest.mark.parametrize("position, bad, message", [
    (2, np.int32(1), "int32 scalar"),                 # a 32-bit int for a long long parameter
    (4, 4, "cupy/cupy#8485"),                          # a Python int: implicit width
    (6, np.float64(3.0), "float64 scalar"),            # a double for a long long parameter
    (0, np.zeros((1, 2, 4, 4), np.float64), "dtype float64"),
    (1, np.zeros((16, 18), np.float32).T, "non-C-contiguous"),
    (0, [0.0] * 32, "needs a numpy.ndarray"),
], ids=["int32-for-long-long", "python-int", "double-for-long-long", "wrong-array-dtype",
        "non-contiguous", "list-for-pointer"])
def test_refuses_arguments_the_gpu_would_misread(im2col_call, position, bad, message):
    kernel, args = im2col_call
    args[position] = bad
    with pytest.raises(KernelArgumentError, match=message.replace("+", r"\+")) as info:
        kernel((1,), (64,), args)
    assert isinstance(info.value, DtypeError)


def test_refuses_read_only_output_and_wrong_arity(im2col_call):
    kernel, args = im2col_call
    args[1].flags.writeable = False
    with pytest.raises(KernelArgumentError, match="read-only"):
        kernel((1,), (64,), args)
    with pytest.raises(KernelArgumentError, match="takes 14 arguments"):
        kernel((1,), (64,), args[:-1])


def test_refuses_impossible_launch_configuration(im2col_call):
    kernel, args = im2col_call
    with pytest.raises(KernelLaunchError, match="at most 1024 threads"):
        kernel((1,), (2048,), args)


def test_backend_checks_shapes_before_any_raw_pointer_launch(emulated):
    x = np.zeros((2, 3, 5, 5), np.float32)
    with pytest.raises(ShapeError, match="cols must have shape"):
        emulated.col2im(np.zeros((27, 10), np.float32), x.shape, 3, 1, 1)
    with pytest.raises(ShapeError, match="labels t must have shape"):
        emulated.softmax_ce_fwd(np.zeros((4, 3), np.float32), np.zeros(5, np.int64))
    with pytest.raises(DtypeError, match="float32 or float64"):
        emulated.im2col(x.astype(np.int32), 3, 1, 1)
    with pytest.raises(DtypeError, match="integers"):
        emulated.softmax_ce_fwd(np.zeros((4, 3), np.float32), np.zeros(4, np.float32))


def test_signature_parser_refuses_unknown_types():
    with pytest.raises(SignatureError, match="half"):
        parse_entry_points('extern "C" __global__ void k(const half* x, long long n) {}')


def _build_variant(tmp_path, module, edit):
    """Build a copy of kernels/ with ``edit(text)`` applied to ``<module>.cu``."""
    shutil.copytree(kernel_sources.kernel_dir(), tmp_path / "kernels")
    path = tmp_path / "kernels" / f"{module}.cu"
    original = path.read_text()
    edited = edit(original)
    assert edited != original
    path.write_text(edited)
    return build(path, find_compiler())


def test_missing_barrier_is_caught_by_thread_order(tmp_path, emulated):
    # drop the barrier between the tree-reduction steps of softmax_ce_reduce
    loop_barrier = "buf[tid] += buf[tid + half];\n    __syncthreads();"
    variant = _build_variant(tmp_path, "softmax_ce",
                             lambda s: s.replace(loop_barrier, "buf[tid] += buf[tid + half];"))
    z, t, weight, ignore_index = softmax_inputs(SOFTMAX_CASES["plain"], np.float64)
    expected = softmax_outputs(emulated, z, t, weight, ignore_index)["loss"]
    losses = {}
    for schedule in ("forward", "reverse"):
        be = EmulatedBackend(schedule=schedule)
        be._modules["softmax_ce"] = EmulatedModule(variant, schedule=schedule)
        losses[schedule] = softmax_outputs(be, z, t, weight, ignore_index)["loss"]
    assert any(not np.isclose(loss, expected) for loss in losses.values()), losses


def test_barrier_divergence_is_an_error(tmp_path):
    # thread 0 returns early while the others wait at __syncthreads
    variant = _build_variant(
        tmp_path, "softmax_ce",
        lambda s: s.replace("  if (blockIdx.x != 0) return;", "  if (threadIdx.x == 0) return;"))
    module = EmulatedModule(variant)
    count, part_sum, scale, loss = np.ones(4, np.int64), np.ones(4), np.ones(8), np.zeros(())
    kernel = module.get_function("softmax_ce_finish_f64")
    with pytest.raises(KernelLaunchError, match="barrier divergence"):
        kernel((1,), (32,), (count, part_sum, scale, loss, np.int64(8), np.int64(4), np.int64(0)))
