// pto_wsp._core.runtime: Python access to the tile-op library (runtime/tile.h) for tests,
// tools and benchmarks. Only argument conversion lives here: numpy arrays become pto_tile views
// of the same memory (any strides, no copy) and library errors become pto_wsp errors.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "pto_tables.h"
#include "runtime/tile.h"

namespace py = pybind11;

namespace {

[[noreturn]] void raise_pto(const char* cls, const std::string& msg) {
    py::object err_type = py::module_::import("pto_wsp.errors").attr(cls);
    py::object err = err_type(msg);
    PyErr_SetObject(err_type.ptr(), err.ptr());
    throw py::error_already_set();
}

// The runtime code of a numpy dtype, by the dtype table (pto_tables.h): its numpy name
// ("bfloat16" is ml_dtypes'), else the first row of its kind and size (so float16 is f16).
int32_t dtype_code(const py::dtype& dt, const std::string& what) {
    const std::string name = py::str(dt.attr("name"));
    const char kind = dt.kind();
    const auto size = dt.itemsize();
#define PTO_X(ident, abi, tname, code, tsize, c_type, npu_type, is_float, np_kind, np_name) \
    if (name == np_name) return code;
    PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
#define PTO_X(ident, abi, tname, code, tsize, c_type, npu_type, is_float, np_kind, np_name) \
    if (kind == np_kind && size == tsize) return code;
    PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
    std::string valid;
#define PTO_X(ident, abi, tname, ...) valid += std::string(valid.empty() ? "" : " ") + tname;
    PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
    raise_pto("TypeCheckError",
              what + " has dtype " + name + ", which is not a tile dtype (" + valid + ")");
}

pto_tile to_tile(const py::handle& obj, const std::string& what, bool writable) {
    if (!py::isinstance<py::array>(obj))
        raise_pto("TypeCheckError", what + " must be a numpy array, got " +
                                        std::string(py::str(py::type::of(obj).attr("__name__"))));
    const auto arr = py::reinterpret_borrow<py::array>(obj);
    if (arr.ndim() != 2)
        raise_pto("TypeCheckError",
                  what + " must be a 2-D array, got " + std::to_string(arr.ndim()) + "-D");
    if (writable && !arr.writeable()) raise_pto("TypeCheckError", what + " is read-only");
    pto_tile t{};
    t.dtype = dtype_code(arr.dtype(), what);
    const auto isz = arr.itemsize();
    for (int d = 0; d < 2; ++d)
        if (arr.strides(d) % isz != 0)
            raise_pto("TypeCheckError", what + " has a stride that is not a multiple of its "
                                               "item size");
    t.data = const_cast<void*>(arr.data());
    t.rows = arr.shape(0);
    t.cols = arr.shape(1);
    t.row_stride = arr.strides(0) / isz;
    t.col_stride = arr.strides(1) / isz;
    return t;
}

struct Call {
    pto_tile out;
    std::vector<pto_tile> ins;
    std::vector<const pto_tile*> ptrs;
};

Call make_call(const py::handle& out, const py::list& inputs) {
    Call c;
    c.out = to_tile(out, "out", true);
    c.ins.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i)
        c.ins.push_back(to_tile(inputs[i], "inputs[" + std::to_string(i) + "]", false));
    for (const pto_tile& t : c.ins) c.ptrs.push_back(&t);
    return c;
}

void check(int status) {
    if (status == PTO_ERR_UNKNOWN_OP) raise_pto("CompileError", pto_last_error());
    if (status != PTO_OK) raise_pto("TypeCheckError", pto_last_error());
}

}  // namespace

void bind_runtime(py::module_& m) {
    m.def(
        "run_op",
        [](const std::string& op, const py::object& out, const py::list& inputs,
           const std::vector<double>& attrs) {
            Call c = make_call(out, inputs);
            int status;
            {
                py::gil_scoped_release nogil;
                status = pto_run_op(op.c_str(), &c.out, c.ptrs.data(), (int)c.ptrs.size(),
                                    attrs.empty() ? nullptr : attrs.data());
            }
            check(status);
        },
        py::arg("op"), py::arg("out"), py::arg("inputs"), py::arg("attrs") = std::vector<double>{},
        "Run tile op `op` on 2-D numpy arrays, writing into `out` in place (any strides; bf16 "
        "via ml_dtypes). Inputs follow the C entry's order (matmul: a, b[, acc]); `constant` "
        "takes its value as attrs[0]. Raises pto_wsp.errors.TypeCheckError for bad shapes or "
        "dtypes and CompileError for an unknown op.");
    m.def(
        "time_op",
        [](const std::string& op, const py::object& out, const py::list& inputs,
           const std::vector<double>& attrs, int64_t iterations) {
            Call c = make_call(out, inputs);
            double ns = 0.0;
            int status;
            {
                py::gil_scoped_release nogil;
                status = pto_time_op(op.c_str(), &c.out, c.ptrs.data(), (int)c.ptrs.size(),
                                     attrs.empty() ? nullptr : attrs.data(), iterations, &ns);
            }
            check(status);
            return ns;
        },
        py::arg("op"), py::arg("out"), py::arg("inputs"), py::arg("attrs"),
        py::arg("iterations"),
        "Validate like run_op, then run the op `iterations` times in a compiled C++ loop; "
        "returns the mean nanoseconds per call.");
    m.def(
        "op_names",
        [] {
            std::vector<std::string> names;
            std::string all = pto_op_names();
            size_t start = 0;
            while (start <= all.size()) {
                const size_t end = all.find(", ", start);
                names.push_back(all.substr(start, end - start));
                if (end == std::string::npos) break;
                start = end + 2;
            }
            return names;
        },
        "Names accepted by run_op / time_op.");
}
