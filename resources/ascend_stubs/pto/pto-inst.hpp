// Stub of the PTO-ISA tile instruction header used by the ascend_npu AICore kernels
// (declarations only; see ../README.md). Tiles are typed by location, element type and static
// shape; instructions are destination-first: TADD(dst, a, b).
#pragma once
#include <stdint.h>

namespace pto {

enum class TileType { Vec, Mat, Left, Right, Acc };

template <TileType Loc, typename T, int Rows, int Cols>
struct Tile {
    using element_type = T;
    static constexpr TileType location = Loc;
    static constexpr int rows = Rows;
    static constexpr int cols = Cols;
};

/// A 2-D strided view of global memory (strides in elements).
template <typename T>
struct GlobalTensor {
    GlobalTensor(T* base, int64_t rows, int64_t cols, int64_t row_stride,
                 int64_t col_stride);
};

// Memory
template <typename D, typename S> void TLOAD(D& dst, const S& src);
template <typename D, typename S> void TSTORE(D& dst, const S& src);
template <typename D, typename S> void TMOV(D& dst, const S& src);
template <typename D, typename V> void TEXPANDS(D& dst, V scalar);
template <typename D, typename S> void TEXPAND(D& dst, const S& src);

// Element-wise binary
template <typename D, typename A, typename B> void TADD(D& dst, const A& a, const B& b);
template <typename D, typename A, typename B> void TSUB(D& dst, const A& a, const B& b);
template <typename D, typename A, typename B> void TMUL(D& dst, const A& a, const B& b);
template <typename D, typename A, typename B> void TDIV(D& dst, const A& a, const B& b);
template <typename D, typename A, typename B> void TMAX(D& dst, const A& a, const B& b);
template <typename D, typename A, typename B> void TMIN(D& dst, const A& a, const B& b);
template <typename D, typename A, typename B> void TINTERLEAVE(D& dst, const A& a, const B& b);

// Element-wise unary
template <typename D, typename S> void TEXP(D& dst, const S& src);
template <typename D, typename S> void TLOG(D& dst, const S& src);
template <typename D, typename S> void TSQRT(D& dst, const S& src);
template <typename D, typename S> void TRSQRT(D& dst, const S& src);
template <typename D, typename S> void TTANH(D& dst, const S& src);
template <typename D, typename S> void TSIGMOID(D& dst, const S& src);
template <typename D, typename S> void TSIN(D& dst, const S& src);
template <typename D, typename S> void TCOS(D& dst, const S& src);
template <typename D, typename S> void TRELU(D& dst, const S& src);
template <typename D, typename S> void TGELU(D& dst, const S& src);
template <typename D, typename S> void TSILU(D& dst, const S& src);
template <typename D, typename S> void TNEG(D& dst, const S& src);
template <typename D, typename S> void TABS(D& dst, const S& src);
template <typename D, typename S> void TSLICEEVEN(D& dst, const S& src);
template <typename D, typename S> void TSLICEODD(D& dst, const S& src);

// Reductions
template <typename D, typename S> void TROWSUM(D& dst, const S& src);
template <typename D, typename S> void TROWMAX(D& dst, const S& src);
template <typename D, typename S> void TROWMEAN(D& dst, const S& src);
template <typename D, typename S> void TCOLSUM(D& dst, const S& src);
template <typename D, typename S> void TCOLMAX(D& dst, const S& src);

// Broadcast of a row / column vector
template <typename D, typename A, typename V> void TROWEXPANDMUL(D& dst, const A& a, const V& v);
template <typename D, typename A, typename V> void TROWEXPANDADD(D& dst, const A& a, const V& v);
template <typename D, typename A, typename V> void TCOLEXPANDMUL(D& dst, const A& a, const V& v);
template <typename D, typename A, typename V> void TCOLEXPANDADD(D& dst, const A& a, const V& v);

// Matrix
template <typename D, typename A, typename B> void TMATMUL(D& dst, const A& a, const B& b);
template <typename D, typename C, typename A, typename B>
void TMATMUL_ACC(D& dst, const C& acc, const A& a, const B& b);

}  // namespace pto
