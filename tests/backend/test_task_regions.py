"""Task regions and dependencies recomputed from the IR (``pto_wsp.runtime.task_regions``, from
the call sites of ``pto_wsp.runtime.task_sites``).

Each workload runs through cpu_sim; every expected region, predecessor and successor is derived
by hand in the comments from the DSL text (tasks are numbered by submission index, in program
order). Two workloads (two C++ builds): a P grid with rows written and read, a strided view
(interleaved columns) and the cases the trace cannot answer; and a tiled matmul with a ``P.seq``
reduction into an ``InOut`` tile.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pto_wsp import In, InOut, Out, P, Tensor, kernel, sequential, workload
from pto_wsp.runtime import task_regions
from pto_wsp.runtime.task_regions import DimRange, TaskRegions
from pto_wsp.runtime.task_sites import TaskSites, load_sites, write_sites

F32 = np.float32


@kernel
def fill(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def use(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def put(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def take(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def take_odd(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def half(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def mm(a: In[Tensor], b: In[Tensor], c: InOut[Tensor]): ...


def _run(w):
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def _row(trace: np.ndarray, task: int) -> int:
    return int(np.flatnonzero(trace["task"] == task)[0])


def _links(tr: TaskRegions, trace: np.ndarray, task: int):
    got = tr.links(_row(trace, task))
    preds = sorted((lk.task, lk.kind, lk.tensor) for lk in got.preds)
    succs = sorted((lk.task, lk.kind, lk.tensor) for lk in got.succs)
    return preds, succs, got.notes


@pytest.fixture(scope="module")
def grid_run():
    X = Tensor(np.zeros((8, 64), F32), name="X")
    Y = Tensor(np.zeros((8, 64), F32), name="Y")
    Z = Tensor(np.zeros((8, 64), F32), name="Z")
    S = Tensor(np.zeros((8, 64), F32), name="S")
    R = Tensor(np.zeros((8, 8), F32), name="R")
    Q = Tensor(np.zeros((4, 64), F32), name="Q")

    @workload
    def grid():
        for i in P(8):  # tasks 0..7: fill[i] writes row i of Y
            fill[i](x=X[i], y=Y[i])
        for i in P(8):  # tasks 8..15: use[i] reads row i of Y
            use[i](x=Y[i], y=Z[i])
        for j in P(4):  # tasks 16..19: put[j] writes columns j, j + 4, ... of S
            put[j](x=X[:, j:64:4], y=S[:, j:64:4])
        take[0](x=S[:, 0:8], y=R)  # task 20: columns 0..7 -> every put
        take_odd[1](x=S[:, 1:63:2], y=R)  # task 21: odd columns 1..61 -> put 1 and put 3 (WAW on R)
        for i, j in P(4, 2):  # tasks 22..29: half[i] names only i; its view uses j
            half[i](x=X[i, j * 32 : (j + 1) * 32], y=Q[i, j * 32 : (j + 1) * 32])

    program = _run(grid())
    trace = np.asarray(program.trace)
    return program, trace, TaskRegions(TaskSites.of_module(program.module), trace)


def test_rows_of_a_p_grid(grid_run) -> None:
    _, trace, tr = grid_run
    ans = tr.regions(_row(trace, 3))  # fill[3]: reads X[3], writes Y[3]
    assert [(r.tensor, r.access, r.text()) for r in ans.regions] == [
        ("X", "read", "X[3, 0:64]"),
        ("Y", "write", "Y[3, 0:64]"),
    ]
    assert ans.regions[1].dims == (DimRange(3, 4, 1, True), DimRange(0, 64, 1, False))
    assert ans.regions[1].size == 64
    assert ans.notes == []
    # use[3] (task 11) reads the row fill[3] wrote: RAW both ways; nothing else touches row 3.
    preds, succs, notes = _links(tr, trace, 11)
    assert preds == [(3, "RAW", "Y")] and succs == [] and notes == []
    preds, succs, _ = _links(tr, trace, 3)
    assert preds == [] and succs == [(11, "RAW", "Y")]


def test_strided_views_compare_exactly(grid_run) -> None:
    _, trace, tr = grid_run
    ans = tr.regions(_row(trace, 17))  # put[1]: S[0:8, 1:64:4]
    assert [r.text() for r in ans.regions] == ["X[0:8, 1:62:4]", "S[0:8, 1:62:4]"]
    assert ans.regions[1].size == 8 * 16
    # take[0] reads columns 0..7: j and j + 4 of every put -> all four are its last writers.
    preds, _, _ = _links(tr, trace, 20)
    assert preds == [(16, "RAW", "S"), (17, "RAW", "S"), (18, "RAW", "S"), (19, "RAW", "S")]
    # take[1] reads the odd columns: put 1 (1, 5, ...) and put 3 (3, 7, ...), never 0 or 2;
    # it writes all of R, which take[0] wrote just before (WAW).
    preds, succs, _ = _links(tr, trace, 21)
    assert preds == [(17, "RAW", "S"), (19, "RAW", "S"), (20, "WAW", "R")]
    assert succs == []
    # put[2]'s columns (2, 6, ...) are read by take[0] (column 2, 6) only.
    _, succs, _ = _links(tr, trace, 18)
    assert succs == [(20, "RAW", "S")]
    # take[0] read S before nobody wrote it again; its write of R is followed by take[1]'s
    _, succs, _ = _links(tr, trace, 20)
    assert succs == [(21, "WAW", "R")]


def test_painting_task_by_task_gives_the_same_answers(grid_run, monkeypatch) -> None:
    # The fallback for huge overlaps (paint each overlapping task, nearest first) must agree
    # with the expanded one on every task of the run.
    _, trace, tr = grid_run
    expanded = [_links(tr, trace, t)[:2] for t in range(22)]
    monkeypatch.setattr(task_regions, "MAX_EXPANDED", 0)
    assert [_links(tr, trace, t)[:2] for t in range(22)] == expanded
    # With room for one task only, the answer says it is incomplete.
    got = tr.links(_row(trace, 20), limit=1)
    assert [lk.task for lk in got.preds] == [19]
    assert any("more than 1 overlapping tasks" in n for n in got.notes)


def test_what_the_trace_cannot_tell_is_said(grid_run) -> None:
    _, trace, tr = grid_run
    ans = tr.regions(_row(trace, 23))  # half[0] with j = 1: j is not in the k[...] indices
    assert ans.regions == []
    assert len(ans.notes) == 2
    assert all("loop variable j is not among the call's k[...] indices" in n for n in ans.notes)
    _, _, notes = _links(tr, trace, 23)
    assert any("not known" in n for n in notes)


def test_sites_round_trip_through_json(grid_run, tmp_path) -> None:
    program, trace, tr = grid_run
    path = tmp_path / "trace.npy"
    written = write_sites(program.module, path)
    assert written is not None and written.name == "trace.sites.json"
    sites = load_sites(path)
    assert sites is not None
    assert json.loads(written.read_text())["version"] == 1
    again = TaskRegions(sites, trace)
    assert [r.text() for r in again.regions(_row(trace, 21)).regions] == [
        r.text() for r in tr.regions(_row(trace, 21)).regions
    ]


@pytest.fixture(scope="module")
def matmul_run():
    A = Tensor(np.zeros((32, 32), F32), name="A")
    B = Tensor(np.zeros((32, 32), F32), name="B")
    C = Tensor(np.zeros((32, 32), F32), name="C")

    @workload
    def tiled():
        for i, j in P(2, 2):  # task 2 * (2i + j) + k: C[i, j] += A[i, k] @ B[k, j]
            for k in P.seq(2):
                mm[i, j, k](
                    a=A[i * 16 : (i + 1) * 16, k * 16 : (k + 1) * 16],
                    b=B[k * 16 : (k + 1) * 16, j * 16 : (j + 1) * 16],
                    c=C[i * 16 : (i + 1) * 16, j * 16 : (j + 1) * 16],
                )

    program = _run(tiled())
    trace = np.asarray(program.trace)
    return trace, TaskRegions(TaskSites.of_module(program.module), trace)


def test_tiled_matmul_regions_and_its_reduction_chain(matmul_run) -> None:
    trace, tr = matmul_run
    # task 5: i = 1, j = 0, k = 1
    ans = tr.regions(_row(trace, 5))
    assert [(r.param, r.access, r.text()) for r in ans.regions] == [
        ("a", "read", "A[16:32, 16:32]"),
        ("b", "read", "B[16:32, 0:16]"),
        ("c", "readwrite", "C[16:32, 0:16]"),
    ]
    # It reads and writes the C tile task 4 (k = 0) wrote: RAW; and task 4 is step k - 1 of
    # its P.seq loop (same i, j).
    preds, succs, notes = _links(tr, trace, 5)
    assert preds == [(4, "RAW", "C"), (4, "seq", "")]
    assert succs == [] and notes == []
    preds, succs, _ = _links(tr, trace, 4)
    assert preds == []
    assert succs == [(5, "RAW", "C"), (5, "seq", "")]
    # Tiles of other (i, j) never overlap: task 2 (i = 0, j = 1, k = 0) has only task 3 after.
    _, succs, _ = _links(tr, trace, 2)
    assert succs == [(3, "RAW", "C"), (3, "seq", "")]


def test_sequential_children_order_every_task_of_the_previous_child() -> None:
    X = Tensor(np.zeros((4, 16), F32), name="X")
    Y = Tensor(np.zeros((4, 16), F32), name="Y")
    Z = Tensor(np.zeros((4, 16), F32), name="Z")

    @workload
    def first():
        for i in P(4):  # tasks 0..3
            fill[i](x=X[i], y=Y[i])

    @workload
    def second():
        for i in P(4):  # tasks 4..7: no data shared with first's writes (both only read X)
            use[i](x=X[i], y=Z[i])

    program = _run(sequential(first(), second()))
    trace = np.asarray(program.trace)
    tr = TaskRegions(TaskSites.of_module(program.module), trace)
    preds, succs, notes = _links(tr, trace, 5)
    assert preds == [(t, "seq", "") for t in range(4)]
    assert succs == [] and notes == []
    preds, succs, _ = _links(tr, trace, 2)
    assert preds == [] and succs == [(t, "seq", "") for t in range(4, 8)]
