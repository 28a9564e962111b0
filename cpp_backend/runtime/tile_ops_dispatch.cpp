// Running tile ops by name (pto_run_op) and timing them in a compiled loop (pto_time_op).
//
// The pto_<op> entries trust their caller (generated code was type-checked by the DSL); this is
// the checked door for tests and tools: it validates arity, shapes, dtypes and aliasing and says
// precisely what is wrong instead of computing garbage.
#include <chrono>
#include <cstdio>
#include <string>
#include <type_traits>

#include "pto_tables.h"
#include "tile_ops_internal.h"

// GCC 12 reports a false -Wrestrict inside std::string concatenation (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

namespace pto::detail {
namespace {

// The ops, their rules and runtime entries: the op table (pto_wsp/language/op_table.py, generated
// into pto_tables.h). Each rule is one shape check in `validate` below.
using Kind = pto::tables::OpRule;

using Runner = void (*)(pto_tile* out, const pto_tile* const* ins, const double* attrs);

struct OpInfo {
    const char* name;
    Kind kind;
    int min_ins, max_ins;  // input tiles
    bool bool_out;         // a bool output is meaningful (numpy accepts the op on bools)
    bool float_only;       // the output must be f16/bf16/f32/f64
    Runner run;
};

// Calls the runtime entry `Fn` with as many inputs as it takes: pto_alloc(out),
// pto_constant(out, attrs[0]), pto_<unary>(out, a), pto_<binary>(out, a, b),
// pto_matmul(out, a, b, acc) (`ins` is padded with nullptr up to 3).
template <auto Fn>
void run_entry(pto_tile* o, const pto_tile* const* in, const double* at) {
    using F = decltype(Fn);
    using T = const pto_tile*;
    if constexpr (std::is_invocable_v<F, pto_tile*>) Fn(o);
    else if constexpr (std::is_invocable_v<F, pto_tile*, double>) Fn(o, at[0]);
    else if constexpr (std::is_invocable_v<F, pto_tile*, T>) Fn(o, in[0]);
    else if constexpr (std::is_invocable_v<F, pto_tile*, T, T>) Fn(o, in[0], in[1]);
    else Fn(o, in[0], in[1], in[2]);
}

// A store's first IR operand (its destination) is the entry's `out`, not an input.
#define PTO_X(ident, name, nmin, nmax, rule, float_only, bool_ok, fn, isa)                  \
    {name, Kind::rule, nmin - (Kind::rule == Kind::Store), nmax - (Kind::rule == Kind::Store), \
     bool_ok, float_only, &run_entry<&fn>},
const OpInfo kOps[] = {PTO_OP_TABLE_WITH_ALIASES(PTO_X)};
#undef PTO_X

thread_local std::string last_error;

const OpInfo* find_op(const char* name) {
    if (name == nullptr) return nullptr;
    for (const OpInfo& op : kOps)
        if (std::strcmp(op.name, name) == 0) return &op;
    return nullptr;
}

std::string shape_str(int64_t r, int64_t c) {
    return "[" + std::to_string(r) + "," + std::to_string(c) + "]";
}
std::string shape_of(const pto_tile* t) { return shape_str(t->rows, t->cols); }

// Byte range [lo, hi) touched by a tile.
void extent(const pto_tile* t, const char*& lo, const char*& hi) {
    const int64_t isz = dtype_size(t->dtype);
    int64_t mn = 0, mx = 0;
    if (t->rows > 1) (t->row_stride < 0 ? mn : mx) += (t->rows - 1) * t->row_stride;
    if (t->cols > 1) (t->col_stride < 0 ? mn : mx) += (t->cols - 1) * t->col_stride;
    lo = static_cast<const char*>(t->data) + mn * isz;
    hi = static_cast<const char*>(t->data) + (mx + 1) * isz;
}

bool overlaps(const pto_tile* a, const pto_tile* b) {
    if (a->rows <= 0 || a->cols <= 0 || b->rows <= 0 || b->cols <= 0) return false;
    const char *alo, *ahi, *blo, *bhi;
    extent(a, alo, ahi);
    extent(b, blo, bhi);
    return alo < bhi && blo < ahi;
}

bool same_view(const pto_tile* x, const pto_tile* y) {
    return x->data == y->data && x->rows == y->rows && x->cols == y->cols &&
           x->dtype == y->dtype && (x->rows == 1 || x->row_stride == y->row_stride) &&
           (x->cols == 1 || x->col_stride == y->col_stride);
}

bool is_float(int dt) {
    switch (dt) {
#define PTO_X(ident, abi, name, code, size, c_type, npu_type, is_float, ...) \
    case abi: return is_float;
        PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
        default: return false;
    }
}

// Returns "" when the call is valid, else the reason.
std::string validate(const OpInfo& op, const pto_tile* out, const pto_tile* const* ins,
                     int n_ins, const double* attrs) {
    const std::string who = std::string("tile op '") + op.name + "': ";
    if (n_ins < op.min_ins || n_ins > op.max_ins) {
        const int want = n_ins < op.min_ins ? op.min_ins : op.max_ins;
        const char* expect = op.kind == Kind::Matmul ? "2 or 3 (a, b[, acc])" : nullptr;
        return who + "expects " + (expect ? expect : std::to_string(want)) + " input tile" +
               (want == 1 ? "" : "s") + ", got " + std::to_string(n_ins);
    }
    if (out == nullptr) return who + "the output tile is missing";
    if (dtype_size(out->dtype) == 0)
        return who + "output has unknown dtype code " + std::to_string(out->dtype);
    if (out->rows < 0 || out->cols < 0)
        return who + "output has negative shape " + shape_of(out);
    if (out->data == nullptr && out->rows > 0 && out->cols > 0)
        return who + "output has no data pointer";
    for (int i = 0; i < n_ins; ++i) {
        const pto_tile* t = ins[i];
        if (t == nullptr) return who + "input " + std::to_string(i) + " is missing";
        if (dtype_size(t->dtype) == 0)
            return who + "input " + std::to_string(i) + " has unknown dtype code " +
                   std::to_string(t->dtype);
        if (t->rows < 0 || t->cols < 0)
            return who + "input " + std::to_string(i) + " has negative shape " + shape_of(t);
        if (t->data == nullptr && t->rows > 0 && t->cols > 0)
            return who + "input " + std::to_string(i) + " has no data pointer";
    }
    if (op.kind == Kind::Constant && attrs == nullptr)
        return who + "needs its value as attrs[0]";

    const std::string out_dt = pto_dtype_name(out->dtype);
    if (op.float_only && !is_float(out->dtype))
        return who + "needs a float output (f16, bf16, f32, f64), got " + out_dt;
    if (out->dtype == PTO_BOOL && !op.bool_out) return who + "is not defined for bool output";
    if (op.kind == Kind::Matmul && out->dtype == PTO_BOOL)
        return who + "is not defined for bool output";

    const int64_t R = out->rows, C = out->cols;
    auto need = [&](int i, int64_t r, int64_t c) -> std::string {
        const pto_tile* t = ins[i];
        if (t->rows == r && t->cols == c) return "";
        return who + "input " + std::to_string(i) + " has shape " + shape_of(t) + ", expected " +
               shape_str(r, c);
    };
    auto bcast = [&](int i) -> std::string {
        const pto_tile* t = ins[i];
        if ((t->rows == R || t->rows == 1) && (t->cols == C || t->cols == 1)) return "";
        return who + "input " + std::to_string(i) + " of shape " + shape_of(t) +
               " does not broadcast to the output shape " + shape_str(R, C) + " (allowed: " +
               shape_str(R, C) + ", " + shape_str(R, 1) + ", " + shape_str(1, C) + ", [1,1])";
    };
    std::string err;
    switch (op.kind) {
        case Kind::Alloc:
        case Kind::Constant: break;
        case Kind::Load:
        case Kind::Store:
        case Kind::Unary: err = need(0, R, C); break;
        case Kind::Binary:
            err = bcast(0);
            if (err.empty()) err = bcast(1);
            break;
        case Kind::Broadcast: err = bcast(0); break;
        case Kind::RowVec:
            err = need(0, R, C);
            if (err.empty()) err = need(1, R, 1);
            break;
        case Kind::ColVec:
            err = need(0, R, C);
            if (err.empty()) err = need(1, 1, C);
            break;
        case Kind::RowReduce:
            if (C != 1) return who + "output must be [r,1], got " + shape_str(R, C);
            err = need(0, R, ins[0]->cols);
            break;
        case Kind::ColReduce:
            if (R != 1) return who + "output must be [1,c], got " + shape_str(R, C);
            err = need(0, ins[0]->rows, C);
            break;
        case Kind::SliceEven:
            err = need(0, R, ins[0]->cols);
            if (err.empty() && C != (ins[0]->cols + 1) / 2)
                err = who + "output of input " + shape_of(ins[0]) + " must be " +
                      shape_str(R, (ins[0]->cols + 1) / 2) + ", got " + shape_str(R, C);
            break;
        case Kind::SliceOdd:
            err = need(0, R, ins[0]->cols);
            if (err.empty() && C != ins[0]->cols / 2)
                err = who + "output of input " + shape_of(ins[0]) + " must be " +
                      shape_str(R, ins[0]->cols / 2) + ", got " + shape_str(R, C);
            break;
        case Kind::Interleave: {
            const int64_t ca = ins[0]->cols, cb = ins[1]->cols;
            if (ins[0]->rows != R || ins[1]->rows != R)
                return who + "inputs " + shape_of(ins[0]) + " and " + shape_of(ins[1]) +
                       " must have the output's " + std::to_string(R) + " rows";
            if (!(ca == cb || ca == cb + 1))
                return who + "input 0 must have as many columns as input 1 or one more, got " +
                       shape_of(ins[0]) + " and " + shape_of(ins[1]);
            if (C != ca + cb)
                return who + "output must be " + shape_str(R, ca + cb) + ", got " +
                       shape_str(R, C);
            break;
        }
        case Kind::Matmul: {
            const int64_t K = ins[0]->cols;
            err = need(0, R, K);
            if (err.empty()) err = need(1, K, C);
            if (err.empty() && n_ins == 3) err = need(2, R, C);
            break;
        }
        case Kind::Iota:
            if (out->dtype != PTO_U32) return who + "output must be u32, got " + out_dt;
            break;
        case Kind::BlockSort: {
            const pto_tile *s = ins[0], *x = ins[1];
            if (out->dtype != PTO_F32 || s->dtype != PTO_F32 || x->dtype != PTO_U32)
                return who + "needs f32 scores, u32 indices and an f32 output";
            if (s->cols % 32 != 0)
                return who + "sorts blocks of 32: input 0 " + shape_of(s) +
                       " needs a multiple of 32 columns";
            if (!((x->rows == s->rows || x->rows == 1) && x->cols == s->cols))
                return who + "indices " + shape_of(x) + " must be " + shape_of(s) + " or " +
                       shape_str(1, s->cols);
            if (R != s->rows || C != 2 * s->cols)
                return who + "output must be " + shape_str(s->rows, 2 * s->cols) + ", got " +
                       shape_str(R, C);
            break;
        }
        case Kind::Mrgsort: {
            const pto_tile *a = ins[0], *b = ins[1];
            if (out->dtype != PTO_F32 || a->dtype != PTO_F32 || b->dtype != PTO_F32)
                return who + "merges f32 pair rows into an f32 output";
            if (a->rows != 1 || b->rows != 1 || R != 1 || a->cols % 2 || b->cols % 2)
                return who + "inputs must be pair rows [1, 2n], got " + shape_of(a) + " and " +
                       shape_of(b);
            if (C != a->cols + b->cols)
                return who + "output must be " + shape_str(1, a->cols + b->cols) + ", got " +
                       shape_str(R, C);
            break;
        }
        case Kind::TopkIndices: {
            const pto_tile* p = ins[0];
            if (out->dtype != PTO_I32 || p->dtype != PTO_F32)
                return who + "reads f32 pairs into an i32 output";
            if (p->rows != R || p->cols % 2 || C > p->cols / 2)
                return who + "output " + shape_str(R, C) + " must have the rows of the pairs " +
                       shape_of(p) + " and at most " + std::to_string(p->cols / 2) + " columns";
            break;
        }
    }
    if (!err.empty()) return err;

    // Aliasing: elementwise ops may update in place (out is exactly an input view); anything
    // else that overlaps would read values it has already overwritten.
    const bool elementwise = op.kind == Kind::Load || op.kind == Kind::Store ||
                             op.kind == Kind::Binary || op.kind == Kind::RowVec ||
                             op.kind == Kind::ColVec || op.kind == Kind::Unary;
    for (int i = 0; i < n_ins; ++i) {
        const pto_tile* t = ins[i];
        if (!overlaps(out, t)) continue;
        if (same_view(out, t) && (elementwise || (op.kind == Kind::Matmul && i == 2))) continue;
        return who + "the output overlaps input " + std::to_string(i) +
               " (only an identical in-place view is allowed" +
               (op.kind == Kind::Matmul ? ", for acc" : ", for elementwise ops") + ")";
    }
    return "";
}

const OpInfo* prepare(const char* name, const pto_tile* out, const pto_tile* const* ins,
                      int n_ins, const double* attrs, int& status) {
    const OpInfo* op = find_op(name);
    if (op == nullptr) {
        last_error = std::string("unknown tile op '") + (name ? name : "(null)") +
                     "'; known ops: " + pto_op_names();
        status = PTO_ERR_UNKNOWN_OP;
        return nullptr;
    }
    std::string err = validate(*op, out, ins, n_ins, attrs);
    if (!err.empty()) {
        last_error = std::move(err);
        status = PTO_ERR_INVALID;
        return nullptr;
    }
    status = PTO_OK;
    return op;
}

}  // namespace
}  // namespace pto::detail

using namespace pto::detail;

extern "C" {

const char* pto_op_names(void) {
    static const std::string names = [] {
        std::string s;
        for (const OpInfo& op : kOps) {
            if (!s.empty()) s += ", ";
            s += op.name;
        }
        return s;
    }();
    return names.c_str();
}

const char* pto_last_error(void) { return last_error.c_str(); }

int pto_run_op(const char* name, pto_tile* out, const pto_tile* const* ins, int n_ins,
               const double* attrs) {
    int status = PTO_OK;
    const OpInfo* op = prepare(name, out, ins, n_ins, attrs, status);
    if (op == nullptr) return status;
    const pto_tile* padded[3] = {nullptr, nullptr, nullptr};
    for (int i = 0; i < n_ins; ++i) padded[i] = ins[i];
    op->run(out, padded, attrs);
    last_error.clear();
    return PTO_OK;
}

int pto_time_op(const char* name, pto_tile* out, const pto_tile* const* ins, int n_ins,
                const double* attrs, int64_t iterations, double* ns_per_op) {
    int status = PTO_OK;
    const OpInfo* op = prepare(name, out, ins, n_ins, attrs, status);
    if (op == nullptr) return status;
    if (iterations <= 0) {
        last_error = "pto_time_op: iterations must be positive, got " + std::to_string(iterations);
        return PTO_ERR_INVALID;
    }
    const pto_tile* padded[3] = {nullptr, nullptr, nullptr};
    for (int i = 0; i < n_ins; ++i) padded[i] = ins[i];
    op->run(out, padded, attrs);  // warm caches and scratch buffers
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < iterations; ++i) op->run(out, padded, attrs);
    const auto t1 = std::chrono::steady_clock::now();
    last_error.clear();
    if (ns_per_op != nullptr)
        *ns_per_op = std::chrono::duration<double, std::nano>(t1 - t0).count() / (double)iterations;
    return PTO_OK;
}

}  // extern "C"
