// Sorting tile ops (spec §6.1's TopK route): iota_u32, tsort32, mrgsort, extract_topk_indices.
//
// A (score, index) pair is two f32 slots: the score, then the uint32 index's bit pattern (not
// a float value), as PTO-ISA's TSORT32 writes it. Order: score descending, ties to the lower
// index (tsort32) or to the first list (mrgsort), as PTO-ISA's CPU simulation does; -0.0 and
// +0.0 are equal scores. NaN scores sort above +inf (PTO-ISA leaves their order undefined).
//
// tsort32 sorts a 32-element block by 32 integer keys, each the score mapped to an unsigned
// integer in descending order with the index below it, so the sort compares 64-bit integers
// only (no float compares); the keys are built in a plain loop the compiler vectorises.
#include <cstring>

#include "tile_ops_internal.h"

namespace pto::detail {
namespace {

/// The f32 at (r, c) of tile t (the DSL guarantees t is f32).
inline float f32_at(const pto_tile* t, int64_t r, int64_t c) {
    float v;
    std::memcpy(&v, static_cast<const char*>(t->data) + (r * t->row_stride + c * t->col_stride) * 4, 4);
    return v;
}

inline uint32_t u32_at(const pto_tile* t, int64_t r, int64_t c) {
    uint32_t v;
    std::memcpy(&v, static_cast<const char*>(t->data) + (r * t->row_stride + c * t->col_stride) * 4, 4);
    return v;
}

inline void put32(pto_tile* t, int64_t r, int64_t c, uint32_t bits) {
    std::memcpy(static_cast<char*>(t->data) + (r * t->row_stride + c * t->col_stride) * 4, &bits, 4);
}

/// A key that orders scores descending as unsigned integers ascending: the IEEE bits made
/// monotonic (negatives flipped), then complemented. -0.0 becomes +0.0 first.
inline uint32_t descending_key(float s) {
    uint32_t b;
    if (s == 0.0f) s = 0.0f;
    std::memcpy(&b, &s, 4);
    const uint32_t mono = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
    return ~mono;
}

}  // namespace
}  // namespace pto::detail

using namespace pto::detail;

extern "C" {

void pto_iota_u32(pto_tile* out) {
    for (int64_t r = 0; r < out->rows; ++r)
        for (int64_t c = 0; c < out->cols; ++c) put32(out, r, c, (uint32_t)c);
}

void pto_tsort32(pto_tile* out, const pto_tile* src, const pto_tile* idx) {
    constexpr int64_t B = 32;
    const bool idx_row = idx->rows == 1;  // one index row for every row of src
    uint64_t keys[B];
    float score[B];
    uint32_t index[B];
    uint8_t perm[B];
    for (int64_t r = 0; r < src->rows; ++r) {
        const int64_t ir = idx_row ? 0 : r;
        for (int64_t c0 = 0; c0 < src->cols; c0 += B) {
            const int64_t n = std::min<int64_t>(B, src->cols - c0);
            for (int64_t k = 0; k < n; ++k) {
                score[k] = f32_at(src, r, c0 + k);
                index[k] = u32_at(idx, ir, c0 + k);
            }
            for (int64_t k = 0; k < n; ++k)
                keys[k] = ((uint64_t)descending_key(score[k]) << 32) | (uint64_t)index[k];
            // Equal keys (equal scores and indices, -0.0 and +0.0 equal) keep their block
            // order, as PTO-ISA's stable sort does.
            for (int64_t k = 0; k < n; ++k) perm[k] = (uint8_t)k;
            std::sort(perm, perm + n, [&](uint8_t x, uint8_t y) {
                return keys[x] < keys[y] || (keys[x] == keys[y] && x < y);
            });
            for (int64_t k = 0; k < n; ++k) {
                uint32_t bits;
                std::memcpy(&bits, &score[perm[k]], 4);
                put32(out, r, 2 * (c0 + k), bits);
                put32(out, r, 2 * (c0 + k) + 1, index[perm[k]]);
            }
        }
    }
}

void pto_mrgsort(pto_tile* out, const pto_tile* a, const pto_tile* b) {
    for (int64_t r = 0; r < out->rows; ++r) {
        const int64_t na = a->cols / 2, nb = b->cols / 2, n = out->cols / 2;
        int64_t i = 0, j = 0;
        for (int64_t o = 0; o < n; ++o) {
            if (i >= na && j >= nb) break;
            // b goes first only on a strictly greater score (ties to the first list).
            const bool take_b = i >= na || (j < nb && f32_at(b, r, 2 * j) > f32_at(a, r, 2 * i));
            const pto_tile* s = take_b ? b : a;
            const int64_t p = take_b ? j++ : i++;
            put32(out, r, 2 * o, u32_at(s, r, 2 * p));
            put32(out, r, 2 * o + 1, u32_at(s, r, 2 * p + 1));
        }
    }
}

void pto_extract_topk_indices(pto_tile* out, const pto_tile* pairs) {
    for (int64_t r = 0; r < out->rows; ++r)
        for (int64_t k = 0; k < out->cols; ++k) put32(out, r, k, u32_at(pairs, r, 2 * k + 1));
}

}  // extern "C"
