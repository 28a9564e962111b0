"""The ascend_npu backend: the emitted NPU source tree is well-formed C++ against the stub headers
(resources/ascend_stubs), its AICPU expander, compiled on the host with the emitted harness,
expands exactly the task sequence cpu_sim runs, and emission is byte-stable (DESIGN.md §3).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pto_wsp import (
    CompileError,
    Dense,
    DenseDyn,
    DispatchPolicy,
    In,
    Out,
    P,
    Sparse,
    Tensor,
    TimingPolicy,
    kernel,
    pto,
    workload,
)
from pto_wsp.backends.ascend_npu import emit_tree
from pto_wsp.lowering import lower, lower_with_bindings
from pto_wsp.trace import by_task

REPO = Path(__file__).resolve().parents[2]
STUBS = REPO / "resources" / "ascend_stubs"
CXX = shutil.which("g++")
pytestmark = pytest.mark.skipif(CXX is None, reason="g++ is needed to check the emitted sources")


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))


# ---- kernels -------------------------------------------------------------------------------


@kernel
def attn_kernel(Q: In[Tensor], K: In[Tensor], V: In[Tensor], O: Out[Tensor]): ...


@kernel
def rmsnorm_k(x: In[Tensor], w: In[Tensor], y: Out[Tensor]):
    r = pto.rsqrt(pto.rowmean(pto.mul(x, x)))
    pto.store(y, pto.mul(pto.rowmul(x, r), w))


@kernel
def matmul_k(a: In[Tensor], b: In[Tensor], c: Out[Tensor]):
    pto.store(c, pto.matmul(a, b))


@kernel
def copy_k(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def copy2_k(x: In[Tensor], y: Out[Tensor]): ...


# ---- workloads -----------------------------------------------------------------------------


def attention_81():
    """Spec §8.1 (sizes shrunk), with its schedule."""
    Q = Tensor(np.zeros((4, 8, 16, 16), np.float32))
    K = Tensor(np.zeros((4, 16, 16), np.float32))
    V = Tensor(np.zeros((4, 16, 16), np.float32))
    O = Tensor(np.zeros((4, 8, 16, 16), np.float32))

    @workload
    def attention(batch, heads):
        for b, h in P(batch, heads):
            attn_kernel[b, h](Q=Q[b, h], K=K[b], V=V[b], O=O[b, h])

    return (
        attention(DenseDyn(4), Dense[8])
        .dispatch(DispatchPolicy.affinity(lambda t: t.get("batch")))
        .streams(2)
        .stream_by(lambda t: t.get("head") % 2)
        .timing(TimingPolicy.immediate)
    )


def traced_kernels():
    X = Tensor(np.ones((2, 4, 8, 32), np.float32))
    W = Tensor(np.ones((1, 32), np.float32))
    Y = Tensor(np.zeros((2, 4, 8, 32), np.float32))
    A = Tensor(np.ones((4, 16, 32), np.float32))
    B = Tensor(np.ones((32, 8), np.float32))
    C = Tensor(np.zeros((4, 16, 8), np.float32))

    @workload
    def traced():
        for b, h in P(2, 4):
            rmsnorm_k[b, h](x=X[b, h], w=W, y=Y[b, h])
        for i in P(4):
            matmul_k[i](a=A[i], b=B, c=C[i])

    return traced()


def grid():
    X = Tensor(np.zeros((3, 5, 16), np.float32))
    Y = Tensor(np.zeros((3, 5, 16), np.float32))

    @workload
    def g():
        for i, j in P(3, 5):
            copy_k[i, j](x=X[i, j], y=Y[i, j])

    return g()


def seq_nest():
    X = Tensor(np.zeros((12, 16), np.float32))
    Y = Tensor(np.zeros((12, 16), np.float32))
    Z = Tensor(np.zeros((12, 16), np.float32))

    @workload
    def s():
        for i in P.seq(3):
            for j in P(4):
                copy_k[i, j](x=X[i * 4 + j], y=Y[i * 4 + j])
                copy2_k[j, i](x=Y[i * 4 + j], y=Z[i * 4 + j])

    return s()


def when_on_data():
    lens = Tensor(np.array([512, 4096, 100, 9000, 2048, 8192], np.int32))
    X = Tensor(np.zeros((6, 16), np.float32))
    Y = Tensor(np.zeros((6, 16), np.float32))

    @workload
    def tiered(batch):
        for b in P(batch):
            with P.when(lens[b] <= 2048):
                copy_k[b](x=X[b], y=Y[b])
            with P.when(lens[b] <= 8192):
                copy2_k[b](x=X[b], y=Y[b])
            with P.otherwise():
                attn_kernel[b](Q=X[b], K=X[b], V=X[b], O=Y[b])

    return tiered(Dense[6])


def sel_over_csr():
    routing = Sparse(4, [0, 2, 5, 7, 10], [1, 3, 0, 2, 4, 1, 5, 0, 3, 7])
    tokens = Tensor(np.zeros((4, 16), np.float32))
    weights = Tensor(np.zeros((8, 16), np.float32))
    out = Tensor(np.zeros((4, 8, 16), np.float32))

    @workload
    def moe(batch, routing):
        for b in P(batch):
            for e in P.sel(routing[b]):
                copy_k[b, e](x=tokens[b], y=out[b, e])
                copy2_k[e, b](x=weights[e], y=out[b, e])

    return moe(DenseDyn(4), routing)


# ---- helpers -------------------------------------------------------------------------------


def emitted(w) -> Path:
    program = w.compile(target="ascend_npu")
    assert program.target == "ascend_npu"
    tree = Path(program.codegen_artifact_dir)
    assert tree.is_dir()
    return tree


def syntax_check(tree: Path) -> list[Path]:
    sources = sorted(p for p in tree.rglob("*") if p.suffix in (".cpp", ".h"))
    for src in sources:
        res = subprocess.run(
            [CXX, "-std=c++17", "-fsyntax-only", "-Wall", "-I", str(STUBS), str(src)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert res.returncode == 0, f"{src.relative_to(tree)}:\n{res.stderr}"
    return sources


def expand_on_host(w, tmp_path: Path) -> list[tuple[int, ...]]:
    tree = emitted(w)
    tmp_path.mkdir(parents=True, exist_ok=True)
    exe = tmp_path / "expand_on_host"
    subprocess.run(
        [
            CXX,
            "-std=c++17",
            "-O0",
            "-Wall",
            "-Werror",
            "-Wno-unused-variable",
            str(tree / "host" / "expand_on_host.cpp"),
            str(tree / "aicpu" / "expander.cpp"),
            "-o",
            str(exe),
        ],
        check=True,
    )
    _, tensors = lower_with_bindings(w)
    data = tmp_path / "inputs"
    data.mkdir()
    for i, t in enumerate(tensors):
        (data / f"tensor_{i}.bin").write_bytes(np.ascontiguousarray(t.data).tobytes())
    (data / "symbols.txt").write_text("")
    (data / "params.txt").write_text("")
    res = subprocess.run([str(exe), str(data)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    return [tuple(int(x) for x in line.split()) for line in res.stdout.splitlines()]


def cpu_sim_tasks(w) -> list[tuple[int, ...]]:
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    tr = by_task(program.trace)
    return [
        (int(r["kernel"]), int(r["idx0"]), int(r["idx1"]), int(r["idx2"]), int(r["idx3"]))
        for r in tr
    ]


# ---- tests ---------------------------------------------------------------------------------


def test_attention_tree_layout_and_syntax() -> None:
    tree = emitted(attention_81())
    rel = sorted(str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file())
    assert rel == [
        "CMakeLists.txt",
        "README.md",
        "aicore/kernel_0_attn_kernel.cpp",
        "aicpu/expander.cpp",
        "host/expand_on_host.cpp",
        "host/io.h",
        "host/main.cpp",
        "include/pto_npu_abi.h",
        "plan/plan.h",
    ]
    assert len(syntax_check(tree)) == 7
    cmake = (tree / "CMakeLists.txt").read_text()
    assert "ascendc_library(pto_kernels" in cmake and "aicore/kernel_0_attn_kernel.cpp" in cmake
    plan = (tree / "plan" / "plan.h").read_text()
    # the schedule is data in the plan: dispatch preserved, streams/stream_by/timing annotated
    assert '"affinity", "b"' in plan
    assert '2, "(h % 2)", "immediate"' in plan
    assert "annotated (not enforced on device)" in plan
    expander = (tree / "aicpu" / "expander.cpp").read_text()
    assert "d->dispatch_key = (int64_t)(v" in expander


def test_traced_kernels_emit_pto_isa_and_pass_syntax() -> None:
    tree = emitted(traced_kernels())
    syntax_check(tree)
    rms = (tree / "aicore" / "kernel_0_rmsnorm_k.cpp").read_text()
    for isa in ("TLOAD", "TMUL", "TROWMEAN", "TRSQRT", "TROWEXPANDMUL", "TSTORE"):
        assert f"pto::{isa}(" in rms
    mm = (tree / "aicore" / "kernel_1_matmul_k.cpp").read_text()
    assert "pto::TMATMUL(" in mm and "pto::Tile<pto::TileType::Vec, float, 16, 8>" in mm


@pytest.mark.parametrize(
    "make", [grid, seq_nest, when_on_data, sel_over_csr, attention_81, traced_kernels]
)
def test_expander_matches_cpu_sim_task_sequence(make, tmp_path) -> None:
    on_host = expand_on_host(make(), tmp_path)
    reference = cpu_sim_tasks(make())
    assert on_host == reference
    assert len(on_host) > 0


def test_when_and_sel_follow_the_data(tmp_path) -> None:
    # lens = [512, 4096, 100, 9000, 2048, 8192]: <=2048 -> copy_k(0), <=8192 -> copy2_k(1), else 2
    tasks = expand_on_host(when_on_data(), tmp_path / "w")
    assert [(k, i) for k, i, *_ in tasks] == [(0, 0), (1, 1), (0, 2), (2, 3), (0, 4), (1, 5)]
    tasks = expand_on_host(sel_over_csr(), tmp_path / "s")
    experts = [e for k, b, e, *_ in tasks if k == 0]
    assert experts == [1, 3, 0, 2, 4, 1, 5, 0, 3, 7]


def test_emission_is_byte_stable() -> None:
    a = emit_tree(lower(traced_kernels()))
    b = emit_tree(lower(traced_kernels()))
    assert a["files"] == b["files"]
    t1 = emitted(sel_over_csr())
    t2 = emitted(sel_over_csr())
    assert t1 == t2  # same content hash -> same directory, reused


def test_execute_needs_cann() -> None:
    program = grid().compile(target="ascend_npu")
    with pytest.raises(CompileError, match="CANN"):
        program.execute()


def test_kernel_compile_code_contains_ops() -> None:
    compiled = rmsnorm_k.compile(target="ascend_npu")
    assert "pto::TRSQRT(" in compiled.code and "pto::TROWMEAN(" in compiled.code
    cpu = rmsnorm_k.compile(target="cpu_sim")
    assert "pto_rsqrt(" in cpu.code and "pto_rowmean(" in cpu.code


def test_csp_nodes_are_rejected_by_name() -> None:
    from pto_wsp._core import ir

    m = ir.Module("csp")
    ch = m.add_channel("c", 1)
    m.set_workload(ir.Node.close(ch))
    with pytest.raises(CompileError, match="CSP construct 'close'"):
        emit_tree(m)
