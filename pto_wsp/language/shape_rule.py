"""The one rule for passing a tensor view to a ``Tile[r, c, dtype]`` kernel parameter.

A tile parameter takes a view of exactly the tile's shape and dtype: the same shape once leading
1s are dropped (a ``Tile[16, 16]`` takes a view of shape ``(16, 16)`` or ``(1, 1, 16, 16)``, not
``(2, 16, 16)``: nothing is flattened), every extent that is known statically equal to the
tile's, and the same element type. An extent that is only known at run time (``None``: a slice
with symbolic bounds) is not refused here; the runtime checks it.

The tile rank rule itself lives in C++ on the IR (``cpp_backend/ir/tile.h``: the verifier, both
emitters and the cost model apply it to the lowered kernels, in the same words). This is its
trace-time side: it judges a call where the user wrote it, before any IR exists, and must agree
with ``view_tile_problem`` there (tests/unit/test_tile_rank.py holds both to the same cases).
``tile_dims`` is ``ir::tile_dims`` and ``tile_rank_problem`` the text of the IR's error for a
tile parameter that is no tile, so the Studio can say it while editing, before anything is
lowered (and without loading the extension).

The rule is pure (shapes in, problem text out, no tracing objects) so that the two places that
apply it say the same thing: the DSL's kernel-call check (``pto_wsp.language.kernel``) and the Studio's
live check of a call node (``app.model.shape_checks``). The same holds for the indexing rule
``loop_bound_problem`` (a loop variable must not run past the dimension it indexes), which the
DSL's ``Tensor.__getitem__`` raises as ``TensorIndexError`` and the Studio badges while editing.
"""

from __future__ import annotations

from collections.abc import Sequence


def format_shape(shape: Sequence[int | None]) -> str:
    """``[8, 16, ?]``: a view shape as messages print it (``?`` for a run-time extent)."""
    return "[" + ", ".join("?" if s is None else str(int(s)) for s in shape) + "]"


TILE_RANK_RULE = "a tile has at most 2 dimensions once leading 1s are dropped"
"""The rank rule in the words every side uses (``kRule`` in cpp_backend/ir/tile.cpp)."""


def tile_dims(shape: Sequence[int]) -> tuple[int, int] | None:
    """The rows and columns of a tile of ``shape``, or None when more than two dimensions remain
    after dropping leading 1s (``ir::tile_dims``): ``[]`` is 1x1, ``[c]`` 1xc, ``[1, 1, r, c]``
    rxc, ``[2, 4, 8]`` no tile. Nothing is flattened."""
    dims = [int(d) for d in shape]
    while len(dims) > 2 and dims[0] == 1:
        dims.pop(0)
    if len(dims) > 2:
        return None
    rows, cols = [1] * (2 - len(dims)) + dims
    return rows, cols


def tile_rank_problem(tile_shape: Sequence[int]) -> str | None:
    """Why a tile parameter of ``tile_shape`` is no tile; None if it is one.

    The text reads after the parameter, as the IR verifier's does (``kernel @k: parameter 'x'
    is a tile of shape [2, 4, 8]; a tile has at most 2 dimensions once leading 1s are
    dropped``)."""
    if tile_dims(tile_shape) is None:
        return f"is a tile of shape {format_shape(tile_shape)}; {TILE_RANK_RULE}"
    return None


def tile_shape_problem(tile_shape: Sequence[int], view_shape: Sequence[int | None]) -> str | None:
    """Why a view of ``view_shape`` cannot bind a tile parameter of ``tile_shape``; None if it can.

    The text reads after the name of the argument: ``expects shape [16, 16], got a view of
    shape []``. A ``tile_shape`` that is no tile is the parameter's problem
    (``tile_rank_problem``), not the view's: None here, as ``view_tile_problem`` does.
    """
    want = [int(w) for w in tile_shape]
    core = tile_dims(want)
    if core is not None and not _fits(core, list(view_shape)):
        return f"expects shape {want}, got a view of shape {format_shape(view_shape)}"
    return None


def tile_shape_differences(tile_shape: Sequence[int], view_shape: Sequence[int | None]) -> str:
    """Which dimensions of a view that ``tile_shape_problem`` refuses differ from the tile, in
    the view's numbering: ``dimension 0 is 8, the tile has 4 rows``. Leading dimensions must be
    1; a one-dimensional view has no row dimension. Empty when the view fits."""
    core = tile_dims([int(w) for w in tile_shape])
    view = list(view_shape)
    if core is None or _fits(core, view):
        return ""
    rows, cols = core
    parts: list[str] = []
    for d, s in enumerate(view[:-2]):
        if s is not None and int(s) != 1:
            parts.append(f"dimension {d} is {int(s)}, a leading dimension must be 1")
    if len(view) >= 2:
        r = view[-2]
        if r is not None and int(r) != rows:
            parts.append(f"dimension {len(view) - 2} is {int(r)}, the tile has {rows} rows")
    elif rows != 1:
        parts.append(f"the view has no row dimension, the tile has {rows} rows")
    if view:
        c = view[-1]
        if c is not None and int(c) != cols:
            parts.append(f"dimension {len(view) - 1} is {int(c)}, the tile has {cols} columns")
    elif cols != 1:
        parts.append(f"the view has no column dimension, the tile has {cols} columns")
    return "; ".join(parts)


def _fits(core: tuple[int, int], view: list[int | None]) -> bool:
    """The rule of ``view_tile_problem`` (cpp_backend/ir/tile.h): leading extents beyond the
    last two are 1 (or known only at run time), the last two (``[c]`` read as ``[1, c]``) are
    the tile's rows and columns."""
    lead, last = view[:-2], [1] * max(0, 2 - len(view)) + view[-2:]
    return all(s is None or int(s) == 1 for s in lead) and all(
        s is None or int(s) == w for s, w in zip(last, core, strict=True)
    )


def tile_dtype_problem(tile_dtype: str, view_dtype: str) -> str | None:
    """Why a view of element type ``view_dtype`` cannot bind a tile of ``tile_dtype`` (dtype
    names as ``DType.value`` spells them: ``f32``); None if it can."""
    if view_dtype != tile_dtype:
        return f"expects dtype {tile_dtype}, got {view_dtype}"
    return None


def loop_bound_problem(
    var: str, size: int | None, axis: str, dim: int, label: str, length: int | None
) -> str | None:
    """Why loop variable ``var``, taking ``size`` values, cannot index dimension ``dim`` (of
    ``length`` elements) of ``label`` (``tensor 'K'``); None if it can or either is unknown.

    ``axis`` says what the variable runs over, in the caller's words (the DSL: ``axis
    Dense[4](batch)``; the Studio: the axis node's name). Only a variable over an axis whose
    size is known before the run is judged (the DSL: ``Dense``, ``DenseDyn`` of an int); the
    runtime checks the rest.
    """
    if size is None or length is None or size <= length:
        return None
    return (
        f"loop variable '{var}' takes {size} values ({axis}) but indexes dimension {dim} of "
        f"{label}, which has size {length}"
    )


__all__ = [
    "TILE_RANK_RULE",
    "format_shape",
    "loop_bound_problem",
    "tile_dims",
    "tile_dtype_problem",
    "tile_rank_problem",
    "tile_shape_differences",
    "tile_shape_problem",
]
