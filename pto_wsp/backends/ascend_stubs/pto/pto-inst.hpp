// Stub of the PTO-ISA tile instruction header used by the ascend_npu AICore kernels
// (declarations only; see ../README.md). It lets `g++ -fsyntax-only` check an emitted kernel's
// C++ on a machine without PTO-ISA; the real check compiles the kernels against PTO-ISA itself
// (docs/ptoisa.md). Tiles carry the real template parameters; instructions are
// destination-first: TADD(dst, a, b).
#pragma once
#include <stdint.h>

namespace pto {

constexpr int DYNAMIC = -1;
enum class TileType { Vec, Mat, Left, Right, Acc };
enum class BLayout { RowMajor, ColMajor };
enum class SLayout { NoneBox, RowMajor, ColMajor };
enum class RoundMode { CAST_RINT };

template <TileType Loc, typename T, int Rows, int Cols, BLayout B = BLayout::RowMajor,
          int RowValid = Rows, int ColValid = Cols, SLayout S = SLayout::NoneBox>
struct Tile {
    using DType = T;
};
template <typename T, int R, int C, int RV = R, int CV = C>
using TileLeft = Tile<TileType::Left, T, R, C, BLayout::ColMajor, RV, CV, SLayout::RowMajor>;
template <typename T, int R, int C, int RV = R, int CV = C>
using TileRight = Tile<TileType::Right, T, R, C, BLayout::RowMajor, RV, CV, SLayout::ColMajor>;
template <typename T, int R, int C, int RV = R, int CV = C>
using TileAcc = Tile<TileType::Acc, T, R, C, BLayout::ColMajor, RV, CV, SLayout::RowMajor>;

template <int64_t N1, int64_t N2, int64_t N3, int64_t N4, int64_t N5>
struct Shape {
    Shape(int64_t a, int64_t b);
};
template <int64_t S1, int64_t S2, int64_t S3, int64_t S4, int64_t S5>
struct Stride {
    Stride(int64_t a, int64_t b);
};
/// A view of global memory (pointer, 5-D shape and strides in elements).
template <typename T, typename ShapeT, typename StrideT>
struct GlobalTensor {
    GlobalTensor(T* base, const ShapeT& shape, const StrideT& stride);
};

#define PTO_STUB_INSTR(name) \
    template <typename... Args> \
    void name(Args&&...);
PTO_STUB_INSTR(TLOAD)
PTO_STUB_INSTR(TSTORE)
PTO_STUB_INSTR(TMOV)
PTO_STUB_INSTR(TCVT)
PTO_STUB_INSTR(TEXPANDS)
PTO_STUB_INSTR(TROWEXPAND)
PTO_STUB_INSTR(TCOLEXPAND)
PTO_STUB_INSTR(TADD)
PTO_STUB_INSTR(TSUB)
PTO_STUB_INSTR(TMUL)
PTO_STUB_INSTR(TDIV)
PTO_STUB_INSTR(TMAX)
PTO_STUB_INSTR(TMIN)
PTO_STUB_INSTR(TADDS)
PTO_STUB_INSTR(TMULS)
PTO_STUB_INSTR(TDIVS)
PTO_STUB_INSTR(TEXP)
PTO_STUB_INSTR(TLOG)
PTO_STUB_INSTR(TSQRT)
PTO_STUB_INSTR(TRSQRT)
PTO_STUB_INSTR(TRELU)
PTO_STUB_INSTR(TNEG)
PTO_STUB_INSTR(TABS)
PTO_STUB_INSTR(TROWSUM)
PTO_STUB_INSTR(TROWMAX)
PTO_STUB_INSTR(TCOLSUM)
PTO_STUB_INSTR(TCOLMAX)
PTO_STUB_INSTR(TROWEXPANDMUL)
PTO_STUB_INSTR(TROWEXPANDADD)
PTO_STUB_INSTR(TCOLEXPANDMUL)
PTO_STUB_INSTR(TCOLEXPANDADD)
PTO_STUB_INSTR(TDEINTERLEAVE)
PTO_STUB_INSTR(TINTERLEAVE)
PTO_STUB_INSTR(TCONCAT)
PTO_STUB_INSTR(TMATMUL)
PTO_STUB_INSTR(TMATMUL_ACC)
PTO_STUB_INSTR(TSORT32)
PTO_STUB_INSTR(TEXTRACT)
#undef PTO_STUB_INSTR

// Instructions whose element type, mask or mode is a template argument.
enum class MaskPattern { P0101 = 1, P1010 = 2 };
struct MrgSortExecutedNumList {
    uint16_t mrgSortList0, mrgSortList1, mrgSortList2, mrgSortList3;
};
template <typename TileData, typename T, int descending, typename... Args>
void TCI(Args&&...);
template <typename Dst, typename Src, MaskPattern pattern, typename... Args>
void TGATHER(Args&&...);
template <typename Dst, typename Tmp, typename Src0, typename Src1, bool exhausted,
          typename... Args>
void TMRGSORT(Args&&...);

}  // namespace pto
