# SPDX-License-Identifier: GPL-3.0-or-later
# The sources of modecore that never include <torch/torch.h> (relative to core/): core skips the
# precompiled LibTorch header for them, and the standalone fuzz build (tests/fuzz) compiles them
# instrumented, so both read this one list.
set(MODE_LIGHT_SOURCES
  util/Utf8.cpp util/Format.cpp util/Csv.cpp util/SafeOutput.cpp config/Choices.cpp config/Settings.cpp
  config/ExperimentConfig.cpp
  config/JsonFile.cpp data/Dataset.cpp data/CsvReader.cpp data/CsvLoader.cpp data/FeatureRecipe.cpp data/RegimesDataset.cpp
  data/DatasetFactory.cpp data/IdxLoader.cpp data/TextLoader.cpp predict/StoredPrediction.cpp train/Assignment.cpp train/TrainingEvents.cpp train/Metrics.cpp train/EventsJson.cpp report/RunSummary.cpp
  store/RunStore.cpp store/RunRecorder.cpp store/WriterIdentity.cpp store/RunExport.cpp store/SampleBlob.cpp store/Resume.cpp
  analysis/Statistics.cpp analysis/RunComparison.cpp analysis/SampleProfile.cpp sweep/Sweep.cpp sweep/SweepProgress.cpp report/SweepReport.cpp report/StudyCsv.cpp)
