"""The kernel cost model (dlx bench's table) and the GPU check's no-GPU mode."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dlx.backends import kernel_sources
from dlx.bench import cost_model as cm


def test_every_kernel_entry_point_of_the_costed_families_has_a_rule():
    for module in ("im2col", "maxpool", "softmax_ce"):
        for name in kernel_sources.entry_points(module):
            read, written, _ = cm.rule_for(name)
            assert read and written, name


def test_im2col_moves_its_input_once_and_its_columns_once():
    (launch,) = cm.plan("im2col 64x16x32x32 k3 p1")
    x_bytes, cols_bytes = 64 * 16 * 32 * 32 * 4, 16 * 9 * 64 * 32 * 32 * 4
    assert launch.kernel == "im2col_i32_f32"
    assert (launch.bytes_read, launch.bytes_written) == (x_bytes, cols_bytes)
    h100 = cm.PEAKS["H100"]
    assert launch.ideal_seconds(h100) == pytest.approx((x_bytes + cols_bytes) / 3.35e12)


def test_softmax_keeps_m_values_between_forward_and_backward():
    launches = cm.plan("softmax CE fwd+bwd 256x1000")
    assert [x.kernel for x in launches] == ["softmax_ce_rows_warp_f32", "softmax_ce_finish_f32",
                                            "softmax_ce_bwd_warp_f32"]
    rows = launches[0]
    # reads z and the labels; writes lse and scale (m each) and the per-block partials
    assert rows.bytes_read == 256 * 1000 * 4 + 256 * 8
    assert rows.bytes_written == 2 * 256 * 4 + rows.grid * (8 + 4)
    assert cm.plan("softmax CE fwd+bwd 256x5000")[0].kernel == "softmax_ce_rows_block_f32"


def test_table_lists_every_kernel_row_with_ideal_times():
    text = cm.render(cm.cost_rows())
    for row in cm.KERNEL_ROWS:
        assert row in text
    assert "ideal us @H100" in text and "3.35 TB/s" in text and "4.8 TB/s" in text


def test_gpu_check_without_a_gpu_says_so_and_exits_0(tmp_path, capsys, monkeypatch):
    from dlx import backends
    from dlx.bench import gpu_check

    monkeypatch.setattr(backends, "cupy_status", lambda: (False, "no GPU in this test"))
    assert gpu_check.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "no GPU here (no GPU in this test)" in out and "softmax CE fwd+bwd 256x1000" in out
    report = json.loads((tmp_path / "gpu-check.json").read_text())
    assert report["gpu"] is None and report["cost_model"]["launches"]
    assert (tmp_path / "gpu-check.txt").read_text().startswith("GPU check: no GPU here")


def test_planning_backend_computes_nothing():
    be = cm.PlanningBackend()
    y, argmax = be.maxpool_fwd(np.ones((1, 1, 4, 4), np.float32), 2, 2, 0)
    assert [x.kernel for x in be.launches] == ["maxpool_fwd_i32_f32"]
    assert y.shape == (1, 1, 2, 2) and argmax.shape == (1, 1, 2, 2)


def test_gpu_report_text_shows_fractions_syncs_and_errors():
    from dlx.bench import gpu_check

    rows = cm.cost_rows()
    total = cm.row_totals(rows)["softmax CE fwd+bwd 256x1000"]["bytes"]
    report = {"gpu": {"device": "Test GPU"}, "peak_bandwidth": 4e12, "peak_source": "test",
              "parity": {"ran": True, "summary": "58 passed"},
              "syncs_per_step": {"lenet5 b64": {"host_seconds": 0.01, "probe_seconds": 0.2,
                                                "host_synchronisations": 0}},
              "steps": {"lenet5 b64": {"dlx_seconds": 0.002, "torch": "PyTorch has no CUDA"}},
              "errors": {"step resnet": "RuntimeError: boom"},
              "cost_model": {"device": "Test GPU", "launches": rows, "measured": {
                  "softmax CE fwd+bwd 256x1000": {"seconds": total / 2e12, "peak_bandwidth": 4e12,
                                                  "device": "Test GPU"}}}}
    text = gpu_check._gpu_text(report)
    assert "host synchronisations per lenet5 b64 step: 0" in text
    assert "ERROR in step resnet: RuntimeError: boom" in text
    line = next(x for x in text.splitlines() if x.startswith("softmax CE fwd+bwd 256x1000"))
    assert line.rstrip().endswith("2000  50%")
