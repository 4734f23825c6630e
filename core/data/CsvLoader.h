// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Tabular data as users have it: a CSV file with a header row (RFC 4180 quoting), numeric and
// text columns, string or integer class labels. Every malformed file is rejected with the file,
// the line and what is wrong.

#include "config/Choices.h"
#include "data/Dataset.h"

#include <string>
#include <string_view>
#include <vector>

namespace mode {

struct CsvOptions {
    std::string target; // column name; empty: the last column
    TaskKind task = TaskKind::Auto;
    std::string subtaskColumn; // optional: a column naming each row's known sub-task
    ImputeKind impute = ImputeKind::None;
    std::vector<std::string> dropColumns;
    char delimiter = ',';
};

// What a file holds, for the workbench's preview before a run (no encoding, no errors for
// missing values: those come when the file is loaded).
struct CsvPreview {
    std::vector<std::string> columns;
    std::vector<std::string> kinds; // per column: "numeric", "text" or "empty"
    std::int64_t rows = 0;
    std::vector<std::vector<std::string>> head; // first rows, as text
    // Per column: how many distinct values (counting stops past kMaxValues), and, where there
    // are at most kMaxValues, each value with its count (the classes of a target column).
    static constexpr std::size_t kMaxValues = 100;
    std::vector<std::int64_t> distinctValues;
    std::vector<std::vector<std::pair<std::string, std::int64_t>>> values;
};

// Streams the file: memory is the final matrix plus about 6 bytes per cell while reading.
Dataset loadCsvFile(const std::string& path, const CsvOptions& options = {},
                    const LoadProgress& progress = {});
// `source` names the text in messages (a file name).
Dataset loadCsvText(const std::string& text, const std::string& source,
                    const CsvOptions& options = {});
CsvPreview previewCsvFile(const std::string& path, int headRows = 8);

// Splits CSV text into records of fields; each record remembers the line it starts on.
struct CsvRecord {
    std::int64_t line = 0;
    std::vector<std::string> fields;
};
std::vector<CsvRecord> parseCsvRecords(const std::string& text, const std::string& source,
                                       char delimiter = ',');

bool isMissingCsvValue(std::string_view v);

} // namespace mode
