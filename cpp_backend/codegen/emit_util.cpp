#include "codegen/emit_util.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace pto::wsp::codegen {

using ir::DType;

const char* ctype(DType d) {
    switch (d) {
        case DType::F16:
        case DType::BF16:
        case DType::U16: return "uint16_t";
        case DType::F32: return "float";
        case DType::F64: return "double";
        case DType::I8: return "int8_t";
        case DType::I16: return "int16_t";
        case DType::I32: return "int32_t";
        case DType::I64: return "int64_t";
        case DType::U8:
        case DType::Bool: return "uint8_t";
        case DType::U32: return "uint32_t";
        case DType::U64: return "uint64_t";
        case DType::None: break;
    }
    return "int64_t";
}

std::string cstr(const std::string& s, bool fmt) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            o += '\\';
            o += c;
        } else if (c == '\n') {
            o += "\\n";
        } else if (c == '%' && fmt) {
            o += "%%";
        } else if (static_cast<unsigned char>(c) < 0x20) {
            o += ' ';
        } else {
            o += c;
        }
    }
    return o + "\"";
}

std::string i64(int64_t v) {
    if (v == INT64_MIN) return "INT64_MIN";
    return "((int64_t)" + std::to_string(v) + "LL)";
}

std::string f64(double v) {
    if (std::isnan(v)) return "(__builtin_nan(\"\"))";
    if (std::isinf(v)) return v > 0 ? "(__builtin_inf())" : "(-__builtin_inf())";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    std::string s = buf;
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return "(" + s + ")";
}

std::string where(const std::string& what, const std::string& loc) {
    return loc.empty() ? what : what + " at " + loc;
}

std::string ident(const std::string& s) {
    std::string o;
    for (char c : s) o += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
    return o;
}

void CodeWriter::open_loop(const ir::VarDef& v, const std::string& extent) {
    const std::string e = fresh("n"), id = "v" + std::to_string(v.id);
    put("{");
    ++indent_;
    put("const int64_t " + e + " = " + extent + ";");
    put("for (int64_t " + id + " = 0; " + id + " < " + e + "; ++" + id + ") {");
    ++indent_;
    vars_.insert(v.id);
}

void CodeWriter::close_loop(const ir::VarDef& v) {
    vars_.erase(v.id);
    --indent_;
    put("}");
    --indent_;
    put("}");
}

}  // namespace pto::wsp::codegen
