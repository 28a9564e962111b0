#include "ir/schedule.h"

#include "ir/printer.h"

namespace pto::wsp::ir {

std::string Schedule::print() const { return print_schedule(*this); }

}  // namespace pto::wsp::ir
