// replaced by the IR sources
namespace pto::wsp::ir { int ir_version() { return 1; } }
