"""A view whose shape differs from the tile's stays a TypeCheckError (DESIGN §6: the reference
reads whatever memory the strides reach; not copied). The message says which dimensions differ
and shows the index that would match (issue #17 item 8)."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp import Dense, DType, In, Out, P, Tensor, Tile, TypeCheckError, kernel, workload
from pto_wsp.language.shape_rule import tile_shape_differences
from pto_wsp.language.tensor import IndexPoint, IndexRange, index_text, tile_index

F32 = np.float32


@kernel
def rows4(x: In[Tile[4, 8, DType.F32]], y: Out[Tile[4, 8, DType.F32]]): ...


X = Tensor(np.zeros((2, 16, 8), F32))
Y = Tensor(np.zeros((2, 4, 8), F32))
FLAT = Tensor(np.zeros((16,), F32))


def error_of(body) -> str:
    @workload
    def w(n):
        for i in P(n):
            body(i)

    with pytest.raises(TypeCheckError) as ei:
        w(Dense[2])
    return ei.value.message


def test_too_many_rows_names_the_dimension_and_the_matching_index() -> None:
    msg = error_of(lambda i: rows4[i](X[i], Y[i]))
    assert "expects shape [4, 8], got a view of shape [16, 8]" in msg
    assert "dimension 0 is 16, the tile has 4 rows" in msg
    assert "X[i, 0:4, :] would match" in msg


def test_a_leading_dimension_above_one_is_named_and_fixed_at_its_start() -> None:
    msg = error_of(lambda i: rows4[i](X, Y[i]))
    assert "dimension 0 is 2, a leading dimension must be 1" in msg
    assert "dimension 1 is 16, the tile has 4 rows" in msg
    assert "X[0, 0:4, :] would match" in msg


def test_a_row_view_for_a_multi_row_tile_widens_its_fixed_row() -> None:
    msg = error_of(lambda i: rows4[i](X[i, 2, :], Y[i]))
    assert "the view has no row dimension, the tile has 4 rows" in msg
    assert "X[i, 2:6, :] would match" in msg


def test_no_matching_index_is_said_so() -> None:
    msg = error_of(lambda i: rows4[i](FLAT[i], Y[i]))
    assert "the view has no row dimension" in msg and "no column dimension" in msg
    assert "no index of the tensor it views gives a 4x8 tile" in msg


def test_the_suggested_index_really_binds_the_tile() -> None:
    """Following the message's suggestion traces without an error."""

    @workload
    def fixed(n):
        for i in P(n):
            rows4[i](X[i, 0:4, :], Y[i])

    fixed(Dense[2])


def test_differences_and_index_helpers() -> None:
    assert tile_shape_differences((4, 8), (4, 8)) == ""
    assert tile_shape_differences((4, 8), (4, None)) == ""  # known only at run time
    assert tile_shape_differences((4, 8), (4, 6)) == "dimension 1 is 6, the tile has 8 columns"
    items = (IndexPoint(1), IndexRange(0, 16, 1), IndexRange(0, 8, 1))
    assert index_text(tile_index(items, (2, 16, 8), 4, 8), (2, 16, 8)) == "1, 0:4, :"
    # a range that would leave the root has no matching index
    late = (IndexPoint(1), IndexRange(14, 16, 1), IndexRange(0, 8, 1))
    assert tile_index(late, (2, 16, 8), 4, 8) is None
