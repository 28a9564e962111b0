"""The ascend_npu backend: the emitted NPU source tree is well-formed C++ against the stub headers
(pto_wsp/backends/ascend_stubs), its AICPU expander, compiled on the host with the emitted harness,
expands exactly the task sequence cpu_sim runs, and emission is byte-stable (DESIGN.md §3).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from spec_blocks import spec_blocks
from spec_preamble import run_block

from pto_wsp import (
    CompileError,
    Dense,
    DenseDyn,
    DispatchPolicy,
    In,
    Out,
    P,
    Pools,
    ScheduleWarning,
    Sparse,
    TaskWindow,
    Tensor,
    TimingPolicy,
    TracePolicy,
    kernel,
    pto,
    workload,
)
from pto_wsp.backends.ascend_npu import STUB_HEADERS, emit_tree
from pto_wsp.compiler import applicability
from pto_wsp.compiler.lowering import lower, lower_with_bindings
from pto_wsp.runtime.trace import by_task

REPO = Path(__file__).resolve().parents[2]
STUBS = STUB_HEADERS
CXX = shutil.which("g++")
CMAKE = shutil.which("cmake")
pytestmark = [
    pytest.mark.skipif(CXX is None, reason="g++ is needed to check the emitted sources"),
    pytest.mark.filterwarnings("ignore::pto_wsp.ScheduleWarning"),
]


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))
    applicability._WARNED.clear()  # diagnostics warn once per process: each test sees its own


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


def pooled():
    """Two kernels in pools of 2 and 3 workers; a third kernel may run on any of the 6."""
    X = Tensor(np.zeros((6, 16), np.float32))
    Y = Tensor(np.zeros((6, 16), np.float32))
    Z = Tensor(np.zeros((6, 16), np.float32))

    @workload
    def pools(n):
        for i in P(n):
            copy_k[i](x=X[i], y=Y[i])
            copy2_k[i](x=Y[i], y=Z[i])
            matmul_free[i](x=X[i], y=Z[i])

    return (
        pools(Dense[6])
        .dispatch(DispatchPolicy.round_robin(6))
        .task_graph(pools=Pools.by_kernel({copy_k: 2, "copy2_k": 3}))
    )


@kernel
def matmul_free(x: In[Tensor], y: Out[Tensor]): ...


def pooled_by_key():
    return pooled().dispatch(DispatchPolicy.hash(lambda t: t.get("i") * 7))


def mesh():
    """spatial_map(grid=(2, 3)): 6 workers, tasks placed by affinity over the mesh tiles."""
    X = Tensor(np.zeros((4, 6, 16), np.float32))
    Y = Tensor(np.zeros((4, 6, 16), np.float32))

    @workload
    def tiles(rows, cols):
        for i, j in P(rows, cols):
            copy_k[i, j](x=X[i, j], y=Y[i, j])

    return (
        tiles(Dense[4], Dense[6])
        .dispatch(DispatchPolicy.dispatch_by(lambda t: t.get("i") * 3 + t.get("j")))
        .task_graph(window=TaskWindow(3), trace=TracePolicy.none())
        .spatial_map(grid=(2, 3))
    )


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
            [CXX, "-std=c++20", "-fsyntax-only", "-Wall", "-I", str(STUBS), str(src)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert res.returncode == 0, f"{src.relative_to(tree)}:\n{res.stderr}"
    return sources


def build_harness(tree: Path, tmp_path: Path) -> Path:
    """The emitted expander and host harness, compiled for the CPU."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    exe = tmp_path / "expand_on_host"
    subprocess.run(
        [
            CXX,
            "-std=c++20",
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
    return exe


def expand_on_host(w, tmp_path: Path) -> list[tuple[int, ...]]:
    """(kernel, idx0..idx3, worker) of every task the expander expands, in expansion order."""
    exe = build_harness(emitted(w), tmp_path)
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
    """(kernel, idx0..idx3, worker) of every task cpu_sim runs, in submission order."""
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    tr = by_task(program.trace)
    return [
        (
            int(r["kernel"]),
            int(r["idx0"]),
            int(r["idx1"]),
            int(r["idx2"]),
            int(r["idx3"]),
            int(r["worker"]),
        )
        for r in tr
    ]


def with_full_trace(w):
    """``w`` recording a trace on cpu_sim (the reference needs one), schedule otherwise kept."""
    if str(getattr(w.schedule.trace_policy, "kind", "full")) == "none":
        return w.task_graph(trace=TracePolicy.full())
    return w


def places_like_cpu_sim(w) -> bool:
    """Whether the plan honours placement (table: dispatch preserved; work stealing is not)."""
    d = w.schedule.dispatch
    return d is None or d.kind != "work_steal"


def assert_same_tasks(w, tmp_path: Path) -> list[tuple[int, ...]]:
    on_host = expand_on_host(w, tmp_path)
    reference = cpu_sim_tasks(with_full_trace(w))
    assert len(on_host) > 0
    if places_like_cpu_sim(w):
        assert on_host == reference
    else:  # same tasks in the same order; the worker is decided at run time by stealing
        assert [t[:5] for t in on_host] == [t[:5] for t in reference]
    return on_host


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
    # the schedule is data in the plan: dispatch preserved, streams/stream_by annotated
    assert '"affinity", "b",\n    "preserved: the expander writes each task\'s worker' in plan
    assert '2, "(h % 2)",\n    "annotated: streams and stream_by' in plan
    assert '"immediate", (0.0),\n    "preserved: ' in plan
    assert "#define PTO_PLAN_NUM_WORKERS 2\n" in plan  # streams(2) is the worker count
    expander = (tree / "aicpu" / "expander.cpp").read_text()
    assert "d->dispatch_key = (int64_t)(v" in expander
    assert "d->worker = (int32_t)(pto_mod(d->dispatch_key, 2));" in expander
    host = (tree / "host" / "main.cpp").read_text()
    assert "worker_streams[(size_t)t.worker]" in host and "aclrtStreamWaitEvent" in host


def test_traced_kernels_emit_pto_isa_and_pass_syntax() -> None:
    tree = emitted(traced_kernels())
    syntax_check(tree)
    rms = (tree / "aicore" / "kernel_0_rmsnorm_k.cpp").read_text()
    for isa in ("TLOAD", "TMUL", "TROWSUM", "TDIVS", "TRSQRT", "TROWEXPANDMUL", "TSTORE"):
        assert f"pto::{isa}(" in rms
    # a row vector is a row-major tile padded to 32 bytes a row, valid region [8, 1]
    assert "pto::Tile<pto::TileType::Vec, float, 8, 8, pto::BLayout::RowMajor, 8, 1> v" in rms
    mm = (tree / "aicore" / "kernel_1_matmul_k.cpp").read_text()
    assert "pto::TMATMUL(acc" in mm and "pto::TileLeft<float, 16, 32, 16, 32> la" in mm
    assert "pto::Tile<pto::TileType::Vec, float, 16, 8, pto::BLayout::RowMajor, 16, 8> v" in mm


@pytest.mark.parametrize(
    "make",
    [
        grid,
        seq_nest,
        when_on_data,
        sel_over_csr,
        attention_81,
        traced_kernels,
        pooled,
        pooled_by_key,
        mesh,
    ],
)
def test_expander_matches_cpu_sim_task_sequence(make, tmp_path) -> None:
    """Same tasks, same order, same loop indices and the same worker as cpu_sim's trace."""
    assert_same_tasks(make(), tmp_path)


# The spec's examples (loaded and run as tests/unit/test_spec_examples.py does): §3.0 attention,
# §4.6 the complete example, §6.2 the direct-call example, §8.1 attention, §8.2 MoE.
SPEC_EXAMPLES = ["s3.0-L236", "s4.6-L540", "s6.2-L759", "s8.1-L892", "s8.2-L931"]


def spec_workloads(block_id: str) -> list:
    """The workloads a spec block builds: scheduled ones (behind its programs) first."""
    block = next(b for b in spec_blocks() if b.id == block_id)
    run = run_block(block)
    found = [p.workload for _, p in run.programs] + [w for _, w in run.workloads]
    unique = list({id(w): w for w in found}.values())
    assert unique, f"{block_id} builds no workload"
    return unique


@pytest.mark.parametrize("block_id", SPEC_EXAMPLES)
def test_spec_examples_expand_like_cpu_sim(block_id, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for n, w in enumerate(spec_workloads(block_id)):
        assert_same_tasks(w, tmp_path / str(n))


def test_spec_8_2_work_steal_keeps_home_workers(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (w,) = [w for w in spec_workloads("s8.2-L931") if w.schedule.dispatch is not None]
    with pytest.warns(ScheduleWarning, match=r"dispatch\(work_steal\) is kept in the"):
        program = w.compile(target="ascend_npu")
    assert "dispatch(work_steal)" in [d.directive for d in program.diagnostics]
    tasks = expand_on_host(w, tmp_path)
    # streams(8) makes 8 workers; the home worker is round robin over the expansion order
    assert [t[5] for t in tasks] == [i % 8 for i in range(len(tasks))]


def test_pipe_expands_item_by_item(tmp_path) -> None:
    """Spec §8.3's megakernel pipeline (loader, computer, storer over shared staging buffers):
    the expander runs the three stages as coroutines and each channel holds one item, so the
    list is load 0, compute 0, store 0, load 1, ... -- cpu_sim's tasks, in the order of the
    sequential program."""
    from pto_wsp import Channel, consume, send

    n = 4
    inp = Tensor(np.zeros((n, 4, 8), np.float32))
    tile_buf = Tensor(np.zeros((4, 8), np.float32))
    result_buf = Tensor(np.zeros((4, 8), np.float32))
    output = Tensor(np.zeros((n, 4, 8), np.float32))
    l2c, c2s = Channel("l2c", depth=2), Channel("c2s", depth=2)

    @workload
    def pipeline():
        with P.pipe(depth=2):
            for i in P.seq(DenseDyn(n)):
                send(l2c, copy_k[i](x=inp[i], y=tile_buf))
            with consume(l2c) as t:
                send(c2s, copy2_k[t](x=tile_buf, y=result_buf))
            with consume(c2s) as r:
                attn_kernel[r](Q=result_buf, K=result_buf, V=result_buf, O=output[r])

    w = pipeline().dispatch(DispatchPolicy.round_robin(1))
    tree = emitted(w)
    syntax_check(tree)
    assert "static PtoProc pto_proc_0(" in (tree / "aicpu" / "expander.cpp").read_text()
    tasks = expand_on_host(w, tmp_path)
    reference = cpu_sim_tasks(with_full_trace(w))
    assert sorted(t[:5] for t in tasks) == sorted(t[:5] for t in reference)
    assert [t[0] for t in tasks] == [0, 1, 2] * n
    assert [t[1] for t in tasks] == [i for i in range(n) for _ in range(3)]


def test_csp_forms_without_a_device_form_are_named(monkeypatch, tmp_path) -> None:
    from pto_wsp import Channel, Event, connect, consume, process, query, send

    X = Tensor(np.zeros((4, 8), np.float32))
    Y = Tensor(np.zeros((4, 8), np.float32))
    ch = Channel("ch", depth=1)
    flag = Event("flag")

    def nonblocking():
        send(ch, copy_k[0](x=X, y=Y), block=False)  # NONBLOCKING-HERE

    def drain():
        with consume(ch) as t:
            copy_k[t](x=X, y=Y)

    w = connect(
        [process("p").produces(ch).body(nonblocking), process("c").consumes(ch).body(drain)], [ch]
    )
    with pytest.raises(
        CompileError, match=r"send\(\.\.\., block=False\) on channel ch has no ascend_npu form"
    ) as err:
        w.compile(target="ascend_npu")
    assert err.value.loc is not None and err.value.loc.text.endswith("# NONBLOCKING-HERE")

    def polling():
        with P.when(query(flag)):
            copy_k[0](x=X, y=Y)

    w = connect([process("poll").body(polling)], [])
    with pytest.raises(CompileError, match="CSP event query in .* depends on simulated time"):
        w.compile(target="ascend_npu")


def test_expander_names_a_deadlock(tmp_path) -> None:
    """Two processes that each wait for the other's item block for ever: the expansion fails
    naming each process and the channel it waits on (cpu_sim raises DeadlockError)."""
    from pto_wsp import Channel, connect, consume, process, send

    X = Tensor(np.zeros((4, 8), np.float32))
    Y = Tensor(np.zeros((4, 8), np.float32))
    a, b = Channel("a", depth=1), Channel("b", depth=1)

    def ping():
        with consume(a) as t:
            send(b, copy_k[t](x=X, y=Y))

    def pong():
        with consume(b) as t:
            send(a, copy2_k[t](x=X, y=Y))

    w = connect(
        [
            process("ping").consumes(a).produces(b).body(ping),
            process("pong").consumes(b).produces(a).body(pong),
        ],
        [a, b],
    )
    exe = build_harness(emitted(w), tmp_path / "exe")
    data = tmp_path / "inputs"
    data.mkdir()
    _, tensors = lower_with_bindings(w)
    for i, t in enumerate(tensors):
        (data / f"tensor_{i}.bin").write_bytes(np.ascontiguousarray(t.data).tobytes())
    (data / "symbols.txt").write_text("")
    (data / "params.txt").write_text("")
    res = subprocess.run([str(exe), str(data)], capture_output=True, text=True, check=False)
    assert res.returncode == 1
    assert "CSP deadlock in the expander (connect" in res.stderr, res.stderr
    assert "ping waits to take from a (empty); pong waits to take from b (empty);" in res.stderr


def test_pools_place_tasks_within_their_pool(tmp_path) -> None:
    tasks = expand_on_host(pooled(), tmp_path)
    workers = {k: sorted({t[5] for t in tasks if t[0] == k}) for k in (0, 1, 2)}
    assert workers[0] == [0, 1]  # copy_k: pool 0 = workers 0..1, round robin within it
    assert workers[1] == [2, 3, 4]  # copy2_k: pool 1 = workers 2..4
    assert [t[5] for t in tasks if t[0] == 2] == [(3 * i + 2) % 6 for i in range(6)]
    plan = (emitted(pooled()) / "plan" / "plan.h").read_text()
    assert "static const PtoPlanPool kPtoPlanPools[] = {\n    {0, 2},\n    {2, 3}," in plan


def test_mesh_plan_window_and_trace_policy() -> None:
    tree = emitted(mesh())
    syntax_check(tree)
    plan = (tree / "plan" / "plan.h").read_text()
    for line in (
        "#define PTO_PLAN_NUM_WORKERS 6",
        "#define PTO_PLAN_BLOCK_DIM 6",
        "#define PTO_PLAN_WINDOW 3",
        "#define PTO_PLAN_TRACE 0",
    ):
        assert line + "\n" in plan
    assert '"[2, 3]",\n    "preserved: block dim = rows*cols' in plan
    host = (tree / "host" / "main.cpp").read_text()
    assert "aclrtSynchronizeEvent(done[(i - window) % ring])" in host
    assert 'fopen((out_dir + "/trace.txt").c_str(), "w")' in host


@pytest.mark.skipif(CMAKE is None, reason="cmake is needed to configure the emitted build files")
def test_build_files_configure_against_the_stub_cann(tmp_path) -> None:
    tree = emitted(pooled())
    build = tmp_path / "build"
    res = subprocess.run(
        [CMAKE, "-S", str(tree), "-B", str(build), f"-DASCEND_CANN_PACKAGE_PATH={STUBS}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    # the host-side targets build with the system compiler; the harness expands the tasks
    res = subprocess.run(
        [CMAKE, "--build", str(build), "--target", "pto_expand_on_host"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (build / "pto_expand_on_host").is_file()


@pytest.mark.skipif(CMAKE is None, reason="cmake is needed to configure the emitted build files")
def test_stub_ascendc_module_checks_its_arguments(tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(p LANGUAGES NONE)\n"
        "include(${ASCEND_CANN_PACKAGE_PATH}/compiler/tikcpp/ascendc_kernel_cmake/ascendc.cmake)\n"
        "ascendc_library(k SHARED aicore/missing.cpp)\n"
    )
    res = subprocess.run(
        [CMAKE, "-S", str(src), "-B", str(tmp_path / "b"), f"-DASCEND_CANN_PACKAGE_PATH={STUBS}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode != 0
    assert "kernel source aicore/missing.cpp does not exist" in res.stderr


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
    assert program.runner is None and program.codegen_artifact_dir is not None
    with pytest.raises(CompileError, match="CANN") as err:
        program.execute()  # EXECUTE-HERE
    msg = err.value.message
    assert msg.startswith("target 'ascend_npu' is emit-only in this environment")
    assert f"CMakeLists.txt in {program.codegen_artifact_dir})" in msg
    assert err.value.loc is not None and err.value.loc.file == __file__
    assert err.value.loc.text.endswith("# EXECUTE-HERE")


def test_kernel_compile_code_contains_ops() -> None:
    compiled = rmsnorm_k.compile(target="ascend_npu")
    assert "pto::TRSQRT(" in compiled.code and "pto::TROWSUM(" in compiled.code
    cpu = rmsnorm_k.compile(target="cpu_sim")
    assert "pto_rsqrt(" in cpu.code and "pto_rowmean(" in cpu.code


def test_channel_action_outside_a_process_is_rejected_by_name() -> None:
    from pto_wsp._core import ir

    m = ir.Module("csp")
    ch = m.add_channel("c", 1)
    m.set_workload(ir.Node.close(ch))
    with pytest.raises(
        CompileError, match="close on channel c outside a pipeline process is not supported"
    ):
        emit_tree(m)
