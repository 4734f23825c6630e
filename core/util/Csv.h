// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Writing CSV (RFC 4180), for every export: a field with a comma, a quote or a line break is
// quoted, quotes doubled.

#include <ostream>
#include <string>
#include <vector>

namespace mode {

std::string csvField(const std::string& text);
// One record: the fields, quoted where needed, separated by commas, then "\n".
void writeCsvRow(std::ostream& out, const std::vector<std::string>& fields);

} // namespace mode
