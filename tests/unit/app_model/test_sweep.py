"""Parameter sweeps (``app.model.sweep``, ``python -m app.sweep``): discovery, value lists,
variants and the headless sweep against what each variant's exported script reports."""

from __future__ import annotations

import csv
import io as stdio
import json
import math
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from app import sweep as sweep_cli
from app.model import io
from app.model.commands import AddNode, DocumentEditor
from app.model.document import Document
from app.model.export import export_script
from app.model.sweep import (
    LinkError,
    SweepError,
    ValueListError,
    discover_params,
    find_param,
    format_value,
    make_variant,
    make_variants,
    params_of_node,
    parse_values,
    point_from_result,
    run_sweep,
    set_target,
    values_text,
    write_csv,
)
from app.runner.job import RunJob, RunResult
from pto_wsp.runtime.trace import TRACE_DTYPE
from pto_wsp.runtime.trace_analysis import analyse_trace

ROOT = Path(__file__).resolve().parents[3]
PIPELINE = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"
DISPATCH = "n20"  # megakernel_pipeline: the workload frame whose sheet dispatches round_robin(1)
MATMUL = ROOT / "app" / "projects" / "matmul.pto.json"
TENSOR_PARALLEL = ROOT / "app" / "projects" / "tensor_parallel.pto.json"
TASK_GRAPH = "n19"  # tensor_parallel: its workload frame; task_graph pools partial: 3, finish: 1


@pytest.fixture(scope="module")
def pipeline() -> Document:
    return io.load(PIPELINE)


# ------------------------------------------------------------------------------------------
# discovery


def test_discovery_lists_schedule_data_axis_and_kernel_props(pipeline: Document) -> None:
    params = discover_params(pipeline)
    keys = [p.key for p in params]
    assert len(keys) == len(set(keys))
    by_key = {p.key: p for p in params}
    n = by_key[f"{DISPATCH}.dispatch_n"]
    assert (n.type, n.current, n.label) == ("int", 1, "Workload pipeline · dispatch_n")
    policy = by_key[f"{DISPATCH}.dispatch"]
    assert policy.type == "enum" and "work_steal" in (policy.choices or ())
    assert by_key["n1.shape"].type == "shape" and by_key["n1.shape"].current == [8, 16, 16]
    assert by_key["n5.size"].label == "DenseDyn axis tiles · size"
    assert by_key["n10.cost"].label == "Kernel compute · cost"
    # the program frame's sheet comes first; nothing unsweepable is offered
    assert {p.node_id for p in params[:4]} == {DISPATCH}
    window = by_key[f"{DISPATCH}.task_graph.window"]  # the task graph's fields, one by one
    assert (window.type, window.current) == ("int", 0)
    assert all(p.type not in ("str", "code", "params", "names", "exprlist") for p in params)
    nested = next(p for p in params if p.node_id == "n22")
    assert nested.label.startswith("pipeline › ")


def test_kernel_tile_parameters_are_sweepable() -> None:
    ed = DocumentEditor(Document(name="tiles"))
    params = [{"name": "x", "kind": "tile", "rows": 16, "cols": 32}, {"name": "y"}]
    kern = ed.apply(AddNode("kernel.def", (0.0, 0.0), None, "k", params=params)).node
    tile = find_param(ed.doc, kern.id, "params.x.tile")
    assert (tile.type, tile.current) == ("shape", [16, 32])
    assert not any(p.prop == "params.y.tile" for p in params_of_node(ed.doc, kern))
    variant = make_variant(ed.doc, tile, [8, 8])
    assert variant.ok, variant.error
    assert variant.document is not None
    x = next(p for p in variant.document.node(kern.id).props["params"] if p["name"] == "x")
    assert (x["rows"], x["cols"]) == (8, 8)
    assert "Tile[8, 8," in variant.source


@pytest.fixture(scope="module")
def tensor_parallel() -> Document:
    return io.load(TENSOR_PARALLEL)


def _pools_text(source: str) -> str:
    return next(ln.strip() for ln in source.splitlines() if "Pools.by_kernel" in ln)


def test_task_graph_pools_are_sweepable_per_row(tensor_parallel: Document) -> None:
    by_key = {p.key: p for p in discover_params(tensor_parallel)}
    partial = by_key[f"{TASK_GRAPH}.pools.partial.workers"]
    finish = by_key[f"{TASK_GRAPH}.pools.finish.workers"]
    assert (partial.type, partial.current, partial.label) == (
        "int",
        3,
        "Workload tensor_parallel · pools partial workers",
    )
    assert (finish.current, finish.label) == (1, "Workload tensor_parallel · pools finish workers")
    assert partial.numeric and f"{TASK_GRAPH}.task_graph.pools" not in by_key  # not the table
    assert find_param(tensor_parallel, "tensor_parallel", "pools.finish.workers") == finish

    assert parse_values(partial, "1..3") == [1, 2, 3]
    assert parse_values(partial, "1..8 *2") == [1, 2, 4, 8]
    with pytest.raises(ValueListError, match=r"value 2 \('0'\): expected an integer >= 1, got 0"):
        parse_values(partial, "2, 0")
    with pytest.raises(ValueListError, match=r"value 1 \('0..2'\): .*>= 1, got 0"):
        parse_values(partial, "0..2")
    with pytest.raises(ValueListError, match=r"value 1 \('1.5'\): expected an integer"):
        parse_values(partial, "1.5")
    with pytest.raises(SweepError, match=r"n19 \(Workload\) has no pool for kernel 'x'"):
        find_param(tensor_parallel, TASK_GRAPH, "pools.x.workers")

    variants = make_variants(tensor_parallel, partial.with_values([1, 2]))
    for v in variants:
        assert v.ok, v.error
        assert v.document is not None
        pools = v.document.node(TASK_GRAPH).props["task_graph"]["pools"]
        assert pools == [{"kernel": "partial", "workers": v.value}, {"kernel": "finish", "workers": 1}]  # fmt: skip
        assert _strip(v.document, TASK_GRAPH, "task_graph") == _strip(tensor_parallel, TASK_GRAPH, "task_graph")  # fmt: skip
        assert _pools_text(v.source) == f"pools=Pools.by_kernel({{partial: {v.value}, finish: 1}}),"  # fmt: skip
    assert tensor_parallel.node(TASK_GRAPH).props["task_graph"]["pools"][0] == {"kernel": "partial", "workers": 3}  # fmt: skip
    # a value the pools setter refuses (not parsed: set directly) is reported for that value
    refused = make_variant(tensor_parallel, partial, 0)
    assert (
        refused.error is not None
        and "[0].workers: expected an integer >= 1, got 0" in refused.error
    )
    assert refused.error_node == TASK_GRAPH


def test_pool_workers_link_in_lock_step(tensor_parallel: Document) -> None:
    partial = find_param(tensor_parallel, TASK_GRAPH, "pools.partial.workers")
    finish = find_param(tensor_parallel, TASK_GRAPH, "pools.finish.workers")
    param = partial.with_values([1, 2, 3]).with_links([finish.with_values([3, 2, 1])])
    variants = make_variants(tensor_parallel, param)
    assert [(v.value, v.linked) for v in variants] == [(1, (3,)), (2, (2,)), (3, (1,))]
    for v in variants:
        assert v.ok and v.document is not None, v.error
        rows = v.document.node(TASK_GRAPH).props["task_graph"]["pools"]
        workers = {r["kernel"]: r["workers"] for r in rows}
        assert workers == {"partial": v.value, "finish": 4 - v.value}
        assert _pools_text(v.source) == f"pools=Pools.by_kernel({{partial: {v.value}, finish: {4 - v.value}}}),"  # fmt: skip


def test_find_param_names_what_is_wrong(pipeline: Document) -> None:
    assert find_param(pipeline, "pipeline", "dispatch_n").node_id == DISPATCH  # a unique name
    with pytest.raises(SweepError, match="no node with id or name 'nope'"):
        find_param(pipeline, "nope", "n")
    with pytest.raises(SweepError, match=r"n20 \(Workload\) has no property 'workers'"):
        find_param(pipeline, DISPATCH, "workers")
    with pytest.raises(SweepError, match="property 'path' of n1 .* cannot be swept"):
        find_param(pipeline, "n1", "path")


# ------------------------------------------------------------------------------------------
# value lists


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,2,4,8", [1, 2, 4, 8]),
        (" 1 ; 3 ", [1, 3]),
        ("1..16 step 2", [1, 3, 5, 7, 9, 11, 13, 15]),
        ("1..64 *2", [1, 2, 4, 8, 16, 32, 64]),
        ("1..9 x3", [1, 3, 9]),
        ("8..2 step -3", [8, 5, 2]),
        ("1, 4..6", [1, 4, 5, 6]),
    ],
)
def test_int_value_lists(pipeline: Document, text: str, expected: list[int]) -> None:
    assert parse_values(find_param(pipeline, DISPATCH, "dispatch_n"), text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,x", r"value 3 \('x'\): expected an integer"),
        ("1,,2", r"value 2 \(''\): empty entry"),
        ("1, 2.5", r"value 2 \('2.5'\): expected an integer"),
        ("1, 2, 1", r"value 3 \('1'\): 1 is already listed \(value 1\)"),
        ("1..4 step 0", r"value 1 \('1..4 step 0'\): step must not be 0"),
        ("4..1", r"value 1 \('4..1'\): step 1 never gets from 4 to 1"),
        ("1..100000", r"value 1 .*more than 1000"),
        ("   ", "no values"),
    ],
)
def test_bad_value_lists_name_the_entry(pipeline: Document, text: str, message: str) -> None:
    with pytest.raises(ValueListError, match=message):
        parse_values(find_param(pipeline, DISPATCH, "dispatch_n"), text)


def test_enum_float_shape_and_expr_value_lists(pipeline: Document) -> None:
    policy = find_param(pipeline, DISPATCH, "dispatch")
    assert parse_values(policy, "round_robin, hash") == ["round_robin", "hash"]
    assert parse_values(policy, "Work_Steal") == ["work_steal"]
    assert parse_values(policy, "*") == list(policy.choices or ())
    with pytest.raises(ValueListError, match=r"value 2 \('fifo'\): expected one of .*round_robin"):
        parse_values(policy, "round_robin, fifo")
    shape = find_param(pipeline, "n1", "shape")
    assert parse_values(shape, "8x16x16, [4, 16, 16]; (2,16,16)") == [
        [8, 16, 16],
        [4, 16, 16],
        [2, 16, 16],
    ]
    with pytest.raises(ValueListError, match=r"value 1 \('8xa'\): expected a shape of integers"):
        parse_values(shape, "8xa")
    key = find_param(pipeline, DISPATCH, "dispatch_key")
    assert parse_values(key, 't.get("a", 0), t.get("b")') == ['t.get("a", 0)', 't.get("b")']
    jit = find_param(pipeline, "n10", "jit")
    assert parse_values(jit, "false, true") == [False, True]
    assert parse_values(jit, "*") == [False, True]
    values = [[8, 16, 16], [4, 16, 16]]
    assert parse_values(shape, values_text(values)) == values
    assert format_value(0.5) == "0.5" and format_value([4, 16]) == "4x16"


# ------------------------------------------------------------------------------------------
# variants


def _strip(doc: Document, node_id: str, prop: str) -> object:
    """The project file's data of ``doc`` without ``props[prop]`` of ``node_id``."""
    return _drop(io.to_data(doc), node_id, prop)


def _drop(data: object, node_id: str, prop: str) -> object:
    """``data`` with ``props[prop]`` of node ``node_id`` removed (for an equality check)."""
    if isinstance(data, dict):
        out = {k: _drop(v, node_id, prop) for k, v in data.items()}
        if out.get("id") == node_id and isinstance(out.get("props"), dict):
            out["props"] = {k: v for k, v in out["props"].items() if k != prop}
        return out
    if isinstance(data, list):
        return [_drop(v, node_id, prop) for v in data]
    return data


def test_variants_differ_only_in_the_swept_property(pipeline: Document) -> None:
    param = find_param(pipeline, DISPATCH, "dispatch_n").with_values([1, 2, 4])
    variants = make_variants(pipeline, param)
    assert [v.value for v in variants] == [1, 2, 4]
    base = _strip(pipeline, DISPATCH, "dispatch_n")
    for v in variants:
        assert v.ok and v.document is not None
        assert v.document.node(DISPATCH).props["dispatch_n"] == v.value
        assert _strip(v.document, DISPATCH, "dispatch_n") == base
        assert v.source == export_script(v.document).source
        assert f"DispatchPolicy.round_robin({v.value})" in v.source
    assert pipeline.node(DISPATCH).props["dispatch_n"] == 1  # the original is untouched


def test_refused_values_are_reported_per_variant(pipeline: Document) -> None:
    shape = find_param(pipeline, "n1", "shape").with_values([[8, 16, 16], [0, 16]])
    good, bad = make_variants(pipeline, shape)
    assert good.ok
    assert not bad.ok and bad.document is None
    assert bad.error == "n1.props.shape: expected a non-empty list of positive ints"
    policy = find_param(pipeline, DISPATCH, "dispatch").with_values(["work_steal", "hash"])
    steal, hashed = make_variants(pipeline, policy)
    assert steal.ok
    assert hashed.error is not None and hashed.error.startswith("n20.props.dispatch_key: ")
    assert "needs a key" in hashed.error
    assert hashed.error_node == DISPATCH


def test_set_target_sets_every_program(pipeline: Document) -> None:
    doc = set_target(pipeline, "ascend_npu")
    assert doc.node(DISPATCH).props["target"] == "ascend_npu"
    assert pipeline.node(DISPATCH).props["target"] == "cpu_sim"
    with pytest.raises(SweepError, match="target 'gpu'"):
        set_target(pipeline, "gpu")
    with pytest.raises(SweepError, match="compiles no workload"):
        set_target(Document(name="empty"), "cpu_sim")


# ------------------------------------------------------------------------------------------
# a point's numbers


def _result(trace: np.ndarray, stats: dict, tmp_path: Path) -> RunResult:
    return RunResult(
        ok=True,
        stats={"ok": True, "executed": True, "kernel_names": ["k"], **stats},
        trace=trace,
        kernel_names=["k"],
        diagnostics=[],
        returncode=0,
        stderr_tail="",
        script_path=tmp_path / "program.py",
        artifact_dir=tmp_path,
    )


def test_point_utilisation_is_over_every_configured_worker(tmp_path: Path) -> None:
    # 4 configured workers; tasks ran on workers 0 and 1 only, each busy the whole 100 cycles.
    trace = np.zeros(3, dtype=TRACE_DTYPE)
    for n, (w, start, end) in enumerate([(0, 0, 100), (1, 0, 50), (1, 50, 100)]):
        trace[n] = (n, 0, w, -1, start, end, n, -1, -1, -1, 0, 0)
    stats = {"task_count": 3, "total_cycles": 100, "num_workers": 4}
    point = point_from_result(4, _result(trace, stats, tmp_path))
    assert point.lanes == ((0, 1.0), (1, 1.0), (2, 0.0), (3, 0.0))
    assert point.mean_utilisation == pytest.approx(0.5)  # was 1.0: the idle two were ignored
    # A stats file without the count (an older runner): the workers that ran, as before.
    old = point_from_result(4, _result(trace, {"task_count": 3, "total_cycles": 100}, tmp_path))
    assert old.lanes == ((0, 1.0), (1, 1.0)) and old.mean_utilisation == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------
# the headless sweep


def _run_script(doc: Document, workdir: Path) -> tuple[dict, np.ndarray]:
    """Export ``doc`` and run the script as a user would; its stats and trace."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "program.py"
    script.write_text(export_script(doc).source, encoding="utf-8")
    trace, stats = workdir / "trace.npy", workdir / "stats.json"
    subprocess.run(
        [sys.executable, str(script), "--trace", str(trace), "--stats", str(stats)],
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return json.loads(stats.read_text()), np.load(trace)


@pytest.mark.slow
def test_headless_sweep_of_dispatch_workers(pipeline: Document, tmp_path: Path) -> None:
    param = find_param(pipeline, DISPATCH, "dispatch_n")
    param = param.with_values(parse_values(param, "1,2,4,0"))
    seen: list[str] = []
    result = run_sweep(
        pipeline,
        param,
        tmp_path / "sweep",
        start=RunJob,
        progress=lambda k, n, i, p: seen.append(f"{k}/{n}"),
    )
    assert seen == ["1/4", "2/4", "3/4", "4/4"]
    ok = result.points[:3]
    assert [p.status for p in ok] == ["ok", "ok", "ok"]
    cycles = [p.total_cycles for p in ok]
    assert cycles[0] >= cycles[1] >= cycles[2]  # more workers never slow this pipeline down
    assert cycles[0] > cycles[2]
    for point, variant in zip(ok, make_variants(pipeline, param), strict=False):
        assert variant.document is not None
        stats, trace = _run_script(variant.document, tmp_path / f"script-{point.value}")
        analysis = analyse_trace(trace, stats["kernel_names"], stats["num_workers"])
        assert point.total_cycles == stats["total_cycles"]
        assert point.task_count == stats["task_count"] == len(trace)
        assert point.mean_utilisation == pytest.approx(analysis.mean_utilisation)
        assert 0.0 <= point.mean_utilisation <= 1.0
        assert point.lanes == tuple((w.worker, w.utilisation) for w in analysis.workers)
        assert all(0.0 <= u <= 1.0 for _w, u in point.lanes)
    assert len(ok[0].lanes) == 1 and len(ok[2].lanes) == 4
    zero = result.points[3]  # an invalid value is reported, the sweep went on
    assert zero.status == "invalid" and zero.total_cycles is None  # refused before it ran
    assert "dispatch_n" in zero.error
    assert not result.ok and not result.cancelled

    out = write_csv(result, tmp_path / "sweep.csv")
    rows = list(csv.DictReader(out.open()))
    assert [r["dispatch_n"] for r in rows] == ["1", "2", "4", "0"]
    assert [r["total_cycles"] for r in rows] == [*(str(c) for c in cycles), ""]
    assert rows[2]["worker_3"] and not rows[0]["worker_3"]
    assert rows[3]["status"] == "invalid" and "dispatch_n" in rows[3]["error"]


@pytest.mark.slow
def test_cancelled_sweep_skips_the_rest(pipeline: Document, tmp_path: Path) -> None:
    cancel = threading.Event()
    param = find_param(pipeline, DISPATCH, "dispatch_n").with_values([1, 2, 4])
    result = run_sweep(
        pipeline,
        param,
        tmp_path,
        start=RunJob,
        cancel=cancel,
        progress=lambda k, n, i, p: cancel.set(),
    )
    assert [p.status for p in result.points] == ["ok", "skipped", "skipped"]
    assert result.cancelled and not result.ok


@pytest.mark.slow
def test_pool_workers_sweep_matches_each_script(tensor_parallel: Document, tmp_path: Path) -> None:
    param = find_param(tensor_parallel, TASK_GRAPH, "pools.partial.workers")
    param = param.with_values(parse_values(param, "1, 2, 3"))
    result = run_sweep(tensor_parallel, param, tmp_path / "sweep", start=RunJob)
    assert [p.status for p in result.points] == ["ok", "ok", "ok"], [p.error for p in result.points]  # fmt: skip
    for point, variant in zip(result.points, make_variants(tensor_parallel, param), strict=True):
        assert variant.document is not None
        stats, trace = _run_script(variant.document, tmp_path / f"script-{point.value}")
        assert point.total_cycles == stats["total_cycles"]
        assert point.task_count == stats["task_count"] == len(trace)
    sample, _trace = _run_script(tensor_parallel, tmp_path / "sample")  # partial: 3 as saved
    assert result.points[2].total_cycles == sample["total_cycles"]
    assert result.points[0].total_cycles > result.points[2].total_cycles  # one worker is slower


# ------------------------------------------------------------------------------------------
# linked parameters: a tile size of the matmul sample (tile rows T over 64 rows of A and C)

ROWS, K, N = 64, 32, 16  # matmul.pto.json: A is (64/T) x T x K, B is K x N, C is (64/T) x T x N
TILE_ROWS = (8, 16, 32)
WORKERS = 4  # no dispatch node: the cpu_sim default


@pytest.fixture(scope="module")
def matmul() -> Document:
    return io.load(MATMUL)


def tile_sweep(doc: Document, rows: tuple[int, ...] = TILE_ROWS):
    """The a tile swept over T rows, the four properties a tile size also is linked to it."""
    param = find_param(doc, "n5", "params.a.tile").with_values([[t, K] for t in rows])
    links = [
        find_param(doc, "n5", "params.c.tile").with_values([[t, N] for t in rows]),
        find_param(doc, "tiles", "size").with_values([ROWS // t for t in rows]),
        find_param(doc, "A", "shape").with_values([[ROWS // t, t, K] for t in rows]),
        find_param(doc, "C", "shape").with_values([[ROWS // t, t, N] for t in rows]),
    ]
    return param.with_links(links)


def expected_cycles(t: int) -> int:
    """README "Cycle model": per task the implicit loads of a (T x K) and b (K x N), the matmul
    T*K*N and the store of c (T x N); the 64/T tasks are independent (disjoint C[i]) and go
    round-robin over the workers, so the makespan is ceil(tasks / workers) tasks."""
    per_task = t * K + K * N + t * K * N + t * N
    return math.ceil((ROWS // t) / WORKERS) * per_task


def test_linked_values_are_set_in_lock_step(matmul: Document) -> None:
    param = tile_sweep(matmul)
    variants = make_variants(matmul, param)
    assert [v.value for v in variants] == [[8, K], [16, K], [32, K]]  # labelled by the primary
    for t, variant in zip(TILE_ROWS, variants, strict=True):
        assert variant.ok, variant.error
        assert variant.linked == ([t, N], ROWS // t, [ROWS // t, t, K], [ROWS // t, t, N])
        doc = variant.document
        assert doc is not None
        tiles = {p["name"]: (p["rows"], p["cols"]) for p in doc.node("n5").props["params"]}
        assert tiles == {"a": (t, K), "b": (K, N), "c": (t, N)}
        assert doc.node("n4").props["size"] == ROWS // t
        assert doc.node("n1").props["shape"] == [ROWS // t, t, K]
        assert doc.node("n3").props["shape"] == [ROWS // t, t, N]
        assert f"tiles = Dense[{ROWS // t}]" in variant.source
        assert f"a: In[Tile[{t}, {K}, DType.F32]]" in variant.source
    assert matmul.node("n4").props["size"] == 4  # the document itself is untouched


def test_linked_value_lists_must_match_the_swept_one(matmul: Document) -> None:
    param = tile_sweep(matmul)
    short = param.links[1].with_values([8, 4])
    bad = param.with_links([param.links[0], short, *param.links[2:]])
    message = (
        r"linked parameter Dense axis tiles · size \(n4.size\) has 2 values, "
        r"Kernel matmul · a tile has 3 values"
    )
    with pytest.raises(LinkError, match=message):
        make_variants(matmul, bad)
    with pytest.raises(LinkError, match=r"Kernel matmul · a tile \(n5.params.a.tile\) is already the swept parameter"):  # fmt: skip
        make_variants(matmul, param.with_links([param.with_values(param.values)]))
    twice = param.with_links([param.links[1], param.links[1]])
    with pytest.raises(LinkError, match=r"\(n4.size\) is already linked"):
        make_variants(matmul, twice)
    with pytest.raises(LinkError, match="has links of its own"):
        make_variants(matmul, param.with_links([param.links[0].with_links(param.links[1:2])]))
    with pytest.raises(LinkError, match="4 linked parameters, 1 linked values"):
        make_variant(matmul, param, [8, K], [[8, N]])


def test_a_refused_linked_value_names_its_node(matmul: Document) -> None:
    param = tile_sweep(matmul, (8, 16))
    shape = param.links[2].with_values([[0, 8, K], [4, 16, K]])
    bad = param.with_links([*param.links[:2], shape, param.links[3]])
    refused, fine = make_variants(matmul, bad)
    assert refused.error == "n1.props.shape: expected a non-empty list of positive ints"
    assert refused.error_node == "n1" and refused.linked[2] == [0, 8, K]
    assert fine.ok, fine.error


@pytest.mark.slow
def test_tile_size_sweep_matches_the_cycle_model_and_each_script(
    matmul: Document, tmp_path: Path
) -> None:
    param = tile_sweep(matmul)
    result = run_sweep(matmul, param, tmp_path / "sweep", start=RunJob)
    assert [p.status for p in result.points] == ["ok", "ok", "ok"], [p.error for p in result.points]  # fmt: skip
    assert [p.value_text for p in result.points] == ["8x32", "16x32", "32x32"]
    assert [p.linked_texts for p in result.points] == [
        ("8x16", "8", "8x8x32", "8x8x16"),
        ("16x16", "4", "4x16x32", "4x16x16"),
        ("32x16", "2", "2x32x32", "2x32x16"),
    ]
    expected = [expected_cycles(t) for t in TILE_ROWS]
    assert expected == [9984, 9472, 18432]
    assert [p.total_cycles for p in result.points] == expected
    assert [p.task_count for p in result.points] == [ROWS // t for t in TILE_ROWS]
    for point, variant in zip(result.points, make_variants(matmul, param), strict=True):
        assert variant.document is not None
        stats, trace = _run_script(variant.document, tmp_path / f"script-{point.value_text}")
        assert point.total_cycles == stats["total_cycles"]
        assert point.task_count == stats["task_count"] == len(trace)

    rows = list(csv.DictReader(write_csv(result, tmp_path / "tiles.csv").open()))
    assert list(rows[0])[:6] == ["params.a.tile", "n5.params.c.tile", "n4.size", "n1.shape", "n3.shape", "status"]  # fmt: skip
    assert [(r["params.a.tile"], r["n4.size"], int(r["total_cycles"])) for r in rows] == [
        ("8x32", "8", 9984),
        ("16x32", "4", 9472),
        ("32x32", "2", 18432),
    ]


# ------------------------------------------------------------------------------------------
# python -m app.sweep


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = stdio.StringIO(), stdio.StringIO()
    code = sweep_cli.main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_cli_prints_a_table_and_writes_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "out.csv"
    args = (str(PIPELINE), "--node", DISPATCH, "--prop", "dispatch_n", "--values", "1,2")
    code, out, err = _cli(*args, "--csv", str(csv_path))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["dispatch_n", "total_cycles", "makespan", "utilisation", "status"]
    assert [ln.split()[0] for ln in lines[1:]] == ["1", "2"]
    assert all(ln.split()[-1] == "ok" for ln in lines[1:])
    reported = [ln.split()[:3] for ln in err.splitlines() if ln.startswith(("1/2 ", "2/2 "))]
    assert [r[0] for r in reported] == ["1/2", "2/2"]  # in the order they finished
    assert sorted(r[1] for r in reported) == ["1:", "2:"] and all(r[2] == "ok" for r in reported)
    rows = list(csv.DictReader(csv_path.open()))
    assert [r["total_cycles"].replace(",", "") for r in rows] == [
        ln.split()[1].replace(",", "") for ln in lines[1:]
    ]


def test_cli_user_and_usage_errors(tmp_path: Path) -> None:
    code, _out, err = _cli(
        str(PIPELINE), "--node", DISPATCH, "--prop", "dispatch_n", "--values", "1,x"
    )
    assert code == 1 and "value 2 ('x'): expected an integer" in err
    code, _out, err = _cli(str(PIPELINE), "--node", "zz", "--prop", "dispatch_n", "--values", "1")
    assert code == 1 and "no node with id or name 'zz'" in err
    code, _out, err = _cli(str(tmp_path / "missing.pto.json"), "--list")
    assert code == 1 and "missing.pto.json" in err
    code, _out, err = _cli(str(PIPELINE), "--node", DISPATCH)
    assert code == 2 and "--prop, --values required" in err
    code, out, _err = _cli(str(PIPELINE), "--list")
    assert code == 0
    assert any(ln.split()[:3] == [f"{DISPATCH}.dispatch_n", "int", "1"] for ln in out.splitlines())


@pytest.mark.slow
def test_cli_reports_an_invalid_value_and_goes_on(tmp_path: Path) -> None:
    args = (str(PIPELINE), "--node", "n1", "--prop", "shape", "--values", "0x16x16, 8x16x16")
    code, out, _err = _cli(*args)
    assert code == 1
    lines = out.splitlines()
    assert lines[1].split() == ["0x16x16", "-", "-", "-", "invalid"]
    assert lines[2].split()[-1] == "ok"
    assert "0x16x16: invalid: n1.props.shape: expected a non-empty list" in out


def test_module_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.sweep", str(PIPELINE), "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"{DISPATCH}.dispatch" in done.stdout


LINK_ARGS = (
    "--node", "n5", "--prop", "params.a.tile", "--values", "8x32, 16x32",
    "--link", "n5.params.c.tile=8x16, 16x16", "--link", "tiles.size=8, 4",
    "--link", "A.shape=8x8x32, 4x16x32", "--link", "C.shape=8x8x16, 4x16x16",
)  # fmt: skip


@pytest.mark.slow
def test_cli_links_parameters(tmp_path: Path) -> None:
    code, out, err = _cli(str(MATMUL), *LINK_ARGS)
    assert code == 0, err
    lines = [ln.split() for ln in out.splitlines()]
    assert lines[0] == ["params.a.tile", "n5.params.c.tile", "n4.size", "n1.shape", "n3.shape", "total_cycles", "makespan", "utilisation", "status"]  # fmt: skip
    # the makespan in time at the default clock (1 ns per cycle)
    assert lines[1] == ["8x32", "8x16", "8", "8x8x32", "8x8x16", "9,984", "9.984us", "100.0%", "ok"]  # fmt: skip
    assert lines[2] == ["16x32", "16x16", "4", "4x16x32", "4x16x16", "9,472", "9.472us", "100.0%", "ok"]  # fmt: skip
    assert "linked: Kernel matmul · c tile, Dense axis tiles · size" in err


def test_cli_lists_and_links_pool_workers() -> None:
    code, out, err = _cli(str(TENSOR_PARALLEL), "--list")
    assert code == 0, err
    rows = [ln.split()[:3] for ln in out.splitlines()]
    assert [f"{TASK_GRAPH}.pools.partial.workers", "int", "3"] in rows
    assert [f"{TASK_GRAPH}.pools.finish.workers", "int", "1"] in rows
    args = (str(TENSOR_PARALLEL), "--node", "tensor_parallel", "--prop", "pools.partial.workers")
    code, _out, err = _cli(*args, "--values", "0, 1")
    assert code == 1 and "value 1 ('0'): expected an integer >= 1, got 0" in err
    code, _out, err = _cli(
        *args, "--values", "1, 2", "--link", "tensor_parallel.pools.finish.workers=2"
    )
    assert code == 1 and "(n19.pools.finish.workers) has 1 value" in err


@pytest.mark.slow
def test_cli_sweeps_linked_pool_workers() -> None:
    args = ("--node", "tensor_parallel", "--prop", "pools.partial.workers", "--values", "1..3")
    link = ("--link", "tensor_parallel.pools.finish.workers=3, 2, 1")
    code, out, err = _cli(str(TENSOR_PARALLEL), *args, *link)
    assert code == 0, err
    lines = [ln.split() for ln in out.splitlines()]
    assert lines[0][:2] == ["pools.partial.workers", "n19.pools.finish.workers"]
    assert [ln[:2] for ln in lines[1:]] == [["1", "3"], ["2", "2"], ["3", "1"]]
    assert all(ln[-1] == "ok" for ln in lines[1:])
    assert "linked: Workload tensor_parallel · pools finish workers" in err


def test_cli_link_errors() -> None:
    args = (str(MATMUL), *LINK_ARGS[:6])
    code, _out, err = _cli(*args, "--link", "n4.size=8, 4, 2")
    assert code == 1
    assert "linked parameter Dense axis tiles · size (n4.size) has 3 values" in err
    code, _out, err = _cli(*args, "--link", "n4.size=8, x")
    assert code == 1 and "n4.size: value 2 ('x'): expected an integer" in err
    code, _out, err = _cli(*args, "--link", "n4.workers=8, 4")
    assert code == 1 and "n4 (Dense axis) has no property 'workers'" in err
    code, _out, err = _cli(*args, "--link", "n4size=8, 4")
    assert code == 2 and "'n4size=8, 4': expected NODE.PROP=VALUES" in err
