"""Run every kernel primitive once on the ASan+UBSan build of the emulation; exit 0 if all
outputs match the NumPy backend. Started by test_sanitizers.py in a subprocess with the ASan
runtime preloaded; a sanitizer finding aborts the process with its report on stderr.

usage: python sanitized_run.py [KERNEL_DIR]
"""

from __future__ import annotations

import sys

import numpy as np
from kernel_cases import (DTYPES, GEOMETRIES, SOFTMAX_CASES, assert_outputs_match,
                          distinct_values, softmax_inputs, softmax_outputs, window_outputs)

from rnn_cases import RNN_CASES, assert_rnn_outputs_match, rnn_inputs, rnn_outputs

from dlx.backends.emulated_backend import EmulatedBackend
from dlx.backends.numpy_backend import NumpyBackend


def main(kernel_dir: str | None) -> None:
    sanitized = EmulatedBackend(sanitize=True, kernel_dir=kernel_dir, block_size=64)
    reference = NumpyBackend()
    for dtype in DTYPES:
        for name, geometry in GEOMETRIES.items():
            x = distinct_values(np.random.default_rng(0), geometry[0], dtype)
            assert_outputs_match(window_outputs(sanitized, x, geometry),
                                 window_outputs(reference, x, geometry), name)
        for name, case in SOFTMAX_CASES.items():
            args = softmax_inputs(case, dtype)
            assert_outputs_match(softmax_outputs(sanitized, *args),
                                 softmax_outputs(reference, *args), name)
        for name, case in RNN_CASES.items():
            inp = rnn_inputs(case, dtype)
            assert_rnn_outputs_match(rnn_outputs(sanitized, inp), rnn_outputs(reference, inp), name)
    print("sanitized run: every primitive ok")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
