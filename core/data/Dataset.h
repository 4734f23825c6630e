// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A dataset in memory, as plain C++ (no LibTorch, no Qt): loaders produce it, the trainer turns
// it into tensors. Row-major features, one label or value per row, optional known sub-tasks.

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mode {

enum class TaskType { Classification, Regression };

class DataError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};
// A load the user stopped (Ctrl-C, the Stop button) before it ended.
class LoadStopped : public DataError {
  public:
    using DataError::DataError;
};

// Told how far a long load has come (bytes read of the file's size, 0 when unknown) now and then
// (each block of a few MiB); returns false to stop the load, which then throws LoadStopped.
using LoadProgress = std::function<bool(std::uint64_t done, std::uint64_t total)>;

struct Dataset {
    std::string name;   // "regimes" or the file name
    std::string source; // path of the file, or a description of the generator
    TaskType task = TaskType::Classification;

    std::int64_t rows = 0;
    std::int64_t cols = 0;
    std::vector<float> features;           // rows * cols, row-major
    std::vector<std::string> featureNames; // cols entries (one-hot columns named "col=value")
    std::vector<bool> standardise; // per column: numeric, standardised on the training split

    std::string targetName;              // the target's column in a CSV file
    std::vector<std::int64_t> labels;    // classification: 0..classes-1
    std::vector<float> values;           // regression targets
    std::vector<std::string> classNames; // classification

    std::vector<std::int64_t> subtasks; // known sub-task per row, or empty
    std::vector<std::string> subtaskNames;

    // A categorical column, one-hot encoded in the columns [first, first + levels.size()).
    struct Categorical {
        std::string column;
        std::int64_t first = 0;
        std::vector<std::string> levels;
        std::int64_t fill = -1; // the level a missing cell got (fitOnTrainingRows), -1: none yet
    };
    std::vector<Categorical> categoricals;
    // A loader leaves missing cells it was asked to impute as NaN (a categorical's whole group):
    // the values to fill them with come from the training rows (fitOnTrainingRows).
    bool hasMissing = false;
    // What fitOnTrainingRows and standardiseWithTrainingStats learnt, per feature column, so
    // that new rows get exactly the same (mode-predict): the value a missing numeric cell got
    // (NaN: none was missing), and x -> (x - mean) / scale (0 and 1 where not standardised).
    std::vector<float> featureFill;
    std::vector<double> featureMean, featureScale;

    std::vector<std::int64_t> imageShape; // {channels, height, width} when the rows are images
    std::vector<std::int64_t>
        presetTest; // rows of a fixed test split (MNIST's t10k files), or empty

    // Text: the tokens of each row until encodeText turns them into features (token ids, padded
    // to a fixed length) with a vocabulary built from the training rows.
    std::vector<std::vector<std::string>> tokens;
    std::vector<std::string> vocabulary; // id -> word; 0 pads, 1 is unknown
    bool isText() const { return !tokens.empty(); }

    std::uint64_t sizeBytes = 0; // of the source file (0 for generated data)
    std::string contentHash;     // 16 hex digits (FNV-1a 64 of the file or generated data)

    int classes() const { return static_cast<int>(classNames.size()); }
    int outputs() const { return task == TaskType::Classification ? classes() : 1; }
    bool hasSubtasks() const { return !subtasks.empty(); }
    std::string fingerprint() const; // "size:hash"
};

// The rows of each split. Stratified by class for classification, so every split sees every
// class in proportion; a seeded shuffle, so the same seed gives the same split. A dataset with a
// preset test split keeps it, and testFraction is not used. The validation share is a share of
// the rows that are not preset test rows: of all rows (as the test share) where no test split is
// preset, of the others where one is. maxTrainRows (0: no cap) caps the rows left for training and
// validation, never the test split: a stratified draw of that many of them (largest remainders),
// with validation rows in the proportion they have without the cap. Throws DataError,
// with the counts, for a split that leaves no test row, fewer than kMinTrainingRows training rows
// or fewer training rows than validation rows.
struct Split {
    std::vector<std::int64_t> train, val, test;
};
constexpr std::int64_t kMinTrainingRows = 10;
Split stratifiedSplit(const Dataset& d, double valFraction, double testFraction, std::uint64_t seed,
                      std::int64_t maxTrainRows = 0);

// What a loader could not decide before the split, decided on the training rows only (so no
// statistic of a validation or test row leaks into training): a missing numeric cell gets the
// mean of the column's training values, a missing categorical cell the most frequent training
// level (ties: the first level in order); a level that no training row has is dropped, and a
// validation or test row with it has all zeros in that column's one-hot group (an unseen
// category). Throws DataError naming a column that has no value in the training rows.
void fitOnTrainingRows(Dataset& d, const std::vector<std::int64_t>& trainRows);

// Standardises the numeric columns in place with the mean and standard deviation of the
// training rows (constant columns are centred only).
void standardiseWithTrainingStats(Dataset& d, const std::vector<std::int64_t>& trainRows);
// One value standardised as standardiseWithTrainingStats does it (the same arithmetic, so that
// new rows get bit for bit what the training rows got).
float standardised(float x, double mean, double scale);

// A data file's bytes, read whole, after two checks that cost no reading: the file must fit in
// memory (its size times `memoryPerByte`, what loading it costs, against the memory available:
// a file that cannot fit is refused with both sizes named instead of driving the machine into
// swap), and its first 64 KiB must hold no NUL byte (a binary file is refused at once, even a
// huge one). Throws DataError naming the path.
std::string readDataFile(const std::string& path, double memoryPerByte,
                         const LoadProgress& progress = {});
// The checks of readDataFile without the reading; returns the file's size (0 when unknown).
std::uint64_t checkDataFile(const std::string& path, double memoryPerByte);
// The memory this machine can still give (Linux's MemAvailable), in bytes; 0 if unknown.
std::uint64_t availableMemoryBytes();

// Throws DataError "source:line: column C: ... not valid UTF-8" for a data file's text that is
// not UTF-8 (labels and column names end up in the store, JSON and on the terminal).
void requireUtf8Text(const std::string& text, const std::string& source);

// FNV-1a 64-bit over bytes, as 16 hex digits; fnv1a64 continues a hash block by block (the seed
// is the hash so far).
constexpr std::uint64_t kFnvOffsetBasis = 1469598103934665603ULL;
std::string fnv1a64Hex(const void* data, std::size_t size, std::uint64_t seed = kFnvOffsetBasis);
std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t seed = kFnvOffsetBasis);
std::string hex16(std::uint64_t value);

} // namespace mode
