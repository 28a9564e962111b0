// The schedule's policy enums cross the boundary as the DSL's own Python enums
// (pto_wsp/language/policy_kinds.py): a C++ field of type ir::DispatchPolicy takes a
// `DispatchKind` member and returns one, never a string or a bare int. The Python enum is the
// one list of members and spellings; enumerator i of the C++ enum is member i of the Python one.
// That correspondence is checked once, at first use (spelling by spelling, against the
// printer's to_string), so a member added on one side only fails loudly instead of shifting.
//
// Include this header in every binding file that converts one of these enums (a file that
// converted them without it would use pybind11's generic caster: an ODR violation).
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "ir/types.h"

namespace pto::wsp::bindings {

template <typename E>
struct PolicyKind;  // python_name: the class in pto_wsp.language.policy_kinds; count: members

#define PTO_POLICY_KIND(E, PY, N)                       \
    template <>                                         \
    struct PolicyKind<E> {                              \
        static constexpr const char* python_name = PY; \
        static constexpr int count = N;                 \
    };
PTO_POLICY_KIND(ir::DispatchPolicy, "DispatchKind", 5)
PTO_POLICY_KIND(ir::TimingPolicy, "TimingKind", 4)
PTO_POLICY_KIND(ir::WindowMode, "WindowMode", 3)
PTO_POLICY_KIND(ir::DepsMode, "DepsKind", 3)
PTO_POLICY_KIND(ir::ReadyPolicy, "ReadyKind", 4)
PTO_POLICY_KIND(ir::StartPolicy, "StartKind", 2)
PTO_POLICY_KIND(ir::TracePolicy, "TraceKind", 2)
#undef PTO_POLICY_KIND

/// The members of E's Python enum, in order (imported and checked once; the GIL is held).
template <typename E>
pybind11::tuple policy_members() {
    namespace py = pybind11;
    static py::object* members = nullptr;  // leaked: never released after finalisation
    if (members == nullptr) {
        const std::string where = std::string("pto_wsp.language.policy_kinds.") + PolicyKind<E>::python_name;
        py::object cls = py::module_::import("pto_wsp.language.policy_kinds").attr(PolicyKind<E>::python_name);
        py::tuple found(py::module_::import("builtins").attr("tuple")(cls));
        if (static_cast<int>(found.size()) != PolicyKind<E>::count)
            throw py::import_error(where + " has " + std::to_string(found.size()) + " members, the C++ enum " +
                                   std::to_string(PolicyKind<E>::count));
        for (int i = 0; i < PolicyKind<E>::count; ++i) {
            const std::string spelled = py::str(found[static_cast<std::size_t>(i)].attr("value"));
            const std::string cpp = ir::to_string(static_cast<E>(i));
            if (spelled != cpp)
                throw py::import_error(where + " member " + std::to_string(i) + " is '" + spelled +
                                       "', the C++ enumerator '" + cpp + "'");
        }
        members = new py::object(std::move(found));
    }
    return pybind11::reinterpret_borrow<pybind11::tuple>(*members);
}

/// pybind11 caster body shared by the policy enums: load by identity, cast by position.
template <typename E>
struct PolicyCaster {
    E value{};
    bool load(pybind11::handle src, bool) {
        const pybind11::tuple members = policy_members<E>();
        for (std::size_t i = 0; i < members.size(); ++i) {
            if (src.is(members[i])) {
                value = static_cast<E>(i);
                return true;
            }
        }
        return false;
    }
    static pybind11::handle cast(E v, pybind11::return_value_policy, pybind11::handle) {
        pybind11::object member = policy_members<E>()[static_cast<std::size_t>(v)];
        return member.release();
    }
};

}  // namespace pto::wsp::bindings

#define PTO_POLICY_CASTER(E, PY)                                                            \
    template <>                                                                             \
    struct pybind11::detail::type_caster<E> : pto::wsp::bindings::PolicyCaster<E> {         \
        static constexpr auto name = pybind11::detail::const_name("pto_wsp.language.policy_kinds." PY); \
        template <typename T_>                                                              \
        using cast_op_type = pybind11::detail::movable_cast_op_type<T_>;                    \
        operator E*() { return &this->value; }                                              \
        operator E&() { return this->value; }                                               \
        operator E&&() && { return std::move(this->value); }                                \
    };
PTO_POLICY_CASTER(pto::wsp::ir::DispatchPolicy, "DispatchKind")
PTO_POLICY_CASTER(pto::wsp::ir::TimingPolicy, "TimingKind")
PTO_POLICY_CASTER(pto::wsp::ir::WindowMode, "WindowMode")
PTO_POLICY_CASTER(pto::wsp::ir::DepsMode, "DepsKind")
PTO_POLICY_CASTER(pto::wsp::ir::ReadyPolicy, "ReadyKind")
PTO_POLICY_CASTER(pto::wsp::ir::StartPolicy, "StartKind")
PTO_POLICY_CASTER(pto::wsp::ir::TracePolicy, "TraceKind")
#undef PTO_POLICY_CASTER
