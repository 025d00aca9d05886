"""The emulator's warps: __shfl*_sync, __ballot_sync, __syncwarp and warpSize with lockstep
exchange points per warp of 32 fibers, in forward, reverse and random thread orders.

Small kernels written here are built with the emulator's own build; a planted missing
__syncwarp must change the result in some order, and wrong masks, early exits and diverged
warp primitives must be launch errors. The same checks run on the real softmax_ce.cu with a
wrong lane mask planted in it.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from kernel_cases import SOFTMAX_CASES, softmax_inputs, softmax_outputs

from dlx.backends import kernel_sources
from dlx.backends.emulated_backend import EmulatedBackend
from dlx.backends.emulation import EmulatedModule, KernelLaunchError, build, find_compiler

SCHEDULES = ("forward", "reverse", "random")

WARP_OPS = r"""
extern "C" __global__ void warp_ops(const double* in, double* xor_out, double* down_out,
                                    double* idx_out, double* up_out, unsigned int* ballot_out,
                                    int* lane_out) {
  const unsigned tid = blockIdx.x * blockDim.x + threadIdx.x;
  const double v = in[tid];
  xor_out[tid] = __shfl_xor_sync(0xffffffffu, v, 5);
  down_out[tid] = __shfl_down_sync(0xffffffffu, v, 3, 8);
  idx_out[tid] = __shfl_sync(0xffffffffu, v, 7);
  up_out[tid] = __shfl_up_sync(0xffffffffu, v, 2);
  ballot_out[tid] = __ballot_sync(0xffffffffu, v > 0);
  lane_out[tid] = threadIdx.x % warpSize;
}

// a shared-memory tree sum over one warp; the loop's __syncwarp() calls order the reads
// before the writes of the next step
extern "C" __global__ void warp_sum(const float* in, float* out) {
  __shared__ float buf[32];
  const unsigned lane = threadIdx.x;
  buf[lane] = in[blockIdx.x * 32 + lane];
  __syncwarp();
  for (unsigned offset = 16; offset > 0; offset /= 2) {
    const float v = lane < offset ? buf[lane + offset] : 0.0f;
    __syncwarp();
    if (lane < offset) buf[lane] += v;
    __syncwarp();
  }
  if (lane == 0) out[blockIdx.x] = buf[0];
}

extern "C" __global__ void half_mask(const double* in, double* out, int lane_xor) {
  const unsigned lane = threadIdx.x % 32;
  double v = in[threadIdx.x];
  if (lane < 16) v = __shfl_xor_sync(0x0000ffffu, v, lane_xor);
  out[threadIdx.x] = v;
}

extern "C" __global__ void early_exit(const double* in, double* out) {
  if (threadIdx.x == 3) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, in[threadIdx.x], 1);
}

extern "C" __global__ void diverged(const double* in, double* out) {
  const double v = in[threadIdx.x];
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, v, 1);
  else out[threadIdx.x] = __shfl_down_sync(0xffffffffu, v, 1);
}
"""


def _module(tmp_path, source, schedule, name="warps"):
    path = tmp_path / f"{name}.cu"
    path.write_text(source)
    return EmulatedModule(build(path, find_compiler()), schedule=schedule, seed=11)


@pytest.fixture(scope="module")
def warp_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("warps")


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_shuffles_and_ballot_follow_cuda_semantics(warp_dir, schedule):
    module = _module(warp_dir, WARP_OPS, schedule)
    n = 64  # two warps
    x = np.random.default_rng(0).standard_normal(n)
    outs = [np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, np.uint32),
            np.zeros(n, np.int32)]
    module.get_function("warp_ops")((1,), (n,), (x, *outs))
    xor_out, down_out, idx_out, up_out, ballot_out, lane_out = outs
    lane = np.arange(n) % 32
    base = np.arange(n) - lane
    np.testing.assert_array_equal(xor_out, x[base + (lane ^ 5)])
    down_src = np.where(lane % 8 + 3 < 8, lane + 3, lane)  # width 8: stays in its segment
    np.testing.assert_array_equal(down_out, x[base + down_src])
    np.testing.assert_array_equal(idx_out, x[base + 7])
    np.testing.assert_array_equal(up_out, x[base + np.where(lane >= 2, lane - 2, lane)])
    bits = (x > 0).reshape(2, 32) @ (1 << np.arange(32, dtype=np.uint64))
    np.testing.assert_array_equal(ballot_out, np.repeat(bits, 32).astype(np.uint32))
    np.testing.assert_array_equal(lane_out, lane)


def test_syncwarp_orders_shared_memory_in_every_thread_order(warp_dir):
    x = np.arange(96, dtype=np.float32)
    expected = x.reshape(3, 32).sum(axis=1)
    for schedule in SCHEDULES:
        out = np.zeros(3, np.float32)
        _module(warp_dir, WARP_OPS, schedule).get_function("warp_sum")((3,), (32,), (x, out))
        np.testing.assert_array_equal(out, expected, err_msg=schedule)


def test_missing_syncwarp_is_caught_by_thread_order(tmp_path):
    loop_syncs = "    __syncwarp();\n    if (lane < offset) buf[lane] += v;\n    __syncwarp();\n"
    assert loop_syncs in WARP_OPS
    planted = WARP_OPS.replace(loop_syncs, "    if (lane < offset) buf[lane] += v;\n")
    x = np.arange(96, dtype=np.float32)
    expected = x.reshape(3, 32).sum(axis=1)
    results = {}
    for schedule in SCHEDULES:
        out = np.zeros(3, np.float32)
        _module(tmp_path, planted, schedule).get_function("warp_sum")((3,), (32,), (x, out))
        results[schedule] = out
    assert any(not np.array_equal(out, expected) for out in results.values()), results


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_a_partial_mask_exchanges_only_inside_the_mask(warp_dir, schedule):
    x = np.arange(32, dtype=np.float64)
    out = np.zeros(32)
    _module(warp_dir, WARP_OPS, schedule).get_function("half_mask")((1,), (32,),
                                                                    (x, out, np.int32(8)))
    lane = np.arange(32)
    np.testing.assert_array_equal(out, np.where(lane < 16, lane ^ 8, lane))


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("kernel, args, message", [
    ("half_mask", (np.int32(16),), "outside its mask 0x0000ffff"),
    ("early_exit", (), "exited"),
    ("diverged", (), "different warp primitives"),
])
def test_wrong_masks_exits_and_divergence_are_launch_errors(warp_dir, schedule, kernel, args,
                                                            message):
    x, out = np.arange(32, dtype=np.float64), np.zeros(32)
    f = _module(warp_dir, WARP_OPS, schedule).get_function(kernel)
    with pytest.raises(KernelLaunchError, match=message):
        f((1,), (32,), (x, out, *args))


def test_a_partial_warp_under_a_full_mask_is_a_launch_error(warp_dir):
    x, outs = np.zeros(40), [np.zeros(40)] * 4 + [np.zeros(40, np.uint32), np.zeros(40, np.int32)]
    f = _module(warp_dir, WARP_OPS, "forward").get_function("warp_ops")
    with pytest.raises(KernelLaunchError, match="does not exist in this block"):
        f((1,), (40,), (x, *outs))


@pytest.mark.parametrize("warp_max_classes", [1024, 0], ids=["warp-per-row", "block-per-row"])
def test_wrong_mask_in_softmax_ce_is_caught(tmp_path, warp_max_classes):
    shutil.copytree(kernel_sources.kernel_dir(), tmp_path / "kernels")
    path = tmp_path / "kernels" / "softmax_ce.cu"
    source = path.read_text()
    full = "#define DLX_FULL_MASK 0xffffffffu"
    assert source.count(full) == 1
    path.write_text(source.replace(full, "#define DLX_FULL_MASK 0x0000ffffu"))
    variant = build(path, find_compiler())
    z, t, weight, ignore_index = softmax_inputs(SOFTMAX_CASES["plain"], np.float64)
    for schedule in SCHEDULES:
        be = EmulatedBackend(schedule=schedule)
        be.warp_max_classes = warp_max_classes
        be._modules["softmax_ce"] = EmulatedModule(variant, schedule=schedule)
        with pytest.raises(KernelLaunchError, match="leaves it out|outside its mask"):
            softmax_outputs(be, z, t, weight, ignore_index)
