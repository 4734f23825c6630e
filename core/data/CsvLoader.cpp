// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/CsvLoader.h"

#include "data/CsvReader.h"
#include "util/Utf8.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>

namespace mode {
namespace {

constexpr std::size_t kMaxCategories = 200;
constexpr std::size_t kMaxClassName = 256;
constexpr std::size_t kMaxClasses = 1000;
// Distinct values counted for a target or sub-task column (ids are 16-bit); a feature column's
// count stops past kMaxCategories.
constexpr std::size_t kMaxLabelLevels = 65534;
// (kCsvMemoryPerByte, CsvLoader.h: 4 bytes of number and 2 of value id per cell while streaming,
// then 4 in the feature matrix; a cell takes at least 2 bytes of file, "1,".)

[[noreturn]] void fail(const std::string& source, std::int64_t line, const std::string& what) {
    throw DataError(source + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + what);
}

std::string quote(std::string_view s) {
    std::string v(s.size() > 40 ? std::string(s.substr(0, 40)) + "..." : std::string(s));
    return "'" + v + "'";
}

std::string tooLargeForFloat(double x, const std::string& column) {
    std::ostringstream value;
    value << x;
    return "column '" + column + "': " + value.str() +
           " is too large for 32-bit training (at most about 3.4e38 in magnitude)";
}

std::optional<double> parseNumber(std::string_view s) {
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
template <typename Names> std::vector<std::string> orderedLevels(const Names& levels) {
    std::vector<std::string> out(levels.begin(), levels.end());
    std::sort(out.begin(), out.end());
    const bool numeric = std::all_of(
        out.begin(), out.end(), [](const std::string& s) { return parseNumber(s).has_value(); });
    if (numeric)
        std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
            return *parseNumber(a) < *parseNumber(b);
        });
    return out;
}

// One column's cells as they stream in: each as a number (NaN where missing or text) and, while
// the column has at most `maxDistinct` distinct values, as the id of its text; counts, and the
// first cell of each kind that may be refused. Without `keepRows` only the counts are kept.
struct ColumnCells : CsvColumnStats {
    static constexpr std::uint16_t kNoId = 0xFFFF; // a missing cell

    ColumnCells(std::size_t maxDistinct, bool keepRows)
        : maxDistinct(std::min(maxDistinct, kMaxLabelLevels)), keepRows(keepRows) {}

    std::size_t maxDistinct;
    bool keepRows;
    std::vector<float> values;
    std::vector<std::uint16_t> ids;
    std::deque<std::string> names; // distinct values (not missing ones), in order of appearance
    std::vector<std::int64_t> counts;
    std::unordered_map<std::string_view, std::uint16_t> index; // into names

    void reserve(std::size_t n) {
        if (!keepRows) return;
        values.reserve(n);
        if (!moreDistinct) ids.reserve(n);
    }

    void note(CsvCell& cell, std::int64_t row, std::int64_t line, std::string_view v) {
        if (cell.found()) return;
        cell.row = row;
        cell.line = line;
        cell.text = std::string(v.substr(0, 64));
        cell.size = v.size();
    }

    void add(std::string_view v, std::int64_t line) {
        const std::int64_t row = rows++;
        if (isMissingCsvValue(v)) {
            ++missing;
            note(firstMissing, row, line, v);
            if (keepRows) {
                values.push_back(std::numeric_limits<float>::quiet_NaN());
                if (!moreDistinct) ids.push_back(kNoId);
            }
            return;
        }
        ++present;
        note(firstPresent, row, line, v);
        float value = std::numeric_limits<float>::quiet_NaN();
        if (const auto x = parseNumber(v)) {
            ++numbers;
            if (*x != std::floor(*x)) ++nonInteger;
            if (std::abs(*x) > static_cast<double>(std::numeric_limits<float>::max()))
                note(firstHuge, row, line, v);
            value = static_cast<float>(*x);
        } else {
            note(firstText, row, line, v);
        }
        if (v.size() > kMaxClassName) note(firstLong, row, line, v);
        if (keepRows) values.push_back(value);
        if (!moreDistinct) intern(v);
    }

    void intern(std::string_view v) {
        if (const auto it = index.find(v); it != index.end()) {
            ++counts[it->second];
            if (keepRows) ids.push_back(it->second);
            return;
        }
        if (names.size() >= maxDistinct) { // too many to be classes or categories
            moreDistinct = true;
            distinct = maxDistinct + 1;
            std::vector<std::uint16_t>().swap(ids);
            index = {};
            names = {};
            counts = {};
            return;
        }
        const auto id = static_cast<std::uint16_t>(names.size());
        index.emplace(names.emplace_back(v), id);
        counts.push_back(1);
        distinct = names.size();
        if (keepRows) ids.push_back(id);
    }

    // Each row's value as its index in `ordered` (every distinct value is there); missing: -1.
    std::vector<std::int64_t> levelIds(const std::vector<std::string>& ordered) const {
        std::vector<std::int64_t> position(names.size());
        std::map<std::string_view, std::int64_t> at;
        for (std::size_t k = 0; k < ordered.size(); ++k)
            at[ordered[k]] = static_cast<std::int64_t>(k);
        for (std::size_t k = 0; k < names.size(); ++k)
            position[k] = at.at(names[k]);
        std::vector<std::int64_t> out(ids.size());
        for (std::size_t r = 0; r < ids.size(); ++r)
            out[r] = ids[r] == kNoId ? -1 : position[ids[r]];
        return out;
    }
};

// A refusal, with the line it is about (0: the whole column).
struct Problem {
    std::int64_t line = 0;
    std::string text;
};

// The structure every CSV file must have: a named header of two or more distinct columns.
// Returns the column index by name.
std::map<std::string, std::size_t> checkHeader(const std::vector<std::string>& header,
                                               std::int64_t line, const std::string& source) {
    const std::size_t ncol = header.size();
    if (ncol < 2)
        fail(source, line,
             "the header has one column; a dataset needs at least one feature and a target (is the "
             "delimiter a comma?)");
    std::map<std::string, std::size_t> index;
    for (std::size_t c = 0; c < ncol; ++c) {
        if (header[c].empty())
            fail(source, line, "column " + std::to_string(c + 1) + " has no name in the header");
        if (!index.emplace(header[c], c).second)
            fail(source, line,
                 "the column name " + quote(header[c]) + " appears twice in the header");
    }
    return index;
}

// The header columns the options name: the target, the sub-task and those to leave out.
struct CsvColumnRoles {
    std::size_t target = 0;
    std::optional<std::size_t> subtask;
    std::vector<bool> dropped;

    bool isFeature(std::size_t c) const {
        return !(c == target || (subtask && c == *subtask) || dropped[c]);
    }
};

CsvColumnRoles columnRoles(const std::vector<std::string>& header,
                           const std::map<std::string, std::size_t>& index, const CsvOptions& opt,
                           const std::string& source) {
    auto columnNamed = [&](const std::string& name, const char* what) {
        auto it = index.find(name);
        if (it == index.end()) {
            std::string all;
            for (const auto& h : header)
                all += (all.empty() ? "" : ", ") + h;
            fail(source, 0,
                 std::string(what) + " column " + quote(name) +
                     " is not in the header (columns: " + all + ")");
        }
        return it->second;
    };
    CsvColumnRoles roles;
    roles.dropped.assign(header.size(), false);
    roles.target = opt.target.empty() ? header.size() - 1 : columnNamed(opt.target, "the target");
    if (!opt.subtaskColumn.empty()) {
        roles.subtask = columnNamed(opt.subtaskColumn, "the sub-task");
        if (*roles.subtask == roles.target)
            fail(source, 0, "the sub-task column cannot also be the target");
    }
    for (const auto& d : opt.dropColumns)
        roles.dropped[columnNamed(d, "the dropped")] = true;
    if (roles.dropped[roles.target])
        fail(source, 0, "the target column " + quote(header[roles.target]) + " cannot be dropped");
    return roles;
}

// A file streamed into columns: the header, then each column's cells (none for dropped ones).
struct CsvColumns {
    std::vector<std::string> header;
    std::int64_t headerLine = 0;
    std::int64_t rows = 0;
    std::vector<ColumnCells> cells;
    std::vector<std::vector<std::string>> head; // the first rows as text, when asked for
};

// Reads the header and checks it; empty files are refused.
void readHeader(CsvReader& reader, CsvColumns& out) {
    // Lines of spaces before the header are blank too.
    do
        if (!reader.next())
            fail(reader.source(), 0, "the file is empty (expected a header row and data rows)");
    while (reader.fields().size() == 1 && reader.fields()[0].empty());
    out.header.assign(reader.fields().begin(), reader.fields().end());
    out.headerLine = reader.line();
}

// Every data row into `out.cells`; `keep(c)` is the distinct values column c counts, 0 to skip it.
template <typename Keep>
void readRows(CsvReader& reader, CsvColumns& out, Keep maxDistinct, bool keepRows, int headRows) {
    const std::size_t ncol = out.header.size();
    out.cells.reserve(ncol);
    for (std::size_t c = 0; c < ncol; ++c)
        out.cells.emplace_back(maxDistinct(c), keepRows);
    while (reader.next()) {
        const auto& f = reader.fields();
        if (f.size() != ncol)
            fail(reader.source(), reader.line(),
                 "ragged row: " + std::to_string(f.size()) + " fields, but the header has " +
                     std::to_string(ncol));
        if (out.rows < headRows) out.head.emplace_back(f.begin(), f.end());
        for (std::size_t c = 0; c < ncol; ++c)
            if (maxDistinct(c) > 0) out.cells[c].add(f[c], reader.line());
        // Room for the rows still to come, estimated from those read so far.
        if (++out.rows == 4096 && reader.totalBytes() > 0) {
            const double perRow = static_cast<double>(reader.bytesRead()) / 4096.0;
            const auto rows =
                static_cast<std::size_t>(static_cast<double>(reader.totalBytes()) / perRow * 1.05);
            for (auto& col : out.cells)
                col.reserve(rows + 64);
        }
    }
    if (out.rows == 0)
        fail(reader.source(), out.headerLine, "the file has a header but no data rows");
}

} // namespace

std::optional<double> parseCsvNumber(std::string_view text) {
    return parseNumber(text);
}

std::vector<std::string> readCsvHeader(CsvReader& reader, std::int64_t* line) {
    CsvColumns file;
    readHeader(reader, file);
    checkHeader(file.header, file.headerLine, reader.source());
    if (line) *line = file.headerLine;
    return file.header;
}

bool isMissingCsvValue(std::string_view v) {
    return v.empty() || v == "?" || v == "NA" || v == "N/A" || v == "NaN" || v == "nan" ||
           v == "null";
}

namespace {

// What keeps column `cells` from being the target: a missing or overlong value (the first row of
// either), one class, too many classes.
std::optional<Problem> targetProblem(const CsvColumnStats& cells, const std::string& name,
                                     bool regression) {
    const CsvCell* first = nullptr;
    for (const CsvCell* cell : {&cells.firstMissing, &cells.firstLong})
        if (cell->found() && (!first || cell->row < first->row)) first = cell;
    if (first == &cells.firstMissing)
        return Problem{first->line, "the target " + quote(name) + " is missing (" +
                                        quote(first->text) + "); every row needs a target"};
    // A class name is stored with the run and shown on every plot: a huge one is a wrong column.
    if (first == &cells.firstLong)
        return Problem{first->line,
                       "the target " + quote(name) + " has a value of " +
                           std::to_string(first->size) + " characters (class names are at most " +
                           std::to_string(kMaxClassName) + "): is this the right target column?"};
    if (regression) {
        if (cells.firstText.found())
            return Problem{cells.firstText.line, "the regression target " + quote(name) + " has " +
                                                     quote(cells.firstText.text) +
                                                     ", which is not a number"};
        if (cells.firstHuge.found())
            return Problem{cells.firstHuge.line,
                           tooLargeForFloat(*parseNumber(cells.firstHuge.text), name)};
        return std::nullopt;
    }
    if (cells.distinct < 2)
        return Problem{0, "the target " + quote(name) + " has a single class (" +
                              quote(cells.firstPresent.text) +
                              "); classification needs two or more"};
    if (cells.distinct > kMaxClasses)
        return Problem{0,
                       "the target " + quote(name) + " has " +
                           (cells.moreDistinct ? "more than " + std::to_string(cells.distinct - 1)
                                               : std::to_string(cells.distinct)) +
                           " classes (at most " + std::to_string(kMaxClasses) + ")" +
                           (cells.allNumbers()
                                ? std::string("; for a numeric target use task = regression")
                                : std::string("; a text column with that many values is likely "
                                              "an id or free text: choose another target"))};
    return std::nullopt;
}

// Regression as the options say, else for a numeric target with fractions or more than 20
// distinct values.
bool isRegressionTarget(const CsvColumnStats& cells, TaskKind task) {
    const bool allNumeric = cells.numbers == cells.rows;
    return task == TaskKind::Regression ||
           (task == TaskKind::Auto && allNumeric && (cells.nonInteger > 0 || cells.distinct > 20));
}

// The target as regression values or class labels.
void readTarget(ColumnCells& cells, TaskKind task, Dataset& d) {
    if (isRegressionTarget(cells, task)) {
        d.task = TaskType::Regression;
        d.values = std::move(cells.values);
        return;
    }
    d.task = TaskType::Classification;
    d.classNames = orderedLevels(cells.names);
    d.labels = cells.levelIds(d.classNames);
}

void readSubtasks(const ColumnCells& cells, Dataset& d) {
    d.subtaskNames = orderedLevels(cells.names);
    d.subtasks = cells.levelIds(d.subtaskNames);
}

// What keeps column `cells` from being a feature: no values, a number past float's range, text
// among mostly numbers, a missing value without impute, too many categories.
std::optional<Problem> featureProblem(const CsvColumnStats& cells, const std::string& name,
                                      ImputeKind impute) {
    if (cells.present == 0)
        return Problem{0,
                       "column " + quote(name) + " has no values at all; drop it (drop_columns)"};
    const bool numeric = cells.allNumbers();
    if (numeric && cells.firstHuge.found())
        return Problem{cells.firstHuge.line,
                       tooLargeForFloat(*parseNumber(cells.firstHuge.text), name)};
    // Mostly numbers: the text is an error, not a category.
    if (cells.numbersWithText())
        return Problem{cells.firstText.line,
                       "column " + quote(name) + ": " + quote(cells.firstText.text) +
                           " is not a number (" + std::to_string(cells.numbers) + " of " +
                           std::to_string(cells.present) + " values in this column are numbers)"};
    if (cells.firstMissing.found() && impute != ImputeKind::Mean)
        return Problem{cells.firstMissing.line, "column " + quote(name) + " is missing a value (" +
                                                    quote(cells.firstMissing.text) +
                                                    "); fix the file or set impute to mean"};
    if (!numeric && cells.distinct > kMaxCategories)
        return Problem{0, "text column " + quote(name) + " has more than " +
                              std::to_string(kMaxCategories) + " distinct values (at most " +
                              std::to_string(kMaxCategories) +
                              " one-hot columns); drop it (drop_columns)"};
    return std::nullopt;
}

// The first thing that keeps the columns from loading, checked in this order: the target, the
// sub-task, each feature column; nothing when they load.
std::optional<Problem> firstProblem(const std::vector<std::string>& header,
                                    const std::vector<const CsvColumnStats*>& stats,
                                    const CsvColumnRoles& roles, const CsvOptions& opt) {
    const std::string& target = header[roles.target];
    const CsvColumnStats& t = *stats[roles.target];
    if (auto p = targetProblem(t, target, isRegressionTarget(t, opt.task))) return p;
    if (roles.subtask) {
        const CsvColumnStats& s = *stats[*roles.subtask];
        const std::string& name = header[*roles.subtask];
        if (s.firstMissing.found())
            return Problem{s.firstMissing.line, "the sub-task " + quote(name) + " is missing"};
        // (A preview counts fewer distinct values than the loader: past its count, it cannot tell.)
        if (s.moreDistinct && s.distinct - 1 >= kMaxLabelLevels)
            return Problem{0, "the sub-task " + quote(name) + " has more than " +
                                  std::to_string(s.distinct - 1) + " distinct values"};
    }
    bool anyFeature = false;
    for (std::size_t c = 0; c < header.size(); ++c) {
        if (!roles.isFeature(c)) continue;
        anyFeature = true;
        if (auto p = featureProblem(*stats[c], header[c], opt.impute)) return p;
    }
    if (!anyFeature) return Problem{0, "no feature columns are left besides the target"};
    return std::nullopt;
}

// A feature column: numeric as it is, text one-hot with its levels in order.
struct FeatureColumn {
    std::size_t src;
    bool numeric;
    std::vector<std::string> levels;
    std::vector<std::int64_t> levelOfRow; // text: each row's level, -1 where missing
};

std::vector<FeatureColumn> featureColumns(CsvColumns& file, const CsvColumnRoles& roles) {
    std::vector<FeatureColumn> columns;
    for (std::size_t c = 0; c < file.header.size(); ++c) {
        if (!roles.isFeature(c)) continue;
        const ColumnCells& cells = file.cells[c];
        FeatureColumn col{c, cells.allNumbers(), {}, {}};
        if (!col.numeric) {
            col.levels = orderedLevels(cells.names);
            col.levelOfRow = cells.levelIds(col.levels);
        }
        columns.push_back(std::move(col));
    }
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

// The rows * cols feature matrix, one column at a time (each column's cells are freed once
// copied); a missing cell is NaN, in each of a text column's one-hot columns.
void fillFeatures(std::vector<FeatureColumn>& columns, CsvColumns& file, Dataset& d) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    d.features.assign(static_cast<std::size_t>(d.rows * d.cols), 0.0f);
    std::int64_t k = 0;
    for (auto& col : columns) {
        ColumnCells& cells = file.cells[col.src];
        d.hasMissing = d.hasMissing || cells.missing > 0;
        float* out = d.features.data() + k;
        if (col.numeric) {
            for (std::int64_t r = 0; r < d.rows; ++r)
                out[r * d.cols] = cells.values[static_cast<std::size_t>(r)];
            ++k;
        } else {
            const auto width = static_cast<std::int64_t>(col.levels.size());
            for (std::int64_t r = 0; r < d.rows; ++r) {
                const std::int64_t level = col.levelOfRow[static_cast<std::size_t>(r)];
                if (level < 0)
                    std::fill(out + r * d.cols, out + r * d.cols + width, nan);
                else
                    out[r * d.cols + level] = 1.0f;
            }
            k += width;
        }
        cells = ColumnCells(0, false);
        col.levelOfRow = {};
    }
}

Dataset loadCsv(CsvReader& reader, const CsvOptions& opt) {
    const std::string& source = reader.source();
    CsvColumns file;
    readHeader(reader, file);
    const auto index = checkHeader(file.header, file.headerLine, source);
    const CsvColumnRoles roles = columnRoles(file.header, index, opt, source);
    readRows(
        reader, file,
        [&](std::size_t c) -> std::size_t {
            if (c == roles.target || (roles.subtask && c == *roles.subtask)) return kMaxLabelLevels;
            return roles.dropped[c] ? 0 : kMaxCategories + 1;
        },
        true, 0);

    Dataset d;
    d.name = printable(
        std::filesystem::path(source).filename().string()); // a file name need not be UTF-8
    d.source = source;
    d.rows = file.rows;
    d.targetName = file.header[roles.target];
    d.sizeBytes = reader.bytesRead();
    d.contentHash = reader.contentHash();
    std::vector<const CsvColumnStats*> stats;
    for (const auto& cells : file.cells)
        stats.push_back(&cells);
    if (auto p = firstProblem(file.header, stats, roles, opt)) fail(source, p->line, p->text);
    readTarget(file.cells[roles.target], opt.task, d);
    if (roles.subtask) readSubtasks(file.cells[*roles.subtask], d);
    auto columns = featureColumns(file, roles);
    describeFeatures(file.header, columns, d);
    fillFeatures(columns, file, d);
    return d;
}

} // namespace

Dataset loadCsvText(const std::string& text, const std::string& source, const CsvOptions& opt) {
    CsvReader reader(text, source, opt.delimiter);
    return loadCsv(reader, opt);
}

Dataset loadCsvFile(const std::string& path, const CsvOptions& options,
                    const LoadProgress& progress) {
    checkDataFile(path, kCsvMemoryPerByte);
    CsvReader reader(path, options.delimiter, progress);
    Dataset d = loadCsv(reader, options);
    d.source = std::filesystem::absolute(path).lexically_normal().string();
    return d;
}

std::vector<CsvRecord> parseCsvRecords(const std::string& text, const std::string& source,
                                       char delimiter) {
    CsvReader reader(text, source, delimiter);
    std::vector<CsvRecord> records;
    while (reader.next())
        records.push_back({reader.line(), {reader.fields().begin(), reader.fields().end()}});
    return records;
}

CsvPreview previewCsvFile(const std::string& path, int headRows) {
    checkDataFile(path, 0);
    CsvReader reader(path, ',');
    CsvColumns file;
    readHeader(reader, file);
    checkHeader(file.header, file.headerLine, path);
    // As many distinct values as the target's check needs, per column; no cells are kept.
    readRows(
        reader, file, [](std::size_t) { return kMaxClasses + 1; }, false, headRows);
    CsvPreview p;
    p.columns = file.header;
    p.rows = file.rows;
    p.head = std::move(file.head);
    for (const auto& cells : file.cells) {
        p.kinds.push_back(cells.present == 0 ? "empty" : cells.allNumbers() ? "numeric" : "text");
        p.distinctValues.push_back(static_cast<std::int64_t>(cells.distinct));
        auto& values = p.values.emplace_back();
        if (cells.names.size() <= CsvPreview::kMaxValues)
            for (std::size_t k = 0; k < cells.names.size(); ++k)
                values.push_back({cells.names[k], cells.counts[k]});
        std::sort(values.begin(), values.end());
        p.stats.push_back(static_cast<const CsvColumnStats&>(cells));
    }
    return p;
}

std::string csvLoadProblem(const CsvPreview& preview, const CsvOptions& options) {
    try {
        const auto index = checkHeader(preview.columns, 0, "");
        const CsvColumnRoles roles = columnRoles(preview.columns, index, options, "");
        std::vector<const CsvColumnStats*> stats;
        for (const auto& s : preview.stats)
            stats.push_back(&s);
        if (auto p = firstProblem(preview.columns, stats, roles, options))
            return (p->line > 0 ? "line " + std::to_string(p->line) + ": " : std::string()) +
                   p->text;
    } catch (const DataError& e) {
        std::string what = e.what();
        return what.rfind(": ", 0) == 0 ? what.substr(2) : what; // no source named
    }
    return {};
}

std::string describeCsvColumn(const CsvPreview& preview, std::size_t c) {
    const CsvColumnStats& s = preview.stats.at(c);
    std::string text;
    if (s.present == 0) {
        text = "empty";
    } else if (s.allNumbers()) {
        text = "numeric";
    } else if (s.numbersWithText()) {
        text = std::to_string(s.numbers) + " of " + std::to_string(s.present) +
               " values numeric; " + quote(s.firstText.text) + " at line " +
               std::to_string(s.firstText.line) + " is not";
    } else {
        text = "text, " +
               (s.moreDistinct ? "more than " + std::to_string(s.distinct - 1)
                               : std::to_string(s.distinct)) +
               " values";
    }
    if (s.missing > 0)
        text += ", " + std::to_string(s.missing) + " missing (" +
                (s.firstMissing.text.empty() ? std::string("an empty cell")
                                             : quote(s.firstMissing.text)) +
                " at line " + std::to_string(s.firstMissing.line) + ")";
    return text;
}

} // namespace mode
