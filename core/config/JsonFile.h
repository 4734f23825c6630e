// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// JSON files written by people (experiment and sweep files): read strictly, with messages that
// name the file, the line and the column. A key given twice in one object is an error (JSON
// parsers silently keep the last one, so `"epochs": 2, "epochs": 3000` would train 3000), and
// so is a number beyond a double's range.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace mode {

// Parses `text` (the contents of `source`); throws ConfigError "source:line:col: ...".
nlohmann::json parseJsonText(const std::string& text, const std::string& source);
// The whole of a file people write (an experiment, a sweep), up to `limit` bytes: ConfigError
// naming it where it is not a regular file (a folder, FIFO or device, refused before it is
// opened, so /dev/zero or a pipe never hangs or fills memory), cannot be read, or is larger.
constexpr std::size_t kConfigFileLimit = 16u << 20; // 16 MiB
std::string readConfigText(const std::string& path, const char* what = "file",
                           std::size_t limit = kConfigFileLimit);
// Reads and parses a file; throws ConfigError naming it when it cannot be read.
nlohmann::json readJsonFile(const std::string& path, const char* what = "file");

} // namespace mode
