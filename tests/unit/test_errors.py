"""The error hierarchy of spec §9, and bad input reported at the user's line.

Each bad-input case asserts the error class, that the message names the culprit, and that it
points at the line of THIS file that holds the mistake (marked with a ``# <- mark`` comment).
"""

import os

import numpy as np
import pytest

import pto_wsp
from pto_wsp import (
    ChannelClosed,
    ChannelError,
    ChannelFull,
    CompileError,
    ExecutionError,
    IRConversionError,
    KernelError,
    PtoError,
    ScheduleError,
    TypeCheckError,
)
from pto_wsp.errors import DeadlockError, TensorIndexError

THIS_FILE = os.path.abspath(__file__)


def line_of(mark: str) -> int:
    """1-based line of this file that carries ``# <- mark``."""
    with open(THIS_FILE, encoding="utf-8") as fh:
        hits = [i for i, text in enumerate(fh, 1) if text.rstrip().endswith(f"# <- {mark}")]
    assert len(hits) == 1, f"marker {mark!r} found {len(hits)} times"
    return hits[0]


def assert_points_here(err: PtoError, mark: str, *culprits: str) -> None:
    message = str(err)
    line = line_of(mark)
    assert err.loc is not None, f"no location on: {message}"
    assert os.path.abspath(err.loc.file) == THIS_FILE, message
    assert err.loc.line == line, f"expected line {line}: {message}"
    assert f"{os.path.basename(THIS_FILE)}:{line}" in message, message
    for culprit in culprits:
        assert culprit in message, f"{culprit!r} not named in: {message}"


# ------------------------------------------------------------------------------------------
# hierarchy
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cls, parent",
    [
        (ChannelClosed, ChannelError),
        (ChannelFull, ChannelError),
        (ChannelError, PtoError),
        (CompileError, PtoError),
        (TypeCheckError, CompileError),
        (IRConversionError, CompileError),
        (ExecutionError, PtoError),
        (KernelError, ExecutionError),
        (DeadlockError, ExecutionError),
        (ScheduleError, PtoError),
        (TensorIndexError, TypeCheckError),
        (TensorIndexError, IndexError),
        (PtoError, Exception),
    ],
)
def test_hierarchy(cls, parent):
    assert issubclass(cls, parent)


def test_every_spec_error_is_a_pto_error():
    names = ["CompileError", "TypeCheckError", "IRConversionError", "ExecutionError"]
    names += ["KernelError", "ScheduleError", "ChannelError", "ChannelClosed", "ChannelFull"]
    for name in names:
        assert issubclass(getattr(pto_wsp, name), PtoError), name


def test_message_carries_location_and_source_text():
    err = TypeCheckError("bad thing", loc=pto_wsp.errors.user_location())  # <- direct
    assert_points_here(err, "direct", "bad thing", "TypeCheckError(")


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
def _tensor(name: str, shape: tuple[int, ...]) -> pto_wsp.Tensor:
    return pto_wsp.Tensor(data=np.zeros(shape, np.float32), name=name)


def test_wrong_axis_type_to_P():
    from pto_wsp import P, workload

    @workload
    def bad():
        for _ in P("batch"):  # <- bad-axis
            pass

    with pytest.raises(TypeCheckError) as info:
        bad()
    assert_points_here(info.value, "bad-axis", "'batch'")


def test_shape_mismatch_in_kernel():
    from pto_wsp import DType, In, Out, Tile, jit_kernel, pto

    with pytest.raises(TypeCheckError) as info:

        @jit_kernel
        def add_bad(
            a: In[Tile[16, 16, DType.F32]],
            b: In[Tile[8, 16, DType.F32]],
            c: Out[Tile[16, 16, DType.F32]],
        ):
            pto.store(c, pto.add(a, b))  # <- shape-mismatch

    assert_points_here(info.value, "shape-mismatch", "add", "16", "8")


def test_unknown_dtype():
    with pytest.raises(TypeCheckError) as info:
        pto_wsp.Tensor(shape=(4, 4), dtype="f17")  # <- bad-dtype
    assert_points_here(info.value, "bad-dtype", "f17")


def test_kernel_called_with_wrong_number_of_arguments():
    from pto_wsp import In, Out, P, Tensor, kernel, workload

    @kernel
    def scale(x: In[Tensor], y: Out[Tensor]): ...

    X, Y = _tensor("X", (4, 8)), _tensor("Y", (4, 8))

    @workload
    def w():
        for i in P(pto_wsp.Dense[4]):
            scale[i](X[i], Y[i], X[i])  # <- arity

    with pytest.raises(TypeCheckError) as info:
        w()
    assert_points_here(info.value, "arity", "scale", "x", "y")

    @workload
    def w_missing():
        for i in P(pto_wsp.Dense[4]):
            scale[i](X[i])  # <- missing-arg

    with pytest.raises(TypeCheckError) as info:
        w_missing()
    assert_points_here(info.value, "missing-arg", "scale", "y")


def test_tensor_index_out_of_range():
    Q = _tensor("Q", (4, 8))
    with pytest.raises(TensorIndexError) as info:
        Q[5]  # <- index-range
    assert_points_here(info.value, "index-range", "Q", "5", "4")


def test_symbolic_index_out_of_static_range():
    from pto_wsp import In, Out, P, Tensor, kernel, workload

    @kernel
    def copy(x: In[Tensor], y: Out[Tensor]): ...

    X, Y = _tensor("X", (4, 8)), _tensor("Y", (4, 8))

    @workload
    def w():
        for i in P(pto_wsp.Dense[6]):
            copy[i](x=X[i], y=Y[i])  # <- symbolic-range

    with pytest.raises(TensorIndexError) as info:
        w()
    assert_points_here(info.value, "symbolic-range", "X", "6", "4")
