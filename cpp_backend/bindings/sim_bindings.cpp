#include <pybind11/pybind11.h>
namespace py = pybind11;
void bind_sim(py::module_& m) { (void)m; }
