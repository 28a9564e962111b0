"""Lowering (Python objects -> C++ IR): stable output and IRConversionError naming the construct."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp import (
    DType,
    In,
    IRConversionError,
    Out,
    P,
    Tensor,
    Tile,
    kernel,
    pto,
    workload,
)
from pto_wsp.compiler.lowering import lower, lower_with_bindings

F32 = DType.F32


@kernel
def copy_any(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.load(x))


@kernel
def noop(x: In[Tensor], y: Out[Tensor]): ...


def test_unknown_statement_names_its_type_and_the_workload_stays_intact() -> None:
    X = Tensor(np.zeros((4, 8), np.float32), name="X")

    @workload
    def w():
        for i in P(4):
            noop[i](x=X[i], y=X[i])

    wl = w()
    wl.root.append(object())  # something that is not a workload statement
    with pytest.raises(IRConversionError, match="cannot lower object inside a workload"):
        lower(wl)


def test_traced_kernel_on_a_symbolic_extent_names_kernel_and_argument() -> None:
    X = Tensor(np.zeros((64, 8), np.float32), name="X")
    Y = Tensor(np.zeros((64, 8), np.float32), name="Y")

    @workload
    def w():
        for i in P(4):
            copy_any[i](x=X[i * i : i * i + i], y=Y[i * i : i * i + i])  # extent i: not static

    with pytest.raises(IRConversionError) as err:
        lower(w())
    assert "copy_any" in str(err.value) and "argument x" in str(err.value)
    assert err.value.loc is not None and err.value.loc.file == __file__


def test_lowering_twice_prints_identical_text_and_binds_tensors_by_id() -> None:
    X = Tensor(np.zeros((4, 8, 8), np.float32), name="X")
    Y = Tensor(np.zeros((4, 8, 8), np.float32), name="Y")

    @kernel
    def tile_copy(x: In[Tile[8, 8, F32]], y: Out[Tile[8, 8, F32]]):
        pto.store(y, x)

    @workload
    def w():
        for b in P(4):
            tile_copy[b](x=X[b], y=Y[b])

    first = lower(w()).print()
    assert lower(w()).print() == first  # loop vars renumbered per module
    module, tensors = lower_with_bindings(w())
    assert [t.name for t in tensors] == ["X", "Y"]
    assert [t.name for t in module.tensors] == ["X", "Y"]
