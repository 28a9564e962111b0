"""Kernels (spec §6): ``@kernel``/``@jit_kernel``, signatures, specialization and calls.

A kernel is a Python function whose parameters are annotated with ``In``/``Out``/``InOut``/
``Constexpr``/``Scalar``. Decoration reads the annotations into a ``KernelSignature`` (a missing
or unknown annotation is an error right there), classifies the body (``traced`` pto ops,
``empty``, or custom ``cpp``), and traces a ``traced`` body at once when every shape is static
(``Tile`` parameters) so type errors surface at definition. Bodies over ``In[Tensor]`` parameters
are traced per specialization (shapes, dtypes, constexpr values), cached.

Inside a ``@workload`` body, ``kern[b, h](...)`` / ``kern.at(b=...)(...)`` / ``kern(...)`` bind
arguments exactly like a Python call, check them against the signature, and record a
``KernelCall`` statement in the open workload scope.
"""

from __future__ import annotations

import ast
import dis
import inspect
import linecache
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import CompileError, SourceLoc, TypeCheckError, user_location
from . import _builder, pto
from .layout import check_call_layouts
from .pto import OpRecord
from .scalar_expr import ScalarExpr, as_expr
from .shape_rule import tile_dtype_problem, tile_shape_problem
from .toolchain import check_target, toolchain
from .types import DType

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# ---------------------------------------------------------------------------------------------
# signature annotations


def _ann_repr(x: Any) -> str:
    if isinstance(x, type):
        return x.__name__
    return repr(x)


@dataclass(frozen=True)
class _Direction:
    """``In[T]`` / ``Out[T]`` / ``InOut[T]``: a data parameter and how the kernel uses it."""

    inner: Any
    direction: ClassVar[str] = ""

    def __class_getitem__(cls, inner: Any) -> _Direction:
        return cls(inner)

    def __repr__(self) -> str:
        return f"{type(self).__name__}[{_ann_repr(self.inner)}]"


class In(_Direction):
    """Input: read-only inside the kernel."""

    direction = "in"


class Out(_Direction):
    """Output: write-only inside the kernel."""

    direction = "out"


class InOut(_Direction):
    """Input/output: read and written."""

    direction = "inout"


@dataclass(frozen=True)
class Constexpr:
    """``Constexpr[int|float|bool]``: a compile-time constant, part of the specialization key."""

    py_type: type

    def __class_getitem__(cls, py_type: Any) -> Constexpr:
        return cls(py_type)

    def __post_init__(self) -> None:
        if not isinstance(self.py_type, type) or self.py_type not in _CONSTEXPR_DTYPES:
            raise TypeCheckError(
                f"Constexpr[{_ann_repr(self.py_type)}] is not supported; use Constexpr[int], "
                "Constexpr[float] or Constexpr[bool]",
                loc=user_location(),
            )

    def __repr__(self) -> str:
        return f"Constexpr[{self.py_type.__name__}]"


_CONSTEXPR_DTYPES: dict[type, DType] = {int: DType.I64, float: DType.F64, bool: DType.BOOL}
_CONSTEXPR_TYPES: dict[DType, type] = {v: k for k, v in _CONSTEXPR_DTYPES.items()}


def _positive_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool) and v > 0


@dataclass(frozen=True)
class Tile:
    """``Tile[rows, cols, dtype]``: a statically shaped 2-D tile parameter."""

    rows: int
    cols: int
    dtype: DType

    def __class_getitem__(cls, item: Any) -> Tile:
        if not isinstance(item, tuple) or len(item) != 3:
            raise TypeCheckError(
                f"Tile takes [rows, cols, dtype], got Tile[{item!r}]", loc=user_location()
            )
        return cls(*item)

    def __post_init__(self) -> None:
        if not (_positive_int(self.rows) and _positive_int(self.cols)):
            raise TypeCheckError(
                f"Tile dimensions must be positive ints, got Tile[{self.rows!r}, {self.cols!r}, "
                "...]",
                loc=user_location(),
            )
        object.__setattr__(self, "rows", int(self.rows))
        object.__setattr__(self, "cols", int(self.cols))
        object.__setattr__(self, "dtype", DType.from_any(self.dtype))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    def __repr__(self) -> str:
        return f"Tile[{self.rows}, {self.cols}, {self.dtype!r}]"


@dataclass(frozen=True)
class Scalar:
    """``Scalar[dtype]``: a runtime scalar argument (a number or a loop-variable expression)."""

    dtype: DType

    def __class_getitem__(cls, dtype: Any) -> Scalar:
        return cls(dtype)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", DType.from_any(self.dtype))

    def __repr__(self) -> str:
        return f"Scalar[{self.dtype!r}]"


class AxisVar:
    """Annotation for a parameter that receives an iteration variable (an i64 scalar)."""


# ---------------------------------------------------------------------------------------------
# signature


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
            return f"Constexpr[{_CONSTEXPR_TYPES[self.dtype].__name__}]"
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


def _tensor_module() -> Any:
    try:
        from . import tensor
    except ImportError:
        return None
    return tensor


def _is_tensor_annotation(x: Any) -> bool:
    mod = _tensor_module()
    cls = getattr(mod, "Tensor", None) if mod is not None else None
    if isinstance(cls, type) and isinstance(x, type):
        return issubclass(x, cls)
    return isinstance(x, type) and x.__name__ == "Tensor"


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
    if isinstance(ann, _Direction) and isinstance(ann.inner, Scalar) and ann.direction == "in":
        ann = ann.inner  # In[Scalar[dt]] is Scalar[dt]
    if isinstance(ann, _Direction):
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
            _check_scalar_value(value, dtype, f"default of parameter '{name}'", loc)
        return KernelParam(name, "in", "scalar", (), dtype, value)
    if isinstance(ann, Constexpr):
        dtype = _CONSTEXPR_DTYPES[ann.py_type]
        if has_default:
            value = _check_constexpr_value(value, ann.py_type, f"default of '{name}'", loc)
        return KernelParam(name, "constexpr", "scalar", (), dtype, value)
    if ann is inspect.Parameter.empty:
        raise bad(f"has no annotation; {_ANNOTATION_HELP}")
    raise bad(f"has unknown annotation {_ann_repr(ann)}; {_ANNOTATION_HELP}")


def _check_scalar_value(value: Any, dtype: DType, what: str, loc: SourceLoc | None) -> None:
    if isinstance(value, ScalarExpr):
        return
    if not isinstance(value, int | float | bool | np.integer | np.floating | np.bool_):
        raise TypeCheckError(
            f"{what} must be a number or scalar expression, got {type(value).__name__}", loc=loc
        )
    if (
        not dtype.is_float
        and isinstance(value, float | np.floating)
        and not float(value).is_integer()
    ):
        raise TypeCheckError(f"{what} is {value!r}, not an integer ({dtype.value})", loc=loc)
    if not dtype.is_signed and not isinstance(value, bool | np.bool_) and value < 0:
        raise TypeCheckError(f"{what} is {value!r}, negative for {dtype.value}", loc=loc)


def _check_constexpr_value(value: Any, py_type: type, what: str, loc: SourceLoc | None) -> Any:
    if isinstance(value, ScalarExpr):
        if value.kind != "const":
            raise TypeCheckError(
                f"{what} is Constexpr[{py_type.__name__}] and needs a compile-time constant, "
                f"got the runtime expression {value}",
                loc=loc,
            )
        value = value.value
    if isinstance(value, np.generic):
        value = value.item()
    if py_type is bool:
        ok = isinstance(value, bool)
    elif py_type is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:  # float accepts ints too, as Python does
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise TypeCheckError(
            f"{what} is Constexpr[{py_type.__name__}], got {type(value).__name__} {value!r}",
            loc=loc,
        )
    return float(value) if py_type is float else value


# ---------------------------------------------------------------------------------------------
# source inspection


@dataclass
class _SourceInfo:
    """What the function's source says: def line, per-parameter lines, empty body or not."""

    def_loc: SourceLoc
    param_lines: dict[str, int]
    empty: bool


def _loc_at(filename: str, line: int) -> SourceLoc:
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


def _inspect_source(fn: Callable) -> _SourceInfo:
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
                return _SourceInfo(
                    _loc_at(filename, start + node.lineno - 1),
                    {arg.arg: start + arg.lineno - 1 for arg in args},
                    all(_is_trivial_stmt(s) for s in node.body),
                )
    return _SourceInfo(_loc_at(filename, code.co_firstlineno), {}, _bytecode_is_empty(fn))


def _resolve_annotation(ann: Any, fn: Callable) -> Any:
    """Evaluate a string annotation (``from __future__ import annotations``)."""
    if not isinstance(ann, str):
        return ann
    namespace = dict(_ANNOTATION_NAMES())
    namespace.update(getattr(fn, "__globals__", {}))
    return eval(ann, namespace)  # noqa: S307 - the user's own annotation text


def _ANNOTATION_NAMES() -> dict[str, Any]:  # noqa: N802
    names: dict[str, Any] = {
        "In": In,
        "Out": Out,
        "InOut": InOut,
        "Constexpr": Constexpr,
        "Tile": Tile,
        "Scalar": Scalar,
        "AxisVar": AxisVar,
        "DType": DType,
    }
    mod = _tensor_module()
    if mod is not None and hasattr(mod, "Tensor"):
        names["Tensor"] = mod.Tensor
    return names


def _signature_of(fn: Callable, name: str, src: _SourceInfo) -> KernelSignature:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as e:
        raise TypeCheckError(
            f"kernel {name}: cannot read its signature: {e}", loc=src.def_loc
        ) from e
    params = []
    for p in sig.parameters.values():
        line = src.param_lines.get(p.name)
        loc = _loc_at(src.def_loc.file, line) if line else src.def_loc
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


# ---------------------------------------------------------------------------------------------
# kernel IR


@dataclass(eq=False)
class KernelIR:
    """A traced (or signature-only) kernel: params are values ``0..n-1``, each op's result the
    next id. ``constexprs`` are the constexpr values this specialization was traced with."""

    name: str
    params: list[KernelParam]
    ops: list[OpRecord]
    body_kind: str
    constexprs: dict[str, Any] = field(default_factory=dict)
    loc: SourceLoc | None = None
    kernel: KernelRef | None = field(default=None, repr=False)

    @property
    def cpp_src(self) -> str | None:
        return self.kernel.cpp_src if self.kernel is not None else None

    @property
    def cpp_includes(self) -> list[str]:
        return list(self.kernel.cpp_includes) if self.kernel is not None else []

    @property
    def cost(self) -> int | None:
        return self.kernel.cost if self.kernel is not None else None

    @property
    def dialect(self) -> str:
        return self.kernel.dialect if self.kernel is not None else "pto"

    def __repr__(self) -> str:
        consts = f" {self.constexprs}" if self.constexprs else ""
        return f"<KernelIR {self.name} {self.body_kind}, {len(self.ops)} ops{consts}>"

    def dump(self) -> str:
        """The C++ IR printer's text for this kernel."""
        return toolchain().lower_kernel_ir(self, self.name, self.kernel).print()


@dataclass(eq=False)
class CompiledKernel:
    """``KernelRef.compile``'s result: the IR it was compiled from and the generated source."""

    target: str
    ir: KernelIR
    code: str


# ---------------------------------------------------------------------------------------------
# KernelRef


class KernelRef:
    """A kernel defined by ``@kernel``/``@jit_kernel``/``@ptoisa_kernel``/``ExternalKernel``."""

    module = None  # spec §6.3: parent module; kernels here are not grouped into modules

    def __init__(
        self,
        *,
        name: str,
        signature: KernelSignature,
        body_kind: str,
        fn: Callable | None = None,
        cpp_src: str | None = None,
        cpp_path: str | None = None,
        cpp_includes: Iterable[str] = (),
        cost: int | None = None,
        loc: SourceLoc | None = None,
        dialect: str = "pto",
        decorator: str = "kernel",
    ):
        self.name = name
        self.decorator = decorator  # "kernel", "jit_kernel", "ptoisa_kernel": how it was made
        self.signature = signature
        self.body_kind = body_kind
        self.fn = fn
        self._cpp_src = cpp_src
        self.cpp_path = cpp_path
        self.cpp_includes = list(cpp_includes)
        self.cost = cost
        self.loc = loc
        self.dialect = dialect
        self._cache: dict[tuple, KernelIR] = {}
        self._eager: KernelIR | None = None
        self._last: KernelIR | None = None
        if fn is not None:
            self.__doc__ = fn.__doc__
            self.__wrapped__ = fn
        if body_kind == "traced" and self._statically_typed():
            self._eager = self.specialize({}, {})

    # ---- identity ---------------------------------------------------------------------
    @property
    def symbol(self) -> str:
        return self.name

    @property
    def cpp_src(self) -> str | None:
        """The custom C++ body; for a legacy ``ExternalKernel`` read from its file on demand."""
        if self._cpp_src is None and self.cpp_path is not None:
            try:
                with open(self.cpp_path, encoding="utf-8") as f:
                    self._cpp_src = f.read()
            except OSError as e:
                raise CompileError(
                    f"kernel {self.name}: cannot read its implementation file "
                    f"{self.cpp_path!r}: {e.strerror}",
                    loc=self.loc,
                ) from e
        return self._cpp_src

    def __repr__(self) -> str:
        return f"<KernelRef {self.signature} {self.body_kind}>"

    def _statically_typed(self) -> bool:
        return all(
            p.kind != "tensor" and (p.direction != "constexpr" or not p.required)
            for p in self.signature
        )

    # ---- specialization ---------------------------------------------------------------
    @property
    def ir(self) -> KernelIR:
        """The decoration-time trace, else the most recent specialization.

        A kernel without a body to trace (``empty``/``cpp``) answers with its signature."""
        if self._eager is not None:
            return self._eager
        if self._last is not None:
            return self._last
        if self.body_kind != "traced":
            return KernelIR(self.name, list(self.signature), [], self.body_kind, {}, self.loc, self)
        tensors = [p.name for p in self.signature if p.kind == "tensor"]
        consts = [p.name for p in self.signature if p.direction == "constexpr" and p.required]
        needs = []
        if tensors:
            needs.append(f"shapes and dtypes for {', '.join(tensors)}")
        if consts:
            needs.append(f"values for Constexpr {', '.join(consts)}")
        raise TypeCheckError(
            f"kernel {self.name} has no IR yet: shapes are needed to trace its body "
            f"({' and '.join(needs)}); call {self.name}.specialize({{name: (shape, dtype)}}, "
            f"{{constexpr: value}}) or call it in a workload. Signature: {self.signature}",
            loc=user_location(),
        )

    def specialize(
        self,
        arg_types: dict[str, tuple[tuple[int, ...], Any]] | None = None,
        constexprs: dict[str, Any] | None = None,
    ) -> KernelIR:
        """The kernel traced for concrete tensor shapes/dtypes and constexpr values (cached)."""
        loc = user_location()
        for what, given in (("arg_types", arg_types), ("constexprs", constexprs)):
            if given is not None and not isinstance(given, Mapping):
                raise TypeCheckError(
                    f"kernel {self.name}: specialize({what}=...) takes a dict by parameter name, "
                    f"got {type(given).__name__}",
                    loc=loc,
                )
        arg_types = dict(arg_types or {})
        constexprs = dict(constexprs or {})
        names = set(self.signature.names)
        for what, given in (("arg_types", arg_types), ("constexprs", constexprs)):
            unknown = sorted(set(given) - names)
            if unknown:
                raise TypeCheckError(
                    f"kernel {self.name}: {what} names unknown parameter(s) "
                    f"{', '.join(unknown)}; signature: {self.signature}",
                    loc=loc,
                )
        params: list[KernelParam] = []
        cvals: dict[str, Any] = {}
        key: list[Any] = []
        for p in self.signature:
            if p.direction == "constexpr":
                if p.name in arg_types:
                    raise TypeCheckError(
                        f"kernel {self.name}: '{p.name}' is Constexpr; pass its value in "
                        "constexprs, not arg_types",
                        loc=loc,
                    )
                if p.name in constexprs:
                    raw = constexprs[p.name]
                elif not p.required:
                    raw = p.default
                else:
                    raise TypeCheckError(
                        f"kernel {self.name}: Constexpr parameter '{p.name}' needs a value; "
                        f"signature: {self.signature}",
                        loc=loc,
                    )
                value = _check_constexpr_value(
                    raw, _CONSTEXPR_TYPES[p.dtype], f"kernel {self.name}: '{p.name}'", loc
                )
                cvals[p.name] = value
                key.append((p.name, value))
                params.append(p)
                continue
            if p.name in constexprs:
                raise TypeCheckError(
                    f"kernel {self.name}: '{p.name}' is not a Constexpr parameter", loc=loc
                )
            if not p.is_data:
                if p.name in arg_types:
                    raise TypeCheckError(
                        f"kernel {self.name}: '{p.name}' is a scalar parameter; its type is "
                        f"fixed by its annotation {p.annotation()}",
                        loc=loc,
                    )
                params.append(p)
                continue
            spec = arg_types.get(p.name)
            if spec is None:
                if p.kind == "tensor" and self.body_kind == "traced":
                    raise TypeCheckError(
                        f"kernel {self.name}: parameter '{p.name}' ({p.annotation()}) needs a "
                        "shape and dtype in arg_types to trace the body",
                        loc=loc,
                    )
                params.append(p)
                key.append((p.name, p.shape, p.dtype))
                continue
            shape, dtype = self._arg_type(p, spec, loc)
            if p.kind == "tile" and (shape != p.shape or dtype is not p.dtype):
                raise TypeCheckError(
                    f"kernel {self.name}: parameter '{p.name}' is {p.annotation()} but "
                    f"arg_types gives {dtype.value}{list(shape)}",
                    loc=loc,
                )
            params.append(KernelParam(p.name, p.direction, p.kind, shape, dtype, p.default))
            key.append((p.name, shape, dtype))
        cache_key = tuple(key)
        cached = self._cache.get(cache_key)
        if cached is None:
            cached = self._trace(params, cvals)
            self._cache[cache_key] = cached
        self._last = cached
        return cached

    def _arg_type(
        self, p: KernelParam, spec: Any, loc: SourceLoc | None
    ) -> tuple[tuple[int, ...], DType]:
        try:
            shape, dtype = spec
            shape = tuple(shape)
        except (TypeError, ValueError):
            raise TypeCheckError(
                f"kernel {self.name}: arg_types[{p.name!r}] must be (shape, dtype), got {spec!r}",
                loc=loc,
            ) from None
        if not all(
            isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise TypeCheckError(
                f"kernel {self.name}: arg_types[{p.name!r}] shape {shape!r} must be "
                "non-negative ints",
                loc=loc,
            )
        return tuple(int(d) for d in shape), DType.from_any(dtype)

    def specializations(self) -> list[KernelIR]:
        """Every cached specialization, oldest first."""
        return list(self._cache.values())

    def _trace(self, params: list[KernelParam], cvals: dict[str, Any]) -> KernelIR:
        if self.body_kind != "traced":
            return KernelIR(self.name, params, [], self.body_kind, cvals, self.loc, self)
        assert self.fn is not None
        sig = inspect.signature(self.fn)
        with pto.tracing(self.name, params) as tr:
            pos: list[Any] = []
            kw: dict[str, Any] = {}
            for i, (p, sp) in enumerate(zip(params, sig.parameters.values(), strict=True)):
                arg = cvals[p.name] if p.direction == "constexpr" else tr.param_values[i]
                if sp.kind is sp.KEYWORD_ONLY:
                    kw[p.name] = arg
                else:
                    pos.append(arg)
            result = self.fn(*pos, **kw)
        if result is not None:
            raise TypeCheckError(
                f"kernel {self.name} returned {result!r}; kernel bodies return nothing: write "
                "results with pto.store(out, value)",
                loc=self.loc,
            )
        return KernelIR(self.name, params, list(tr.ops), "traced", cvals, self.loc, self)

    # ---- compilation ------------------------------------------------------------------
    def compile(self, target: str = "cpu_sim", **constexprs: Any) -> CompiledKernel:
        """Generate this kernel's source for ``target`` (for inspection; workloads run it).

        Constexpr values given here select the specialization; otherwise ``self.ir`` is used.
        """
        check_target(target)
        kir = self.specialize({}, constexprs) if constexprs else self.ir
        return CompiledKernel(target, kir, toolchain().emit_kernel_source(kir, target))

    def lower(self, target: str = "cpu_sim") -> Any:
        """The C++ IR kernel (``pto_wsp._core.ir.Kernel``); kernel IR is target-independent,
        ``target`` is checked so a typo is not silently accepted."""
        check_target(target)
        return toolchain().lower_kernel_ir(self.ir, self.name, self)

    # ---- calls ------------------------------------------------------------------------
    def __getitem__(self, axes: Any) -> BoundKernel:
        items = axes if isinstance(axes, tuple) else (axes,)
        return BoundKernel(self, tuple(self._axis(a, i) for i, a in enumerate(items)))

    def at(self, **axes: Any) -> BoundKernel:
        """Bind iteration axes by name (TileLang style): ``kern.at(b=b, h=h)(...)``."""
        values = tuple(self._axis(v, n) for n, v in axes.items())
        return BoundKernel(self, values, tuple(axes))

    def _axis(self, value: Any, which: Any) -> ScalarExpr:
        try:
            return as_expr(value)
        except TypeCheckError:
            raise TypeCheckError(
                f"kernel {self.name}: axis {which!r} must be a loop variable or an integer "
                f"expression, got {type(value).__name__} {value!r}",
                loc=user_location(),
            ) from None

    def __call__(self, *args: Any, **kwargs: Any) -> KernelCall:
        return BoundKernel(self, ())._call(args, kwargs, user_location())


class BoundKernel:
    """A kernel with its iteration axes bound; calling it records a ``KernelCall``."""

    def __init__(
        self, kernel: KernelRef, axes: tuple[ScalarExpr, ...], axis_names: tuple[str, ...] = ()
    ):
        self.kernel = kernel
        self.axes = axes
        self.axis_names = axis_names

    def __repr__(self) -> str:
        return f"<BoundKernel {self.kernel.name}[{', '.join(str(a) for a in self.axes)}]>"

    def __getitem__(self, axes: Any) -> BoundKernel:
        raise TypeCheckError(
            f"kernel {self.kernel.name} already has its axes bound; write "
            f"{self.kernel.name}[a, b](...) with all axes at once",
            loc=user_location(),
        )

    def __call__(self, *args: Any, **kwargs: Any) -> KernelCall:
        return self._call(args, kwargs, user_location())

    def _call(self, args: tuple, kwargs: dict[str, Any], loc: SourceLoc | None) -> KernelCall:
        k = self.kernel
        if pto.in_trace():
            raise TypeCheckError(
                f"kernel {k.name} is called inside a kernel body; kernels are called from "
                "@workload bodies only",
                loc=loc,
            )
        bound = _bind_arguments(k, args, kwargs, loc)
        check_call_layouts(bound, f"call of kernel {k.name}", loc)  # join rule (spec §2.3)
        call = KernelCall(k, self.axes, bound, loc, self.axis_names)
        _builder.record(call, what=f"calling kernel {k.name}")
        return call


def _bind_arguments(
    k: KernelRef, args: tuple, kwargs: dict[str, Any], loc: SourceLoc | None
) -> dict[str, Any]:
    """Bind like a Python call, then check each argument's kind against its parameter."""
    sig = k.signature
    problems: list[str] = []
    bound: dict[str, Any] = {}
    if len(args) > len(sig):
        problems.append(f"takes {len(sig)} arguments but {len(args)} positional were given")
    for p, a in zip(sig, args, strict=False):
        bound[p.name] = a
    for name, value in kwargs.items():
        if name not in sig.names:
            problems.append(f"unknown argument '{name}'")
        elif name in bound:
            problems.append(f"got multiple values for argument '{name}'")
        else:
            bound[name] = value
    missing = [p.name for p in sig if p.name not in bound and p.required]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        problems.append(f"missing argument{plural} {', '.join(repr(m) for m in missing)}")
    if problems:
        raise TypeCheckError(
            f"call of kernel {k.name}: {'; '.join(problems)}; expected {sig}", loc=loc
        )
    out: dict[str, Any] = {}
    for p in sig:
        if p.name in bound:
            out[p.name] = _check_argument(k, p, bound[p.name], loc)
        elif p.direction == "constexpr":
            out[p.name] = p.default
        else:
            out[p.name] = as_expr(p.default)
    return out


def _is_tensor_value(v: Any) -> bool:
    mod = _tensor_module()
    if mod is not None:
        classes = tuple(
            c
            for c in (getattr(mod, "Tensor", None), getattr(mod, "TensorView", None))
            if isinstance(c, type)
        )
        if classes and isinstance(v, classes):
            return True
    if isinstance(v, np.ndarray | ScalarExpr) or isinstance(v, type):
        return False
    return (
        hasattr(v, "shape")
        and hasattr(v, "dtype")
        and (hasattr(v, "root") or hasattr(v, "location"))
    )


def _check_argument(k: KernelRef, p: KernelParam, value: Any, loc: SourceLoc | None) -> Any:
    where = f"call of kernel {k.name}: argument '{p.name}' ({p.annotation()})"
    if p.is_data:
        if not _is_tensor_value(value):
            raise TypeCheckError(
                f"{where} expects a Tensor or tensor view, got {type(value).__name__}; "
                f"expected {k.signature}",
                loc=loc,
            )
        if p.kind == "tile":
            _check_tile_argument(where, p, value, loc)
        return value
    if p.direction == "constexpr":
        return _check_constexpr_value(value, _CONSTEXPR_TYPES[p.dtype], where, loc)
    if _is_tensor_value(value) and tuple(getattr(value, "shape", ()) or ()) != ():
        raise TypeCheckError(f"{where} expects a scalar, got a tensor {value!r}", loc=loc)
    try:
        expr = as_expr(value)
    except TypeCheckError:
        raise TypeCheckError(
            f"{where} expects a number or scalar expression, got {type(value).__name__}",
            loc=loc,
        ) from None
    if not isinstance(value, ScalarExpr) and not hasattr(value, "__scalar_expr__"):
        _check_scalar_value(value, p.dtype, where, loc)
    return expr


def _check_tile_argument(where: str, p: KernelParam, value: Any, loc: SourceLoc | None) -> None:
    shape = [
        int(s) if isinstance(s, int | np.integer) else None
        for s in tuple(getattr(value, "shape", ()) or ())
    ]
    problem = tile_shape_problem(p.shape or (), shape)  # the rule the Studio checks live too
    if problem is not None:
        raise TypeCheckError(f"{where} {problem}", loc=loc)
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        try:
            dt = DType.from_any(dtype)
        except TypeCheckError:
            dt = None
        problem = tile_dtype_problem(p.dtype.value, dt.value) if dt is not None else None
        if problem is not None:
            raise TypeCheckError(f"{where} {problem}", loc=loc)


@dataclass(eq=False)
class KernelCall:
    """One kernel invocation statement of a workload (spec §3.5); also a value for ``send``.

    ``args`` maps every parameter name to its argument: tensors/views as given, scalars as
    ``ScalarExpr``, constexprs as Python values (defaults filled in)."""

    kernel: KernelRef
    axes: tuple[ScalarExpr, ...]
    args: dict[str, Any]
    loc: SourceLoc | None
    axis_names: tuple[str, ...] = ()

    id: int | None = None  # assigned at enumeration (spec §2.4); None while only recorded

    @property
    def kernel_name(self) -> str:
        return self.kernel.name

    @property
    def params(self) -> list[Any]:
        """The axis values bound with ``kernel[...]`` (spec §2.4 ``Task.params``)."""
        return list(self.axes)

    @property
    def resources(self) -> list[Any]:
        """The tensor arguments, in signature order (spec §2.4 ``Task.resources``)."""
        return [v for v in self.args.values() if _is_tensor_value(v)]

    def get(self, axis: str) -> Any:
        """The value bound for the axis named ``axis`` (its loop variable or axis name)."""
        for i, value in enumerate(self.axes):
            names = {getattr(value, "name", None)}
            if i < len(self.axis_names):
                names.add(self.axis_names[i])
            ax = getattr(value, "axis", None)
            if ax is not None:
                names.add(getattr(ax, "name", None))
            if axis in names:
                return value
        known = sorted(str(n) for n in self.axis_names) or [str(a) for a in self.axes]
        raise KeyError(f"task {self.kernel.name} has no axis {axis!r}; axes: {', '.join(known)}")

    def __repr__(self) -> str:
        axes = f"[{', '.join(str(a) for a in self.axes)}]" if self.axes else ""
        args = ", ".join(f"{n}={v!r}" for n, v in self.args.items())
        return f"{self.kernel.name}{axes}({args})"


# ---------------------------------------------------------------------------------------------
# decorators


def _make_kernel(
    fn: Callable,
    *,
    cpp_src: str | None,
    cpp_includes: Iterable[str] | None,
    cost: int | None,
    name: str | None,
    dialect: str,
    decorator: str,
) -> KernelRef:
    if not inspect.isfunction(fn):
        raise TypeCheckError(
            f"@{decorator} decorates a Python function, got {type(fn).__name__}",
            loc=user_location(),
        )
    src = _inspect_source(fn)
    kname = name if name is not None else fn.__name__
    if not isinstance(kname, str) or not _IDENT.match(kname):
        raise TypeCheckError(
            f"@{decorator}: kernel name {kname!r} must be an identifier", loc=src.def_loc
        )
    if cpp_src is not None and not isinstance(cpp_src, str):
        raise TypeCheckError(
            f"@{decorator}: cpp_src must be a string, got {type(cpp_src).__name__}",
            loc=src.def_loc,
        )
    includes: list[Any] | None = []
    if cpp_includes is not None:
        collection = isinstance(cpp_includes, Iterable) and not isinstance(
            cpp_includes, str | bytes | Mapping
        )
        includes = list(cpp_includes) if collection else None
    if includes is None or not all(isinstance(i, str) for i in includes):
        raise TypeCheckError(
            f"@{decorator}: cpp_includes must be a list of header paths, got {cpp_includes!r}",
            loc=src.def_loc,
        )
    if cost is not None and (
        not isinstance(cost, int | np.integer) or isinstance(cost, bool) or cost < 0
    ):
        raise TypeCheckError(
            f"@{decorator}: cost must be a non-negative int (cycles), got {cost!r}",
            loc=src.def_loc,
        )
    if includes and cpp_src is None:
        # Headers are only emitted in front of a C++ body; without one they would be dropped
        # (DESIGN §6, "Silently ignored is a bug").
        raise TypeCheckError(
            f"kernel {kname}: cpp_includes={includes!r} without cpp_src; headers are included "
            "only for a C++ body: add cpp_src=... or drop cpp_includes",
            loc=src.def_loc,
        )
    signature = _signature_of(fn, kname, src)
    if cpp_src is not None:
        if not src.empty:
            raise TypeCheckError(
                f"kernel {kname} has cpp_src and a Python body; with cpp_src the body must be "
                "empty (a docstring, ... or pass)",
                loc=src.def_loc,
            )
        body_kind = "cpp"
    else:
        body_kind = "empty" if src.empty else "traced"
    return KernelRef(
        name=kname,
        signature=signature,
        body_kind=body_kind,
        fn=fn,
        cpp_src=cpp_src,
        cpp_includes=includes,
        cost=int(cost) if cost is not None else None,
        loc=src.def_loc,
        dialect=dialect,
        decorator=decorator,
    )


def _decorator(decorator: str, dialect: str) -> Callable[..., Any]:
    def deco(
        fn: Callable | None = None,
        /,
        *,
        cpp_src: str | None = None,
        cpp_includes: Iterable[str] | None = None,
        cost: int | None = None,
        name: str | None = None,
    ) -> Any:
        def wrap(f: Callable) -> KernelRef:
            return _make_kernel(
                f,
                cpp_src=cpp_src,
                cpp_includes=cpp_includes,
                cost=cost,
                name=name,
                dialect=dialect,
                decorator=decorator,
            )

        return wrap if fn is None else wrap(fn)

    deco.__name__ = decorator
    deco.__qualname__ = decorator
    return deco


kernel = _decorator("kernel", "pto")
kernel.__doc__ = """Define a kernel: ``@kernel`` or ``@kernel(cpp_src=..., cpp_includes=[...],
cost=None, name=None)``. Returns a ``KernelRef``."""

jit_kernel = _decorator("jit_kernel", "pto")
jit_kernel.__doc__ = """Triton-style spelling of ``@kernel`` (same machinery, spec §6.1)."""

__all__ = [
    "In",
    "Out",
    "InOut",
    "Constexpr",
    "Tile",
    "Scalar",
    "AxisVar",
    "KernelParam",
    "KernelSignature",
    "KernelIR",
    "OpRecord",
    "KernelRef",
    "BoundKernel",
    "KernelCall",
    "CompiledKernel",
    "kernel",
    "jit_kernel",
]
