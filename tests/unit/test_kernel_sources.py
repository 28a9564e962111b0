"""Where a kernel's C++ comes from and what it is written against (docs/kernels.md), and what
``KernelRef.trace()`` reports; nothing here builds C++."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pto_wsp import DType, In, Out, P, Scalar, Tensor, Tile, kernel, pto, workload
from pto_wsp.errors import TypeCheckError
from pto_wsp.language.kernel.cpp_source import detect_abi, uses_ptoisa

REFERENCE_BODY = "float* y = (float*)task->tensor_ptrs[1]; y[0] = 1.0f;"
NATIVE_BODY = "((float*)y->data)[0] = 1.0f;"


def test_the_abi_is_detected_from_the_body_and_abi_overrides_it() -> None:
    @kernel(cpp_src=REFERENCE_BODY)
    def ref(x: In[Tensor], y: Out[Tensor]): ...

    @kernel(cpp_src="const KernelTaskDesc* t = task; (void)t;")
    def ref2(x: In[Tensor], y: Out[Tensor]): ...

    @kernel(cpp_src=NATIVE_BODY)
    def native(x: In[Tensor], y: Out[Tensor]): ...

    @kernel(cpp_src="pto::cpu_sim::add_cycles(3);", abi="reference")
    def forced(x: In[Tensor], y: Out[Tensor]): ...

    @kernel(cpp_src="/* not a task-> body */ " + NATIVE_BODY, abi="native")
    def forced_native(x: In[Tensor], y: Out[Tensor]): ...

    assert [k.cpp_abi for k in (ref, ref2, native, forced, forced_native)] == [
        "reference",
        "reference",
        "native",
        "reference",
        "native",
    ]
    assert detect_abi("task -> args[0]") == "reference"


def test_a_python_body_beside_cpp_is_allowed_and_never_run() -> None:
    ran = []

    @kernel(cpp_src=NATIVE_BODY)
    def sketch(x: In[Tile[1, 4, DType.F32]], y: Out[Tile[1, 4, DType.F32]]):
        ran.append(1)
        pto.store(y, pto.exp(x))

    assert sketch.body_kind == "cpp" and ran == []
    assert sketch.trace().ops == []


def test_body_and_unit_files_are_read_at_each_access(tmp_path: Path) -> None:
    body = tmp_path / "body.cpp"
    body.write_text(REFERENCE_BODY)
    unit = tmp_path / "unit.cpp"
    unit.write_text('extern "C" uint64_t unit_k(const KernelTaskDesc*, CSPTContext*) { return 0; }')

    @kernel(cpp_body_path=str(body))
    def from_file(x: In[Tensor], y: Out[Tensor]): ...

    @kernel(cpp_tu_path=unit, name="unit_k")
    def whole(x: In[Tensor], y: Out[Tensor]): ...

    assert from_file.body_kind == "cpp" and from_file.cpp_src == REFERENCE_BODY
    assert from_file.cpp_abi == "reference" and from_file.cpp_body_path == body
    body.write_text(NATIVE_BODY)  # an edited file is what the next build sees
    assert from_file.cpp_src == NATIVE_BODY and from_file.cpp_abi == "native"
    assert whole.cpp_abi == "tu" and "unit_k" in (whole.cpp_src or "")


def test_a_relative_path_is_relative_to_the_defining_script(tmp_path: Path) -> None:
    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "body.cpp").write_text(NATIVE_BODY)
    script = tmp_path / "script.py"
    script.write_text(
        "from pto_wsp import In, Out, Tensor, kernel\n"
        "@kernel(cpp_body_path='kernels/body.cpp')\n"
        "def k(x: In[Tensor], y: Out[Tensor]): ...\n"
    )
    import runpy

    k = runpy.run_path(str(script))["k"]
    assert k.cpp_body_path == (tmp_path / "kernels" / "body.cpp").resolve()
    assert k.cpp_src == NATIVE_BODY


@pytest.mark.parametrize(
    "options,message",
    [
        ({"cpp_src": "x", "cpp_body_path": "B"}, "cpp_src and cpp_body_path are exclusive"),
        ({"cpp_src": "x", "cpp_tu_path": "B"}, "cpp_src and cpp_tu_path are exclusive"),
        ({"cpp_body_path": "B", "cpp_tu_path": "B"}, "cpp_body_path and cpp_tu_path are exclusive"),
        ({"abi": "reference"}, "abi='reference' names the ABI of a C++ body"),
        ({"cpp_src": "x", "abi": "ours"}, "abi must be one of 'native', 'reference'"),
        ({"cpp_tu_path": "B", "abi": "native"}, "abi='native' does not apply"),
        ({"cpp_body_path": "missing.cpp"}, "cpp_body_path='missing.cpp' is not a file"),
        ({"cpp_tu_path": 3}, "cpp_tu_path must be a file path"),
        ({"cpp_includes": ["a.h"]}, "without cpp_src (or cpp_body_path / cpp_tu_path)"),
    ],
)
def test_decorator_errors(tmp_path: Path, options: dict, message: str) -> None:
    body = tmp_path / "b.cpp"
    body.write_text("/* */")
    options = {k: (str(body) if v == "B" else v) for k, v in options.items()}
    with pytest.raises(TypeCheckError) as err:

        @kernel(**options)
        def k(x: In[Tensor], y: Out[Tensor]): ...

    assert message in str(err.value)
    assert err.value.loc is not None and err.value.loc.file == __file__


def test_what_needs_ptoisa() -> None:
    assert uses_ptoisa("", ["pto/cpu/TMrgSort.hpp"])
    assert uses_ptoisa("", ["<pto/pto-inst.hpp>"])
    assert uses_ptoisa("pto::Tile<pto::TileType::Vec, float, 1, 8> t;", [])
    assert uses_ptoisa("pto_wsp::ptoisa::TLOAD(t, g);", [])
    assert uses_ptoisa("pto::TADD(c, a, b);", [])
    assert uses_ptoisa('#include "pto/cpu/TAdd.hpp"\n', [])
    # ours: the runtime's C API and pto::cpu_sim / pto::f32_to_f16 are no PTO-ISA
    assert not uses_ptoisa("pto_add(y, x, x); pto::cpu_sim::add_cycles(1);", ["my.h"])
    assert not uses_ptoisa("float h = pto::f16_to_f32(v);", [])


# ---- trace() -----------------------------------------------------------------------------------


def test_trace_params_before_and_after_the_first_call() -> None:
    @kernel
    def scale(x: In[Tensor], y: Out[Tensor], alpha: Scalar[DType.F32]):
        pto.store(y, pto.mul(pto.load(x), alpha))

    before = scale.trace()
    assert [n for n, _ in before.params] == ["x", "y", "alpha"]
    assert [v.shape for _, v in before.params] == [None, None, None]
    assert before.params[2][1].dtype == DType.F32 and before.ops == []

    X = Tensor(np.zeros((4, 8), np.float32))
    Y = Tensor(np.zeros((4, 8), np.float32))
    Z = Tensor(np.zeros((2, 2, 16), np.float16))

    @workload
    def w():
        for i in P(4):
            scale[i](x=X[i : i + 1], y=Y[i : i + 1], alpha=2.0)  # first call: 1x8 views
        scale(x=Z[0], y=Z[1], alpha=1.0)

    w()
    after = scale.trace()
    x, y, alpha = (v for _, v in after.params)
    assert x.shape == (1, 8) and x.dtype == DType.F32  # the view of the first call
    assert y.shape == (1, 8) and alpha.shape is None and alpha.dtype == DType.F32
    assert [op.op for op in after.ops] == ["load", "mul", "store"]
    assert after.ops[1].shape == (1, 8)


def test_trace_of_tiles_and_of_a_cpp_kernel() -> None:
    @kernel
    def add(
        a: In[Tile[2, 4, DType.F16]], b: In[Tile[2, 4, DType.F16]], c: Out[Tile[2, 4, DType.F16]]
    ):
        pto.store(c, pto.add(a, b))

    t = add.trace()
    assert [(n, v.shape, v.dtype) for n, v in t.params] == [
        ("a", (2, 4), DType.F16),
        ("b", (2, 4), DType.F16),
        ("c", (2, 4), DType.F16),
    ]
    assert [op.op for op in t.ops] == ["load", "load", "add", "store"]  # implicit loads

    @kernel(cpp_src=NATIVE_BODY)
    def custom(x: In[Tensor], y: Out[Tile[1, 4, DType.I32]], n: Scalar[DType.I64]): ...

    c = custom.trace()
    assert [(v.shape, v.dtype) for _, v in c.params] == [
        (None, None),
        ((1, 4), DType.I32),
        (None, DType.I64),
    ]
    assert c.ops == []
