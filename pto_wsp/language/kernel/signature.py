"""Kernel signatures: the ``KernelParam`` list read from a function's annotations and source.

Decoration reads each annotation into a ``KernelParam`` (a missing or unknown annotation is an
error right there, pointing at the parameter's own line) and notes whether the body is empty,
which decides between a traced, an empty and a custom C++ kernel.
"""

from __future__ import annotations

import ast
import dis
import inspect
import linecache
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ...errors import SourceLoc, TypeCheckError
from ..tensor import Tensor
from ..types import DType
from .annotations import (
    CONSTEXPR_DTYPES,
    CONSTEXPR_TYPES,
    AxisVar,
    Constexpr,
    Direction,
    In,
    InOut,
    Out,
    Scalar,
    Tile,
    ann_repr,
    check_constexpr_value,
    check_scalar_value,
)

#: What a kernel name must look like (it becomes a C++ identifier).
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class KernelParam:
    """One kernel parameter. ``shape`` is None for ``Tensor`` params until specialized;
    ``default`` is None when the parameter has no default."""

    name: str
    direction: str  # "in" | "out" | "inout" | "constexpr"
    kind: str  # "tensor" | "tile" | "scalar"
    shape: tuple[int, ...] | None
    dtype: DType | None
    default: Any = None

    @property
    def is_data(self) -> bool:
        return self.kind in ("tensor", "tile")

    @property
    def required(self) -> bool:
        return self.default is None

    def annotation(self) -> str:
        """The annotation as the user wrote it, for messages."""
        if self.direction == "constexpr":
            assert self.dtype is not None
            return f"Constexpr[{CONSTEXPR_TYPES[self.dtype].__name__}]"
        if self.kind == "scalar":
            return f"Scalar[{self.dtype!r}]"
        wrap = {"in": "In", "out": "Out", "inout": "InOut"}[self.direction]
        if self.kind == "tile":
            assert self.shape is not None
            return f"{wrap}[Tile[{self.shape[0]}, {self.shape[1]}, {self.dtype!r}]]"
        return f"{wrap}[Tensor]"

    def __str__(self) -> str:
        text = f"{self.name}: {self.annotation()}"
        if self.default is not None:
            text += f" = {self.default!r}"
        return text


class KernelSignature(list):
    """The ordered ``KernelParam`` list of a kernel; ``str()`` is the Python signature."""

    def __init__(self, params: Iterable[KernelParam], name: str = "kernel"):
        super().__init__(params)
        self.kernel_name = name

    @property
    def names(self) -> list[str]:
        return [p.name for p in self]

    def param(self, name: str) -> KernelParam:
        for p in self:
            if p.name == name:
                return p
        raise KeyError(name)

    def __str__(self) -> str:
        return f"{self.kernel_name}({', '.join(str(p) for p in self)})"


def _is_tensor_annotation(x: Any) -> bool:
    # By name too: a class called Tensor from elsewhere (a user's own stub) means the same.
    return isinstance(x, type) and (issubclass(x, Tensor) or x.__name__ == "Tensor")


def _is_axisvar_annotation(x: Any) -> bool:
    return x is AxisVar or (isinstance(x, type) and x.__name__ == "AxisVar")


_ANNOTATION_HELP = (
    "annotate it as In[...], Out[...] or InOut[...] of Tensor or Tile[rows, cols, dtype], "
    "as Scalar[dtype], Constexpr[int|float|bool] or AxisVar"
)


def _param_from_annotation(
    name: str, ann: Any, default: Any, kernel_name: str, loc: SourceLoc | None
) -> KernelParam:
    def bad(why: str) -> TypeCheckError:
        return TypeCheckError(f"kernel {kernel_name}: parameter '{name}' {why}", loc=loc)

    has_default = default is not inspect.Parameter.empty
    value = default if has_default else None
    if has_default and default is None:
        raise bad("has default None; a kernel parameter default must be a number")
    if isinstance(ann, Direction) and isinstance(ann.inner, Scalar) and ann.direction == "in":
        ann = ann.inner  # In[Scalar[dt]] is Scalar[dt]
    if isinstance(ann, Direction):
        inner = ann.inner
        if has_default:
            raise bad(f"is {ann!r} and cannot have a default value")
        if isinstance(inner, Tile):
            return KernelParam(name, ann.direction, "tile", inner.shape, inner.dtype)
        if _is_tensor_annotation(inner):
            return KernelParam(name, ann.direction, "tensor", None, None)
        raise bad(f"has unsupported annotation {ann!r}; {_ANNOTATION_HELP}")
    if isinstance(ann, Scalar) or _is_axisvar_annotation(ann):
        dtype = ann.dtype if isinstance(ann, Scalar) else DType.I64
        if has_default:
            check_scalar_value(value, dtype, f"default of parameter '{name}'", loc)
        return KernelParam(name, "in", "scalar", (), dtype, value)
    if isinstance(ann, Constexpr):
        dtype = CONSTEXPR_DTYPES[ann.py_type]
        if has_default:
            value = check_constexpr_value(value, ann.py_type, f"default of '{name}'", loc)
        return KernelParam(name, "constexpr", "scalar", (), dtype, value)
    if ann is inspect.Parameter.empty:
        raise bad(f"has no annotation; {_ANNOTATION_HELP}")
    raise bad(f"has unknown annotation {ann_repr(ann)}; {_ANNOTATION_HELP}")


# ---------------------------------------------------------------------------------------------
# source inspection


@dataclass
class SourceInfo:
    """What the function's source says: def line, per-parameter lines, empty body or not."""

    def_loc: SourceLoc
    param_lines: dict[str, int]
    empty: bool


def loc_at(filename: str, line: int) -> SourceLoc:
    return SourceLoc(filename, line, linecache.getline(filename, line).strip())


def _bytecode_is_empty(fn: Callable) -> bool:
    """True when the code only returns None (how CPython compiles docstring/``...``/``pass``)."""
    for ins in dis.get_instructions(fn):
        if ins.opname in ("RESUME", "NOP", "CACHE", "RETURN_VALUE"):
            continue
        if ins.opname in ("LOAD_CONST", "RETURN_CONST") and ins.argval is None:
            continue
        return False
    return True


def _is_trivial_stmt(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def inspect_source(fn: Callable) -> SourceInfo:
    code = fn.__code__
    filename = code.co_filename
    try:
        lines, start = inspect.getsourcelines(fn)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name == fn.__name__
            ):
                a = node.args
                args = [*a.posonlyargs, *a.args, *a.kwonlyargs]
                return SourceInfo(
                    loc_at(filename, start + node.lineno - 1),
                    {arg.arg: start + arg.lineno - 1 for arg in args},
                    all(_is_trivial_stmt(s) for s in node.body),
                )
    return SourceInfo(loc_at(filename, code.co_firstlineno), {}, _bytecode_is_empty(fn))


def _resolve_annotation(ann: Any, fn: Callable) -> Any:
    """Evaluate a string annotation (``from __future__ import annotations``)."""
    if not isinstance(ann, str):
        return ann
    namespace = dict(_annotation_names())
    namespace.update(getattr(fn, "__globals__", {}))
    return eval(ann, namespace)  # noqa: S307 - the user's own annotation text


def _annotation_names() -> dict[str, Any]:  # noqa: N802
    names: dict[str, Any] = {
        "In": In,
        "Out": Out,
        "InOut": InOut,
        "Constexpr": Constexpr,
        "Tile": Tile,
        "Scalar": Scalar,
        "AxisVar": AxisVar,
        "DType": DType,
        "Tensor": Tensor,
    }
    return names


def signature_of(fn: Callable, name: str, src: SourceInfo) -> KernelSignature:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as e:
        raise TypeCheckError(
            f"kernel {name}: cannot read its signature: {e}", loc=src.def_loc
        ) from e
    params = []
    for p in sig.parameters.values():
        line = src.param_lines.get(p.name)
        loc = loc_at(src.def_loc.file, line) if line else src.def_loc
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeCheckError(
                f"kernel {name}: parameter '{p.name}' is variadic; kernel parameters must be "
                "named one by one",
                loc=loc,
            )
        try:
            ann = _resolve_annotation(p.annotation, fn)
        except TypeCheckError:
            raise
        except Exception as e:
            raise TypeCheckError(
                f"kernel {name}: parameter '{p.name}' has an annotation that cannot be "
                f"evaluated: {p.annotation!r} ({type(e).__name__}: {e})",
                loc=loc,
            ) from e
        params.append(_param_from_annotation(p.name, ann, p.default, name, loc))
    return KernelSignature(params, name)
