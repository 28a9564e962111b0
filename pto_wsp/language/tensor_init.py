"""Reproducible tensor contents that remember how they were made.

``Tensor(init.random((4, 16), DType.F32, seed=0), name="x")`` is plain numpy data for the DSL,
but the array also carries its recipe (``recipe_of(array)``): the studio's "Import Python" turns
the objects a script built back into a graph document and reads a tensor's ``init`` from the
recipe instead of parsing the source text. Arrays made any other way simply have no recipe.

Recipes: ``zeros``, ``random`` (seeded: floats standard-normal, signed ints in [-8, 8), unsigned
in [0, 8), bools fair coins), ``range`` (0, 1, 2, ... in row-major order), ``values`` (a literal
nested list, for small index data such as CSR routing), ``npy`` (a file).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TypeCheckError, user_location
from .types import DType

__all__ = ["zeros", "random", "arange", "values", "npy", "recipe_of"]

_recipes: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}


def _remember(arr: np.ndarray, recipe: dict[str, Any]) -> np.ndarray:
    key = id(arr)

    def forget(_ref: weakref.ref, key: int = key) -> None:
        _recipes.pop(key, None)

    _recipes[key] = (weakref.ref(arr, forget), recipe)
    return arr


def recipe_of(arr: Any) -> dict[str, Any] | None:
    """The recipe ``arr`` was made with (a copy), or None for arrays made otherwise."""
    entry = _recipes.get(id(arr))
    if entry is None or entry[0]() is not arr:
        return None
    return dict(entry[1])


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, Sequence) or not all(
        isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise TypeCheckError(
            f"tensor shape must be a tuple of non-negative ints, got {shape!r}",
            loc=user_location(),
        )
    return tuple(int(d) for d in shape)


def zeros(shape: Any, dtype: Any) -> np.ndarray:
    """All zeros."""
    s, dt = _shape(shape), DType.from_any(dtype)
    return _remember(np.zeros(s, dt.np), {"init": "zeros", "shape": list(s), "dtype": dt.value})


def random(shape: Any, dtype: Any, seed: int = 0) -> np.ndarray:
    """Seeded pseudo-random data (the same seed gives the same bytes on every machine)."""
    s, dt = _shape(shape), DType.from_any(dtype)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TypeCheckError(f"seed must be an int >= 0, got {seed!r}", loc=user_location())
    rng = np.random.default_rng(int(seed))
    if dt.is_float:
        arr = rng.standard_normal(s).astype(dt.np)
    elif dt is DType.BOOL:
        arr = rng.random(s) < 0.5
    elif dt.is_signed:
        arr = rng.integers(-8, 8, size=s).astype(dt.np)
    else:
        arr = rng.integers(0, 8, size=s).astype(dt.np)
    recipe = {"init": "random", "shape": list(s), "dtype": dt.value, "seed": int(seed)}
    return _remember(arr, recipe)


def arange(shape: Any, dtype: Any) -> np.ndarray:
    """0, 1, 2, ... in row-major order, reshaped to ``shape``."""
    s, dt = _shape(shape), DType.from_any(dtype)
    arr = np.arange(int(np.prod(s, dtype=np.int64))).reshape(s).astype(dt.np)
    return _remember(arr, {"init": "range", "shape": list(s), "dtype": dt.value})


def values(data: Any, dtype: Any) -> np.ndarray:
    """A literal (nested) list of numbers, e.g. CSR ``indptr`` of a routing table."""
    dt = DType.from_any(dtype)
    try:
        arr = np.asarray(data, dtype=dt.np)
    except (TypeError, ValueError) as e:
        raise TypeCheckError(f"values(...): {e}", loc=user_location()) from None
    recipe = {"init": "values", "shape": list(arr.shape), "dtype": dt.value, "values": arr.tolist()}
    return _remember(arr, recipe)


def npy(path: str | Path, dtype: Any = None) -> np.ndarray:
    """The array stored in a ``.npy`` file (checked against ``dtype`` when given)."""
    p = Path(path)
    try:
        arr = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise TypeCheckError(
            f"cannot load tensor data from {str(p)!r}: {e}", loc=user_location()
        ) from None
    have = DType.from_numpy(arr.dtype)
    if dtype is not None and DType.from_any(dtype) is not have:
        raise TypeCheckError(
            f"{str(p)!r} holds {have.value} data, expected {DType.from_any(dtype).value}",
            loc=user_location(),
        )
    recipe = {"init": "npy", "shape": list(arr.shape), "dtype": have.value, "path": str(path)}
    return _remember(arr, recipe)
