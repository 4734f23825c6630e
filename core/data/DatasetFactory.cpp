#include "data/DatasetFactory.h"

#include "data/IdxLoader.h"

#include <filesystem>

#include "data/CsvLoader.h"
#include "data/RegimesDataset.h"

namespace mode {

std::vector<std::string> builtinDatasets() {
    std::vector<std::string> b{"regimes"};
    std::error_code ec;
    if (std::filesystem::is_directory(fashionMnistFolder(), ec)) b.push_back("fashion-mnist"); // Debian's dataset-fashion-mnist
    return b;
}

Dataset loadDataset(const DataConfig& data) {
    if (!data.path.empty()) {
        std::error_code ec;
        if (data.format == "idx" || (data.format == "auto" && std::filesystem::is_directory(data.path, ec)))
            return loadIdxDataset(findIdxFiles(data.path), std::filesystem::path(data.path).filename().string(), {}, data.maxRows);
        CsvOptions o;
        o.target = data.target;
        o.task = data.task;
        o.subtaskColumn = data.subtaskColumn;
        o.impute = data.impute;
        o.dropColumns = data.dropColumns;
        return loadCsvFile(data.path, o);
    }
    if (data.dataset == "regimes") return makeRegimesDataset(data.regimes);
    if (data.dataset == "fashion-mnist")
        return loadIdxDataset(findIdxFiles(fashionMnistFolder()), "fashion-mnist", fashionMnistClasses(), data.maxRows);
    throw DataError("unknown built-in dataset '" + data.dataset + "'");
}

} // namespace mode
