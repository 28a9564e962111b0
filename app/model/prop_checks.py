"""Whether a property value is well-formed for its ``PropSpec`` (``prop_problem``: types, enums,
dtypes, shapes, expressions parsed never evaluated, params, distributions, pools, references'
shape), plus the checks needing a node's other properties (``node_prop_problem``) and whether a
property means anything under them (``prop_applies``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import bounds, exprs
from .document import Node
from .kind_lookup import kind, kind_of
from .kinds._base import DIRECTIONS, DTYPES, PARAM_DEFAULTS, PARAM_FIELDS, PARAM_KINDS, PropSpec
from .kinds.kernels import CALL_TASK_PORT

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def prop_problem(spec: PropSpec, value: Any) -> str | None:
    """Why ``value`` is not a valid value for ``spec`` (None when it is). Never evaluates."""
    t = spec.type
    for _where, problem in bounds.value_problems(value):
        return problem  # NUL, lone surrogates, NaN, infinities: nothing can store them
    if t in ("str", "code"):
        return None if isinstance(value, str) else "expected a string"
    if t == "int":
        if not _is_int(value):
            return "expected an integer"
        return None if _INT_MIN <= value <= _INT_MAX else "exceeds the 64-bit integer range"
    if t == "float":
        return None if _is_int(value) or isinstance(value, float) else "expected a number"
    if t == "number":
        ok = isinstance(value, int | float)  # bool is an int: constant(True, bool) is legal
        if ok and not isinstance(value, float) and not _INT_MIN <= value <= _INT_MAX:
            return "exceeds the 64-bit integer range"
        return None if ok else "expected a number"
    if t == "bool":
        return None if isinstance(value, bool) else "expected true or false"
    if t == "enum":
        if value not in (spec.choices or ()):
            return f"expected one of {', '.join(spec.choices or ())}, got {value!r}"
        return None
    if t == "dtype":
        if value not in DTYPES:
            return f"expected a dtype ({', '.join(DTYPES)}), got {value!r}"
        return None
    if t == "shape":
        if not isinstance(value, list) or not all(_is_int(d) for d in value):
            return "expected a list of ints"
        if spec.optional and value == []:
            return None
        if not value or any(d < 1 for d in value):
            return "expected a non-empty list of positive ints"
        return bounds.shape_problem(value)
    if t == "strlist":
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            return "expected a list of strings"
        return None
    if t == "exprlist" and value is None and spec.optional:
        return None
    if t in ("expr", "exprlist", "key"):
        if value is None and spec.optional and spec.default is None:
            return None  # "not set" (a call's axes: the enclosing loop variables)
        if not isinstance(value, str):
            return "expected an expression string"
        if not value.strip():
            return None if spec.optional else "expression is empty"
        problems, _ = exprs.check(value)
        return problems[0] if problems else None
    if t == "exprmap":
        if not isinstance(value, dict):
            return "expected a mapping of names to expressions"
        for key, text in value.items():
            if not isinstance(key, str) or not isinstance(text, str):
                return "expected a mapping of names to expression strings"
            if text.strip():
                problems, _ = exprs.check_index(text)  # an index: slices are allowed
                if problems:
                    return f"{key}: {problems[0]}"
        return None
    if t == "names":
        if not isinstance(value, str):
            return "expected a comma-separated list of names"
        parts = [p.strip() for p in value.split(",")]
        if not value.strip() or any(not exprs.is_identifier(p) for p in parts):
            return f"expected identifiers separated by commas, got {value!r}"
        if len(set(parts)) != len(parts):
            return f"duplicate names in {value!r}"
        return None
    if t == "params":
        return _params_problem(value)
    if t == "dist":
        return _dist_problem(value, spec.optional)
    if t == "pools":
        return _pools_problem(value)
    if t == "ref":  # "" = nothing chosen yet; whether the id names a node is validation's
        return None if isinstance(value, str) else "expected a node id"
    if t == "axes":
        return _axes_problem(value)
    if t == "dict":
        return _dict_problem(spec, value)
    return f"unknown property type {t!r}"


def _axes_problem(value: Any) -> str | None:
    """A loop's ``[{var, axis}]``: each var an identifier, once; each axis a node id string.
    (Whether the ids name axis nodes is a document question, asked by validation.)"""

    def var_problem(var: Any) -> str | None:
        if not isinstance(var, str) or not exprs.is_identifier(var):
            return f"expected an identifier, got {var!r:.40}"
        return None

    def axis_problem(axis: Any) -> str | None:
        return None if isinstance(axis, str) and axis else "no axis chosen"

    return _entries_problem(
        value, ("var", "axis"), var_problem, "variable {!r} is bound twice", axis_problem
    )


def _entries_problem(
    value: Any,
    fields: tuple[str, str],
    key_problem: Callable[[Any], str | None],
    twice: str,
    other_problem: Callable[[Any], str | None],
) -> str | None:
    """A list of ``{key, other}`` entries (``fields``), as loop axes and pools are: exactly those
    two fields in each entry, each key valid and used once (``twice`` formats the key of a
    repeat), each other value valid. The first problem, located as ``[i].field: ...``."""
    key, other = fields
    if not isinstance(value, list):
        return f"expected a list of {{{key}, {other}}} entries"
    seen: set[str] = set()
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != {key, other}:
            return f"[{i}]: expected an entry with exactly the fields {key} and {other}"
        problem = key_problem(entry[key])
        if problem is None and entry[key] in seen:
            problem = twice.format(entry[key])
        if problem is not None:
            return f"[{i}].{key}: {problem}"
        seen.add(entry[key])
        problem = other_problem(entry[other])
        if problem is not None:
            return f"[{i}].{other}: {problem}"
    return None


def _dict_problem(spec: PropSpec, value: Any) -> str | None:
    """Named fields, each checked by its own spec; unknown fields are refused."""
    if not isinstance(value, dict):
        return "expected a mapping of settings"
    known = {f.name: f for f in spec.fields}
    for name, item in value.items():
        if name not in known:
            return f"unknown field {name!r} (known: {', '.join(known)})"
        problem = prop_problem(known[name], item)
        if problem is not None:
            return f"{name}: {problem}"
    return None


def _dist_problem(value: Any, optional: bool) -> str | None:
    """A distribution: one ``"R"`` / ``"S<mesh axis>"`` per dimension, each mesh axis once."""
    ok = isinstance(value, list) and all(
        isinstance(d, str) and (d == "R" or re.fullmatch(r"S\d+", d)) for d in value
    )
    if not ok or (not value and not optional):
        what = "a list" if optional else "a non-empty list"
        return f"expected {what} of 'R' or 'S<mesh axis>' entries"
    axes = [d for d in value if d != "R"]
    for d in axes:
        if axes.count(d) > 1:
            return (
                f"mesh axis {d[1:]} shards two dimensions; a mesh axis can shard at most one "
                "dimension"
            )
    return None


def _pools_problem(value: Any) -> str | None:
    """``[{kernel, workers}, ...]``: each kernel (a kernel.def name) once, workers >= 1."""

    def kernel_problem(name: Any) -> str | None:
        if not isinstance(name, str) or not exprs.is_identifier(name):
            return f"expected a kernel name, got {name!r}"
        return None

    def workers_problem(workers: Any) -> str | None:
        if not _is_int(workers) or workers < 1:
            return f"expected an integer >= 1, got {workers!r}"
        return None

    return _entries_problem(
        value, ("kernel", "workers"), kernel_problem, "kernel {!r} has two pools", workers_problem
    )


def prop_applies(node: Node, name: str) -> bool:
    """Whether property ``name`` of ``node`` means anything under the node's other choices.

    The editor disables the ones that do not (a worker count while dispatch is affinity); the
    exporter ignores them. Properties of other kinds always apply.
    """
    applies = kind_of(node).prop_applies
    return applies(node.props, name) if applies is not None else True


def node_prop_problem(node: Node, name: str, value: Any) -> str | None:
    """``prop_problem`` plus the checks that need the node's other properties.

    A tensor's layout has one entry per dimension of its shape (or none: the default).
    """
    k = kind(node.kind)
    problem = prop_problem(k.prop(name), value)
    if problem is not None or k.prop_check is None:
        return problem
    return k.prop_check(node.props, name, value)


def _params_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return "expected a list of parameters"
    seen: set[str] = set()
    for i, p in enumerate(value):
        if not isinstance(p, dict):
            return f"[{i}]: expected a parameter object"
        name = p.get("name")
        if name == CALL_TASK_PORT:
            return f"[{i}].name: {name!r} is reserved (the task output of kernel calls)"
        if not isinstance(name, str) or not exprs.is_identifier(name):
            return f"[{i}].name: expected an identifier, got {name!r:.60}"
        if name in seen:
            return f"[{i}].name: duplicate parameter {name!r}"
        seen.add(name)
        if p.get("direction", "In") not in DIRECTIONS:
            return f"[{i}].direction: expected one of {', '.join(DIRECTIONS)}"
        kind = p.get("kind", "tensor")
        if kind not in PARAM_KINDS:
            return f"[{i}].kind: expected one of {', '.join(PARAM_KINDS)}"
        for field in PARAM_DEFAULTS:
            if field in p and field not in PARAM_FIELDS[kind]:
                return f"[{i}].{field}: a {kind} parameter has no {field}" + (
                    "; choose kind tile for a Tile[rows, cols, dtype]" if kind == "tensor" else ""
                )
        for dim in ("rows", "cols"):
            if dim in p and (not _is_int(p[dim]) or p[dim] < 1):
                return f"[{i}].{dim}: expected a positive integer"
        if "dtype" in p and p["dtype"] not in DTYPES:
            return f"[{i}].dtype: expected a dtype ({', '.join(DTYPES)})"
        extra = set(p) - {"name", "direction", "kind", "rows", "cols", "dtype"}
        if extra:
            return f"[{i}]: unknown field {sorted(extra)[0]!r}"
    return None


__all__ = ["prop_problem", "prop_applies", "node_prop_problem"]
