// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/CsvLoader.h"

#include "util/Utf8.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace mode {
namespace {

constexpr std::size_t kMaxCategories = 200;
constexpr std::size_t kMaxClassName = 256;

[[noreturn]] void fail(const std::string& source, std::int64_t line, const std::string& what) {
    throw DataError(source + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + what);
}

std::string quoted(const std::string& s) {
    std::string v = s.size() > 40 ? s.substr(0, 40) + "..." : s;
    return "'" + v + "'";
}

// Loading a CSV peaks at about 9 times its size (measured: 1,441 MiB for a 163 MB file).
constexpr double kCsvMemoryPerByte = 10;
std::string readWholeFile(const std::string& path) {
    return readDataFile(path, kCsvMemoryPerByte);
}

// Rejects binary files early with the position of the first byte no text file has.
void requireText(const std::string& text, const std::string& source) {
    std::int64_t line = 1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n') ++line;
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
            fail(source, line,
                 "binary data (byte 0x" + std::string(1, "0123456789abcdef"[c >> 4]) +
                     std::string(1, "0123456789abcdef"[c & 15]) + " at offset " +
                     std::to_string(i) + "): this is not a text CSV file");
    }
    requireUtf8Text(text, source);
}

// A value for the 32-bit tensors: one past float's range would become infinite and the run would
// "diverge" at its first step, blaming training instead of the cell.
float toFloat(double x, const std::string& column, const std::string& source, std::int64_t line) {
    if (std::abs(x) > static_cast<double>(std::numeric_limits<float>::max())) {
        std::ostringstream value;
        value << x;
        fail(source, line,
             "column '" + column + "': " + value.str() +
                 " is too large for 32-bit training (at most about 3.4e38 in magnitude)");
    }
    return static_cast<float>(x);
}

std::optional<double> parseNumber(const std::string& s) {
    if (s.empty()) return std::nullopt;
    // Digits, sign, point and exponent only: "inf", "nan" and hex floats are text to a user.
    for (char ch : s)
        if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' ||
              ch == 'E'))
            return std::nullopt;
    const char* b = s.data();
    const char* e = b + s.size();
    if (*b == '+' && e - b > 1 && *(b + 1) != '-' && *(b + 1) != '+')
        ++b; // from_chars takes no leading '+'
    double v = 0;
    const auto [end, error] =
        std::from_chars(b, e, v); // locale-free, exact, several times faster than strtod
    if (error != std::errc() || end != e || !std::isfinite(v)) return std::nullopt;
    return v;
}

// Class names in the order users expect: numerically when every label is a number, else
// alphabetically.
std::vector<std::string> orderedLevels(const std::set<std::string>& levels) {
    std::vector<std::string> out(levels.begin(), levels.end());
    bool numeric = std::all_of(out.begin(), out.end(),
                               [](const std::string& s) { return parseNumber(s).has_value(); });
    if (numeric)
        std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
            return *parseNumber(a) < *parseNumber(b);
        });
    return out;
}

} // namespace

bool isMissingCsvValue(const std::string& v) {
    return v.empty() || v == "?" || v == "NA" || v == "N/A" || v == "NaN" || v == "nan" ||
           v == "null";
}

std::vector<CsvRecord> parseCsvRecords(const std::string& input, const std::string& source,
                                       char delim) {
    std::vector<CsvRecord> records;
    std::size_t i = 0;
    const std::string& t = input;
    if (t.size() >= 3 && t.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3; // UTF-8 byte order mark
    std::int64_t line = 1;
    std::size_t width = 0; // fields of the last record: the next one most likely has as many
    while (i < t.size()) {
        CsvRecord rec;
        rec.line = line;
        rec.fields.reserve(width);
        bool blank = true;
        for (;;) { // one field per pass
            std::string field;
            bool wasQuoted = false;
            if (i < t.size() && t[i] == '"') {
                wasQuoted = true;
                blank = false;
                const std::int64_t openLine = line;
                ++i;
                for (;;) {
                    if (i >= t.size())
                        fail(source, openLine,
                             "a quoted field opened on this line is never closed");
                    char c = t[i++];
                    if (c == '"') {
                        if (i < t.size() && t[i] == '"') {
                            field += '"';
                            ++i;
                            continue;
                        }
                        break;
                    }
                    if (c == '\n') ++line;
                    field += c;
                }
                while (i < t.size() && (t[i] == ' ' || t[i] == '\t'))
                    ++i;
                if (i < t.size() && t[i] != delim && t[i] != '\n' && t[i] != '\r')
                    fail(source, line,
                         "unexpected " + quoted(std::string(1, t[i])) +
                             " after a closing quote (field " +
                             std::to_string(rec.fields.size() + 1) + ")");
            } else {
                // The field in one piece, spaces around it trimmed (no copy per character).
                std::size_t start = i;
                while (i < t.size() && t[i] != delim && t[i] != '\n' && t[i] != '\r')
                    ++i;
                std::size_t end = i;
                if (end > start) blank = false; // spaces alone still make a field
                while (start < end && (t[start] == ' ' || t[start] == '\t'))
                    ++start;
                while (end > start && (t[end - 1] == ' ' || t[end - 1] == '\t'))
                    --end;
                field.assign(t, start, end - start);
            }
            if (!field.empty() || wasQuoted) blank = false;
            rec.fields.push_back(std::move(field));
            if (i < t.size() && t[i] == delim) {
                ++i;
                blank = false;
                continue;
            }
            // end of record
            if (i < t.size() && t[i] == '\r') ++i;
            if (i < t.size() && t[i] == '\n') {
                ++i;
                ++line;
            }
            break;
        }
        width = rec.fields.size();
        if (!blank) records.push_back(std::move(rec));
    }
    return records;
}

namespace {
// The structure every CSV file must have: a named header of two or more distinct columns, data
// rows, and as many fields in each row as in the header. Returns the column index by name.
std::map<std::string, std::size_t> checkCsvShape(const std::vector<CsvRecord>& records,
                                                 const std::string& source) {
    // A file of blanks and a byte-order mark only has no records at all.
    if (records.empty()) fail(source, 0, "the file is empty (expected a header row and data rows)");
    const auto& header = records.front().fields;
    const std::size_t ncol = header.size();
    if (ncol < 2)
        fail(source, records.front().line,
             "the header has one column; a dataset needs at least one feature and a target (is the "
             "delimiter a comma?)");
    std::map<std::string, std::size_t> index;
    for (std::size_t c = 0; c < ncol; ++c) {
        if (header[c].empty())
            fail(source, records.front().line,
                 "column " + std::to_string(c + 1) + " has no name in the header");
        if (!index.emplace(header[c], c).second)
            fail(source, records.front().line,
                 "the column name " + quoted(header[c]) + " appears twice in the header");
    }
    if (records.size() == 1)
        fail(source, records.front().line, "the file has a header but no data rows");
    for (std::size_t r = 1; r < records.size(); ++r)
        if (records[r].fields.size() != ncol)
            fail(source, records[r].line,
                 "ragged row: " + std::to_string(records[r].fields.size()) +
                     " fields, but the header has " + std::to_string(ncol));
    return index;
}

// The data rows of a parsed file (record 0 is the header): cell and line by data row number.
struct CsvTable {
    const std::vector<CsvRecord>& records;
    const std::string& source;

    const std::vector<std::string>& header() const { return records.front().fields; }
    std::int64_t rows() const { return static_cast<std::int64_t>(records.size()) - 1; }
    const std::string& cell(std::int64_t r, std::size_t c) const {
        return records[r + 1].fields[c];
    }
    std::int64_t lineOf(std::int64_t r) const { return records[r + 1].line; }
};

// The header columns the options name: the target, the sub-task and those to leave out.
struct CsvColumnRoles {
    std::size_t target = 0;
    std::optional<std::size_t> subtask;
    std::set<std::size_t> dropped;

    bool isFeature(std::size_t c) const {
        return !(c == target || (subtask && c == *subtask) || dropped.count(c));
    }
};

CsvColumnRoles columnRoles(const CsvTable& table, const std::map<std::string, std::size_t>& index,
                           const CsvOptions& opt) {
    const auto& header = table.header();
    const auto& source = table.source;
    auto columnNamed = [&](const std::string& name, const char* what) {
        auto it = index.find(name);
        if (it == index.end()) {
            std::string all;
            for (const auto& h : header)
                all += (all.empty() ? "" : ", ") + h;
            fail(source, 0,
                 std::string(what) + " column " + quoted(name) +
                     " is not in the header (columns: " + all + ")");
        }
        return it->second;
    };
    CsvColumnRoles roles;
    roles.target = opt.target.empty() ? header.size() - 1 : columnNamed(opt.target, "the target");
    if (!opt.subtaskColumn.empty()) {
        roles.subtask = columnNamed(opt.subtaskColumn, "the sub-task");
        if (*roles.subtask == roles.target)
            fail(source, 0, "the sub-task column cannot also be the target");
    }
    for (const auto& d : opt.dropColumns)
        roles.dropped.insert(columnNamed(d, "the dropped"));
    if (roles.dropped.count(roles.target))
        fail(source, 0, "the target column " + quoted(header[roles.target]) + " cannot be dropped");
    return roles;
}

// What the target column holds, read once to choose between regression and classification.
struct TargetSurvey {
    std::size_t numeric = 0, nonInteger = 0;
    std::set<std::string> levels;
};

TargetSurvey surveyTarget(const CsvTable& table, std::size_t target) {
    const auto& name = table.header()[target];
    TargetSurvey survey;
    for (std::int64_t r = 0; r < table.rows(); ++r) {
        const auto& v = table.cell(r, target);
        if (isMissingCsvValue(v))
            fail(table.source, table.lineOf(r),
                 "the target " + quoted(name) + " is missing (" + quoted(v) +
                     "); every row needs a target");
        // A class name is stored with the run and shown on every plot: a huge one is a wrong
        // column.
        if (v.size() > kMaxClassName)
            fail(table.source, table.lineOf(r),
                 "the target " + quoted(name) + " has a value of " + std::to_string(v.size()) +
                     " characters (class names are at most " + std::to_string(kMaxClassName) +
                     "): is this the right target column?");
        survey.levels.insert(v);
        if (auto x = parseNumber(v)) {
            ++survey.numeric;
            if (*x != std::floor(*x)) ++survey.nonInteger;
        }
    }
    return survey;
}

void readRegressionTarget(const CsvTable& table, std::size_t target, Dataset& d) {
    const auto& name = table.header()[target];
    d.task = TaskType::Regression;
    d.values.resize(table.rows());
    for (std::int64_t r = 0; r < table.rows(); ++r) {
        auto x = parseNumber(table.cell(r, target));
        if (!x)
            fail(table.source, table.lineOf(r),
                 "the regression target " + quoted(name) + " has " + quoted(table.cell(r, target)) +
                     ", which is not a number");
        d.values[r] = toFloat(*x, name, table.source, table.lineOf(r));
    }
}

// Each row's level as its index in `names` (every level is there).
std::vector<std::int64_t> levelIds(const CsvTable& table, std::size_t column,
                                   const std::vector<std::string>& names) {
    std::map<std::string, std::int64_t> id;
    for (std::size_t k = 0; k < names.size(); ++k)
        id[names[k]] = static_cast<std::int64_t>(k);
    std::vector<std::int64_t> ids(table.rows());
    for (std::int64_t r = 0; r < table.rows(); ++r)
        ids[r] = id[table.cell(r, column)];
    return ids;
}

void readClassLabels(const CsvTable& table, std::size_t target, const TargetSurvey& survey,
                     bool allNumeric, Dataset& d) {
    const auto& name = table.header()[target];
    d.task = TaskType::Classification;
    if (survey.levels.size() < 2)
        fail(table.source, 0,
             "the target " + quoted(name) + " has a single class (" +
                 quoted(*survey.levels.begin()) + "); classification needs two or more");
    if (survey.levels.size() > 1000)
        fail(table.source, 0,
             "the target " + quoted(name) + " has " + std::to_string(survey.levels.size()) +
                 " classes (at most 1000)" +
                 (allNumeric ? std::string("; for a numeric target use task = regression")
                             : std::string("; a text column with that many values is likely an id "
                                           "or free text: choose another target")));
    d.classNames = orderedLevels(survey.levels);
    d.labels = levelIds(table, target, d.classNames);
}

// The target as regression values or class labels: as the options say, else regression for a
// numeric target with fractions or more than 20 distinct values.
void readTarget(const CsvTable& table, std::size_t target, TaskKind task, Dataset& d) {
    const TargetSurvey survey = surveyTarget(table, target);
    const bool allNumeric = survey.numeric == static_cast<std::size_t>(table.rows());
    if (task == TaskKind::Regression || (task == TaskKind::Auto && allNumeric &&
                                         (survey.nonInteger > 0 || survey.levels.size() > 20)))
        readRegressionTarget(table, target, d);
    else
        readClassLabels(table, target, survey, allNumeric, d);
}

void readSubtasks(const CsvTable& table, std::size_t subtask, Dataset& d) {
    std::set<std::string> levels;
    for (std::int64_t r = 0; r < table.rows(); ++r) {
        if (isMissingCsvValue(table.cell(r, subtask)))
            fail(table.source, table.lineOf(r),
                 "the sub-task " + quoted(table.header()[subtask]) + " is missing");
        levels.insert(table.cell(r, subtask));
    }
    d.subtaskNames = orderedLevels(levels);
    d.subtasks = levelIds(table, subtask, d.subtaskNames);
}

// A feature column: numeric as it is, text one-hot.
struct FeatureColumn {
    std::size_t src;
    bool numeric;
    std::vector<std::string> levels; // text
    std::map<std::string, std::size_t> levelIndex;
    std::vector<float> values; // numeric: every row's value (NaN where missing), parsed once
};

// One pass over a column: its numbers parsed, and the first row of each kind that may be refused.
struct ColumnScan {
    std::size_t present = 0, numbers = 0;
    std::int64_t firstText = -1, firstMissing = -1, firstHuge = -1;
    std::vector<float> values;
};

ColumnScan scanColumn(const CsvTable& table, std::size_t c) {
    const std::int64_t nrows = table.rows();
    ColumnScan scan;
    scan.values.assign(static_cast<std::size_t>(nrows), std::numeric_limits<float>::quiet_NaN());
    for (std::int64_t r = 0; r < nrows; ++r) {
        const auto& v = table.cell(r, c);
        if (isMissingCsvValue(v)) {
            if (scan.firstMissing < 0) scan.firstMissing = r;
            continue;
        }
        ++scan.present;
        if (auto x = parseNumber(v)) {
            ++scan.numbers;
            if (scan.firstHuge < 0 &&
                std::abs(*x) > static_cast<double>(std::numeric_limits<float>::max()))
                scan.firstHuge = r;
            scan.values[static_cast<std::size_t>(r)] = static_cast<float>(*x);
        } else if (scan.firstText < 0) {
            scan.firstText = r;
        }
    }
    return scan;
}

// Numeric or text, with the checks that refuse the column.
FeatureColumn classifyColumn(const CsvTable& table, std::size_t c, ImputeKind impute) {
    const auto& name = table.header()[c];
    const auto& source = table.source;
    ColumnScan scan = scanColumn(table, c);
    // The values are counted for text columns only (a numeric column's values are all distinct).
    std::map<std::string, std::size_t> counts;
    if (scan.numbers != scan.present)
        for (std::int64_t r = 0; r < table.rows() && counts.size() <= kMaxCategories; ++r)
            if (const auto& v = table.cell(r, c); !isMissingCsvValue(v)) ++counts[v];
    if (scan.present == 0)
        fail(source, 0, "column " + quoted(name) + " has no values at all; drop it (drop_columns)");
    FeatureColumn col;
    col.src = c;
    col.numeric = scan.numbers == scan.present;
    if (col.numeric && scan.firstHuge >= 0) // a value past float's range: toFloat refuses it
        toFloat(*parseNumber(table.cell(scan.firstHuge, c)), name, source,
                table.lineOf(scan.firstHuge));
    if (col.numeric) col.values = std::move(scan.values);
    // Mostly numbers: the text is an error, not a category.
    if (!col.numeric && scan.numbers * 2 >= scan.present)
        fail(source, table.lineOf(scan.firstText),
             "column " + quoted(name) + ": " + quoted(table.cell(scan.firstText, c)) +
                 " is not a number (" + std::to_string(scan.numbers) + " of " +
                 std::to_string(scan.present) + " values in this column are numbers)");
    if (scan.firstMissing >= 0 && impute != ImputeKind::Mean)
        fail(source, table.lineOf(scan.firstMissing),
             "column " + quoted(name) + " is missing a value (" +
                 quoted(table.cell(scan.firstMissing, c)) +
                 "); fix the file or set impute to mean");
    // Missing cells are filled after the split, from the training rows (fitOnTrainingRows).
    if (!col.numeric) {
        if (counts.size() > kMaxCategories)
            fail(source, 0,
                 "text column " + quoted(name) + " has more than " +
                     std::to_string(kMaxCategories) + " distinct values (at most " +
                     std::to_string(kMaxCategories) + " one-hot columns); drop it (drop_columns)");
        std::set<std::string> lv;
        for (const auto& [k, n] : counts)
            lv.insert(k);
        col.levels = orderedLevels(lv);
        for (std::size_t k = 0; k < col.levels.size(); ++k)
            col.levelIndex[col.levels[k]] = k;
    }
    return col;
}

std::vector<FeatureColumn> featureColumns(const CsvTable& table, const CsvColumnRoles& roles,
                                          ImputeKind impute) {
    std::vector<FeatureColumn> columns;
    for (std::size_t c = 0; c < table.header().size(); ++c)
        if (roles.isFeature(c)) columns.push_back(classifyColumn(table, c, impute));
    if (columns.empty()) fail(table.source, 0, "no feature columns are left besides the target");
    return columns;
}

// The feature names ("column" or "column=level" for one-hot), which to standardise, and the
// text columns' levels.
void describeFeatures(const std::vector<std::string>& header,
                      const std::vector<FeatureColumn>& columns, Dataset& d) {
    for (const auto& col : columns) {
        if (col.numeric) {
            d.featureNames.push_back(header[col.src]);
            d.standardise.push_back(true);
        } else {
            d.categoricals.push_back(
                {header[col.src], static_cast<std::int64_t>(d.featureNames.size()), col.levels});
            for (const auto& lv : col.levels) {
                d.featureNames.push_back(header[col.src] + "=" + lv);
                d.standardise.push_back(false);
            }
        }
    }
    d.cols = static_cast<std::int64_t>(d.featureNames.size());
}

// The rows * cols feature matrix; a missing text cell is NaN in each of its one-hot columns.
void fillFeatures(const CsvTable& table, const std::vector<FeatureColumn>& columns, Dataset& d) {
    d.features.assign(static_cast<std::size_t>(d.rows * d.cols), 0.0f);
    for (std::int64_t r = 0; r < table.rows(); ++r) {
        float* row = &d.features[r * d.cols];
        std::int64_t k = 0;
        for (const auto& col : columns) {
            const auto& v = table.cell(r, col.src);
            const bool missing = isMissingCsvValue(v);
            d.hasMissing = d.hasMissing || missing;
            const float nan = std::numeric_limits<float>::quiet_NaN();
            if (col.numeric) {
                row[k++] = col.values[static_cast<std::size_t>(r)]; // NaN where missing
            } else {
                if (missing)
                    std::fill(row + k, row + k + static_cast<std::int64_t>(col.levels.size()), nan);
                else
                    row[k + static_cast<std::int64_t>(col.levelIndex.at(v))] = 1.0f;
                k += static_cast<std::int64_t>(col.levels.size());
            }
        }
    }
}

} // namespace

Dataset loadCsvText(const std::string& text, const std::string& source, const CsvOptions& opt) {
    if (text.empty() || text.find_first_not_of(" \t\r\n") == std::string::npos)
        fail(source, 0, "the file is empty (expected a header row and data rows)");
    requireText(text, source);
    const auto records = parseCsvRecords(text, source, opt.delimiter);
    if (records.empty()) fail(source, 0, "the file is empty (expected a header row and data rows)");
    const auto index = checkCsvShape(records, source);
    const CsvTable table{records, source};
    const CsvColumnRoles roles = columnRoles(table, index, opt);

    Dataset d;
    d.name = printable(
        std::filesystem::path(source).filename().string()); // a file name need not be UTF-8
    d.source = source;
    d.rows = table.rows();
    d.sizeBytes = text.size();
    d.contentHash = fnv1a64Hex(text.data(), text.size());
    readTarget(table, roles.target, opt.task, d);
    if (roles.subtask) readSubtasks(table, *roles.subtask, d);
    const auto columns = featureColumns(table, roles, opt.impute);
    describeFeatures(table.header(), columns, d);
    fillFeatures(table, columns, d);
    return d;
}

Dataset loadCsvFile(const std::string& path, const CsvOptions& options) {
    Dataset d = loadCsvText(readWholeFile(path), path, options);
    d.source = std::filesystem::absolute(path).lexically_normal().string();
    return d;
}

CsvPreview previewCsvFile(const std::string& path, int headRows) {
    const std::string text = readWholeFile(path);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) fail(path, 0, "the file is empty");
    requireText(text, path);
    auto records = parseCsvRecords(text, path);
    checkCsvShape(records, path);
    CsvPreview p;
    p.columns = records.front().fields;
    p.rows = static_cast<std::int64_t>(records.size()) - 1;
    p.kinds.assign(p.columns.size(), "empty");
    std::vector<std::map<std::string, std::int64_t>> counts(p.columns.size());
    p.distinctValues.assign(p.columns.size(), 0);
    for (std::size_t r = 1; r < records.size(); ++r) {
        const auto& f = records[r].fields;
        if (static_cast<int>(r) <= headRows) p.head.push_back(f);
        for (std::size_t c = 0; c < f.size() && c < p.columns.size(); ++c) {
            if (isMissingCsvValue(f[c])) continue;
            if (counts[c].size() <= CsvPreview::kMaxValues) ++counts[c][f[c]];
            if (p.kinds[c] == "text") continue;
            p.kinds[c] = parseNumber(f[c]) ? "numeric" : "text";
        }
    }
    p.values.resize(p.columns.size());
    for (std::size_t c = 0; c < p.columns.size(); ++c) {
        p.distinctValues[c] = static_cast<std::int64_t>(counts[c].size());
        if (counts[c].size() <= CsvPreview::kMaxValues)
            for (const auto& [v, n] : counts[c])
                p.values[c].push_back({v, n});
    }
    return p;
}

} // namespace mode
