// Stub of the AscendC kernel header used by the ascend_npu AICore kernels (declarations only;
// see README.md): the kernel qualifiers, the global-memory address type and the 16-bit float
// element types.
#pragma once
#include <stdint.h>

#ifndef __global__
#define __global__
#endif
#ifndef __aicore__
#define __aicore__
#endif
#ifndef __gm__
#define __gm__
#endif

typedef uint8_t* GM_ADDR;

/// IEEE half precision (storage type).
struct half {
    uint16_t bits;
    half() = default;
    template <typename T>
    explicit half(T) : bits(0) {}
};

/// bfloat16 (storage type).
struct bfloat16_t {
    uint16_t bits;
    bfloat16_t() = default;
    template <typename T>
    explicit bfloat16_t(T) : bits(0) {}
};

namespace AscendC {
int64_t GetBlockIdx();
int64_t GetBlockNum();
}  // namespace AscendC
