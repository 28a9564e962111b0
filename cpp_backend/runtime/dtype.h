// Element-type codes and the 16-bit float conversions of the tile-op runtime.
//
// f16 (IEEE binary16) and bf16 (bfloat16) have no native C++ arithmetic here: the runtime stores
// them as raw 16-bit patterns, computes in f32 and rounds to nearest-even on store, exactly like
// numpy's float16 loops and ml_dtypes' bfloat16. Everything in this header is inline and
// branch-light so loops over it auto-vectorise; generated code may include it freely (it pulls in
// nothing but <stdint.h>/<cstring>). The enum is plain C; the converters are C++ only.
#pragma once

#include <stdint.h>

// Element-type codes, in the order of DESIGN.md / the spec (`f16 bf16 f32 f64 i8 i16 i32 i64 u8
// u16 u32 u64 bool`). Shared with the C API in tile.h.
enum pto_dtype_code {
    PTO_F16 = 0,
    PTO_BF16 = 1,
    PTO_F32 = 2,
    PTO_F64 = 3,
    PTO_I8 = 4,
    PTO_I16 = 5,
    PTO_I32 = 6,
    PTO_I64 = 7,
    PTO_U8 = 8,
    PTO_U16 = 9,
    PTO_U32 = 10,
    PTO_U64 = 11,
    PTO_BOOL = 12,
    PTO_NUM_DTYPES = 13
};

#ifdef __cplusplus
#include <cstring>

namespace pto {

inline uint32_t f32_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

inline float bits_f32(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// binary16 -> binary32 (exact). Handles zeros, subnormals, infinities and NaN.
inline float f16_to_f32(uint16_t h) {
    const uint32_t shifted_exp = 0x7c00u << 13;
    uint32_t o = (uint32_t)(h & 0x7fffu) << 13;
    const uint32_t exp = shifted_exp & o;
    o += (127u - 15u) << 23;
    float f;
    if (exp == shifted_exp) {  // Inf / NaN: push the exponent to 255
        o += (128u - 16u) << 23;
        f = bits_f32(o);
    } else if (exp == 0) {  // zero / subnormal: renormalise through a float subtraction
        o += 1u << 23;
        f = bits_f32(o) - bits_f32(113u << 23);
    } else {
        f = bits_f32(o);
    }
    return bits_f32(f32_bits(f) | ((uint32_t)(h & 0x8000u) << 16));
}

// binary32 -> binary16, round to nearest even; overflow gives Inf, NaN stays a (quiet) NaN.
inline uint16_t f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    const uint32_t sign = x & 0x80000000u;
    x ^= sign;
    uint16_t o;
    if (x >= 0x47800000u) {  // >= 65536 (after rounding everything >= 65520 is Inf), Inf, NaN
        o = (x > 0x7f800000u) ? 0x7e00u : 0x7c00u;
    } else if (x < 0x38800000u) {  // result is subnormal or zero: let the FPU round
        const float denorm_magic = bits_f32(((127u - 15u) + (23u - 10u) + 1u) << 23);
        const float t = bits_f32(x) + denorm_magic;
        o = (uint16_t)(f32_bits(t) - f32_bits(denorm_magic));
    } else {
        const uint32_t mant_odd = (x >> 13) & 1u;
        x += ((uint32_t)(15 - 127) << 23) + 0xfffu;
        x += mant_odd;
        o = (uint16_t)(x >> 13);
    }
    return (uint16_t)(o | (sign >> 16));
}

inline float bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

// binary32 -> bfloat16, round to nearest even; NaN stays a quiet NaN.
inline uint16_t f32_to_bf16(float f) {
    const uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// binary64 -> binary32 rounded to ODD: rounding that result again to a narrower format (f16,
// bf16) gives the correctly rounded narrow value, so f64 -> f16 is not double-rounded.
inline float f64_to_f32_round_odd(double d) {
    float f = (float)d;
    if ((double)f != d && d == d && f - f == 0.0f) {  // inexact, finite, not NaN
        uint32_t u = f32_bits(f);
        // (float)d rounded away from zero? step back toward zero to get the truncation.
        if ((f > 0.0f && (double)f > d) || (f < 0.0f && (double)f < d)) u -= 1u;
        f = bits_f32(u | 1u);
    }
    return f;
}

inline uint16_t f64_to_f16(double d) { return f32_to_f16(f64_to_f32_round_odd(d)); }
inline uint16_t f64_to_bf16(double d) { return f32_to_bf16(f64_to_f32_round_odd(d)); }

}  // namespace pto
#endif  // __cplusplus
