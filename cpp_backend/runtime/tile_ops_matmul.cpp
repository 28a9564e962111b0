// Matrix multiply: out[M,N] = a[M,K] @ b[K,N] (+ acc[M,N]).
//
// Float types use a register-blocked micro-kernel (4 rows x 2 vectors of columns, 8 vector
// accumulators held in registers across the whole K loop, written with GCC vector extensions so
// it maps to AVX2+FMA under -march=native and to SSE2 elsewhere). Operands that are not
// already row-contiguous arrays of the compute type (f16/bf16 inputs, other dtypes, strided
// columns) are packed once into a scratch buffer. Integer matmul wraps like numpy.
#include <vector>

#include "tile_ops_internal.h"

namespace pto::detail {
namespace {

template <class T>
inline T wmul_add(T c, T a, T b) {
    if constexpr (std::is_integral_v<T>)
        return (T)(wrap_t<T>(c) + wrap_t<T>(a) * wrap_t<T>(b));
    else
        return c + a * b;
}

// Plain i-k-j loop (vectorises over j): remainders of the blocked kernel and integer types.
template <class T>
void gemm_simple(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                 int64_t ldb, T* Cm, int64_t ldc, bool accumulate) {
    for (int64_t i = 0; i < M; ++i) {
        T* c = Cm + i * ldc;
        if (!accumulate)
            for (int64_t j = 0; j < N; ++j) c[j] = T(0);
        for (int64_t k = 0; k < K; ++k) {
            const T a = A[i * lda + k];
            const T* b = B + k * ldb;
            for (int64_t j = 0; j < N; ++j) c[j] = wmul_add(c[j], a, b[j]);
        }
    }
}

template <class T>
void gemm_blocked(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                  int64_t ldb, T* Cm, int64_t ldc, bool accumulate) {
    constexpr int VW = 32 / sizeof(T);  // lanes per 32-byte vector
    typedef T vec __attribute__((vector_size(32)));
    constexpr int MR = 4, NR = 2 * VW;
    const int64_t Mb = M / MR * MR, Nb = N / NR * NR;
    auto ld = [](const T* p) {
        vec v;
        std::memcpy(&v, p, sizeof v);
        return v;
    };
    auto st = [](T* p, vec v) { std::memcpy(p, &v, sizeof v); };
    for (int64_t j0 = 0; j0 < Nb; j0 += NR) {
        for (int64_t i0 = 0; i0 < Mb; i0 += MR) {
            vec c[MR][2];
#pragma GCC unroll 4
            for (int r = 0; r < MR; ++r) {
                if (accumulate) {
                    c[r][0] = ld(Cm + (i0 + r) * ldc + j0);
                    c[r][1] = ld(Cm + (i0 + r) * ldc + j0 + VW);
                } else {
                    c[r][0] = vec{};
                    c[r][1] = vec{};
                }
            }
            const T* a0 = A + i0 * lda;
            for (int64_t k = 0; k < K; ++k) {
                const vec b0 = ld(B + k * ldb + j0);
                const vec b1 = ld(B + k * ldb + j0 + VW);
#pragma GCC unroll 4
                for (int r = 0; r < MR; ++r) {
                    const T a = a0[r * lda + k];
                    c[r][0] += a * b0;
                    c[r][1] += a * b1;
                }
            }
#pragma GCC unroll 4
            for (int r = 0; r < MR; ++r) {
                st(Cm + (i0 + r) * ldc + j0, c[r][0]);
                st(Cm + (i0 + r) * ldc + j0 + VW, c[r][1]);
            }
        }
    }
    if (Nb < N)  // right strip, rows 0..Mb
        gemm_simple(Mb, N - Nb, K, A, lda, B + Nb, ldb, Cm + Nb, ldc, accumulate);
    if (Mb < M)  // bottom rows, all columns
        gemm_simple(M - Mb, N, K, A + Mb * lda, lda, B, ldb, Cm + Mb * ldc, ldc, accumulate);
}

template <class T>
inline void gemm(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                 int64_t ldb, T* Cm, int64_t ldc, bool accumulate) {
    if constexpr (std::is_floating_point_v<T>)
        gemm_blocked(M, N, K, A, lda, B, ldb, Cm, ldc, accumulate);
    else
        gemm_simple(M, N, K, A, lda, B, ldb, Cm, ldc, accumulate);
}

// Scratch buffers reused across calls (one set per thread): packing must not allocate per op.
struct Scratch {
    std::vector<char> a, b, c;
};
thread_local Scratch scratch;

template <class T>
T* scratch_of(std::vector<char>& v, int64_t n) {
    const size_t bytes = (size_t)n * sizeof(T);
    if (v.size() < bytes) v.resize(bytes);
    return reinterpret_cast<T*>(v.data());
}

// Rows of t usable in place as T[rows][ld] (returns the leading dimension), or packs t.
template <class T>
const T* operand(const pto_tile* t, std::vector<char>& buf, int64_t& ld) {
    if (t->dtype == dtype_of<T> && (t->col_stride == 1 || t->cols == 1)) {
        ld = t->rows == 1 ? t->cols : t->row_stride;
        return static_cast<const T*>(t->data);
    }
    T* p = scratch_of<T>(buf, t->rows * t->cols);
    pto_tile packed{p, t->rows, t->cols, t->cols, 1, dtype_of<T>};
    copy_view(make_view(&packed, t->rows, t->cols), make_view(t, t->rows, t->cols), t->rows,
              t->cols);
    ld = t->cols;
    return p;
}

inline bool same_view(const pto_tile* x, const pto_tile* y) {
    return x->data == y->data && x->rows == y->rows && x->cols == y->cols &&
           x->dtype == y->dtype && (x->rows == 1 || x->row_stride == y->row_stride) &&
           (x->cols == 1 || x->col_stride == y->col_stride);
}

template <class T>
void matmul_tile(pto_tile* out, const pto_tile* a, const pto_tile* b, const pto_tile* acc) {
    const int64_t M = out->rows, N = out->cols, K = a->cols;
    if (M <= 0 || N <= 0) return;
    int64_t lda = 0, ldb = 0;
    const T* A = operand<T>(a, scratch.a, lda);
    const T* B = operand<T>(b, scratch.b, ldb);
    const bool direct = out->dtype == dtype_of<T> && (out->col_stride == 1 || N == 1) &&
                        (M == 1 || out->row_stride >= N || out->row_stride <= -N);
    T* Cm;
    int64_t ldc;
    if (direct) {
        Cm = static_cast<T*>(out->data);
        ldc = M == 1 ? N : out->row_stride;
    } else {
        Cm = scratch_of<T>(scratch.c, M * N);
        ldc = N;
    }
    pto_tile target{Cm, M, N, ldc, 1, dtype_of<T>};
    bool accumulate = false;
    if (acc != nullptr) {
        if (!(direct && same_view(acc, out)))
            copy_view(make_view(&target, M, N), make_view(acc, M, N), M, N);
        accumulate = true;
    }
    if (K <= 0) {
        if (!accumulate) pto_constant(&target, 0.0);
    } else {
        gemm<T>(M, N, K, A, lda, B, ldb, Cm, ldc, accumulate);
    }
    if (!direct) copy_view(make_view(out, M, N), make_view(&target, M, N), M, N);
}

}  // namespace
}  // namespace pto::detail

using namespace pto::detail;

extern "C" void pto_matmul(pto_tile* out, const pto_tile* a, const pto_tile* b,
                           const pto_tile* acc) {
    visit_compute(out->dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        matmul_tile<T>(out, a, b, acc);
    });
}
