// Private machinery shared by the tile_ops_*.cpp translation units (not part of the public API;
// generated code includes tile.h only).
//
// The library computes in a per-dtype "compute type" C (float for f16/bf16/f32, double for f64,
// the native integer for integers, uint8 for bool) on runs of at most kChunk elements: an input
// run is used in place when it already is a contiguous array of C, otherwise it is gathered and
// converted into a stack buffer; results go straight to the output when it is a contiguous C
// array, otherwise through a buffer that is converted (rounded) on store. Views whose strides
// make the whole tile one arithmetic progression are collapsed to a single row, so the common
// contiguous f32 tile is one tight auto-vectorised loop.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "dtype.h"
#include "pto_tables.h"  // generated from pto_wsp/language/{op,dtype}_table.py
#include "tile.h"

#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#define PTO_HAVE_F16C 1
#endif

namespace pto::detail {

constexpr int64_t kChunk = 256;

// ---- storage types ------------------------------------------------------------------------
struct f16_t {
    uint16_t bits;
};
struct bf16_t {
    uint16_t bits;
};
struct bool_t {
    uint8_t v;
};

template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, f16_t> || std::is_same_v<T, bf16_t>;

template <class T>
struct dtype_of_t;
#define PTO_DTYPE_OF(T, CODE) \
    template <>               \
    struct dtype_of_t<T> {    \
        static constexpr int value = CODE; \
    };
PTO_DTYPE_OF(f16_t, PTO_F16)
PTO_DTYPE_OF(bf16_t, PTO_BF16)
PTO_DTYPE_OF(float, PTO_F32)
PTO_DTYPE_OF(double, PTO_F64)
PTO_DTYPE_OF(int8_t, PTO_I8)
PTO_DTYPE_OF(int16_t, PTO_I16)
PTO_DTYPE_OF(int32_t, PTO_I32)
PTO_DTYPE_OF(int64_t, PTO_I64)
PTO_DTYPE_OF(uint8_t, PTO_U8)
PTO_DTYPE_OF(uint16_t, PTO_U16)
PTO_DTYPE_OF(uint32_t, PTO_U32)
PTO_DTYPE_OF(uint64_t, PTO_U64)
PTO_DTYPE_OF(bool_t, PTO_BOOL)
#undef PTO_DTYPE_OF
template <class T>
inline constexpr int dtype_of = dtype_of_t<T>::value;

template <class T>
struct Tag {
    using type = T;
};

// The dtype table (pto_tables.h, generated from pto_wsp/language/dtype_table.py) agrees with
// the ABI codes of dtype.h, which generated code includes without the build tree.
#define PTO_X(ident, abi, name, code, ...) static_assert(abi == code, "dtype.h: " name);
PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
static_assert(PTO_NUM_DTYPES == PTO_TABLE_NUM_DTYPES, "dtype.h and the dtype table differ");

inline int64_t dtype_size(int dt) {
#define PTO_X(ident, abi, name, code, size, ...) size,
    static constexpr int64_t sizes[PTO_NUM_DTYPES] = {PTO_DTYPE_TABLE(PTO_X)};
#undef PTO_X
    return (dt >= 0 && dt < PTO_NUM_DTYPES) ? sizes[dt] : 0;
}

// Calls f(Tag<S>{}) with S the storage type of dtype code `dt`.
template <class F>
inline void visit_storage(int dt, F&& f) {
    switch (dt) {
        case PTO_F16: f(Tag<f16_t>{}); break;
        case PTO_BF16: f(Tag<bf16_t>{}); break;
        case PTO_F32: f(Tag<float>{}); break;
        case PTO_F64: f(Tag<double>{}); break;
        case PTO_I8: f(Tag<int8_t>{}); break;
        case PTO_I16: f(Tag<int16_t>{}); break;
        case PTO_I32: f(Tag<int32_t>{}); break;
        case PTO_I64: f(Tag<int64_t>{}); break;
        case PTO_U8: f(Tag<uint8_t>{}); break;
        case PTO_U16: f(Tag<uint16_t>{}); break;
        case PTO_U32: f(Tag<uint32_t>{}); break;
        case PTO_U64: f(Tag<uint64_t>{}); break;
        case PTO_BOOL: f(Tag<bool_t>{}); break;
        default: break;
    }
}

// Calls f(Tag<C>{}) with C the compute type for an output of dtype `dt`.
template <class F>
inline void visit_compute(int dt, F&& f) {
    switch (dt) {
        case PTO_F16:
        case PTO_BF16:
        case PTO_F32: f(Tag<float>{}); break;
        case PTO_F64: f(Tag<double>{}); break;
        case PTO_I8: f(Tag<int8_t>{}); break;
        case PTO_I16: f(Tag<int16_t>{}); break;
        case PTO_I32: f(Tag<int32_t>{}); break;
        case PTO_I64: f(Tag<int64_t>{}); break;
        case PTO_U8:
        case PTO_BOOL: f(Tag<uint8_t>{}); break;
        case PTO_U16: f(Tag<uint16_t>{}); break;
        case PTO_U32: f(Tag<uint32_t>{}); break;
        case PTO_U64: f(Tag<uint64_t>{}); break;
        default: break;
    }
}

// Compute type of the transcendental ops: f32 for f16/bf16/f32, f64 for everything else (the
// library may assume float outputs there; integers get a well-defined saturating result).
template <class F>
inline void visit_math_compute(int dt, F&& f) {
    if (dt == PTO_F16 || dt == PTO_BF16 || dt == PTO_F32)
        f(Tag<float>{});
    else
        f(Tag<double>{});
}

// ---- scalar conversions ---------------------------------------------------------------------
// Wrap-around integer arithmetic (numpy semantics) without C++ signed-overflow UB.
// (Identity for non-integers so it can be named in generic code.)
template <class T, bool = std::is_integral_v<T>>
struct wrap_s {
    using type = T;
};
template <class T>
struct wrap_s<T, true> {
    using type = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;
};
template <class T>
using wrap_t = typename wrap_s<T>::type;

// Float -> integer: toward zero, saturating at the type's range, NaN -> 0.
template <class I, class F>
inline I sat_cast(F f) {
    if (!(f == f)) return I(0);
    if (f <= (F)std::numeric_limits<I>::min()) return std::numeric_limits<I>::min();
    if (f >= (F)std::numeric_limits<I>::max()) return std::numeric_limits<I>::max();
    return (I)f;
}

// A storage value as a plain arithmetic value (halves widen to float, bool to 0/1).
template <class S>
inline auto widen(S s) {
    if constexpr (std::is_same_v<S, f16_t>)
        return f16_to_f32(s.bits);
    else if constexpr (std::is_same_v<S, bf16_t>)
        return bf16_to_f32(s.bits);
    else if constexpr (std::is_same_v<S, bool_t>)
        return (uint8_t)(s.v != 0);
    else
        return s;
}

// numpy-style astype of one element from S to D (storage or compute types).
template <class D, class S>
inline D cvt(S s) {
    if constexpr (std::is_same_v<D, S>) {
        return s;
    } else if constexpr (std::is_same_v<D, f16_t> || std::is_same_v<D, bf16_t>) {
        constexpr bool f16 = std::is_same_v<D, f16_t>;
        if constexpr (std::is_same_v<S, bool_t>)
            return D{(uint16_t)(s.v ? (f16 ? 0x3c00u : 0x3f80u) : 0u)};
        else if constexpr (std::is_same_v<S, double> ||
                           (std::is_integral_v<S> && sizeof(S) > 2))
            return D{f16 ? f64_to_f16((double)s) : f64_to_bf16((double)s)};
        else {
            const float w = (float)widen(s);
            return D{f16 ? f32_to_f16(w) : f32_to_bf16(w)};
        }
    } else if constexpr (std::is_same_v<D, bool_t>) {
        if constexpr (is_half_v<S>)
            return D{(uint8_t)((s.bits & 0x7fffu) != 0)};
        else if constexpr (std::is_same_v<S, bool_t>)
            return D{(uint8_t)(s.v != 0)};
        else
            return D{(uint8_t)(s != 0)};
    } else {
        const auto w = widen(s);
        using W = decltype(w);
        if constexpr (std::is_integral_v<D> && std::is_floating_point_v<W>)
            return sat_cast<D>(w);
        else
            return static_cast<D>(w);
    }
}

// ---- views ----------------------------------------------------------------------------------
// A tile as seen by an op of output shape R x C: broadcast dimensions get stride 0, and the
// stride of a dimension of extent 1 is chosen so that "one arithmetic progression" checks work.
struct View {
    char* p;
    int64_t rs, cs;
    int dt;
    int64_t isz;
    char* at(int64_t r, int64_t c) const { return p + (r * rs + c * cs) * isz; }
};

inline View make_view(const pto_tile* t, int64_t R, int64_t C) {
    View v{static_cast<char*>(t->data), t->rows == 1 ? 0 : t->row_stride,
           t->cols == 1 ? 0 : t->col_stride, t->dtype, dtype_size(t->dtype)};
    if (C == 1) v.cs = v.rs;
    if (R == 1) v.rs = C * v.cs;
    return v;
}

// True when every view walks the R x C tile as one progression (element (r,c) at (r*C+c)*cs).
inline bool collapsible(std::initializer_list<const View*> views, int64_t C) {
    for (const View* v : views)
        if (v->rs != C * v->cs) return false;
    return true;
}

// ---- runs: strided storage <-> compute-type arrays -----------------------------------------
template <class C, class S>
inline void load_run_t(const S* s, int64_t stride, int64_t n, C* out) {
#ifdef PTO_HAVE_F16C
    if constexpr (std::is_same_v<S, f16_t> && std::is_same_v<C, float>) {
        if (stride == 1) {
            int64_t i = 0;
            for (; i + 8 <= n; i += 8)
                _mm256_storeu_ps(out + i,
                                 _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(s + i))));
            for (; i < n; ++i) out[i] = f16_to_f32(s[i].bits);
            return;
        }
    }
#endif
    if (stride == 1)
        for (int64_t i = 0; i < n; ++i) out[i] = cvt<C>(s[i]);
    else
        for (int64_t i = 0; i < n; ++i) out[i] = cvt<C>(s[i * stride]);
}

template <class C, class D>
inline void store_run_t(D* d, int64_t stride, int64_t n, const C* in) {
#ifdef PTO_HAVE_F16C
    if constexpr (std::is_same_v<D, f16_t> && std::is_same_v<C, float>) {
        if (stride == 1) {
            int64_t i = 0;
            for (; i + 8 <= n; i += 8)
                _mm_storeu_si128((__m128i*)(d + i),
                                 _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
            for (; i < n; ++i) d[i].bits = f32_to_f16(in[i]);
            return;
        }
    }
#endif
    if (stride == 1)
        for (int64_t i = 0; i < n; ++i) d[i] = cvt<D>(in[i]);
    else
        for (int64_t i = 0; i < n; ++i) d[i * stride] = cvt<D>(in[i]);
}

// Gathers n elements of dtype `dt` at `base` (stride in elements) into out[] as C.
template <class C>
inline void load_run(int dt, const char* base, int64_t stride, int64_t n, C* out) {
    visit_storage(dt, [&](auto tag) {
        using S = typename decltype(tag)::type;
        load_run_t<C>(reinterpret_cast<const S*>(base), stride, n, out);
    });
}

// Scatters n compute values into dtype `dt` storage at `base`, converting (rounding) each.
template <class C>
inline void store_run(int dt, char* base, int64_t stride, int64_t n, const C* in) {
    visit_storage(dt, [&](auto tag) {
        using D = typename decltype(tag)::type;
        store_run_t<C>(reinterpret_cast<D*>(base), stride, n, in);
    });
}

// Inputs are converted to the OUTPUT dtype before computing: for an f16/bf16 output computed
// in f32, an input of another dtype is rounded through the output dtype first.
template <class C>
inline void round_through(int out_dt, C* buf, int64_t n) {
    if constexpr (std::is_same_v<C, float>) {
        if (out_dt == PTO_F16)
            for (int64_t i = 0; i < n; ++i) buf[i] = f16_to_f32(f32_to_f16(buf[i]));
        else if (out_dt == PTO_BF16)
            for (int64_t i = 0; i < n; ++i) buf[i] = bf16_to_f32(f32_to_bf16(buf[i]));
    }
}

// The n-element run of view v starting at `base`, as C values. Returns a pointer into the tile
// when it already is a contiguous C array, else into buf. `varying` is false for a broadcast
// (stride 0) run, whose single value is at [0].
template <class C>
inline const C* fetch(const View& v, const char* base, int64_t n, C* buf, int out_dt,
                      bool& varying) {
    varying = v.cs != 0;
    if (!varying) n = 1;
    if (v.dt == dtype_of<C> && (v.cs == 1 || !varying)) return reinterpret_cast<const C*>(base);
    load_run<C>(v.dt, base, v.cs, n, buf);
    if (v.dt != out_dt) round_through<C>(out_dt, buf, n);
    return buf;
}

// True when fetch() of v returns a pointer into the tile (no conversion, no gather).
template <class C>
inline bool is_direct(const View& v) {
    return v.dt == dtype_of<C> && (v.cs == 1 || v.cs == 0);
}

// Copies src (already broadcast to R x C) into dst with dtype conversion.
void copy_view(const View& dst, const View& src, int64_t R, int64_t C);

}  // namespace pto::detail
