// Reductions: rowsum/rowmax/rowmean give an [r,1] tile, colsum/colmax a [1,c] tile.
//
// Row reductions keep kLanes independent partial results (a fixed-width inner loop GCC maps to
// vector registers without needing -ffast-math reassociation), then combine them pairwise;
// column reductions accumulate whole rows into a run of partial results, which vectorises
// directly. Integer sums wrap like numpy; float maxima propagate NaN like numpy.
#include "tile_ops_internal.h"

namespace pto::detail {
namespace {

// Sums accumulate integers in their wrap-around unsigned type (no signed-overflow UB, same
// result modulo 2^bits); maxima compare in the compute type itself.
struct SumRed {
    template <class C>
    using acc = std::conditional_t<std::is_integral_v<C>, wrap_t<C>, C>;
    template <class A>
    static A combine(A a, A b) {
        return a + b;
    }
    template <class A>
    static A identity() {
        return A(0);
    }
};

struct MaxRed {
    template <class C>
    using acc = C;
    template <class A>
    static A combine(A a, A b) {
        if constexpr (std::is_floating_point_v<A>)
            return (b > a || b != b) ? b : a;
        else
            return b > a ? b : a;
    }
    template <class A>
    static A identity() {
        if constexpr (std::is_floating_point_v<A>)
            return -std::numeric_limits<A>::infinity();
        else
            return std::numeric_limits<A>::lowest();
    }
};

// Reduces n values of p (stride 1) into one value.
template <class C, class Red>
using acc_t = typename Red::template acc<C>;

template <class C, class Red>
inline acc_t<C, Red> reduce_run(const C* p, int64_t n) {
    using A = acc_t<C, Red>;
    constexpr int kLanes = 64 / sizeof(C) < 8 ? 8 : 64 / sizeof(C);
    A acc[kLanes];
    for (int l = 0; l < kLanes; ++l) acc[l] = Red::template identity<A>();
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] = Red::combine(acc[l], (A)p[i + l]);
    for (int l = 0; i < n; ++i, ++l) acc[l] = Red::combine(acc[l], (A)p[i]);
    for (int w = kLanes / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; ++l) acc[l] = Red::combine(acc[l], acc[l + w]);
    return acc[0];
}

// For MaxRed the identity of integer types is the lowest value, so a row of length >= 1 is
// exact; for floats -inf is exact and NaN wins over it.
template <class C, class Red, bool kMean>
void row_reduce(const pto_tile* out, const pto_tile* a) {
    const int64_t R = a->rows, N = a->cols;
    if (R <= 0 || N <= 0) return;
    const View va = make_view(a, R, N);
    const View vo = make_view(out, R, 1);
    alignas(64) C buf[kChunk];
    alignas(64) C res[kChunk];
    for (int64_t r0 = 0; r0 < R; r0 += kChunk) {
        const int64_t nr = std::min(kChunk, R - r0);
        for (int64_t i = 0; i < nr; ++i) {
            const int64_t r = r0 + i;
            acc_t<C, Red> total = Red::template identity<acc_t<C, Red>>();
            for (int64_t c0 = 0; c0 < N; c0 += kChunk) {
                const int64_t n = std::min(kChunk, N - c0);
                bool varying;
                const C* p = fetch<C>(va, va.at(r, c0), n, buf, vo.dt, varying);
                const acc_t<C, Red> part =
                    varying ? reduce_run<C, Red>(p, n) : reduce_run<C, Red>(p, 1);
                total = Red::combine(total, part);
            }
            if constexpr (kMean)
                res[i] = (C)(total / (C)N);
            else
                res[i] = (C)total;
        }
        store_run<C>(vo.dt, vo.at(r0, 0), vo.rs, nr, res);
    }
}

template <class C, class Red>
void col_reduce(const pto_tile* out, const pto_tile* a) {
    const int64_t R = a->rows, N = a->cols;
    if (R <= 0 || N <= 0) return;
    const View va = make_view(a, R, N);
    const View vo = make_view(out, 1, N);
    alignas(64) C buf[kChunk];
    alignas(64) acc_t<C, Red> acc[kChunk];
    alignas(64) C res[kChunk];
    for (int64_t c0 = 0; c0 < N; c0 += kChunk) {
        const int64_t n = std::min(kChunk, N - c0);
        for (int64_t j = 0; j < n; ++j) acc[j] = Red::template identity<acc_t<C, Red>>();
        for (int64_t r = 0; r < R; ++r) {
            bool varying;
            const C* p = fetch<C>(va, va.at(r, c0), n, buf, vo.dt, varying);
            if (varying)
                for (int64_t j = 0; j < n; ++j) acc[j] = Red::combine(acc[j], (acc_t<C, Red>)p[j]);
            else
                for (int64_t j = 0; j < n; ++j) acc[j] = Red::combine(acc[j], (acc_t<C, Red>)p[0]);
        }
        for (int64_t j = 0; j < n; ++j) res[j] = (C)acc[j];
        store_run<C>(vo.dt, vo.at(0, c0), vo.cs, n, res);
    }
}

// rowmean computes in float for f16/bf16/f32 outputs and f64 otherwise (numpy's mean of
// integers is f64; the result is then converted to the output dtype).
template <class F>
inline void visit_mean_compute(int dt, F&& f) {
    if (dt == PTO_F16 || dt == PTO_BF16 || dt == PTO_F32)
        f(Tag<float>{});
    else
        f(Tag<double>{});
}

}  // namespace
}  // namespace pto::detail

using namespace pto::detail;

extern "C" {

void pto_rowsum(pto_tile* out, const pto_tile* a) {
    visit_compute(out->dtype, [&](auto tag) {
        using C = typename decltype(tag)::type;
        row_reduce<C, SumRed, false>(out, a);
    });
}

void pto_rowmax(pto_tile* out, const pto_tile* a) {
    visit_compute(out->dtype, [&](auto tag) {
        using C = typename decltype(tag)::type;
        row_reduce<C, MaxRed, false>(out, a);
    });
}

void pto_rowmean(pto_tile* out, const pto_tile* a) {
    visit_mean_compute(out->dtype, [&](auto tag) {
        using C = typename decltype(tag)::type;
        row_reduce<C, SumRed, true>(out, a);
    });
}

void pto_colsum(pto_tile* out, const pto_tile* a) {
    visit_compute(out->dtype, [&](auto tag) {
        using C = typename decltype(tag)::type;
        col_reduce<C, SumRed>(out, a);
    });
}

void pto_colmax(pto_tile* out, const pto_tile* a) {
    visit_compute(out->dtype, [&](auto tag) {
        using C = typename decltype(tag)::type;
        col_reduce<C, MaxRed>(out, a);
    });
}

}  // extern "C"
