"""Stepped slices of a tensor as task arguments, run on cpu_sim and checked against numpy.

A stepped slice whose round stop lies past the extent (``S[:, 1:64:2]`` of a 64-wide ``S``:
1 + 32*2 = 65) selects only elements inside it, so it must compile and run like numpy's.
"""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp import DType, In, Out, Tensor, Tile, kernel, pto, workload

F32 = DType.F32


@kernel
def sv_copy8(x: In[Tile[4, 8, F32]], y: Out[Tile[4, 8, F32]]):
    pto.store(y, pto.load(x))


@pytest.mark.parametrize(
    "cols", [slice(1, 64, 8), slice(56, 64, 1), slice(0, 64, 8), slice(7, 64, 8)]
)
def test_stepped_slice_ending_at_the_extent_runs_like_numpy(cols: slice) -> None:
    data = np.arange(256, dtype=np.float32).reshape(4, 64)
    S = Tensor(data.copy(), name="S")
    Y = Tensor(np.zeros((4, 8), np.float32), name="Y")

    @workload
    def w():
        sv_copy8[0](x=S[:, cols], y=Y)

    program = w().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    assert np.array_equal(Y.data, data[:, cols])


@kernel
def sv_copy32(x: In[Tile[4, 32, F32]], y: Out[Tile[4, 32, F32]]):
    pto.store(y, pto.load(x))


def test_odd_columns_to_the_end_of_the_extent() -> None:
    data = np.arange(256, dtype=np.float32).reshape(4, 64)
    S = Tensor(data.copy(), name="S")
    Y = Tensor(np.zeros((4, 32), np.float32), name="Y")

    @workload
    def w():
        sv_copy32[0](x=S[:, 1:64:2], y=Y)

    program = w().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    assert np.array_equal(Y.data, data[:, 1::2])
    assert S[:, 1:64:2].name == "S[:, 1:64:2]"  # printed as written
