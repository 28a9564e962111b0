"""Dependency modes, exact strided regions and the mesh (docs/semantics.md: "Regions",
"Dependency tracking", "Spatial map").

The first half drives the simulator directly (``_core.sim.Simulator``): strided regions compared
exactly, the 2-D region map, hop delays of RAW across tiles and of sharded inputs. The second half
goes through the DSL and cpu_sim code generation. Every expected cycle is derived by hand in the
comments. Empty-body kernels cost load (elements of each In view) + store (elements of each Out
view): a 256 x 8 column tile copied to another costs 2048 + 2048 = 4096 cycles.
"""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp import (
    Deps,
    DispatchPolicy,
    In,
    Out,
    P,
    ScheduleError,
    Tensor,
    TensorLayout,
    TensorReplicate,
    TensorShard,
    _core,
    kernel,
    workload,
)
from pto_wsp.language.policy_kinds import DispatchKind, ReadyKind, TimingKind

F32 = np.float32
Sim = _core.sim.Simulator
T = 8  # column tile width
TILE = 4096  # copy of a 256 x 8 tile to a 256 x 8 tile


def starts(sim: Sim) -> list[int]:
    return np.sort(sim.trace, order="task")["start"].tolist()


def cols(sim: Sim, tensor: int, c0: int, c1: int, write: bool, rows: int = 256, row0: int = 0):
    """Declares columns [c0, c1) of rows [row0, row0 + rows) of a 64-column matrix."""
    sim.access_strided(tensor, row0 * 64 + c0, c1 - c0, 64, rows, write)


# ---- strided regions in the simulator ------------------------------------------------------------


def test_column_tiles_are_one_strided_region_each() -> None:
    sim = Sim(workers=4)
    cols(sim, 0, 0, 8, True)
    sim.submit(0, 100)
    cols(sim, 0, 8, 16, True)
    sim.submit(0, 100)  # disjoint columns: runs beside the first
    assert sim.region_pitch(0) == 64  # the tensor is now a 2-D map of 64-element rows
    cols(sim, 0, 4, 12, False)
    sim.submit(0, 10)  # reads columns of both tiles: waits for both (RAW)
    cols(sim, 0, 16, 24, False)
    sim.submit(0, 10)  # columns nobody wrote
    assert starts(sim) == [0, 0, 100, 0]


def test_halo_read_waits_for_exactly_the_writers_it_overlaps() -> None:
    sim = Sim(workers=8)
    for k, cycles in enumerate((10, 20, 30, 40)):  # tile k = columns [16k, 16k + 16)
        cols(sim, 0, 16 * k, 16 * k + 16, True)
        sim.submit(0, cycles)
    cols(sim, 0, 15, 33, False)  # tile 1 with a one-column halo: tiles 0, 1, 2 (ends 10, 20, 30)
    sim.submit(1, 5)
    cols(sim, 0, 47, 64, False)  # tile 3 and the last column of tile 2 (ends 30, 40)
    sim.submit(1, 5)
    assert starts(sim) == [0, 0, 0, 0, 30, 40]


def test_ranges_and_boxes_compare_exactly() -> None:
    sim = Sim(workers=8)
    sim.access(0, 0, 128 * 64, True)  # rows 0..127, before the tensor is seen through a stride
    sim.submit(0, 50)
    cols(sim, 0, 0, 8, False, rows=128, row0=128)  # rows 128..255 of tile 0: untouched by it
    sim.submit(0, 5)
    cols(sim, 0, 0, 8, False, rows=2, row0=127)  # rows 127..128: overlaps the row write
    sim.submit(0, 5)
    cols(sim, 0, 8, 16, True, rows=128, row0=128)  # tile 1, lower half: WAR with no one
    sim.submit(0, 7)
    sim.access(0, 200 * 64 + 4, 200 * 64 + 6, False)  # inside row 200, columns 4..5 (tile 0)
    sim.submit(0, 1)
    sim.access(0, 200 * 64 + 10, 200 * 64 + 12, False)  # columns 10..11: tile 1's write
    sim.submit(0, 1)
    # Rows 128..255 whole: after every read and write there (WAR / WAW), the latest being the
    # read of rows 127..128, [50, 55).
    sim.access(0, 128 * 64, 256 * 64, True)
    sim.submit(0, 1)
    assert starts(sim) == [0, 0, 50, 0, 0, 7, 55]


def test_other_strides_are_compared_run_by_run() -> None:
    sim = Sim(workers=8)
    cols(sim, 0, 0, 8, True, rows=4)  # pitch 64 from here on
    sim.submit(0, 10)
    sim.access_strided(0, 0, 8, 128, 8, True)  # rows 0, 2, 4, ..., 14, columns 0..7
    sim.submit(0, 20)  # overlaps rows 0 and 2: WAW after the first
    sim.access_strided(0, 5 * 64, 8, 128, 4, False)  # rows 5, 7, 9, 11: nobody wrote them
    sim.submit(0, 1)
    sim.access(0, 6 * 64 + 7, 6 * 64 + 8, False)  # row 6, column 7: the second write
    sim.submit(0, 1)
    assert starts(sim) == [0, 10, 0, 30]


def test_degenerate_strided_regions_normalise() -> None:
    sim = Sim(workers=4)
    sim.access_strided(0, 0, 8, 8, 4, True)  # runs that touch: the range [0, 32)
    sim.submit(0, 10)
    assert sim.region_pitch(0) == 0  # still a 1-D map
    sim.access_strided(0, 31, 1, -5, 1, False)  # one run (the stride does not matter)
    sim.submit(0, 1)
    sim.access_strided(0, 0, 8, 16, 0, True)  # zero runs touch nothing
    sim.submit(0, 1)
    assert starts(sim) == [0, 10, 0]
    with pytest.raises(ValueError, match="run_len and count"):
        sim.access_strided(0, 0, -1, 4, 2, False)


def test_buffered_tasks_on_disjoint_column_tiles_stay_in_their_batch() -> None:
    sim = Sim(workers=4, timing=TimingKind.BATCHED, timing_param=2)
    cols(sim, 0, 0, 8, True)
    assert sim.submit(0, 10) == _core.sim.PENDING
    cols(sim, 0, 8, 16, True)  # disjoint from the buffered task: the batch is not flushed
    assert sim.submit(0, 10) == 10
    cols(sim, 0, 12, 20, True)  # overlaps nothing buffered (the batch was issued)
    assert sim.submit(0, 10) == _core.sim.PENDING
    cols(sim, 0, 19, 20, False)  # overlaps the buffered write: flushes it first
    sim.submit(0, 1)
    sim.finish()
    assert starts(sim) == [0, 0, 10, 20]


# ---- the mesh in the simulator ---------------------------------------------------------------------


def test_raw_across_tiles_costs_hops() -> None:
    # 2 x 2 mesh: worker 0 (0,0), 1 (0,1), 2 (1,0), 3 (1,1). Worker 0 writes; the readers wait
    # for the write's end (100) plus 16 cycles per hop of Manhattan distance.
    sim = Sim(workers=4, dispatch=DispatchKind.AFFINITY, mesh_cols=2, hop=16.0)
    sim.access(0, 0, 100, True)
    sim.submit(0, 100, dispatch_key=0)
    for w in (3, 1, 2, 0):
        sim.access(0, 0, 100, False)
        sim.submit(1, 10, dispatch_key=w)
    assert starts(sim) == [0, 132, 116, 116, 100]
    # Without a mesh (or with hop 0) data movement is free.
    for kwargs in ({"mesh_cols": 0}, {"mesh_cols": 2, "hop": 0.0}):
        flat = Sim(workers=4, dispatch=DispatchKind.AFFINITY, **kwargs)
        flat.access(0, 0, 100, True)
        flat.submit(0, 100, dispatch_key=0)
        flat.access(0, 0, 100, False)
        flat.submit(1, 10, dispatch_key=3)
        assert starts(flat) == [0, 100]


def test_work_steal_prefers_the_tile_the_data_is_on() -> None:
    sim = Sim(workers=4, dispatch=DispatchKind.WORK_STEAL, mesh_cols=2, hop=16.0)
    sim.access(0, 0, 100, True)
    sim.submit(0, 100)  # home worker 0, ends 100
    sim.access(0, 0, 100, False)
    sim.submit(1, 10)  # home worker 1 (ready 116); worker 0 is free at 100 and holds the data
    rec = np.sort(sim.trace, order="task")
    assert rec["worker"].tolist() == [0, 0] and rec["start"].tolist() == [0, 100]


def test_sharded_input_blocks_live_on_their_tiles() -> None:
    # An 8 x 8 tensor, dimension 0 sharded over the mesh rows, dimension 1 over the columns of a
    # 2 x 2 mesh: block (k0, k1) = rows [4k0, 4k0 + 4) x columns [4k1, 4k1 + 4) lives on the tile
    # at (k0, k1) alone.
    sim = Sim(workers=4, dispatch=DispatchKind.AFFINITY, mesh_cols=2, hop=16.0)
    sim.tensor_home(1, [8, 8], [8, 1], [0, 1], [2, 2])
    # A second tensor: dimension 0 sharded over the mesh columns, dimension 1 replicated.
    sim.tensor_home(2, [8, 8], [8, 1], [1, -1], [2, 1])
    block11 = (4 * 8 + 4, 4, 8, 4)  # rows 4..7, columns 4..7
    for w in (0, 3):
        sim.access_strided(1, *block11, False)
        sim.submit(0, 1, dispatch_key=w)
    sim.access(1, 0, 64, False)  # the whole tensor from worker 1 at (0,1): one hop per axis
    sim.submit(0, 1, dispatch_key=1)
    sim.access(2, 4 * 8, 8 * 8, False)  # rows 4..7 of tensor 2: mesh column 1, any row
    sim.submit(0, 1, dispatch_key=2)  # worker 2 at (1,0): one hop
    sim.access(2, 4 * 8, 8 * 8, False)
    sim.submit(0, 1, dispatch_key=3)  # worker 3 at (1,1): local, so when worker 3 is free (1)
    assert starts(sim) == [32, 0, 32, 16, 1]


def test_written_data_lives_where_it_was_written() -> None:
    sim = Sim(workers=4, dispatch=DispatchKind.AFFINITY, mesh_cols=2, hop=16.0)
    sim.tensor_home(1, [8, 8], [8, 1], [0, 1], [2, 2])
    sim.access(1, 0, 8, True)  # row 0 (home tile (0,0)) rewritten on worker 3 at (1,1)
    sim.submit(0, 100, dispatch_key=3)
    sim.access(1, 0, 8, False)  # read on worker 0: from worker 3 (2 hops), not from home
    sim.submit(0, 1, dispatch_key=0)
    sim.access(1, 0, 16, False)  # rows 0..1: row 1 is still at home (local to worker 0)
    sim.submit(0, 1, dispatch_key=0)
    assert starts(sim) == [0, 132, 133]


def test_mesh_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="multiple of mesh_cols"):
        Sim(workers=6, mesh_cols=4)
    with pytest.raises(ValueError, match="hop"):
        Sim(workers=4, mesh_cols=2, hop=-1.0)
    sim = Sim(workers=4, mesh_cols=2)
    with pytest.raises(ValueError, match="one entry per dimension"):
        sim.tensor_home(0, [8, 8], [8], [0, 1], [2, 2])


# ---- Deps modes through the DSL --------------------------------------------------------------------


@kernel
def fill(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def use(x: In[Tensor], y: Out[Tensor]): ...


def run(w):
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def by_task(program) -> np.ndarray:
    return np.sort(program.trace, order="task")


def matrices(n: int, width: int = 64) -> list[Tensor]:
    return [Tensor(np.zeros((256, width), F32)) for _ in range(n)]


def test_deps_modes_lower_to_ir_kinds() -> None:
    from pto_wsp.compiler.lowering import lower
    from pto_wsp.language.policy_kinds import DepsKind

    X, Y = matrices(2)

    @workload
    def w():
        for j in P(8):
            fill[j](x=X[:, j * T : (j + 1) * T], y=Y[:, j * T : (j + 1) * T])

    assert lower(w()).schedule.deps is None  # default: infer
    for deps, ir in (
        (Deps.infer(), DepsKind.INFER),
        (Deps.infer("exact"), DepsKind.INFER),
        (Deps.infer("bounding"), DepsKind.INFER_BOUNDING),
        (Deps.explicit(), DepsKind.EXPLICIT),
    ):
        assert lower(w().task_graph(deps=deps)).schedule.deps is ir
    assert Deps.infer("bounding") == Deps.infer("bounding") != Deps.infer()
    assert not Deps.explicit().tracks_regions and Deps.infer("bounding").tracks_regions
    with pytest.raises(ScheduleError, match="'exact', 'bounding'") as info:
        Deps.infer("approximate")
    assert __file__ in str(info.value)


def _column_tiles():
    X, Y, Z = matrices(3)

    @workload
    def tiles():
        for j in P(8):  # writes of disjoint column tiles of a 256 x 64 matrix
            fill[j](x=X[:, j * T : (j + 1) * T], y=Y[:, j * T : (j + 1) * T])
        for j in P(8):  # Y has two access sites: tracked at run time
            use[j](x=Y[:, j * T : (j + 1) * T], y=Z[:, j * T : (j + 1) * T])

    return tiles().dispatch(DispatchPolicy.round_robin(4))  # parallel tiles need workers


def test_column_tiles_run_in_parallel_under_infer_and_serialise_under_bounding() -> None:
    # 4 workers. infer: the 8 writes are independent (2 waves of 4); use[j] reads tile j after
    # fill[j], on the same worker. bounding: tile j's bounding range [8j, 255*64 + 8j + 8) overlaps
    # every other tile's, so the writes serialise (WAW) and the reads follow the last write.
    infer = by_task(run(_column_tiles()))
    assert infer["start"].tolist() == [0] * 4 + [TILE] * 4 + [2 * TILE] * 4 + [3 * TILE] * 4
    assert by_task(run(_column_tiles().task_graph(deps=Deps.infer())))["start"].tolist() == (
        infer["start"].tolist()
    )
    bounding = by_task(run(_column_tiles().task_graph(deps=Deps.infer("bounding"))))
    assert bounding["start"].tolist()[:8] == [k * TILE for k in range(8)]
    assert bounding["start"].tolist()[8:] == [8 * TILE] * 4 + [9 * TILE] * 4


def test_halo_reads_wait_for_exactly_the_writers_they_overlap() -> None:
    X, Y, Z = matrices(3)

    @workload
    def halo():
        for j in P(8):  # 16 workers: all 8 tiles written at once, ending at 4096
            fill[j](x=X[:, j * T : (j + 1) * T], y=Y[:, j * T : (j + 1) * T])
        for j in P(4):  # tiles 4..7 written again: ending at 8192 (WAW)
            fill[j](x=X[:, (j + 4) * T : (j + 5) * T], y=Y[:, (j + 4) * T : (j + 5) * T])
        for j in P(6):  # interior tile j + 1 with a one-column halo: tiles j, j + 1, j + 2
            use[j](x=Y[:, (j + 1) * T - 1 : (j + 2) * T + 1], y=Z[:, (j + 1) * T : (j + 2) * T])

    w = halo().dispatch(DispatchPolicy.round_robin(16))
    rec = by_task(run(w))
    # Readers (tasks 12..17, workers 12..15, 0, 1): j = 0, 1 read tiles 0..3 only -> 4096;
    # j = 2..5 reach tile 4 or beyond -> 8192.
    assert rec["start"].tolist()[12:] == [TILE, TILE] + [2 * TILE] * 4
    # Bounding: every tile write's bounding range overlaps every other (rows 0..255 span all
    # columns), so the 12 writes serialise, and every halo read waits for the last one.
    rec = by_task(run(w.task_graph(deps=Deps.infer("bounding"))))
    assert rec["start"].tolist() == [k * TILE for k in range(12)] + [12 * TILE] * 6


def _same_output(seq: bool):
    X, Y = matrices(2)

    @workload
    def clash():
        for i in P.seq(2) if seq else P(2):  # both tasks write all of Y
            fill[i](x=X[:, 0:T], y=Y[:, 0:T])

    return clash().dispatch(DispatchPolicy.round_robin(4))  # a worker each: free to overlap


def test_explicit_lets_conflicting_tasks_overlap_unless_the_structure_orders_them() -> None:
    assert by_task(run(_same_output(False)))["start"].tolist() == [0, TILE]  # WAW
    explicit = by_task(run(_same_output(False).task_graph(deps=Deps.explicit())))
    assert explicit["start"].tolist() == [0, 0]  # trusted: they overlap in time
    assert explicit["worker"].tolist() == [0, 1]
    ordered = by_task(run(_same_output(True).task_graph(deps=Deps.explicit())))
    assert ordered["start"].tolist() == [0, TILE]  # P.seq still orders them


def test_explicit_declares_no_regions() -> None:
    from pto_wsp.backends.cpu_sim import emit_sources
    from pto_wsp.compiler.lowering import lower_with_bindings

    module, tensors = lower_with_bindings(_column_tiles().task_graph(deps=Deps.explicit()))
    src = emit_sources(module, tensors)
    assert src["tracked_tensors"] == []
    driver = dict(src["files"])[src["main_file"]]
    assert "pto_abi_access" not in driver
    module, tensors = lower_with_bindings(_column_tiles().task_graph(deps=Deps.infer("bounding")))
    driver = dict(emit_sources(module, tensors)["files"])["driver.cpp"]
    assert "pto_abi_access_bounding" in driver and "pto_abi_access_view" not in driver


# ---- the mesh through the DSL --------------------------------------------------------------------


def _reversed_reads():
    X, Y, Z = matrices(3, width=32)

    @workload
    def rev():
        for j in P(4):  # task j on worker j writes tile j
            fill[j](x=X[:, j * T : (j + 1) * T], y=Y[:, j * T : (j + 1) * T])
        for j in P(4):  # task 4 + j on worker j reads tile 3 - j, written by worker 3 - j
            use[j](x=Y[:, (3 - j) * T : (4 - j) * T], y=Z[:, j * T : (j + 1) * T])

    return rev()


def test_spatial_map_raw_across_tiles_costs_hops() -> None:
    # Without a mesh (the same 4 workers) the readers start when the writes end (4096).
    no_mesh = _reversed_reads().dispatch(DispatchPolicy.round_robin(4))
    assert by_task(run(no_mesh))["start"].tolist()[4:] == [TILE] * 4
    # grid (4,): worker j at (0, j); reader j is |j - (3 - j)| = 3, 1, 1, 3 hops from its data.
    program = run(_reversed_reads().spatial_map(grid=(4,)))
    rec = by_task(program)
    assert rec["worker"].tolist() == [0, 1, 2, 3] * 2
    assert rec["start"].tolist()[4:] == [TILE + 48, TILE + 16, TILE + 16, TILE + 48]
    # A new hop rate is a run-time input: no rebuild, new delays.
    library = program.runner.library
    program.runner.set_cost_table({"hop": 10.0})
    program.execute()
    program.synchronize()
    assert program.runner.library is library
    assert by_task(program)["start"].tolist()[4:] == [TILE + 30, TILE + 10, TILE + 10, TILE + 30]
    # grid (2, 2): worker j at (j // 2, j % 2); j and 3 - j are always 2 hops apart.
    rec = by_task(run(_reversed_reads().spatial_map(grid=(2, 2))))
    assert rec["start"].tolist()[4:] == [TILE + 32] * 4


def _transposed_blocks(layout: TensorLayout):
    A = Tensor(np.zeros((64, 64), F32), name="A", layout=layout)
    B = Tensor(np.zeros((64, 64), F32), name="B")

    @workload
    def transpose():
        for i, j in P(2, 2):  # task 2i + j (worker 2i + j) reads block (j, i) of A
            use[i, j](
                x=A[j * 32 : (j + 1) * 32, i * 32 : (i + 1) * 32],
                y=B[i * 32 : (i + 1) * 32, j * 32 : (j + 1) * 32],
            )

    return transpose()


def test_spatial_map_sharded_inputs_are_read_from_their_home_tiles() -> None:
    both = TensorLayout((TensorShard(0), TensorShard(1)))
    # No mesh (the same 4 workers): no data movement.
    no_mesh = _transposed_blocks(both).dispatch(DispatchPolicy.round_robin(4))
    assert by_task(run(no_mesh))["start"].tolist() == [0, 0, 0, 0]
    # Block (j, i) of 32 x 32 lives on tile (j, i); task (i, j) runs on tile (i, j): the off-diagonal
    # tasks are |i - j| + |j - i| = 2 hops away.
    rec = by_task(run(_transposed_blocks(both).spatial_map(grid=(2, 2))))
    assert rec["start"].tolist() == [0, 32, 32, 0]
    # Rows sharded over mesh axis 1 (the columns), columns replicated: block j of rows lives on
    # mesh column j, in every row; task (i, j) sits in column j, so it is |j - j| = 0 hops away.
    rows_on_cols = TensorLayout((TensorShard(1), TensorReplicate()))
    rec = by_task(run(_transposed_blocks(rows_on_cols).spatial_map(grid=(2, 2))))
    assert rec["start"].tolist() == [0, 0, 0, 0]
    # Rows sharded over mesh axis 0: block j of rows lives on mesh row j; task (i, j) sits in
    # row i: |i - j| hops.
    rows_on_rows = TensorLayout((TensorShard(0), TensorReplicate()))
    rec = by_task(run(_transposed_blocks(rows_on_rows).spatial_map(grid=(2, 2))))
    assert rec["start"].tolist() == [0, 16, 16, 0]


def test_spatial_map_worker_count_must_match_the_grid() -> None:
    w = _reversed_reads()
    program = run(w.spatial_map(grid=(2, 3)))
    assert program.module.schedule.workers == program.runner.config.workers == 6
    assert program.runner.config.mesh_cols == 3
    with pytest.raises(ScheduleError, match=r"dispatch asks for 8 workers.*grid=\(2, 2\).*4 tiles"):
        w.dispatch(DispatchPolicy.round_robin(8)).spatial_map(grid=(2, 2)).compile("cpu_sim")
    with pytest.raises(ScheduleError, match=r"streams asks for 3 workers.*4 tiles"):
        w.streams(3).spatial_map(grid=(4,)).compile("cpu_sim")
    assert run(w.dispatch(DispatchPolicy.round_robin(4)).spatial_map(grid=(4,))).stats.task_count


def test_work_steal_under_a_ready_policy_takes_the_task_whose_data_is_here() -> None:
    # 1-D mesh of 4 tiles. Writer j writes block j on worker j (fifo: worker k takes the k-th
    # queued task at cycle 0), ending at 100. Reader j reads block 3 - j. All readers are ready at
    # 100, but on worker k only the reader of block k has its data there at 100 (the others wait
    # 16 cycles per hop): each worker takes the reader of its own block, and all start at 100.
    sim = Sim(
        workers=4, dispatch=DispatchKind.WORK_STEAL, mesh_cols=4, hop=16.0, ready=ReadyKind.FIFO
    )
    for j in range(4):
        sim.access(0, j * 100, (j + 1) * 100, True)
        sim.submit(0, 100)
    for j in range(4):
        sim.access(0, (3 - j) * 100, (4 - j) * 100, False)
        sim.submit(1, 10)
    sim.finish()
    rec = np.sort(sim.trace, order="task")
    assert rec["worker"].tolist() == [0, 1, 2, 3, 3, 2, 1, 0]
    assert rec["start"].tolist() == [0, 0, 0, 0, 100, 100, 100, 100]
