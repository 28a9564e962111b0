// Deterministic text form of the IR.
//
// Golden tests compare this text byte for byte, so it never contains pointer values, hash-order
// iteration or locale-dependent number formatting. Source locations are printed only on request
// (`with_locs`), because they contain machine-specific paths.
//
// Sigils: tensors %<id>, kernels @<name> (@<id> without module context), channels #ch<id>,
// events #ev<id>, kernel SSA values %<n> (inside a kernel body).
#pragma once

#include <string>

namespace pto::wsp::ir {

struct Expr;
struct View;
struct Axis;
struct Node;
struct Schedule;
class Kernel;
class Module;

/// Shortest round-tripping decimal form, always with a '.', 'e', "inf" or "nan".
std::string format_double(double v);
/// Double-quoted, with \\ \" \n \t and \xNN escapes.
std::string quote_string(const std::string& s);

std::string print_expr(const Expr& e);
std::string print_view(const View& v);
std::string print_axis(const Axis& a);
/// Multi-line form of a node tree; `module` (may be null) resolves kernel names.
std::string print_node(const Node& n, const Module* module, bool with_locs, int indent = 0);
std::string print_kernel(const Kernel& k, bool with_locs, int indent = 0);
std::string print_schedule(const Schedule& s);
std::string print_module(const Module& m, bool with_locs);

}  // namespace pto::wsp::ir
