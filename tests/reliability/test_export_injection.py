"""No text in a project file becomes code in the exported script (issue 12, item 1).

The property test loops over the kind registry (``kind_docs.document_with`` places any kind in
a valid document, so kinds added later are covered), puts arbitrary text in every string field
of the nodes of that kind and in the project name, and checks that export either refuses with
an ``ExportError`` naming node and field, or writes a script whose syntax tree equals, node for
node, the tree of the same document with that string replaced by ``x``: only constant values
and identifiers (checked names) may differ. Expression fields are checked separately: where
their tree differs, it holds only the whitelisted expression node types.

The regression tests run the exact payload of the issue through ``pto-wsp run``, export + a
plain ``python`` run, and ``python -m app.sweep``.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.model import exprs, frames, pytext, registry
from app.model.document import Document, Node
from app.model.export import ExportError, export_script

from .kind_docs import ROOT, document_with

PAYLOADS = [
    'x"""\nimport os; os.system("touch /tmp/p")\n"""',
    '"""',
    "'''",
    "\\",
    'a"b',
    'a\\"',
    "a\nb",
    "x\r\ny",
    "\x00",
    "\ud800",
    "\u2028",
    "\uff58",  # fullwidth x: NFKC-normalises to x
    "__name__",
    "P",
    "for",
    "x)\nimport os\n(",
    "b; import os",
    "b #",
    "lambda: 0",
    "__import__('os').system('x')",
    't.get("i")',
    't.get("i").__class__',
    "b, h",
    "i + 9**9**9",
    "-" * 1000 + "1",
    "x" * 600,
    "S0",
    "f32",
    "affinity",
]
TEXT = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
)

# the classes of string fields (see _slots)
FREE, NAME, REF, ENUM, EXPR = "free", "name", "ref", "enum", "expr"
Path_ = tuple[Any, ...]


# ------------------------------------------------------------------------------------------
# string fields of a node


def _slots(doc: Document, kind_id: str) -> list[tuple[str | None, Path_, str]]:
    """``(node id or None for the document, path, class)`` of every string field."""
    out: list[tuple[str | None, Path_, str]] = [(None, ("name",), FREE)]
    k = registry.kind(kind_id)
    for node, _g, _o in doc.walk():
        if node.kind != kind_id:
            continue
        out.append((node.id, ("name",), NAME if registry.names_a_variable(kind_id) else FREE))
        for spec in k.props:
            out.extend((node.id, ("props", spec.name, *p), c) for p, c in _prop_slots(node, spec))
    return out


def _prop_slots(node: Node, spec: registry.PropSpec) -> Iterator[tuple[Path_, str]]:
    value = node.props.get(spec.name)
    t = spec.type
    if t in ("str", "code"):
        yield (), REF if (node.kind, spec.name) == ("kernel.param", "param") else FREE
    elif t == "ref":  # a node id
        yield (), REF
    elif t == "axes":  # [{var, axis}]: a loop variable and an axis node id
        for i, _entry in enumerate(value or []):
            yield (i, "var"), NAME
            yield (i, "axis"), REF
    elif t == "dict":  # the sheet's task_graph: each field by its own type
        for sub in registry.prop_fields(spec):
            if sub.type == "enum":
                yield (sub.name,), ENUM
            elif sub.type in ("expr", "key"):
                yield (sub.name,), EXPR
            elif sub.type == "pools":
                sub_value = (value or {}).get(sub.name) or []
                yield from (((sub.name, i, "kernel"), REF) for i in range(len(sub_value)))
    elif t == "strlist":
        yield (0,), FREE
    elif t in ("enum", "dtype"):
        yield (), ENUM
    elif t in ("expr", "exprlist", "key"):
        yield (), EXPR
    elif t == "exprmap":
        yield from (((key,), EXPR) for key in value or {})
    elif t == "names":
        yield (), NAME
    elif t == "params":
        for i, _p in enumerate(value or []):
            yield (i, "name"), REF
            yield from (((i, f), ENUM) for f in ("direction", "kind", "dtype"))
    elif t == "dist":
        yield from (((i,), ENUM) for i in range(len(value or [])))
    elif t == "pools":
        yield from (((i, "kernel"), REF) for i in range(len(value or [])))


def _set(doc: Document, node_id: str | None, path: Path_, text: str) -> None:
    if node_id is None:
        doc.name = text
        return
    node = doc.node(node_id)
    if path == ("name",):
        _rename(doc, node, text)
        return
    holder: Any = node.props
    for key in path[1:-1]:
        holder = holder[key]
    last = path[-1]
    if isinstance(holder, list) and last == len(holder):
        holder.append(text)
    elif isinstance(holder, list) and last > len(holder):
        raise IndexError(last)
    else:
        holder[last] = text
    if path[:2] == ("props", "cpp_includes") and not node.props.get("cpp_src"):
        node.props["cpp_src"] = "int k = 0;"  # includes need a C++ body to mean anything


def _rename(doc: Document, node: Node, new: str) -> None:
    """Rename ``node`` and every reference to it by name (the pools of a schedule sheet; other
    references hold node ids and need no change)."""
    old, node.name = node.name, new
    if node.id not in doc.graph.nodes or not old:
        return
    for n, _g, _o in doc.walk():
        task_graph = n.props.get("task_graph") if n.kind in registry.SHEET_KINDS else None
        for entry in (task_graph or {}).get("pools") or []:
            if entry.get("kernel") == old:
                entry["kernel"] = new


# ------------------------------------------------------------------------------------------
# comparing scripts


def _blank(tree: ast.AST) -> str:
    """The tree with every constant value and identifier blanked: the script's structure."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            node.value, node.kind = None, None
        for attr in ("id", "name", "arg", "attr", "asname"):
            if isinstance(getattr(node, attr, None), str):
                setattr(node, attr, "_")
    return ast.dump(tree)


def _is_task_get(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == exprs.TASK_VAR
        and len(node.args) == 1
        and not node.keywords
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def _whitelisted(tree: ast.AST) -> bool:
    """Only expression node types; calls only as ``t.get("name")``; numbers as constants."""
    allowed_calls = {id(n.func) for n in ast.walk(tree) if _is_task_get(n)}
    string_args = {id(n.args[0]) for n in ast.walk(tree) if _is_task_get(n)}
    for node in ast.walk(tree):
        if not isinstance(node, exprs.ALLOWED_NODES):
            return False
        if isinstance(node, ast.Call) and not _is_task_get(node):
            return False
        if isinstance(node, ast.Attribute) and id(node) not in allowed_calls:
            return False
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in string_args:
                return False
    return True


def _same_outside_expressions(fuzzed: ast.AST, original: ast.AST) -> bool:
    """Trees equal up to constants/identifiers, except subtrees that differ in shape, which
    must be whitelisted expressions."""
    if type(fuzzed) is not type(original):
        return _whitelisted(fuzzed)
    for name, fv in ast.iter_fields(fuzzed):
        ov = getattr(original, name, None)
        if isinstance(fv, list) and isinstance(ov, list):
            if len(fv) != len(ov):
                return _whitelisted(fuzzed)
            for a, b in zip(fv, ov, strict=True):
                if isinstance(a, ast.AST) and not _same_outside_expressions(a, b):
                    return False
        elif isinstance(fv, ast.AST):
            if not isinstance(ov, ast.AST) or not _same_outside_expressions(fv, ov):
                return False
        elif (fv is None) != (ov is None) and name not in ("value", "kind"):
            return _whitelisted(fuzzed)
    return True


def _tree(doc: Document) -> ast.Module | None:
    """The exported script's tree, or None when export refuses."""
    try:
        source = export_script(doc).source
    except ExportError:
        return None
    source.encode("utf-8")  # a script that cannot be written is a failure, not a refusal
    return ast.parse(source)


# ------------------------------------------------------------------------------------------
# the property


@functools.cache
def _base(kind_id: str) -> Document:
    return document_with(kind_id)[0]


@functools.cache
def _baseline(kind_id: str, node_id: str | None, path: Path_, text: str) -> str | None:
    """The blanked tree of the base document with ``text`` in the field (None: refused)."""
    doc = _base(kind_id).copy()
    _set(doc, node_id, path, text)
    tree = _tree(doc)
    return None if tree is None else _blank(tree)


@functools.cache
def _statements(kind_id: str) -> list[str]:
    return _blank_statements(ast.parse(export_script(_base(kind_id)).source))


def _blank_statements(tree: ast.Module) -> list[str]:
    """Blanked top-level statements in sorted order: a rename may move a root node within
    its section (sections are written in name order), which is not a change of structure."""
    return sorted(_blank(stmt) for stmt in tree.body)


def _field_of(path: Path_) -> str:
    """``props.<name>``, or ``props.<name>.<field>`` for a field of a dict property."""
    return ".".join(p for p in path[:3] if isinstance(p, str))


@functools.cache
def _expr_reference(kind_id: str, node_id: str | None, path: Path_) -> ast.Module:
    """The script of the base document with a plain valid expression in the field: an empty
    optional expression (a schedule key) writes no call at all, so the fuzzed script is
    compared with one that writes the call. The base document's script when none is valid."""
    doc = _base(kind_id)
    names = ["0"] + [
        f't.get("{v}")' for n in doc.graph.nodes.values() for v in frames.bound_vars(n)
    ]
    for text in names:
        fixed = doc.copy()
        _set(fixed, node_id, path, text)
        tree = _tree(fixed)
        if tree is not None:
            return tree
    return _original(kind_id)


def _allowed_enum(node: Node, path: Path_) -> tuple[str, ...]:
    spec = registry.kind(node.kind).prop(path[1])
    if spec.type == "dict":
        spec = next(f for f in registry.prop_fields(spec) if f.name == path[2])
    if spec.type == "dtype":
        return registry.DTYPES
    if spec.type == "params":
        return {"direction": registry.DIRECTIONS, "kind": registry.PARAM_KINDS}.get(path[3], registry.DTYPES)  # fmt: skip
    if spec.type == "dist":
        return ("R", *(f"S{i}" for i in range(8)))
    return spec.choices or ()


@pytest.mark.parametrize("kind_id", sorted(registry.KINDS))
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_strings_reach_the_script_only_as_literals_or_checked_names(kind_id: str, data) -> None:
    """Every string field of every node of the kind, in turn, with its own drawn text."""
    base = _base(kind_id)
    for node_id, path, cls in _slots(base, kind_id):
        text = data.draw(TEXT, label=f"{node_id}.{'.'.join(map(str, path))}")
        _check_field(kind_id, node_id, path, cls, text)


@functools.cache
def _original(kind_id: str) -> ast.Module:
    return ast.parse(export_script(_base(kind_id)).source)


def _check_field(kind_id: str, node_id: str | None, path: Path_, cls: str, text: str) -> None:
    doc = _base(kind_id).copy()
    _set(doc, node_id, path, text)
    try:
        source = export_script(doc).source
    except ExportError as err:
        assert err.field, f"refusal without a field: {err}"
        assert err.node_id in doc.all_ids() or (err.node_id == "" and node_id is None), str(err)
        if pytext.text_problem(text) is not None:  # the fuzzed text itself is at fault
            where = (err.node_id or None, err.field.split("[")[0])
            assert where == (node_id, _field_of(path)), str(err)
        return
    source.encode("utf-8")
    tree = ast.parse(source)
    if cls == ENUM:
        assert text in _allowed_enum(doc.node(node_id), path)
    elif cls == EXPR:
        same = _same_outside_expressions(tree, _expr_reference(kind_id, node_id, path))
        if not same and not text.strip():  # an empty optional expression writes no call at all
            empty = _base(kind_id).copy()
            _set(empty, node_id, path, "")
            reference = _tree(empty)
            same = reference is not None and _same_outside_expressions(tree, reference)
        assert same, source
    elif cls in (NAME, REF):
        for part in exprs.split_names(text) if path[-1] in ("vars", "var") else [text]:
            assert pytext.is_identifier(part), f"unchecked name {part!r} was exported"
        assert _blank_statements(tree) == _statements(kind_id), source
    else:
        baseline = _baseline(kind_id, node_id, path, "x" if text else "")
        assert baseline is not None, f"{text!r} exported where 'x' is refused"
        assert _blank(tree) == baseline, source


# ------------------------------------------------------------------------------------------
# the issue's payload, end to end


def _payload_project(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "pwned"
    data = json.loads((ROOT / "app" / "projects" / "matmul.pto.json").read_text())
    data["name"] = f'x"""\nimport os; os.system("touch {marker}")\n"""'
    project = tmp_path / "evil.pto.json"
    project.write_text(json.dumps(data))
    return project, marker


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_issue_payload_in_the_name_is_a_docstring_not_code(tmp_path: Path) -> None:
    from app.model import io

    project, marker = _payload_project(tmp_path)
    doc = io.load(project)
    source = export_script(doc).source
    assert ast.get_docstring(ast.parse(source)).startswith(doc.name + ": exported by")
    script = tmp_path / "evil.py"
    script.write_text(source)
    done = _run(str(script), "--no-execute", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()


def test_pto_wsp_run_of_the_payload_runs_no_command(tmp_path: Path) -> None:
    project, marker = _payload_project(tmp_path)
    done = _run("-m", "app.cli", "run", str(project), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()


def test_sweep_of_the_payload_runs_no_command(tmp_path: Path) -> None:
    project, marker = _payload_project(tmp_path)
    done = _run(
        "-m", "app.sweep", str(project), "--node", "n4", "--prop", "size", "--values", "4",
        "--workdir", str(tmp_path / "sweep"), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert not marker.exists()
