"""``KernelRef``: a defined kernel, its shape specializations, and the calls that record it.

Inside a ``@workload`` body, ``kern[b, h](...)`` / ``kern.at(b=...)(...)`` / ``kern(...)`` bind
arguments exactly like a Python call, check them against the signature, and record a
``KernelCall`` statement in the open workload scope. Bodies over ``In[Tensor]`` parameters are
traced per specialization (shapes, dtypes, constexpr values), cached; a body over static
``Tile`` parameters only is traced at definition so type errors surface there.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import CompileError, SourceLoc, TypeCheckError, user_location
from .. import _builder, pto
from ..layout import check_call_layouts
from ..scalar_expr import ScalarExpr, as_expr
from ..shape_rule import tile_dims
from ..toolchain import check_target, toolchain
from ..types import DType
from .annotations import CONSTEXPR_TYPES, check_constexpr_value
from .call import bind_arguments, is_tensor_value
from .cpp_source import detect_abi, read_source
from .ir import CompiledKernel, KernelIR
from .signature import KernelParam, KernelSignature


@dataclass(frozen=True)
class TraceValue:
    """One parameter as ``KernelRef.trace()`` sees it: ``shape`` is (rows, cols) for a tile or
    tensor parameter (None for a scalar, and for an unshaped ``In[Tensor]`` before any call)."""

    shape: tuple[int, int] | None
    dtype: DType | None
    direction: str
    kind: str


@dataclass(frozen=True)
class KernelTrace:
    """``KernelRef.trace()``: the parameters as (name, value) pairs and the traced ops."""

    name: str
    params: list[tuple[str, TraceValue]] = field(default_factory=list)
    ops: list[Any] = field(default_factory=list)


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
        cpp_body_path: Path | None = None,
        cpp_tu_path: Path | None = None,
        abi: str | None = None,
    ):
        self.name = name
        self.decorator = decorator  # "kernel", "jit_kernel", "ptoisa_kernel": how it was made
        self.signature = signature
        self.body_kind = body_kind
        self.fn = fn
        self._cpp_src = cpp_src
        self.cpp_path = cpp_path
        self.cpp_body_path = cpp_body_path  # a body in a file of its own (read at each build)
        self.cpp_tu_path = cpp_tu_path  # a whole translation unit (read at each build)
        self.abi = abi  # the abi= given at decoration (None: detected, see cpp_abi)
        self.cpp_includes = list(cpp_includes)
        self.cost = cost
        self.loc = loc
        self.dialect = dialect
        self._cache: dict[tuple, KernelIR] = {}
        self._eager: KernelIR | None = None
        self._last: KernelIR | None = None
        self._first_call: dict[str, Any] | None = None  # the arguments of the first call
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
        """The custom C++: ``cpp_src`` as given, or the text of ``cpp_body_path`` /
        ``cpp_tu_path`` (read each time, so an edited file is seen by the next build); for a
        legacy ``ExternalKernel`` its file, read once."""
        for what, path in (
            ("cpp_body_path", self.cpp_body_path),
            ("cpp_tu_path", self.cpp_tu_path),
        ):
            if path is not None:
                try:
                    return read_source(path)
                except (OSError, UnicodeDecodeError) as e:
                    reason = getattr(e, "strerror", None) or str(e)
                    raise CompileError(
                        f"kernel {self.name}: cannot read its {what} {str(path)!r}: {reason}",
                        loc=self.loc,
                    ) from e
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

    @property
    def cpp_abi(self) -> str:
        """How the C++ sees its task: ``tu`` (``cpp_tu_path``), else ``abi=`` when given, else
        ``reference`` for a body naming ``task->`` / ``KernelTaskDesc``, else ``native``
        (``cpp_source``)."""
        if self.body_kind != "cpp":
            return "native"
        if self.cpp_tu_path is not None:
            return "tu"
        if self.abi is not None:
            return self.abi
        return detect_abi(self.cpp_src or "")

    def __repr__(self) -> str:
        return f"<KernelRef {self.signature} {self.body_kind}>"

    # ---- inspection (the reference implementation's ``trace()``) ------------------------
    def trace(self) -> KernelTrace:
        """The kernel's parameters as (name, value) pairs and its traced ops.

        ``value.shape`` is (rows, cols): a tile's declared shape, or for an unshaped tensor
        parameter the shape of the view bound at the kernel's first call (None before any
        call); None for a scalar. ``ops`` are the ``pto`` ops of the body traced for those
        shapes (empty for an empty or C++ body, and for a body that cannot be traced yet)."""
        first = self._first_call or {}
        params: list[tuple[str, TraceValue]] = []
        arg_types: dict[str, tuple[tuple[int, ...], Any]] = {}
        constexprs: dict[str, Any] = {}
        for p in self.signature:
            if not p.is_data:
                if p.direction == "constexpr" and p.name in first:
                    constexprs[p.name] = first[p.name]
                params.append((p.name, TraceValue(None, p.dtype, p.direction, p.kind)))
                continue
            shape: tuple[int, ...] | None = p.shape
            dtype = p.dtype
            v = first.get(p.name)
            if shape is None and v is not None and is_tensor_value(v):
                vshape = tuple(v.shape)
                if all(isinstance(d, int | np.integer) for d in vshape):
                    shape = tuple(int(d) for d in vshape)
                    dtype = v.dtype
                    arg_types[p.name] = (shape, dtype)
            dims = tile_dims(shape) if shape is not None else None
            params.append((p.name, TraceValue(dims, dtype, p.direction, p.kind)))
        ops: list[Any] = []
        shaped = all(
            p.shape is not None or p.name in arg_types for p in self.signature if p.is_data
        )
        valued = all(
            not p.required or p.name in constexprs
            for p in self.signature
            if p.direction == "constexpr"
        )
        if self.body_kind == "traced" and shaped and valued:
            ops = list(self.specialize(arg_types, constexprs).ops)
        return KernelTrace(self.name, params, ops)

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
                value = check_constexpr_value(
                    raw, CONSTEXPR_TYPES[p.dtype], f"kernel {self.name}: '{p.name}'", loc
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
        bound = bind_arguments(k.name, k.signature, args, kwargs, loc)
        check_call_layouts(bound, f"call of kernel {k.name}", loc)  # join rule (spec §2.3)
        if k._first_call is None:  # trace() reports an unshaped tensor by its first view
            k._first_call = dict(bound)
        call = KernelCall(k, self.axes, bound, loc, self.axis_names)
        _builder.record(call, what=f"calling kernel {k.name}")
        return call


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
        return [v for v in self.args.values() if is_tensor_value(v)]

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
