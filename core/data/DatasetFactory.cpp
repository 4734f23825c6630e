// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/DatasetFactory.h"

#include "data/IdxLoader.h"
#include "data/TextLoader.h"

#include <cstdlib>
#include <fstream>

#include <filesystem>

#include "data/CsvLoader.h"
#include "data/RegimesDataset.h"

namespace mode {

std::string builtinDataFile(const std::string& name) {
    std::vector<std::filesystem::path> dirs;
    if (const char* env = std::getenv("MODE_DATA_DIR"); env && *env) dirs.emplace_back(env);
#ifdef MODE_BUILD_DATA_DIR
    dirs.emplace_back(MODE_BUILD_DATA_DIR);
#endif
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x)
        dirs.emplace_back(std::filesystem::path(x) / "mode-workbench" / "datasets");
    else if (const char* h = std::getenv("HOME"); h && *h)
        dirs.emplace_back(std::filesystem::path(h) / ".local/share/mode-workbench/datasets");
    dirs.emplace_back("/usr/share/mode-workbench/datasets");
    std::error_code ec;
    for (const auto& d : dirs)
        if (std::filesystem::is_regular_file(d / name, ec)) return (d / name).string();
    return {};
}

bool looksLikeTsv(const std::string& path) {
    const std::string ext = std::filesystem::path(path).extension().string();
    if (ext == ".tsv") return true;
    if (ext == ".csv") return false;
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    return first.find('\t') != std::string::npos && first.find(',') == std::string::npos;
}

std::string builtinDatasetProblem(const DataConfig& data) {
    if (!data.path.empty() || !data.idxFiles.empty() || data.dataset == "regimes") return {};
    std::error_code ec;
    if (data.dataset == "fashion-mnist")
        return std::filesystem::is_directory(fashionMnistFolder(), ec)
                   ? std::string()
                   : "fashion-mnist: Debian's dataset-fashion-mnist is not installed here "
                     "(apt-get install dataset-fashion-mnist)";
    if (data.dataset == "debian-descriptions")
        return builtinDataFile("debian-descriptions.tsv").empty()
                   ? "debian-descriptions: the file is not built yet; run "
                     "experiments/data/make-debian-descriptions.sh (setup.sh does) or set "
                     "MODE_DATA_DIR"
                   : std::string();
    return "unknown built-in dataset '" + data.dataset + "'";
}

std::vector<std::string> builtinDatasets() {
    std::vector<std::string> b{"regimes"};
    std::error_code ec;
    if (std::filesystem::is_directory(fashionMnistFolder(), ec))
        b.push_back("fashion-mnist"); // Debian's dataset-fashion-mnist
    if (!builtinDataFile("debian-descriptions.tsv").empty()) b.push_back("debian-descriptions");
    return b;
}

Split prepareForTraining(Dataset& d, const ExperimentConfig& c) {
    Split split = stratifiedSplit(d, c.data.valFraction, c.data.testFraction, c.train.seed,
                                  c.data.maxTrainRows);
    if (d.isText()) {
        TextOptions o;
        o.minFrequency = c.data.text.minFrequency;
        o.maxVocabulary = c.data.text.maxVocabulary;
        o.maxLength = c.data.text.maxLength;
        encodeText(d, split.train, o);
    }
    fitOnTrainingRows(d, split.train);
    standardiseWithTrainingStats(d, split.train);
    return split;
}

CsvOptions csvOptionsOf(const DataConfig& data) {
    CsvOptions o;
    o.target = data.target;
    o.task = parseChoice<TaskKind>(data.task, "data.task");
    o.subtaskColumn = data.subtaskColumn;
    o.impute = parseChoice<ImputeKind>(data.impute, "data.impute");
    o.dropColumns = data.dropColumns;
    return o;
}

namespace {
void requireDataPath(const std::string& field, const std::string& path, bool folderAllowed) {
    if (auto problem = dataPathProblem(path, folderAllowed); !problem.empty())
        throw DataError(field + ": " + problem);
}
} // namespace

Dataset loadDataset(const DataConfig& data, const LoadProgress& progress) {
    if (!data.idxFiles.empty()) {
        if (data.idxFiles.size() != 4)
            throw DataError("data.idx_files: name 4 files (train images, train labels, test "
                            "images, test labels)");
        for (const auto& f : data.idxFiles)
            requireDataPath("data.idx_files", f, false);
        const IdxFiles f{data.idxFiles[0], data.idxFiles[1], data.idxFiles[2], data.idxFiles[3]};
        return loadIdxDataset(
            f, std::filesystem::path(f.trainImages).parent_path().filename().string(), {},
            data.maxRows);
    }
    if (!data.path.empty()) {
        requireDataPath("data.path", data.path, true);
        std::error_code ec;
        const std::filesystem::path p(data.path);
        // A folder, or one of the four files of a folder (train-images-idx3-ubyte.gz, ...).
        const bool idxFile = p.filename().string().find("-idx") != std::string::npos &&
                             p.filename().string().find("-ubyte") != std::string::npos;
        const DataFormat format = parseChoice<DataFormat>(data.format, "data.format");
        if (format == DataFormat::Idx ||
            (format == DataFormat::Auto && (std::filesystem::is_directory(p, ec) || idxFile))) {
            const std::filesystem::path folder =
                std::filesystem::is_directory(p, ec) ? p : p.parent_path();
            return loadIdxDataset(findIdxFiles(folder.string()), folder.filename().string(), {},
                                  data.maxRows);
        }
        if (format == DataFormat::Tsv || (format == DataFormat::Auto && looksLikeTsv(data.path)))
            return loadTsvFile(data.path, progress);
        return loadCsvFile(data.path, csvOptionsOf(data), progress);
    }
    if (auto problem = builtinDatasetProblem(data); !problem.empty()) throw DataError(problem);
    if (data.dataset == "regimes") return makeRegimesDataset(data.regimes);
    if (data.dataset == "debian-descriptions") {
        Dataset d = loadTsvFile(builtinDataFile("debian-descriptions.tsv"));
        d.name = "debian-descriptions";
        return d;
    }
    if (data.dataset == "fashion-mnist")
        return loadIdxDataset(findIdxFiles(fashionMnistFolder()), "fashion-mnist",
                              fashionMnistClasses(), data.maxRows);
    throw DataError("unknown built-in dataset '" + data.dataset + "'");
}

} // namespace mode
