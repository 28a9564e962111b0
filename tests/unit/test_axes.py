"""Axis types (spec §2.1): sizes, validation, row selection and coercion for P(...)."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp.errors import TensorIndexError, TypeCheckError
from pto_wsp.language.axes import (
    Dense,
    DenseDyn,
    Ragged,
    RaggedRow,
    Sparse,
    SparseRow,
    as_axis,
    is_axis,
)
from pto_wsp.language.scalar_expr import LoopVar, ScalarExpr, symbol_u64
from pto_wsp.language.tensor import Tensor, TensorView

INDPTR = [0, 2, 5, 7, 10]
INDICES = [1, 3, 0, 2, 4, 1, 5, 0, 3, 7]


# ---- Dense ----------------------------------------------------------------------------------


def test_dense_forms_are_equal():
    a = Dense[4]
    assert isinstance(a, Dense) and a.size == 4 and a.kind == "dense"
    b = Dense[4]()
    assert isinstance(b, Dense) and b == a and b is not a
    assert Dense(4) == a and hash(Dense(4)) == hash(a)
    assert Dense[4] != Dense[5]
    assert a.type_str == "Dense[4]" and repr(a) == "Dense[4]"
    e = a.extent_expr()
    assert e.kind == "const" and e.value == 4
    assert Dense[np.int64(3)].size == 3
    assert Dense[0].size == 0


def test_dense_validation_points_at_user_line():
    with pytest.raises(TypeCheckError) as ei:
        Dense["a"]
    assert "int" in str(ei.value) and ei.value.loc.file == __file__
    with pytest.raises(TypeCheckError, match=">= 0"):
        Dense[-1]
    with pytest.raises(TypeCheckError, match="int"):
        Dense(2.5)
    with pytest.raises(TypeCheckError, match="int"):
        Dense[True]


def test_axis_name_settable_and_checked():
    a = Dense[8]
    assert a.name is None
    a.name = "heads"
    assert a.name == "heads" and "heads" in repr(a)
    assert a == Dense[8]  # the name is not part of the type
    with pytest.raises(TypeCheckError, match="name"):
        a.name = 3


# ---- DenseDyn -------------------------------------------------------------------------------


def test_dense_dyn_int():
    d = DenseDyn(6)
    assert d.kind == "dense_dyn" and d.size == 6 and d.is_static
    assert d.extent_expr().value == 6
    assert d.type_str == "DenseDyn"


def test_dense_dyn_symbol_and_element():
    n = symbol_u64("n")
    d = DenseDyn(n)
    assert d.size is n and d.extent_expr() is n and not d.is_static
    meta = Tensor(np.array([5, 7], dtype=np.int32), name="meta")
    e = DenseDyn(meta[1]).extent_expr()
    assert e.kind == "load" and e.args[0].root is meta
    b = LoopVar("b", Dense[2])
    e2 = DenseDyn(meta[b]).extent_expr()
    assert e2.kind == "load" and isinstance(e2.args[0], TensorView)


def test_dense_dyn_validation():
    with pytest.raises(TypeCheckError, match=">= 0"):
        DenseDyn(-2)
    with pytest.raises(TypeCheckError, match="int, a scalar expression"):
        DenseDyn(2.0)
    with pytest.raises(TypeCheckError, match="single tensor element"):
        DenseDyn(Tensor(np.zeros(3)))


# ---- Ragged ---------------------------------------------------------------------------------


def test_ragged_from_list():
    r = Ragged(4, [3, 0, 5, 2])
    assert r.kind == "ragged" and r.size == 4 and r.outer_size == 4 and r.row is None
    assert isinstance(r.lengths, np.ndarray) and r.lengths.dtype == np.int64
    assert r.length(2) == 5 and r.length(-1) == 2 and r.total() == 10
    assert r.extent_expr().value == 4
    with pytest.raises(TensorIndexError, match="out of range"):
        r.length(4)


def test_ragged_keeps_reference_to_array():
    lengths = np.array([1, 2, 3], dtype=np.int32)
    r = Ragged(3, lengths)
    assert r.lengths is lengths
    lengths[0] = 10
    assert r.length(0) == 10 and r.total() == 15
    t = Tensor(np.array([4, 4]), name="lens")
    r2 = Ragged(2, t)
    assert r2.lengths_tensor is t
    r2.name = "tokens"
    assert t.name == "lens"  # a user's tensor keeps the user's name


def test_ragged_row_extent_is_runtime_load():
    r = Ragged(4, [3, 0, 5, 2])
    r.name = "tokens"
    assert r.lengths_tensor.name == "tokens.lengths"
    b = LoopVar("b", Dense[4])
    row = r[b]
    assert isinstance(row, RaggedRow) and is_axis(row)
    assert row.axis is r and row.row is b and row.size is None and row.kind == "ragged"
    e = row.extent_expr()
    assert e.kind == "load"
    view = e.args[0]
    assert view.root is r.lengths_tensor and view.index_items[0].expr is b
    const_row = r[2].extent_expr()
    assert const_row.kind == "load" and int(const_row.args[0]) == 5


def test_ragged_validation():
    with pytest.raises(TypeCheckError, match="outer_size 3 but 2 lengths"):
        Ragged(3, [1, 2])
    with pytest.raises(TypeCheckError, match=r"lengths\[1\] = -1"):
        Ragged(2, [1, -1])
    with pytest.raises(TypeCheckError, match="ints"):
        Ragged(2, [1.5, 2])
    with pytest.raises(TypeCheckError, match="one-dimensional"):
        Ragged(2, np.zeros((2, 1), dtype=np.int64))
    with pytest.raises(TypeCheckError, match="integer dtype"):
        Ragged(2, np.zeros(2, dtype=np.float32))
    with pytest.raises(TypeCheckError, match="int"):
        Ragged("2", [1, 2])
    with pytest.raises(TensorIndexError, match="takes 5 values"):
        Ragged(4, [1, 1, 1, 1])[LoopVar("b", Dense[5])]
    with pytest.raises(TypeCheckError, match="rows are selected"):
        Ragged(1, [1])["x"]


# ---- Sparse ---------------------------------------------------------------------------------


def test_sparse_csr():
    s = Sparse(4, INDPTR, INDICES)
    assert s.kind == "sparse" and s.size == 4 and s.row is None
    assert s.nnz() == 10
    assert [s.row_nnz(i) for i in range(4)] == [2, 3, 2, 3]
    assert s.indptr.dtype == np.int64 and s.indices.tolist() == INDICES
    assert s.extent_expr().value == 4


def test_sparse_row_for_sel():
    s = Sparse(4, INDPTR, INDICES)
    s.name = "routing"
    assert s.indptr_tensor.name == "routing.indptr"
    assert s.indices_tensor.name == "routing.indices"
    b = LoopVar("b", DenseDyn(4))
    row = s[b]
    assert isinstance(row, SparseRow) and row.axis is s and row.row is b and row.size is None
    assert row.indptr_tensor is s.indptr_tensor and row.indices_tensor is s.indices_tensor
    e = row.extent_expr()
    assert e.kind == "binary" and e.op == "sub"
    hi, lo = e.args
    assert hi.args[0].root is s.indptr_tensor and lo.args[0].root is s.indptr_tensor
    assert str(hi.args[0].index_items[0].expr) == "b + 1"
    assert lo.args[0].index_items[0].expr is b
    fixed = s[1]
    assert isinstance(fixed.row, ScalarExpr) and fixed.row.value == 1


def test_sparse_keeps_reference_and_sees_updates():
    indptr = np.array([0, 1, 2], dtype=np.int64)
    indices = np.array([0, 1], dtype=np.int64)
    s = Sparse(2, indptr, indices)
    assert s.indptr is indptr and s.indices is indices
    indices[1] = 9
    assert s.indices[1] == 9


def test_sparse_validation():
    with pytest.raises(TypeCheckError, match="outer_size \\+ 1 = 5"):
        Sparse(4, [0, 2, 5, 10], INDICES)
    with pytest.raises(TypeCheckError, match="non-decreasing"):
        Sparse(4, [0, 5, 2, 7, 10], INDICES)
    with pytest.raises(TypeCheckError, match="must equal the number of indices"):
        Sparse(4, [0, 2, 5, 7, 9], INDICES)
    with pytest.raises(TypeCheckError, match="start at 0"):
        Sparse(1, [1, 1], [])
    with pytest.raises(TypeCheckError, match=">= 0"):
        Sparse(1, [0, 1], [-3])
    with pytest.raises(TensorIndexError, match="out of range"):
        Sparse(4, INDPTR, INDICES).row_nnz(4)
    with pytest.raises(TypeCheckError, match="concrete data"):
        Sparse(1, Tensor(np.array([0, 1]))[LoopVar("b", Dense[1]) : 2], [0])


def test_empty_sparse():
    s = Sparse(2, [0, 0, 0], [])
    assert s.nnz() == 0 and s.row_nnz(1) == 0


# ---- coercion -------------------------------------------------------------------------------


def test_as_axis():
    d = Dense[3]
    assert as_axis(d) is d
    assert as_axis(5) == Dense[5]
    assert as_axis(np.int32(2)) == Dense[2]
    n = symbol_u64("n")
    dyn = as_axis(n)
    assert isinstance(dyn, DenseDyn) and dyn.size is n
    meta = Tensor(np.array([3]), name="meta")
    assert isinstance(as_axis(meta[0]), DenseDyn)
    with pytest.raises(TypeCheckError) as ei:
        as_axis("batch")
    msg = str(ei.value)
    assert "Dense[N]" in msg and "Sparse" in msg and "str" in msg
    assert ei.value.loc.file == __file__
    with pytest.raises(TypeCheckError, match="expected an axis"):
        as_axis(meta)
    with pytest.raises(TypeCheckError, match=">= 0"):
        as_axis(-1)
    assert is_axis(Dense[1]) and is_axis(Sparse(1, [0, 0], [])) and not is_axis(3)


def test_index_tensors_are_the_structure_a_run_reads():
    """What ``--outputs`` reports beside the kernels' tensors: a Ragged's lengths, a Sparse's
    indptr and indices (also through a selected row); a dense axis has none."""
    lengths = Tensor(np.array([1, 2], dtype=np.int32), name="lens")
    rag = Ragged(2, lengths)
    assert rag.index_tensors() == (lengths,)
    b = LoopVar("b", Dense[2])
    assert rag[b].index_tensors() == (lengths,)
    sp = Sparse(2, [0, 1, 3], [0, 1, 2])
    assert sp.index_tensors() == (sp.indptr_tensor, sp.indices_tensor)
    assert sp[b].index_tensors() == (sp.indptr_tensor, sp.indices_tensor)
    assert Dense[4].index_tensors() == () and DenseDyn(3).index_tensors() == ()
