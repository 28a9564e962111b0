// Strided block copy and reduction for the layout collectives (see collectives.h).
//
// Both primitives walk two regions of the same shape row by row: an odometer over every
// dimension but the last, and a typed inner loop over the last one, so a contiguous innermost
// dimension becomes a plain loop the compiler can vectorise. Each element type has a small trait
// (storage type, load to its compute type, store back) so f16 / bf16 share the f32 arithmetic
// and its rounding with the tile ops.
#include "runtime/collectives.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "runtime/dtype.h"
#include "runtime/tile.h"  // pto_dtype_size

namespace {

// ---- element types ------------------------------------------------------------------------

template <class S, class C>
struct Native {
    using Storage = S;
    using Compute = C;
    static C load(S v) { return static_cast<C>(v); }
    static S store(C v) { return static_cast<S>(v); }
};

struct Half {
    using Storage = uint16_t;
    using Compute = float;
    static float load(uint16_t v) { return pto::f16_to_f32(v); }
    static uint16_t store(float v) { return pto::f32_to_f16(v); }
};

struct BHalf {
    using Storage = uint16_t;
    using Compute = float;
    static float load(uint16_t v) { return pto::bf16_to_f32(v); }
    static uint16_t store(float v) { return pto::f32_to_bf16(v); }
};

struct Bool {
    using Storage = uint8_t;
    using Compute = bool;
    static bool load(uint8_t v) { return v != 0; }
    static uint8_t store(bool v) { return v ? 1 : 0; }
};

// ---- reductions -----------------------------------------------------------------------------

template <class C>
C combine(C a, C b, int32_t op) {
    if constexpr (std::is_same_v<C, bool>) {
        return (op == PTO_COLL_SUM || op == PTO_COLL_MAX) ? (a || b) : (a && b);
    } else if constexpr (std::is_floating_point_v<C>) {
        switch (op) {
            case PTO_COLL_SUM: return a + b;
            case PTO_COLL_PROD: return a * b;
            case PTO_COLL_MAX: return (a != a || a >= b) ? a : b;  // a NaN operand wins
            default: return (a != a || a <= b) ? a : b;
        }
    } else {
        // Wrap-around like numpy: compute sum / product in the unsigned type of the same width.
        using U = std::make_unsigned_t<C>;
        switch (op) {
            case PTO_COLL_SUM: return static_cast<C>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
            case PTO_COLL_PROD: return static_cast<C>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
            case PTO_COLL_MAX: return a >= b ? a : b;
            default: return a <= b ? a : b;
        }
    }
}

// ---- region walk ----------------------------------------------------------------------------

bool same_shape(const pto_nd& a, const pto_nd& b) {
    if (a.ndim != b.ndim || a.ndim < 0 || a.ndim > PTO_ND_MAX_DIMS) return false;
    for (int32_t d = 0; d < a.ndim; ++d)
        if (a.shape[d] != b.shape[d] || a.shape[d] < 0) return false;
    return true;
}

// Calls row(dst_offset, src_offset, n, dst_stride, src_stride) for every innermost row.
template <class Row>
void for_rows(const pto_nd& dst, const pto_nd& src, Row&& row) {
    if (dst.ndim == 0) {
        row(int64_t{0}, int64_t{0}, int64_t{1}, int64_t{1}, int64_t{1});
        return;
    }
    const int32_t last = dst.ndim - 1;
    for (int32_t d = 0; d < dst.ndim; ++d)
        if (dst.shape[d] == 0) return;
    int64_t idx[PTO_ND_MAX_DIMS] = {0};
    int64_t od = 0, os = 0;
    for (;;) {
        row(od, os, dst.shape[last], dst.strides[last], src.strides[last]);
        int32_t d = last - 1;
        for (; d >= 0; --d) {
            ++idx[d];
            od += dst.strides[d];
            os += src.strides[d];
            if (idx[d] < dst.shape[d]) break;
            od -= idx[d] * dst.strides[d];
            os -= idx[d] * src.strides[d];
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}

template <class T>
void copy_typed(const pto_nd& dst, const pto_nd& src) {
    using S = typename T::Storage;
    S* const pd = static_cast<S*>(dst.data);
    const S* const ps = static_cast<const S*>(src.data);
    for_rows(dst, src, [&](int64_t od, int64_t os, int64_t n, int64_t sd, int64_t ss) {
        if (sd == 1 && ss == 1) {
            std::memcpy(pd + od, ps + os, static_cast<std::size_t>(n) * sizeof(S));
            return;
        }
        for (int64_t i = 0; i < n; ++i) pd[od + i * sd] = ps[os + i * ss];
    });
}

template <class T>
void reduce_typed(const pto_nd& acc, const pto_nd& src, int32_t op) {
    using S = typename T::Storage;
    S* const pa = static_cast<S*>(acc.data);
    const S* const ps = static_cast<const S*>(src.data);
    for_rows(acc, src, [&](int64_t oa, int64_t os, int64_t n, int64_t sa, int64_t ss) {
        for (int64_t i = 0; i < n; ++i) {
            S& a = pa[oa + i * sa];
            a = T::store(combine(T::load(a), T::load(ps[os + i * ss]), op));
        }
    });
}

// Calls fn.template operator()<Trait>() for the region's element type; false for an unknown one.
template <class Fn>
bool with_type(int32_t dtype, Fn&& fn) {
    switch (dtype) {
        case PTO_F16: fn.template operator()<Half>(); return true;
        case PTO_BF16: fn.template operator()<BHalf>(); return true;
        case PTO_F32: fn.template operator()<Native<float, float>>(); return true;
        case PTO_F64: fn.template operator()<Native<double, double>>(); return true;
        case PTO_I8: fn.template operator()<Native<int8_t, int8_t>>(); return true;
        case PTO_I16: fn.template operator()<Native<int16_t, int16_t>>(); return true;
        case PTO_I32: fn.template operator()<Native<int32_t, int32_t>>(); return true;
        case PTO_I64: fn.template operator()<Native<int64_t, int64_t>>(); return true;
        case PTO_U8: fn.template operator()<Native<uint8_t, uint8_t>>(); return true;
        case PTO_U16: fn.template operator()<Native<uint16_t, uint16_t>>(); return true;
        case PTO_U32: fn.template operator()<Native<uint32_t, uint32_t>>(); return true;
        case PTO_U64: fn.template operator()<Native<uint64_t, uint64_t>>(); return true;
        case PTO_BOOL: fn.template operator()<Bool>(); return true;
        default: return false;
    }
}

bool valid_split(const pto_nd& t, int32_t dim, int64_t m) {
    return dim >= 0 && dim < t.ndim && m >= 1 && t.shape[dim] % m == 0;
}

}  // namespace

extern "C" {

int32_t pto_nd_copy(const pto_nd* dst, const pto_nd* src) {
    if (!same_shape(*dst, *src)) return PTO_COLL_ERR_SHAPE;
    if (dst->dtype != src->dtype) return PTO_COLL_ERR_DTYPE;
    const bool ok = with_type(dst->dtype, [&]<class T>() { copy_typed<T>(*dst, *src); });
    return ok ? PTO_COLL_OK : PTO_COLL_ERR_DTYPE;
}

int32_t pto_nd_reduce(const pto_nd* acc, const pto_nd* src, int32_t op) {
    if (!same_shape(*acc, *src)) return PTO_COLL_ERR_SHAPE;
    if (acc->dtype != src->dtype || op < PTO_COLL_SUM || op > PTO_COLL_MIN)
        return PTO_COLL_ERR_DTYPE;
    const bool ok = with_type(acc->dtype, [&]<class T>() { reduce_typed<T>(*acc, *src, op); });
    return ok ? PTO_COLL_OK : PTO_COLL_ERR_DTYPE;
}

pto_nd pto_nd_block(const pto_nd* t, int32_t dim, int64_t m, int64_t k) {
    pto_nd b = *t;
    if (!valid_split(*t, dim, m) || k < 0 || k >= m) {
        b.ndim = -1;  // rejected by every primitive as a shape error
        return b;
    }
    const int64_t len = t->shape[dim] / m;
    b.shape[dim] = len;
    const int64_t esize = std::max<int64_t>(1, pto_dtype_size(t->dtype));  // the dtype table's
    b.data = static_cast<char*>(t->data) + k * len * t->strides[dim] * esize;
    return b;
}

int32_t pto_coll_fold_blocks(const pto_nd* dst, const pto_nd* src, int32_t dim, int64_t m,
                             int32_t op) {
    if (!valid_split(*src, dim, m)) return PTO_COLL_ERR_SHAPE;
    pto_nd b = pto_nd_block(src, dim, m, 0);
    if (int32_t rc = pto_nd_copy(dst, &b)) return rc;
    for (int64_t k = 1; k < m; ++k) {
        b = pto_nd_block(src, dim, m, k);
        if (int32_t rc = pto_nd_reduce(dst, &b, op)) return rc;
    }
    return PTO_COLL_OK;
}

int32_t pto_coll_allreduce_blocks(const pto_nd* t, int32_t dim, int64_t m, int32_t op) {
    if (!valid_split(*t, dim, m)) return PTO_COLL_ERR_SHAPE;
    const pto_nd first = pto_nd_block(t, dim, m, 0);
    for (int64_t k = 1; k < m; ++k) {
        const pto_nd b = pto_nd_block(t, dim, m, k);
        if (int32_t rc = pto_nd_reduce(&first, &b, op)) return rc;
    }
    for (int64_t k = 1; k < m; ++k) {
        const pto_nd b = pto_nd_block(t, dim, m, k);
        if (int32_t rc = pto_nd_copy(&b, &first)) return rc;
    }
    return PTO_COLL_OK;
}

const char* pto_coll_status_message(int32_t status) {
    switch (status) {
        case PTO_COLL_OK: return "ok";
        case PTO_COLL_ERR_SHAPE: return "regions of different shapes or an invalid block split";
        case PTO_COLL_ERR_DTYPE: return "regions of different element types or an unknown reduction";
        default: return "unknown collective status";
    }
}

}  // extern "C"
