"""Tensor wrapping, concrete views, symbolic views and element scalars (spec §2.2)."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from pto_wsp.errors import TensorIndexError, TypeCheckError
from pto_wsp.language.axes import Dense, DenseDyn
from pto_wsp.language.layout import TensorLayout, TensorShard
from pto_wsp.language.scalar_expr import LoopVar, ScalarExpr, symbol_u64
from pto_wsp.language.tensor import (
    IndexPoint,
    IndexRange,
    Tensor,
    TensorView,
    index_text,
    is_tensor_like,
)
from pto_wsp.language.types import DType, Location


def _items(view):
    """index_items as comparable tuples (exprs rendered as strings)."""
    out = []
    for it in view.index_items:
        if isinstance(it, IndexPoint):
            out.append(("p", str(it.expr)))
        else:
            out.append(("r", str(it.start), str(it.stop), it.step))
    return out


@pytest.fixture
def x3():
    arr = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    return arr, Tensor(arr, name="X")


# ---- construction ---------------------------------------------------------------------------


def test_wraps_array_without_copy():
    arr = np.zeros((4, 8), dtype=np.float16)
    t = Tensor(arr)
    assert t.data is arr
    assert t.numpy() is arr
    assert np.asarray(t) is arr
    assert t.shape == (4, 8) and t.dtype is DType.F16 and t.ndim == 2
    assert t.location is Location.Global
    assert t.layout == TensorLayout.default(2)
    assert t.nbytes() == 4 * 8 * 2
    t.data[1, 2] = 5
    assert arr[1, 2] == 5


def test_explicit_matching_shape_dtype_accepted():
    arr = np.ones((2, 3), dtype=np.int32)
    t = Tensor(arr, shape=(2, 3), dtype="i32", location="ub", name="A")
    assert t.dtype is DType.I32 and t.location is Location.UB and t.name == "A"
    assert Tensor(arr, dtype=np.int32).dtype is DType.I32
    assert Tensor(arr, dtype=DType.I32).dtype is DType.I32


def test_bf16_array():
    arr = np.zeros(3, dtype=ml_dtypes.bfloat16)
    assert Tensor(arr).dtype is DType.BF16


def test_dtype_mismatch_names_both():
    arr = np.zeros((2, 2), dtype=np.float32)
    with pytest.raises(TypeCheckError) as ei:
        Tensor(arr, dtype="f16", name="W")
    msg = str(ei.value)
    assert "f16" in msg and "f32" in msg and "'W'" in msg
    assert ei.value.loc is not None and ei.value.loc.file == __file__


def test_shape_mismatch_names_both():
    arr = np.zeros((2, 2), dtype=np.float32)
    with pytest.raises(TypeCheckError) as ei:
        Tensor(arr, shape=(4,))
    assert "(4,)" in str(ei.value) and "(2, 2)" in str(ei.value)


def test_allocates_zeros():
    t = Tensor(shape=(3, 5), dtype="f32")
    assert t.data.shape == (3, 5) and t.data.dtype == np.float32
    assert not t.data.any()
    assert Tensor(shape=4, dtype="i8").shape == (4,)


def test_allocation_needs_shape_and_dtype():
    with pytest.raises(TypeCheckError, match="shape and dtype"):
        Tensor()
    with pytest.raises(TypeCheckError, match="dtype"):
        Tensor(shape=(2,))


def test_non_ndarray_data_converted():
    t = Tensor([[1, 2], [3, 4]], dtype="f32")
    assert t.dtype is DType.F32 and t.data.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert Tensor([1, 2, 3]).dtype is DType.I64


def test_bad_arguments():
    with pytest.raises(TypeCheckError, match="unknown dtype"):
        Tensor(shape=(2,), dtype="f128")
    with pytest.raises(TypeCheckError, match="shape"):
        Tensor(shape=(-1, 2), dtype="f32")
    with pytest.raises(TypeCheckError, match="rank"):
        Tensor(np.zeros((2, 2)), layout=TensorLayout.default(3))
    with pytest.raises(TypeCheckError, match="TensorLayout"):
        Tensor(np.zeros((2, 2)), layout="sharded")
    with pytest.raises(TypeCheckError, match="name"):
        Tensor(np.zeros(2), name=3)
    with pytest.raises(TypeCheckError, match="no PTO-WSP dtype"):
        Tensor(np.zeros(2, dtype=np.complex64))


def test_name_settable_and_repr():
    t = Tensor(np.zeros((2, 3), dtype=np.float32))
    assert t.name is None
    t.name = "Q"
    r = repr(t)
    assert "Q" in r and "(2, 3)" in r and "f32" in r


def test_roots_hash_and_compare_by_identity():
    a = Tensor(np.zeros(2))
    b = Tensor(np.zeros(2))
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2
    assert a == a and a != b
    scalar_root = Tensor(np.array(3.0))
    assert scalar_root == scalar_root  # identity, not an expression
    assert {scalar_root: 1}[scalar_root] == 1


# ---- concrete indexing ----------------------------------------------------------------------


def test_int_index_is_view_sharing_memory(x3):
    arr, t = x3
    v = t[1]
    assert isinstance(v, Tensor) and not v.is_root and v.root is t
    assert v.shape == (3, 4)
    assert np.shares_memory(v.data, arr)
    v.data[0, 0] = -1
    assert arr[1, 0, 0] == -1
    v[2] = 7  # __setitem__ through a view writes the user's array
    assert (arr[1, 2] == 7).all()


@pytest.mark.parametrize(
    "key",
    [
        1,
        -1,
        (1, 2),
        (-2, -1, -4),
        slice(None),
        (slice(None), 1),
        (slice(None, None, 2), slice(1, None), slice(None, None, -1)),
        (Ellipsis, 3),
        (0, Ellipsis),
        (Ellipsis,),
        (slice(-2, None), Ellipsis, slice(3, 0, -2)),
        (1, slice(5, 9)),
        (),
    ],
)
def test_concrete_view_matches_numpy_and_items(x3, key):
    arr, t = x3
    v = t[key]
    expect = arr[key]
    assert v.shape == np.shape(expect)
    assert np.array_equal(np.asarray(v), expect)
    assert np.shares_memory(v.data, arr) or v.data.size == 0
    # index_items reproduce the same elements from the root
    np_key = []
    for it in v.index_items:
        if isinstance(it, IndexPoint):
            np_key.append(it.expr)
        else:
            assert it.length == len(range(it.start, it.stop, it.step))
            np_key.append(list(range(it.start, it.stop, it.step)))
    sel = arr
    for axis_pos, k in reversed(list(enumerate(np_key))):
        sel = np.take(sel, k, axis=axis_pos)
    assert np.array_equal(sel, expect)


def test_chained_concrete_views_compose(x3):
    arr, t = x3
    v = t[:, ::-1][1][1:3, ::2]
    assert np.array_equal(np.asarray(v), arr[:, ::-1][1][1:3, ::2])
    # a stepped range stops one past its last element: ::2 of 4 is 0, 2 -> stop 3
    assert _items(v) == [("p", "1"), ("r", "1", "-1", -1), ("r", "0", "3", 2)]
    assert v.root is t


def test_element_view_is_0d_view(x3):
    arr, t = x3
    e = t[1, 2, 3]
    assert isinstance(e, Tensor) and e.ndim == 0 and e.shape == ()
    assert np.shares_memory(e.data, arr)
    assert int(e) == 23 and float(e) == 23.0
    arr[1, 2, 3] = 99
    assert int(e) == 99  # a view, not a snapshot
    with pytest.raises(TypeCheckError, match="single element"):
        int(t[0])


def test_out_of_range_constant_index(x3):
    _, t = x3
    with pytest.raises(TensorIndexError) as ei:
        t[0, 3]
    msg = str(ei.value)
    assert "'X'" in msg and "dimension 1" in msg and "index 3" in msg and "size 3" in msg
    assert isinstance(ei.value, IndexError)
    assert ei.value.loc.file == __file__
    with pytest.raises(TensorIndexError, match="index -3"):
        t[-3]
    with pytest.raises(TensorIndexError, match="too many indices"):
        t[0, 0, 0, 0]


def test_unsupported_index_kinds(x3):
    _, t = x3
    for bad in ([0, 1], np.array([0]), None, 1.5, True, "a"):
        with pytest.raises(TypeCheckError, match="cannot index"):
            t[bad]
    with pytest.raises(TypeCheckError, match="at most one"):
        t[..., 0, ...]
    with pytest.raises(TypeCheckError, match="step"):
        t[::0]


def test_len_iter_slice(x3):
    arr, t = x3
    assert len(t) == 2
    rows = list(t)
    assert len(rows) == 2 and all(r.root is t for r in rows)
    assert np.array_equal(rows[1].data, arr[1])
    s = t.slice(0, 1)
    assert s.shape == (1, 3, 4) and np.shares_memory(s.data, arr)
    with pytest.raises(TypeError):
        len(Tensor(np.array(1.0)))


def test_view_names_and_layout(x3):
    _, t = x3
    t2 = Tensor(np.zeros((4, 6)), layout=TensorLayout.sharded(1, 2, mesh_axis=0), name="S")
    v = t2[1:3]
    assert v.name == "S[1:3, :]"
    assert v.layout.dist == (t2.layout.dist[0], TensorShard(0))
    assert t2[0].layout.dist == (TensorShard(0),)
    assert v.location is t2.location and v.dtype is t2.dtype


def test_array_ufuncs_on_whole_tensor(x3):
    arr, t = x3
    assert float(np.sum(t)) == float(arr.sum())
    assert np.array_equal(np.add(t, 1), arr + 1)
    assert np.array_equal(arr * t, arr * arr)


def test_truth_value_is_an_error(x3):
    _, t = x3
    with pytest.raises(TypeCheckError, match="ambiguous"):
        bool(t)


# ---- symbolic indexing ----------------------------------------------------------------------


def test_symbolic_index_gives_view(x3):
    _, t = x3
    b = LoopVar("b", Dense[2])
    h = LoopVar("h", Dense[3])
    v = t[b, h]
    assert isinstance(v, TensorView) and v.root is t
    assert v.shape == (4,) and v.dtype is DType.F32 and v.ndim == 1
    assert v.index_items[0].expr is b and v.index_items[1].expr is h
    assert _items(v)[2] == ("r", "0", "4", 1)
    assert not hasattr(v, "data")
    assert is_tensor_like(v) and is_tensor_like(t) and not is_tensor_like(3)


def test_symbolic_chains_agree(x3):
    _, t = x3
    b = LoopVar("b", Dense[2])
    h = LoopVar("h", Dense[3])
    assert _items(t[b][h]) == _items(t[b, h])
    assert t[b][h].index_items[1].expr is h
    col = t[:, h]
    assert _items(col) == [("r", "0", "2", 1), ("p", "h"), ("r", "0", "4", 1)]
    assert col.shape == (2, 4)
    assert _items(t[..., b]) == [("r", "0", "2", 1), ("r", "0", "3", 1), ("p", "b")]


def test_concrete_slice_then_symbolic_index():
    arr = np.zeros((10, 3), dtype=np.float32)
    t = Tensor(arr, name="X")
    j = LoopVar("j", Dense[4])
    v = t[2:6][j]
    assert isinstance(v, TensorView) and v.root is t
    assert _items(v) == [("p", "j + 2"), ("r", "0", "3", 1)]
    strided = t[::2][LoopVar("k", Dense[5])]
    assert _items(strided)[0] == ("p", "k * 2")
    rev = t[::-1][LoopVar("k", Dense[2])]
    assert _items(rev)[0] == ("p", "k * -1 + 9")
    assert _items(t[2:6][1:][0]) == [("p", "3"), ("r", "0", "3", 1)]


def test_symbolic_index_on_strided_view_out_of_bounds():
    t = Tensor(np.zeros((10,)), name="X")
    with pytest.raises(TensorIndexError, match="takes 4 values"):
        t[1::3][LoopVar("j", Dense[4])]  # the view has 3 rows


def test_symbolic_slices_and_extents():
    t = Tensor(np.zeros((16, 8), dtype=np.float32), name="K")
    b = LoopVar("b", Dense[4])
    v = t[b * 4 : b * 4 + 4]
    assert v.shape == (4, 8)
    assert isinstance(v.index_items[0], IndexRange)
    assert v.index_items[0].length == 4
    inner = v[1:]  # constant slice of a static-length symbolic range
    assert inner.shape == (3, 8)
    assert inner[0].shape == (8,)
    n = symbol_u64("n")
    dyn = t[:n]
    assert dyn.shape == (None, 8)
    assert dyn.index_items[0].stop is n
    with pytest.raises(TensorIndexError, match="only known at run time"):
        dyn[-1]
    assert dyn[2].shape == (8,)
    with pytest.raises(TypeCheckError, match="negative step"):
        t[n:0:-1]
    with pytest.raises(TypeCheckError, match="symbolic extent"):
        dyn.nbytes()
    assert v.nbytes() == 4 * 8 * 4


def test_loop_extent_exceeding_dimension():
    t = Tensor(np.zeros((4, 8)), name="Q")
    b = LoopVar("b", Dense[5])
    with pytest.raises(TensorIndexError) as ei:
        t[b]
    msg = str(ei.value)
    assert "'b'" in msg and "5" in msg and "'Q'" in msg and "size 4" in msg
    assert ei.value.loc.file == __file__
    dyn = LoopVar("d", DenseDyn(9))
    with pytest.raises(TensorIndexError):
        t[:, dyn]
    ok = LoopVar("e", Dense[8])
    assert t[:, ok].shape == (4,)
    runtime = LoopVar("r", DenseDyn(symbol_u64("n")))  # extent unknown: no trace-time check
    assert t[runtime].shape == (8,)


def test_symbolic_constant_index_is_checked():
    t = Tensor(np.zeros((4,)), name="Q")
    b = LoopVar("b", Dense[4])
    with pytest.raises(TensorIndexError, match="size 2"):
        t[2:][b]
    assert t[ScalarExpr.const(1)].ndim == 0  # a constant expression indexes like an int
    with pytest.raises(TensorIndexError):
        t[ScalarExpr.const(4)]


def test_symbolic_view_refuses_data_use(x3):
    _, t = x3
    v = t[LoopVar("b", Dense[2])]
    with pytest.raises(TypeCheckError, match="no data"):
        np.asarray(v)
    with pytest.raises(TypeCheckError, match="iterate"):
        list(v)
    with pytest.raises(TypeCheckError, match="assign"):
        v[0] = 1
    with pytest.raises(TypeCheckError, match="assign"):
        t[LoopVar("b", Dense[2])] = 1
    with pytest.raises(TypeCheckError, match="not a single element"):
        v < 3  # noqa: B015


def test_tensor_element_as_index():
    idx = Tensor(np.array([2, 0], dtype=np.int32), name="idx")
    data = Tensor(np.zeros((3, 5)), name="D")
    v = data[idx[0]]
    assert isinstance(v, TensorView)
    e = v.index_items[0].expr
    assert e.kind == "load" and e.args[0].root is idx


# ---- scalar behaviour -----------------------------------------------------------------------


def test_symbolic_element_builds_predicate():
    seq_lens = Tensor(np.array([512, 2048, 8192, 32768]), name="seq_lens")
    b = LoopVar("b", Dense[4])
    pred = seq_lens[b] <= 2048
    assert isinstance(pred, ScalarExpr) and pred.kind == "binary" and pred.op == "le"
    load, const = pred.args
    assert load.kind == "load" and const.value == 2048
    view = load.args[0]
    assert view.root is seq_lens and view.index_items[0].expr is b
    assert (seq_lens[b] == 3).op == "eq"
    assert (seq_lens[b] != 3).op == "ne"
    assert (seq_lens[b] + 1).op == "add"
    assert (1 + seq_lens[b]).args[0].value == 1
    assert (-seq_lens[b]).op == "neg"
    assert (np.int64(5) > seq_lens[b]).op == "lt"  # numpy scalars defer to our operators
    assert seq_lens[b].__scalar_expr__().kind == "load"


def test_concrete_element_is_runtime_load():
    t = Tensor(np.array([3, 4]), name="n")
    e = t[1] < 10
    assert isinstance(e, ScalarExpr) and e.args[0].kind == "load"
    assert e.args[0].args[0].root is t
    assert isinstance(t[0] == 3, ScalarExpr)
    assert isinstance(np.float32(2.0) * t[0], ScalarExpr)
    assert isinstance(t[0] & 1, ScalarExpr) and isinstance(t[0] >> 1, ScalarExpr)
    with pytest.raises(TypeCheckError, match="ambiguous"):
        if t[0]:
            pass


def test_non_element_in_expression_is_error():
    t = Tensor(np.zeros((2, 2)), name="M")
    with pytest.raises(TypeCheckError, match="not a single element"):
        t[0] + 1
    with pytest.raises(TypeCheckError, match="not a single element"):
        t.__scalar_expr__()


def test_dtype_from_numpy_dtype_object():
    t = Tensor(np.zeros(2, dtype=np.uint8), dtype=np.dtype("uint8"))
    assert t.dtype is DType.U8


def test_index_text_is_one_printer_with_the_graph_convention_as_an_option(x3):
    """Names and reprs keep whole trailing dimensions (``X[b, :, :]``); the graph's convention
    (``full_tail=False``, what Import Python writes) leaves them out; parts print like
    ``str(expr)``, and a tensor element inside an index goes through ``view_text``."""
    _arr, x = x3
    b = LoopVar("b", Dense[2])
    idx = Tensor(np.zeros(3, dtype=np.int32), name="idx")
    v = x[b, 1:3]
    assert v.name == "X[b, 1:3, :]"
    assert index_text(v.index_items, x.shape) == "b, 1:3, :"
    assert index_text(v.index_items, x.shape, full_tail=False) == "b, 1:3"
    assert index_text(x.index_items, x.shape, full_tail=False) == ""
    assert index_text(x[:, :, ::2].index_items, x.shape) == ":, :, 0:4:2"
    w = x[b, idx[b] + 1]
    assert index_text(w.index_items, x.shape, full_tail=False) == "b, idx[b] + 1"
    spelled = index_text(w.index_items, x.shape, view_text=lambda e: "ELEM", full_tail=False)
    assert spelled == "b, ELEM + 1"
