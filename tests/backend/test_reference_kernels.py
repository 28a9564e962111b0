"""C++ kernels on cpu_sim in every form (docs/kernels.md): the native ABI, the reference ABI
(``task->`` bodies, ``cpp_body_path``, ``cpp_tu_path``), and Path A kernels that use PTO-ISA.

Numerics against numpy; cycles by hand (``cost=`` plus what ``add_cycles`` adds). The PTO-ISA
kernels build with clang-19 (about 2 s a build), so they share one workload and one build.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ptoisa_env import ptoisa_root, skip_reason

from pto_wsp import DType, In, Out, P, Scalar, Tensor, kernel, workload
from pto_wsp.errors import CompileError


@pytest.fixture(autouse=True)
def _no_root_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The PTO-ISA root is whatever a test sets (never the developer's own environment); an
    empty value is unset, and the one ``pto-wsp run --pto-isa`` sets is undone afterwards."""
    monkeypatch.setenv("PTO_ISA_ROOT", "")
    monkeypatch.setenv("PTO_ISA_CXX", "")


def run(w):
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def durations(program) -> list[int]:
    tr = program.trace
    order = np.argsort(tr["task"])
    return (tr["end"][order] - tr["start"][order]).tolist()


REFERENCE_SCALE = """
    const uint64_t row = task->args[0];
    uint32_t bits = (uint32_t)task->args[task->num_axis_args];
    float alpha; memcpy(&alpha, &bits, 4);
    const int64_t n = (int64_t)task->args[task->num_axis_args + 1];
    const float* x = (const float*)task->tensor_ptrs[0];
    float* y = (float*)task->tensor_ptrs[1];
    const int64_t xc = task->tensor_strides[1], yc = task->tensor_strides[3];
    for (int64_t c = 0; c < task->tensor_shapes[1]; ++c) y[c * yc] = alpha * x[c * xc] + (float)(row * n);
    pto::cpu_sim::add_cycles(10 * row);
"""


def test_native_body_with_a_scalar_and_a_python_sketch() -> None:
    X = Tensor(np.arange(32, dtype=np.float32).reshape(4, 8))
    Y = Tensor(np.zeros((4, 8), np.float32))

    @kernel(
        cpp_src="""
        const float* x0 = (const float*)x->data;
        float* y0 = (float*)y->data;
        for (int64_t c = 0; c < x->cols; ++c) y0[c * y->col_stride] = (float)alpha * x0[c * x->col_stride];
        """
    )
    def scale(x: In[Tensor], y: Out[Tensor], alpha: Scalar[DType.F32]):
        raise AssertionError("a kernel with C++ never runs its Python body")

    @workload
    def w():
        for i in P(4):
            scale[i](x=X[i], y=Y[i], alpha=2.5)

    run(w())
    np.testing.assert_array_equal(Y.data, 2.5 * X.data)


def test_reference_body_reads_axes_scalars_pointers_and_strides() -> None:
    # Column views of a row-major array: row stride 8, so the strides are not trivial.
    X = Tensor(np.arange(32, dtype=np.float32).reshape(4, 8))
    Y = Tensor(np.zeros((8, 4), np.float32))

    @kernel(cpp_src=REFERENCE_SCALE, cost=4)
    def scale_ref(x: In[Tensor], y: Out[Tensor], alpha: Scalar[DType.F32], n: Scalar[DType.I64]):
        """The reference writes a Python sketch here; it is not run."""

    assert scale_ref.cpp_abi == "reference"

    @workload
    def w():
        for i in P(4):
            scale_ref[i](x=X[i], y=Y[:, i], alpha=0.5, n=3)

    program = run(w())
    want = (0.5 * X.data + 3 * np.arange(4, dtype=np.float32)[:, None]).T
    np.testing.assert_array_equal(Y.data, want)
    # cost=4 plus add_cycles(10 * row)
    assert durations(program) == [4, 14, 24, 34]


def test_forced_abis() -> None:
    X = Tensor(np.ones((2, 4), np.float32))
    Y = Tensor(np.zeros((2, 4), np.float32))

    # No task-> in sight: abi="reference" still gives it the reference entry and add_cycles.
    @kernel(cpp_src="pto::cpu_sim::add_cycles(7); return 5;", abi="reference", cost=1)
    def charge(x: In[Tensor], y: Out[Tensor]): ...

    # Names KernelTaskDesc in a comment, but abi="native" keeps our ABI.
    @kernel(
        cpp_src="""/* ported from a KernelTaskDesc body */
        for (int64_t c = 0; c < y->cols; ++c) ((float*)y->data)[c * y->col_stride] = 9.0f;""",
        abi="native",
        cost=2,
    )
    def fill(x: In[Tensor], y: Out[Tensor]): ...

    @workload
    def w():
        charge(x=X[0], y=Y[0])
        fill(x=X[1], y=Y[1])

    program = run(w())
    assert durations(program) == [1 + 7 + 5, 2]
    np.testing.assert_array_equal(Y.data[1], np.full(4, 9.0, np.float32))
    np.testing.assert_array_equal(Y.data[0], np.zeros(4, np.float32))


def test_body_file_and_translation_unit(tmp_path: Path) -> None:
    body = tmp_path / "scale_body.cpp"
    body.write_text(REFERENCE_SCALE)
    unit = tmp_path / "scale_tu.cpp"
    unit.write_text(
        """
#include <cstring>
static float bits_to_f32(uint64_t b) { uint32_t u = (uint32_t)b; float f; std::memcpy(&f, &u, 4); return f; }
extern "C" uint64_t scale_tu(const KernelTaskDesc* task, CSPTContext*) {
    const float alpha = bits_to_f32(task->args[task->num_axis_args]);
    const double beta = [&] { double d; uint64_t b = task->args[task->num_axis_args + 1]; std::memcpy(&d, &b, 8); return d; }();
    const float* x = (const float*)task->tensor_ptrs[0];
    float* y = (float*)task->tensor_ptrs[1];
    for (int c = 0; c < 8; ++c) y[c * task->tensor_strides[3]] = alpha * x[c * task->tensor_strides[1]] + (float)beta;
    return 100 + task->args[0] + task->args[1];
}
"""
    )
    X = Tensor(np.arange(32, dtype=np.float32).reshape(4, 8))
    Y = Tensor(np.zeros((4, 8), np.float32))
    Z = Tensor(np.zeros((2, 2, 8), np.float32))

    @kernel(cpp_body_path=body, cost=0)
    def scale_ref(
        x: In[Tensor], y: Out[Tensor], alpha: Scalar[DType.F32], n: Scalar[DType.I64]
    ): ...

    @kernel(cpp_tu_path=str(unit), cost=0)
    def scale_tu(
        x: In[Tensor], y: Out[Tensor], alpha: Scalar[DType.F32], beta: Scalar[DType.F64]
    ): ...

    @workload
    def w():
        for i in P(4):
            scale_ref[i](x=X[i], y=Y[i], alpha=2.0, n=1)
        for a in P(2):
            for b in P(2):
                scale_tu[a, b](x=X[2 * a + b], y=Z[a, b], alpha=-1.0, beta=0.25)

    program = run(w())
    np.testing.assert_array_equal(Y.data, 2.0 * X.data + np.arange(4, dtype=np.float32)[:, None])
    np.testing.assert_array_equal(Z.data.reshape(4, 8), -X.data + np.float32(0.25))
    assert durations(program) == [0, 10, 20, 30, 100, 101, 101, 102]


def test_errors_in_files_and_units_point_at_them(tmp_path: Path) -> None:
    body = tmp_path / "broken.cpp"
    body.write_text("float* y = (float*)task->tensor_ptrs[1];\ny[0] = no_such_name;\n")
    X = Tensor(np.ones((1, 4), np.float32))
    Y = Tensor(np.ones((1, 4), np.float32))

    @kernel(cpp_body_path=body)
    def broken(x: In[Tensor], y: Out[Tensor]): ...

    @workload
    def w():
        broken(x=X[0], y=Y[0])

    with pytest.raises(CompileError) as err:
        w().compile(target="cpu_sim")
    msg = str(err.value)
    assert f"cpp_body_path {body}" in msg and "cpp_src of kernel broken:2:" in msg, msg
    assert "no_such_name" in msg
    assert err.value.loc is not None and err.value.loc.line == broken.loc.line

    unit = tmp_path / "other.cpp"
    unit.write_text('extern "C" uint64_t other(const KernelTaskDesc*, CSPTContext*) { return 0; }')

    @kernel(cpp_tu_path=unit)
    def named_wrong(x: In[Tensor], y: Out[Tensor]): ...

    @workload
    def w2():
        named_wrong(x=X[0], y=Y[0])

    with pytest.raises(CompileError, match=r'does not define extern "C" uint64_t named_wrong\('):
        w2().compile(target="cpu_sim")


# ---- PTO-ISA ---------------------------------------------------------------------------------

TADD_PATH_A = """
    using G = pto::GlobalTensor<float, pto::Shape<1, 1, 1, pto::DYNAMIC, pto::DYNAMIC>,
                                pto::Stride<1, 1, 1, pto::DYNAMIC, pto::DYNAMIC>>;
    using T = pto::Tile<pto::TileType::Vec, float, 1, 8, pto::BLayout::RowMajor, 1, 8>;
    G ga((float*)a->data, {1, 8}, {a->row_stride, 1}), gb((float*)b->data, {1, 8}, {b->row_stride, 1});
    G gc((float*)c->data, {1, 8}, {c->row_stride, 1});
    T ta, tb, tc;
    pto::TLOAD(ta, ga);
    pto::TLOAD(tb, gb);
    pto::TADD(tc, ta, tb);
    pto::TSTORE(gc, tc);
"""

TSORT32_REFERENCE = """
    using Dyn = pto::Shape<1, 1, 1, pto::DYNAMIC, pto::DYNAMIC>;
    using DynS = pto::Stride<1, 1, 1, pto::DYNAMIC, pto::DYNAMIC>;
    pto::GlobalTensor<float, Dyn, DynS> gs((float*)task->tensor_ptrs[0], {1, 32}, {32, 1});
    pto::GlobalTensor<uint32_t, Dyn, DynS> gi((uint32_t*)task->tensor_ptrs[1], {1, 32}, {32, 1});
    pto::GlobalTensor<float, Dyn, DynS> gd((float*)task->tensor_ptrs[2], {1, 64}, {64, 1});
    pto::Tile<pto::TileType::Vec, float, 1, 32, pto::BLayout::RowMajor, 1, 32> src;
    pto::Tile<pto::TileType::Vec, uint32_t, 1, 32, pto::BLayout::RowMajor, 1, 32> idx;
    pto::Tile<pto::TileType::Vec, float, 1, 64, pto::BLayout::RowMajor, 1, 64> dst;
    pto_wsp::ptoisa::TLOAD(src, gs);
    pto_wsp::ptoisa::TLOAD(idx, gi);
    pto_wsp::ptoisa::TSORT32(dst, src, idx);
    pto_wsp::ptoisa::TSTORE(gd, dst);
    pto::cpu_sim::add_cycles(32);
"""


def _ptoisa_workload():
    rng = np.random.default_rng(7)
    A = Tensor(rng.standard_normal((4, 8)).astype(np.float32))
    B = Tensor(rng.standard_normal((4, 8)).astype(np.float32))
    C = Tensor(np.zeros((4, 8), np.float32))
    scores = rng.permutation(np.linspace(-3, 3, 64, dtype=np.float32))[:32].reshape(1, 32)
    scores[0, 5] = scores[0, 9]  # a tie: the lower index first
    S = Tensor(scores)
    Idx = Tensor(np.arange(32, dtype=np.uint32).reshape(1, 32))
    Pairs = Tensor(np.zeros((1, 64), np.float32))

    # Spec §6.2 Path A as written: a PTO-ISA instruction header, a cpp_src body.
    @kernel(cpp_includes=["pto/cpu/TMrgSort.hpp"], cpp_src=TADD_PATH_A, cost=3)
    def tadd(a: In[Tensor], b: In[Tensor], c: Out[Tensor]): ...

    @kernel(cpp_src=TSORT32_REFERENCE, cost=1)
    def sort32(s: In[Tensor], idx: In[Tensor], pairs: Out[Tensor]): ...

    @workload
    def w():
        for i in P(4):
            tadd[i](a=A[i], b=B[i], c=C[i])
        sort32(s=S, idx=Idx, pairs=Pairs)

    return w(), (A, B, C, S, Pairs)


def test_ptoisa_kernels_without_a_root_name_the_setting() -> None:
    w, _ = _ptoisa_workload()
    with pytest.raises(CompileError) as err:
        w.compile(target="cpu_sim")
    msg = str(err.value)
    assert "kernels tadd, sort32 use PTO-ISA" in msg and "PTO_ISA_ROOT" in msg, msg
    assert "--pto-isa" in msg


def test_ptoisa_kernels_without_clang_19_name_it(monkeypatch: pytest.MonkeyPatch) -> None:
    root = ptoisa_root()
    if root is None:
        pytest.skip("no PTO-ISA checkout")
    monkeypatch.setenv("PTO_ISA_ROOT", str(root))
    monkeypatch.setenv("PTO_ISA_CXX", "no-such-clang++")
    w, _ = _ptoisa_workload()
    with pytest.raises(CompileError, match=r"kernels tadd, sort32 use PTO-ISA.*PTO_ISA_CXX"):
        w.compile(target="cpu_sim")


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_ptoisa_path_a_and_reference_bodies_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTO_ISA_ROOT", str(ptoisa_root()))
    w, (A, B, C, S, Pairs) = _ptoisa_workload()
    program = run(w)
    np.testing.assert_array_equal(C.data, A.data + B.data)
    # TSORT32: (score, index) pairs by score descending, ties to the lower index; the index
    # slot holds the uint32 index's bit pattern.
    s = S.data[0]
    order = sorted(range(32), key=lambda i: (-s[i], i))
    pairs = Pairs.data.reshape(32, 2)
    np.testing.assert_array_equal(pairs[:, 0], s[order])
    np.testing.assert_array_equal(pairs[:, 1].view(np.uint32), np.array(order, np.uint32))
    assert durations(program) == [3, 3, 3, 3, 1 + 32]
    assert (Path(program.codegen_artifact_dir) / "ptoisa_kernels.cpp.o").is_file()


CLI_SCRIPT = """
import numpy as np
from pto_wsp import In, Out, P, Tensor, kernel, workload

A = Tensor(np.arange(32, dtype=np.float32).reshape(4, 8))
C = Tensor(np.zeros((4, 8), np.float32))

@kernel(cpp_includes=["pto/cpu/TAdd.hpp"], cpp_src=BODY)
def tadd(a: In[Tensor], b: In[Tensor], c: Out[Tensor]): ...

@workload
def w():
    for i in P(4):
        tadd[i](a=A[i], b=A[i], c=C[i])

program = w().compile(target="cpu_sim")
program.execute()
program.synchronize()
assert (C.data == 2 * A.data).all(), C.data
"""


def test_pto_wsp_run_takes_the_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pto_wsp.cli import main

    script = tmp_path / "path_a.py"
    script.write_text(f"BODY = {TADD_PATH_A!r}\n" + CLI_SCRIPT)
    assert main(["run", str(script)]) == 1  # no root: the message names the settings
    err = capsys.readouterr().err
    assert "kernel tadd uses PTO-ISA" in err and "PTO_ISA_ROOT" in err, err
    assert main(["run", str(script), "--pto-isa", str(tmp_path)]) == 1
    assert "--pto-isa: PTO-ISA root" in capsys.readouterr().err
    if skip_reason() is not None:
        pytest.skip(str(skip_reason()))
    assert main(["run", str(script), "--pto-isa", str(ptoisa_root())]) == 0, capsys.readouterr()
    assert "tasks" in capsys.readouterr().out
