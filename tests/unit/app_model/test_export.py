"""Graph -> DSL export: determinism, line map, formatting, and ExportError for bad documents."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.model import io
from app.model.document import Document, Edge, PortRef
from app.model.export import ExportError, export_script

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted((ROOT / "projects").glob("*.pto.json"))
LIBRARY = sorted((ROOT / "resources" / "kernel_library").glob("*.json"))


def load(name: str) -> Document:
    return io.load(ROOT / "projects" / f"{name}.pto.json")


def node_by(doc: Document, kind: str, name: str | None = None):
    for node, graph, _owner in doc.walk():
        if node.kind == kind and (name is None or node.name == name):
            return node, graph
    raise AssertionError(f"no {kind} {name}")


@pytest.mark.parametrize("path", SAMPLES + LIBRARY, ids=lambda p: p.name)
def test_every_sample_exports_valid_deterministic_python(path: Path) -> None:
    doc = io.load(path)
    first = export_script(doc)
    again = export_script(io.load(path))
    assert first.source == again.source
    compile(first.source, str(path), "exec")  # syntactically valid Python
    lines = first.source.splitlines()
    assert set(first.line_map) <= set(range(1, len(lines) + 1))
    assert all(lines[n - 1].strip() for n in first.line_map)  # blank lines map to nothing


# ruff is a test dependency: it sits beside this interpreter in the virtualenv (dev.sh does not
# put .venv/bin on PATH), else on PATH.
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.parametrize("path", SAMPLES + LIBRARY, ids=lambda p: p.name)
def test_export_is_ruff_clean(path: Path, tmp_path: Path) -> None:
    assert RUFF is not None, "ruff (a test dependency) is not installed"
    script = tmp_path / "exported.py"
    script.write_text(export_script(io.load(path)).source)
    fmt = subprocess.run(
        [RUFF, "format", "--check", "--diff", str(script)], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    lint = subprocess.run(
        [RUFF, "check", "--no-cache", str(script)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout


def test_matmul_script_reads_like_the_spec() -> None:
    src = export_script(load("matmul")).source
    assert "@kernel\ndef matmul(\n" in src
    assert "    v1 = pto.matmul(a, b)\n    pto.store(c, v1)\n" in src
    assert "    for i in P(tiles):\n        matmul[i](a=A[i], b=B, c=C[i])\n" in src
    assert 'A = Tensor(init.random((4, 16, 32), DType.F32, seed=1), name="A")' in src
    assert 'C = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="C")' in src
    assert 'program = gemm_w.compile(target="cpu_sim")' in src
    assert src.rstrip().endswith('if __name__ == "__main__":\n    run_main(program)')


def test_line_map_points_at_the_producing_nodes() -> None:
    doc = load("matmul")
    result = export_script(doc)
    lines = result.source.splitlines()

    def line_of(text: str) -> int:
        return next(i + 1 for i, ln in enumerate(lines) if ln.strip() == text)

    op, _ = node_by(doc, "pto.matmul")
    call, _ = node_by(doc, "kernel.call")
    loop, _ = node_by(doc, "loop.parallel")
    tensor, _ = node_by(doc, "data.tensor", "B")
    target, _ = node_by(doc, "compile.target")
    assert result.line_map[line_of("v1 = pto.matmul(a, b)")] == op.id
    assert result.line_map[line_of("matmul[i](a=A[i], b=B, c=C[i])")] == call.id
    assert result.line_map[line_of("for i in P(tiles):")] == loop.id
    assert (
        result.line_map[line_of('B = Tensor(init.random((32, 16), DType.F32, seed=2), name="B")')]
        == tensor.id
    )
    assert result.line_map[line_of('program = gemm_w.compile(target="cpu_sim")')] == target.id


def test_schedule_chain_lines_map_to_schedule_nodes() -> None:
    doc = load("attention_varlen")
    result = export_script(doc)
    lines = result.source.splitlines()
    stream_by, _ = node_by(doc, "sched.stream_by")
    k = next(i + 1 for i, ln in enumerate(lines) if ".stream_by(" in ln)
    assert lines[k - 1].strip() == '.stream_by(lambda t: t.get("head") % 2)'
    assert result.line_map[k] == stream_by.id
    assert 'DispatchPolicy.affinity(lambda t: t.get("batch"))' in result.source


def test_unconnected_kernel_input_is_an_export_error() -> None:
    doc = load("matmul")
    call, graph = node_by(doc, "kernel.call")
    graph.edges = [e for e in graph.edges if not (e.dst.node == call.id and e.dst.port == "b")]
    with pytest.raises(ExportError) as err:
        export_script(doc)
    assert err.value.node_id == call.id
    assert err.value.field == "inputs.b"


def test_node_off_the_exec_chain_is_an_export_error() -> None:
    doc = load("matmul")
    call, graph = node_by(doc, "kernel.call")
    graph.edges = [e for e in graph.edges if not (e.dst.node == call.id and e.dst.port == "exec")]
    with pytest.raises(ExportError) as err:
        export_script(doc)
    assert err.value.node_id == call.id
    assert "execution chain" in err.value.message


def test_invalid_expression_is_an_export_error() -> None:
    doc = load("matmul")
    call, _ = node_by(doc, "kernel.call")
    call.props["index"] = {"a": "i +"}
    with pytest.raises(ExportError) as err:
        export_script(doc)
    assert err.value.node_id == call.id
    assert "index" in err.value.field


def test_unknown_name_in_expression_is_an_export_error() -> None:
    doc = load("matmul")
    call, _ = node_by(doc, "kernel.call")
    call.props["axes"] = "j"
    with pytest.raises(ExportError) as err:
        export_script(doc)
    assert err.value.node_id == call.id
    assert "'j'" in err.value.message


def test_kernel_op_with_missing_operand_is_an_export_error() -> None:
    doc = load("softmax")
    op, graph = node_by(doc, "pto.div")
    graph.edges = [e for e in graph.edges if not (e.dst.node == op.id and e.dst.port == "b")]
    with pytest.raises(ExportError) as err:
        export_script(doc)
    assert err.value.node_id == op.id


def test_a_second_program_is_an_export_error() -> None:
    doc = load("matmul")
    target, graph = node_by(doc, "compile.target")
    wl, _ = node_by(doc, "workload.def")
    extra = type(target)("n999", "compile.target", "program2", (0.0, 0.0), dict(target.props))
    graph.nodes[extra.id] = extra
    graph.edges.append(Edge(PortRef(wl.id, "workload"), PortRef(extra.id, "workload")))
    with pytest.raises(ExportError) as err:
        export_script(doc)
    assert err.value.node_id in (extra.id, target.id)


def test_name_clashing_with_an_import_is_an_export_error() -> None:
    doc = load("matmul")
    tensor, _ = node_by(doc, "data.tensor", "B")
    tensor.name = "P"
    for node, _graph, _owner in doc.walk():
        if node.kind == "data.get" and node.props.get("target") == "B":
            node.props["target"] = "P"
    with pytest.raises(ExportError) as err:
        export_script(doc)
    assert err.value.node_id == tensor.id


def test_csp_sample_exports_processes_and_connect() -> None:
    src = export_script(load("csp_pipeline")).source
    assert 'producer = process("producer").produces(work).body(producer_body)' in src
    assert "        send(work, produce[i](x=X[i], buf=stage))" in src
    assert "pipeline = connect([producer, consumer], [work])" in src
    assert "run_main(program)" in src  # the sample compiles and runs its pipeline


def test_megakernel_pipeline_exports_pipe_and_consume() -> None:
    src = export_script(load("megakernel_pipeline")).source
    assert "    with P.pipe(depth=2):\n        for i in P.seq(tiles):" in src
    assert "        with consume(l2c) as t:\n            send(c2s, compute[t](" in src
    assert (
        'program = pipeline_w.dispatch(DispatchPolicy.round_robin(1)).compile(target="cpu_sim")'
        in src
    )
