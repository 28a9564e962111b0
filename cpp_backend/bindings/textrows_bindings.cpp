// pto_wsp._core.textrows: the column-wise row writer (cpp_backend/textrows) behind
// pto_wsp.runtime.json_rows. Arrays are taken as C-contiguous int64 / uint8 and seen as spans; the
// GIL is released while the rows are written.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "textrows/rows.h"

namespace py = pybind11;
namespace tr = pto::wsp::textrows;

namespace {

using Ints = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using Bytes = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;

// The arrays a Column points into, kept alive by the Python object for the column's lifetime.
struct PyColumn {
    tr::Column column;
    Ints values;
    Bytes mask;
    Bytes table;
};

PyColumn make_column(tr::ColumnKind kind, const py::bytes& text, const Ints& values,
                     const Bytes& mask, const Bytes& table, std::int64_t table_width,
                     int decimals) {
    PyColumn c{tr::Column{kind, std::string(text), {values.data(), static_cast<std::size_t>(values.size())},
                          {mask.data(), static_cast<std::size_t>(mask.size())},
                          {table.data(), static_cast<std::size_t>(table.size())}, table_width,
                          decimals},
               values, mask, table};
    return c;
}

// The text is written straight into the bytes object returned (sized by max_bytes, then shrunk
// in place), not into a std::string copied into a bytes object: the Chrome export of 10^6 tasks
// is 300+ MB of text.
py::bytes format_rows(std::int64_t n, const std::vector<const PyColumn*>& columns) {
    std::vector<tr::Column> cols;
    cols.reserve(columns.size());
    for (const PyColumn* c : columns) cols.push_back(c->column);
    const std::size_t capacity = tr::max_bytes(n, cols);
    auto holder = py::reinterpret_steal<py::object>(
        PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(capacity)));
    if (!holder) throw py::error_already_set();
    std::size_t used = 0;
    {
        py::gil_scoped_release release;
        used = tr::format_rows_into(n, cols, PyBytes_AS_STRING(holder.ptr()));
    }
    PyObject* raw = holder.release().ptr();
    if (_PyBytes_Resize(&raw, static_cast<Py_ssize_t>(used)) < 0) throw py::error_already_set();
    return py::reinterpret_steal<py::bytes>(raw);
}

// Writes the rows to fd with the GIL released (the Chrome export's writer thread formats and
// writes while the main thread prepares the next columns); a failed write is an OSError.
std::size_t write_rows(int fd, std::int64_t n, const std::vector<const PyColumn*>& columns) {
    std::vector<tr::Column> cols;
    cols.reserve(columns.size());
    for (const PyColumn* c : columns) cols.push_back(c->column);
    int error = 0;
    std::size_t written = 0;
    {
        py::gil_scoped_release release;
        try {
            written = tr::write_rows(fd, n, cols);
        } catch (const std::system_error& e) {
            error = e.code().value();
        }
    }
    if (error != 0) {
        errno = error;
        PyErr_SetFromErrno(PyExc_OSError);
        throw py::error_already_set();
    }
    return written;
}

}  // namespace

void bind_textrows(py::module_& m) {
    py::enum_<tr::ColumnKind>(m, "ColumnKind")
        .value("LITERAL", tr::ColumnKind::Literal)
        .value("INTEGER", tr::ColumnKind::Integer)
        .value("FIXED", tr::ColumnKind::Fixed)
        .value("CHOICE", tr::ColumnKind::Choice)
        .value("OPTIONAL", tr::ColumnKind::Optional);
    py::class_<PyColumn>(m, "Column", "one column of format_rows (textrows/rows.h says each kind)")
        .def(py::init(&make_column), py::arg("kind"), py::arg("text"), py::arg("values"),
             py::arg("mask"), py::arg("table"), py::arg("table_width"), py::arg("decimals"));
    m.def("format_rows", &format_rows, py::arg("n"), py::arg("columns"),
          "the text of n rows, each the columns' text in order (textrows/rows.h)");
    m.def("write_rows", &write_rows, py::arg("fd"), py::arg("n"), py::arg("columns"),
          "writes the text of n rows to the file descriptor fd; returns the bytes written");
}
