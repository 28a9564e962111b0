"""Custom C++ kernels on cpu_sim: compile errors point at the user's line, includes reach the
compiler, and the numerics of a custom body are the user's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pto_wsp import In, Out, P, Tensor, kernel, workload
from pto_wsp.errors import CompileError


def test_cpp_src_compile_error_names_the_line_inside_cpp_src() -> None:
    X = Tensor(np.ones((2, 4), np.float32))
    Y = Tensor(np.zeros((2, 4), np.float32))

    @kernel(
        cpp_src="""
float* out = (float*)y->data;
out[0] = undefined_symbol_here;
"""
    )
    def broken(x: In[Tensor], y: Out[Tensor]): ...

    @workload
    def w():
        broken(x=X, y=Y)

    with pytest.raises(CompileError) as info:
        w().compile(target="cpu_sim")
    msg = str(info.value)
    # The error is located in the user's cpp_src (line 3 of the string), not in generated code.
    assert "cpp_src of kernel broken:3:" in msg, msg
    assert "undefined_symbol_here" in msg
    assert info.value.loc is not None and info.value.loc.file == __file__
    # ... and the Python location is the kernel's definition, where the fix goes.
    assert info.value.loc.line == broken.loc.line
    assert "def broken" in info.value.loc.text or "@kernel" in info.value.loc.text


def test_cpp_includes_reach_the_compiler(tmp_path: Path) -> None:
    header = tmp_path / "scale3.h"
    header.write_text("static inline float scale3(float v) { return 3.0f * v; }\n")
    X = Tensor(np.arange(16, dtype=np.float32).reshape(4, 4))
    Y = Tensor(np.zeros((4, 4), np.float32))

    @kernel(
        cpp_src="""
        for (int64_t c = 0; c < x->cols; ++c)
            ((float*)y->data)[c * y->col_stride] = scale3(((float*)x->data)[c * x->col_stride]);
        """,
        cpp_includes=[str(header)],
    )
    def triple(x: In[Tensor], y: Out[Tensor]): ...

    @workload
    def w():
        for i in P(4):
            triple[i](x=X[i], y=Y[i])

    program = w().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    np.testing.assert_array_equal(Y.data, 3.0 * X.data)
