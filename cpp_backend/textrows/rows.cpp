#include "textrows/rows.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace pto::wsp::textrows {

namespace {

constexpr std::int64_t kPow10[19] = {1LL,
                                     10LL,
                                     100LL,
                                     1000LL,
                                     10000LL,
                                     100000LL,
                                     1000000LL,
                                     10000000LL,
                                     100000000LL,
                                     1000000000LL,
                                     10000000000LL,
                                     100000000000LL,
                                     1000000000000LL,
                                     10000000000000LL,
                                     100000000000000LL,
                                     1000000000000000LL,
                                     10000000000000000LL,
                                     100000000000000000LL,
                                     1000000000000000000LL};

// Upper bound of one row's bytes in a column (for reserving the output once).
std::size_t max_width(const Column& c) {
    switch (c.kind) {
        case ColumnKind::Literal:
        case ColumnKind::Optional: return c.text.size();
        case ColumnKind::Integer: return 20;
        case ColumnKind::Fixed: return 22;
        case ColumnKind::Choice: return static_cast<std::size_t>(c.table_width);
    }
    return 0;
}

void check(std::int64_t n, const Column& c) {
    const auto rows = static_cast<std::size_t>(n);
    const bool needs_values = c.kind == ColumnKind::Integer || c.kind == ColumnKind::Fixed ||
                              c.kind == ColumnKind::Choice;
    if (needs_values && c.values.size() < rows)
        throw std::invalid_argument("format_rows: a value column is shorter than the rows");
    const bool needs_mask = c.kind == ColumnKind::Optional ||
                            (c.kind == ColumnKind::Integer && !c.mask.empty());
    if (needs_mask && c.mask.size() < rows)
        throw std::invalid_argument("format_rows: a mask is shorter than the rows");
    if (c.kind == ColumnKind::Fixed && (c.decimals < 0 || c.decimals > 18))
        throw std::invalid_argument("format_rows: decimals must be in 0..18");
    if (c.kind == ColumnKind::Choice) {
        if (c.table_width <= 0 || c.table.size() % static_cast<std::size_t>(c.table_width))
            throw std::invalid_argument("format_rows: a string table is not rows x width");
        const auto table_rows = static_cast<std::int64_t>(c.table.size()) / c.table_width;
        for (std::size_t i = 0; i < rows; ++i)
            if (c.values[i] < 0 || c.values[i] >= table_rows)
                throw std::invalid_argument("format_rows: a string index is outside its table");
    }
}

char* put_int(char* at, std::int64_t v) { return std::to_chars(at, at + 20, v).ptr; }

char* put_fixed(char* at, std::int64_t units, int decimals) {
    if (decimals == 0) return put_int(at, units);
    // |units| as unsigned, so INT64_MIN has a magnitude too
    std::uint64_t mag = units < 0 ? 0 - static_cast<std::uint64_t>(units)
                                  : static_cast<std::uint64_t>(units);
    if (units < 0) *at++ = '-';
    const auto scale = static_cast<std::uint64_t>(kPow10[decimals]);
    at = std::to_chars(at, at + 20, mag / scale).ptr;
    std::uint64_t frac = mag % scale;
    if (frac == 0) return at;
    int digits = decimals;
    while (frac % 10 == 0) {
        frac /= 10;
        --digits;
    }
    *at++ = '.';
    for (int j = digits - 1; j >= 0; --j) {
        at[j] = static_cast<char>('0' + frac % 10);
        frac /= 10;
    }
    return at + digits;
}

// Literal text padded to whole blocks, so a row copies it with fixed-size moves (the output has
// a block of slack) instead of a call to memcpy with a run-time length per column per row.
constexpr std::size_t kBlock = 16;

struct Padded {
    std::vector<char> bytes;  // rows x width, width a multiple of kBlock
    std::vector<std::uint32_t> lengths;  // text length of each row
    std::size_t width = 0;
};

Padded pad(const char* text, std::size_t rows, std::size_t width, bool stop_at_nul) {
    Padded p;
    p.width = (width + kBlock - 1) / kBlock * kBlock;
    p.bytes.assign(rows * p.width + kBlock, '\0');
    p.lengths.resize(rows);
    for (std::size_t r = 0; r < rows; ++r) {
        const char* src = text + r * width;
        std::size_t len = width;
        if (stop_at_nul) {
            const void* nul = std::memchr(src, 0, width);
            if (nul) len = static_cast<std::size_t>(static_cast<const char*>(nul) - src);
        }
        std::memcpy(p.bytes.data() + r * p.width, src, len);
        p.lengths[r] = static_cast<std::uint32_t>(len);
    }
    return p;
}

inline char* put_padded(char* at, const Padded& p, std::size_t row) {
    const char* src = p.bytes.data() + row * p.width;
    const std::size_t len = p.lengths[row];
    for (std::size_t k = 0; k < len; k += kBlock) std::memcpy(at + k, src + k, kBlock);
    return at + len;
}

}  // namespace

std::size_t max_bytes(std::int64_t n, const std::vector<Column>& columns) {
    if (n <= 0) return kBlock;
    std::size_t row_width = 0;
    for (const Column& col : columns) {
        check(n, col);
        row_width += max_width(col);
    }
    return static_cast<std::size_t>(n) * row_width + kBlock;
}

std::size_t format_rows_into(std::int64_t n, const std::vector<Column>& columns, char* out) {
    if (n <= 0) return 0;
    std::vector<Padded> texts(columns.size());
    for (std::size_t c = 0; c < columns.size(); ++c) {
        const Column& col = columns[c];
        check(n, col);
        if (col.kind == ColumnKind::Literal || col.kind == ColumnKind::Optional)
            texts[c] = pad(col.text.data(), 1, col.text.size(), false);
        else if (col.kind == ColumnKind::Choice)
            texts[c] = pad(reinterpret_cast<const char*>(col.table.data()),
                           col.table.size() / static_cast<std::size_t>(col.table_width),
                           static_cast<std::size_t>(col.table_width), true);
    }
    char* at = out;
    for (std::int64_t i = 0; i < n; ++i) {
        for (std::size_t c = 0; c < columns.size(); ++c) {
            const Column& col = columns[c];
            switch (col.kind) {
                case ColumnKind::Literal: at = put_padded(at, texts[c], 0); break;
                case ColumnKind::Optional:
                    if (col.mask[i]) at = put_padded(at, texts[c], 0);
                    break;
                case ColumnKind::Integer:
                    if (col.mask.empty() || col.mask[i]) at = put_int(at, col.values[i]);
                    break;
                case ColumnKind::Fixed: at = put_fixed(at, col.values[i], col.decimals); break;
                case ColumnKind::Choice:
                    at = put_padded(at, texts[c], static_cast<std::size_t>(col.values[i]));
                    break;
            }
        }
    }
    return static_cast<std::size_t>(at - out);
}

std::size_t write_rows(int fd, std::int64_t n, const std::vector<Column>& columns) {
    thread_local std::unique_ptr<char[]> buffer;
    thread_local std::size_t capacity = 0;
    const std::size_t need = max_bytes(n, columns);
    if (need > capacity) {
        buffer.reset(new char[need]);  // uninitialised: only the written bytes are read
        capacity = need;
    }
    const std::size_t used = format_rows_into(n, columns, buffer.get());
    std::size_t done = 0;
    while (done < used) {
        const ssize_t w = ::write(fd, buffer.get() + done, used - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "write_rows");
        }
        done += static_cast<std::size_t>(w);
    }
    return used;
}

}  // namespace pto::wsp::textrows
