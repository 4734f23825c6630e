#include "data/DatasetFactory.h"

#include "data/CsvLoader.h"
#include "data/RegimesDataset.h"

namespace mode {

std::vector<std::string> builtinDatasets() { return {"regimes"}; }

Dataset loadDataset(const DataConfig& data) {
    if (!data.path.empty()) {
        CsvOptions o;
        o.target = data.target;
        o.task = data.task;
        o.subtaskColumn = data.subtaskColumn;
        o.impute = data.impute;
        o.dropColumns = data.dropColumns;
        return loadCsvFile(data.path, o);
    }
    if (data.dataset == "regimes") return makeRegimesDataset(data.regimes);
    throw DataError("unknown built-in dataset '" + data.dataset + "'");
}

} // namespace mode
