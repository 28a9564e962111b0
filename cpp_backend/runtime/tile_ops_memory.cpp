// Data-movement tile ops: load, store, alloc, constant, broadcast, slice_even/odd, interleave.
//
// All of them are one strided copy with a numpy-style dtype conversion (copy_view), done by a
// direct source-type -> destination-type loop so that no value is routed through a lossy
// intermediate (i64 -> i64 stays exact, f64 -> f16 rounds once).
#include "tile_ops_internal.h"

namespace pto::detail {
namespace {

template <class S, class D>
void copy_rows(const View& dst, const View& src, int64_t R, int64_t N) {
    for (int64_t r = 0; r < R; ++r) {
        const S* s = reinterpret_cast<const S*>(src.at(r, 0));
        D* d = reinterpret_cast<D*>(dst.at(r, 0));
        const int64_t ss = src.cs, ds = dst.cs;
        if constexpr (std::is_same_v<S, D>) {
            if (ss == 1 && ds == 1) {
                std::memcpy(d, s, (size_t)N * sizeof(S));
                continue;
            }
            if (ss == 0) {
                const S v = s[0];
                if (ds == 1)
                    for (int64_t i = 0; i < N; ++i) d[i] = v;
                else
                    for (int64_t i = 0; i < N; ++i) d[i * ds] = v;
                continue;
            }
        }
#ifdef PTO_HAVE_F16C
        if constexpr ((std::is_same_v<S, f16_t> && std::is_same_v<D, float>) ||
                      (std::is_same_v<S, float> && std::is_same_v<D, f16_t>)) {
            if (ss == 1 && ds == 1) {
                if constexpr (std::is_same_v<D, float>)
                    load_run_t<float>(s, 1, N, d);
                else
                    store_run_t<float>(d, 1, N, s);
                continue;
            }
        }
#endif
        if (ss == 1 && ds == 1)
            for (int64_t i = 0; i < N; ++i) d[i] = cvt<D>(s[i]);
        else
            for (int64_t i = 0; i < N; ++i) d[i * ds] = cvt<D>(s[i * ss]);
    }
}

template <class D>
void fill_rows(const View& dst, int64_t R, int64_t N, D v) {
    for (int64_t r = 0; r < R; ++r) {
        D* d = reinterpret_cast<D*>(dst.at(r, 0));
        if (dst.cs == 1)
            for (int64_t i = 0; i < N; ++i) d[i] = v;
        else
            for (int64_t i = 0; i < N; ++i) d[i * dst.cs] = v;
    }
}

// A view of columns first, first+step, ... of tile t, as `cols` columns.
View column_subview(const pto_tile* t, int64_t first, int64_t step, int64_t cols) {
    pto_tile sub = *t;
    sub.data = static_cast<char*>(t->data) + first * t->col_stride * dtype_size(t->dtype);
    sub.col_stride = t->col_stride * step;
    sub.cols = cols;
    return make_view(&sub, t->rows, cols);
}

}  // namespace

void copy_view(const View& dst, const View& src, int64_t R, int64_t N) {
    if (R <= 0 || N <= 0) return;
    if (collapsible({&dst, &src}, N)) {
        N *= R;
        R = 1;
    }
    visit_storage(src.dt, [&](auto stag) {
        using S = typename decltype(stag)::type;
        visit_storage(dst.dt, [&](auto dtag) {
            using D = typename decltype(dtag)::type;
            copy_rows<S, D>(dst, src, R, N);
        });
    });
}

}  // namespace pto::detail

using namespace pto::detail;

extern "C" {

int64_t pto_dtype_size(int32_t dtype) { return dtype_size(dtype); }

const char* pto_dtype_name(int32_t dtype) {
#define PTO_X(ident, abi, name, ...) name,
    static const char* const names[PTO_NUM_DTYPES] = {PTO_DTYPE_TABLE(PTO_X)};
#undef PTO_X
    return (dtype >= 0 && dtype < PTO_NUM_DTYPES) ? names[dtype] : "?";
}

// One block of rows * cols elements in row order (rows contiguous, back to back).
static inline bool dense_block(const pto_tile* t) {
    return (t->cols == 1 || t->col_stride == 1) && (t->rows == 1 || t->row_stride == t->cols);
}

void pto_load(pto_tile* out, const pto_tile* src) {
    // The common load and store: the same dtype and shape, both one block (a tensor row, a
    // whole tile). One memcpy instead of the view set-up and the dtype dispatch, which cost
    // ~180 instructions on a 1x8 f32 tile, a third of such a task (issue #18, callgrind).
    if (out->dtype == src->dtype && out->rows == src->rows && out->cols == src->cols &&
        dense_block(out) && dense_block(src)) {
        std::memcpy(out->data, src->data,
                    static_cast<size_t>(out->rows * out->cols * dtype_size(out->dtype)));
        return;
    }
    copy_view(make_view(out, out->rows, out->cols), make_view(src, out->rows, out->cols),
              out->rows, out->cols);
}

void pto_store(pto_tile* dst, const pto_tile* src) { pto_load(dst, src); }

void pto_broadcast(pto_tile* out, const pto_tile* a) { pto_load(out, a); }

void pto_constant(pto_tile* out, double value) {
    int64_t R = out->rows, N = out->cols;
    if (R <= 0 || N <= 0) return;
    const View v = make_view(out, R, N);
    if (collapsible({&v}, N)) {
        N *= R;
        R = 1;
    }
    visit_storage(out->dtype, [&](auto tag) {
        using D = typename decltype(tag)::type;
        fill_rows<D>(v, R, N, cvt<D>(value));
    });
}

void pto_alloc(pto_tile* out) { pto_constant(out, 0.0); }

void pto_slice_even(pto_tile* out, const pto_tile* a) {
    copy_view(make_view(out, out->rows, out->cols), column_subview(a, 0, 2, out->cols),
              out->rows, out->cols);
}

void pto_slice_odd(pto_tile* out, const pto_tile* a) {
    copy_view(make_view(out, out->rows, out->cols), column_subview(a, 1, 2, out->cols),
              out->rows, out->cols);
}

void pto_interleave(pto_tile* out, const pto_tile* a, const pto_tile* b) {
    const int64_t R = out->rows;
    copy_view(column_subview(out, 0, 2, a->cols), make_view(a, R, a->cols), R, a->cols);
    copy_view(column_subview(out, 1, 2, b->cols), make_view(b, R, b->cols), R, b->cols);
}

}  // extern "C"
