// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// JSON files written by people (experiment and sweep files): read strictly, with messages that
// name the file, the line and the column. A key given twice in one object is an error (JSON
// parsers silently keep the last one, so `"epochs": 2, "epochs": 3000` would train 3000), and
// so is a number beyond a double's range.

#include <nlohmann/json.hpp>

#include <string>

namespace mode {

// Parses `text` (the contents of `source`); throws ConfigError "source:line:col: ...".
nlohmann::json parseJsonText(const std::string& text, const std::string& source);
// Reads and parses a file; throws ConfigError naming it when it cannot be read.
nlohmann::json readJsonFile(const std::string& path, const char* what = "file");

} // namespace mode
