"""
tile-op library and simulator runtime
"""
from __future__ import annotations
import collections.abc
import typing
__all__: list[str] = ['op_names', 'run_op', 'time_op']
def op_names() -> list[str]:
    """
    Names accepted by run_op / time_op.
    """
def run_op(op: str, out: typing.Any, inputs: list, attrs: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex] = []) -> None:
    """
    Run tile op `op` on 2-D numpy arrays, writing into `out` in place (any strides; bf16 via ml_dtypes). Inputs follow the C entry's order (matmul: a, b[, acc]); `constant` takes its value as attrs[0]. Raises pto_wsp.errors.TypeCheckError for bad shapes or dtypes and CompileError for an unknown op.
    """
def time_op(op: str, out: typing.Any, inputs: list, attrs: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], iterations: typing.SupportsInt | typing.SupportsIndex) -> float:
    """
    Validate like run_op, then run the op `iterations` times in a compiled C++ loop; returns the mean nanoseconds per call.
    """
