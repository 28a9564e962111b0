// Text of many similar records at once (JSON rows of the Chrome trace export), from columns.
//
// A row is a sequence of columns: literal text, a decimal integer, a fixed-point decimal, a
// string picked from a table, or a literal kept only where a mask says so. format_rows writes
// the rows back to back in row order, in one pass over the columns per row. It is the loop behind
// pto_wsp.runtime.json_rows.rows (which says what each kind writes): numpy can lay the same text
// out only in a padded byte matrix that a second pass compacts, about ten times slower.
#pragma once

#include <cstdint>
#include <span>
#include <cstddef>
#include <string>
#include <vector>

namespace pto::wsp::textrows {

enum class ColumnKind : std::uint8_t {
    Literal,   // text, in every row
    Integer,   // values[i] in decimal; nothing where mask[i] == 0 (no mask: every row)
    Fixed,     // values[i] / 10^decimals, trailing zeros of the fraction (and a bare point) dropped
    Choice,    // row values[i] of table (table_width bytes each, NUL padded)
    Optional,  // text where mask[i] != 0, nothing elsewhere
};

struct Column {
    ColumnKind kind = ColumnKind::Literal;
    std::string text;                    // Literal, Optional
    std::span<const std::int64_t> values;  // Integer, Fixed (units), Choice (table rows)
    std::span<const std::uint8_t> mask;  // Integer (empty: all rows), Optional
    std::span<const std::uint8_t> table;  // Choice: rows x table_width
    std::int64_t table_width = 0;
    int decimals = 0;  // Fixed, 0..18
};

// The bytes format_rows_into may touch for these rows: an upper bound of the text plus the
// slack its fixed-size block copies run over the end. The caller sizes the output by it, so the
// text is written once, straight into the object that holds it (no copy of hundreds of MB).
// Throws std::invalid_argument when a column is shorter than n rows, a Choice index falls
// outside its table, or decimals is out of range.
std::size_t max_bytes(std::int64_t n, const std::vector<Column>& columns);

// Writes the rows back to back into out (max_bytes(n, columns) bytes); returns the text's
// length. Throws as max_bytes does.
std::size_t format_rows_into(std::int64_t n, const std::vector<Column>& columns, char* out);

// Writes the rows to the file descriptor fd (all of them: partial writes and EINTR are
// retried); returns the bytes written. The text goes through one buffer per thread, reused from
// call to call, so a 300 MB export touches a few MB of fresh memory instead of 300 MB.
// Throws as max_bytes does, and std::system_error (with the errno) when a write fails.
std::size_t write_rows(int fd, std::int64_t n, const std::vector<Column>& columns);

}  // namespace pto::wsp::textrows
