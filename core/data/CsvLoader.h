// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Tabular data as users have it: a CSV file with a header row (RFC 4180 quoting), numeric and
// text columns, string or integer class labels. Every malformed file is rejected with the file,
// the line and what is wrong.

#include "config/Choices.h"
#include "data/Dataset.h"

#include <optional>
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

// A cell a check may refuse: where it is and (the start of) what it holds.
struct CsvCell {
    std::int64_t row = -1, line = 0;
    std::string text; // at most 64 bytes of it
    std::size_t size = 0;
    bool found() const { return row >= 0; }
};

// What the loader's checks need of a column, counted in one pass over the file.
struct CsvColumnStats {
    std::int64_t rows = 0, present = 0, numbers = 0, nonInteger = 0, missing = 0;
    std::size_t distinct = 0;  // distinct values that are not missing, up to a limit (then limit+1)
    bool moreDistinct = false; // past the limit
    CsvCell firstPresent, firstText, firstMissing, firstHuge, firstLong;
    bool allNumbers() const { return numbers == present; }
    // Mostly numbers with some text: the text is taken for a typo, not a category (refused).
    bool numbersWithText() const { return !allNumbers() && numbers * 2 >= present; }
};

// What a file holds, for the workbench's preview before a run (no encoding, no errors for
// missing values: csvLoadProblem says what loading would refuse).
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
    std::vector<CsvColumnStats> stats; // per column
};

// Why loading the previewed file with these options would fail, in the loader's words and with
// the line ("line 31: column 'f3': 'abc' is not a number (177 of 178 values ...)"), or "".
std::string csvLoadProblem(const CsvPreview& preview, const CsvOptions& options);
// A column in a few words, its kind with the reason: "numeric", "numeric, 3 missing ('?' at
// line 5)", "text, 4 values", "177 of 178 values numeric; 'abc' at line 31 is not".
std::string describeCsvColumn(const CsvPreview& preview, std::size_t column);

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

// What loading a CSV costs in memory per byte of file at most (checkDataFile's factor).
constexpr double kCsvMemoryPerByte = 5;

class CsvReader;
// The header a CSV reader reads first: blank lines and lines of spaces before it skipped;
// refused (DataError with file and line) when the file is empty, or the header has fewer than two
// columns, an unnamed or a repeated one. `line` gets the header's line.
std::vector<std::string> readCsvHeader(CsvReader& reader, std::int64_t* line = nullptr);

bool isMissingCsvValue(std::string_view v);
// A cell as a number the way the loader reads it: digits, sign, point and exponent only
// ("inf", "nan" and hex are text), finite; nothing otherwise.
std::optional<double> parseCsvNumber(std::string_view text);

} // namespace mode
