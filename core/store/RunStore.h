// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Every run in one SQLite file: its config, every step's losses, every epoch's metrics, routing
// matrices, per-expert metrics, the final results, the latest checkpoint and kept models.
//
// One RunStore is one connection; use it from one thread at a time. Any number of connections,
// in this or other processes, may read while one writes (WAL mode: readers see the last
// committed state). A run whose writer died (kill -9, power loss) is marked `interrupted` the
// next time the store is opened for writing, and reported so by every reader.

#include "config/ExperimentConfig.h"
#include "train/TrainingEvents.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mode {

class RunStoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};
// Another connection (this or another program) held the write lock past the busy timeout: the
// write was rolled back whole and may be tried again.
class RunStoreBusy : public RunStoreError {
  public:
    using RunStoreError::RunStoreError;
};

struct RunRecord {
    std::int64_t id = 0;
    std::string name;
    RunStatus status = RunStatus::Running;
    std::string message;  // why a run failed, diverged or stopped
    double startedAt = 0; // Unix time, seconds
    std::optional<double> endedAt;
    double heartbeatAt = 0; // last time the writer wrote
    std::string configJson; // the full resolved experiment
    std::string configHash;
    std::string dataset, datasetFingerprint;
    std::int64_t seed = 0;
    std::string device;
    int experts = 0;
    double alpha = 0;
    std::string distill, gate;
    std::string libtorchVersion, modeVersion;
    RunStart start; // sizes, class and sub-task names
    int epochsCompleted = 0;
    std::int64_t steps = 0;
    double wallSeconds = 0;
    std::optional<double> testAccuracy, valAccuracy, gateRoutingAccuracy, bestValAccuracy;
    std::string notes;
    std::vector<std::string> tags;
    bool hasCheckpoint = false;

    ExperimentConfig config() const; // parsed configJson
};

struct RunFilter {
    std::string dataset; // exact
    std::optional<RunStatus> status;
    std::string tag;
    std::optional<double> alphaMin, alphaMax;
    std::optional<int> experts;
    std::string search; // substring of the name, dataset or notes
    int limit = 0;      // 0: all
};

// One point of a metric's series.
struct SeriesPoint {
    double step = 0, epoch = 0, wallSeconds = 0, value = 0;
};

class RunStore {
  public:
    enum class Mode { ReadWrite, ReadOnly };
    static constexpr int kSchemaVersion = 5;

    // Opens (and, for ReadWrite, creates and migrates) the store. Throws RunStoreError with the
    // file named when it cannot: not a SQLite file, a newer schema, read-only, missing folder.
    explicit RunStore(const std::string& path, Mode mode = Mode::ReadWrite);
    ~RunStore();
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;

    // $XDG_DATA_HOME/mode-workbench/runs.sqlite, else ~/.local/share/mode-workbench/runs.sqlite.
    static std::string defaultPath();

    const std::string& path() const;
    int schemaVersion() const;

    // --- writing a run (the writer: one process, usually through RunRecorder) ---
    std::int64_t beginRun(const ExperimentConfig& config, const RunStart& start,
                          const std::string& name);
    // Appends a batch of steps, updates the heartbeat; one transaction.
    void appendSteps(std::int64_t run, const std::vector<StepMetrics>& steps);
    // An epoch's metrics, routing matrices and per-expert metrics, plus the given steps not yet
    // written, in one transaction.
    void appendEpoch(std::int64_t run, const EpochMetrics& epoch,
                     const std::vector<StepMetrics>& pendingSteps = {});
    // Keeps the run's latest checkpoint only (replaces the previous one).
    void saveCheckpoint(std::int64_t run, const Checkpoint& checkpoint);
    // Keeps the model of an epoch beside the checkpoint: `state` is an archive holding "model"
    // (Checkpoint::model). ifBest: only where the epoch's validation score (stored with the
    // epoch, before) beats those kept so far; it then replaces the previous best (one
    // transaction), not the models kept for every epoch. A run keeps the model of its best
    // validation epoch this way, resumed runs included.
    void saveModel(std::int64_t run, int epoch, const std::string& state, bool ifBest);
    // Records the run's end. Its counters are what the store holds, whatever the result says: the
    // last stored epoch and the last stored step (a run whose writes failed is never recorded
    // with more than was kept).
    void finishRun(std::int64_t run, const RunResult& result);
    // Makes a stopped, interrupted, failed or diverged run `running` again under this process,
    // continuing after its checkpoint (epoch, step): what was stored after the checkpoint (the
    // steps and epochs a resumed run writes again) is removed, in one transaction. Throws
    // RunStoreError for an unknown run, a finished run, or one another live process writes.
    void resumeRun(std::int64_t run, int epoch, std::int64_t step, const RunStart& start);

    // --- reading ---
    std::vector<RunRecord> listRuns(const RunFilter& filter = {}) const; // newest first
    RunRecord run(std::int64_t id) const; // throws RunStoreError for an unknown id
    bool hasRun(std::int64_t id) const;
    // Those past `afterStep` / `afterEpoch` only (0: all): what a follower of a running run has
    // not read yet.
    std::vector<StepMetrics> steps(std::int64_t run, std::int64_t afterStep = 0) const;
    std::vector<EpochMetrics> epochs(std::int64_t run,
                                     int afterEpoch = 0) const; // with routing and experts
    // The test rows' routing kept for an epoch (none where it was not kept: a thinned epoch, or
    // a run of an older version), and the epochs that have it.
    std::optional<SampleRouting> sampleRouting(std::int64_t run, int epoch) const;
    std::vector<int> sampleRoutingEpochs(std::int64_t run) const;
    // The epochs whose model the store holds (kept with saveModel, and the checkpoint's), and
    // one of them (state: an archive holding "model"; none where it is not kept).
    std::vector<int> modelEpochs(std::int64_t run) const;
    std::optional<Checkpoint> model(std::int64_t run, int epoch) const;
    // withState false: where the checkpoint is (epoch, step), without reading its archive.
    std::optional<Checkpoint> checkpoint(std::int64_t run, bool withState = true) const;
    // One metric of many runs, read in one snapshot. maxPoints > 0 downsamples each series to
    // at most that many points: means over equal ranges of steps (epochs for epoch metrics).
    // The metric is a name of the catalog (train/Metrics.h); an unknown one: RunStoreError.
    std::map<std::int64_t, std::vector<SeriesPoint>> series(const std::vector<std::int64_t>& runs,
                                                            const std::string& metric,
                                                            int maxPoints = 0) const;

    // --- sweeps ---
    // Claims a sweep (a name for its file and shard) for this process, under the write lock:
    // RunStoreError naming the holder where another live process holds it (a claim of a process
    // that is gone is taken over). releaseSweep drops this process's claim.
    void claimSweep(const std::string& sweep);
    void releaseSweep(const std::string& sweep);

    // --- editing ---
    void deleteRun(std::int64_t id);
    void rename(std::int64_t id, const std::string& name);
    void addTag(std::int64_t id, const std::string& tag);
    void removeTag(std::int64_t id, const std::string& tag);
    void setNotes(std::int64_t id, const std::string& notes);

    // Copies every run of another store (with its steps, epochs, routing, experts, tags and
    // checkpoint) into this one under new ids, in one transaction. A run already here (same
    // config hash and start time) is skipped, so merging twice changes nothing. Returns how many
    // runs were copied.
    struct MergeCount {
        int copied = 0, skipped = 0;
    };
    MergeCount mergeFrom(const std::string& otherPath);

    // Marks runs left `running` by a writer that is gone as `interrupted`; returns how many.
    // Done on every ReadWrite open.
    int markInterruptedRuns();
    // Throws RunStoreError if the file this store was opened on is no longer at its path
    // (deleted, or replaced by another file): writes would go to a file nobody can open again.
    void requireFileInPlace() const;
    // PRAGMA integrity_check: "ok" or what is wrong.
    std::string integrityCheck() const;
    // Runs whose row disagrees with what is stored for them (epochs completed, steps, final test
    // accuracy against the last stored epoch), one line each; empty when all agree. Runs still
    // being written are left out.
    std::vector<std::string> consistencyCheck() const;
    // Every stored model, checkpoint and routing blob read as programs read them (its checksum,
    // its decoding, its values' ranges): the blobs that passed, those stored without a checksum
    // by an older version (read unchecked), and one line for each that is refused.
    struct BlobReport {
        int checked = 0, unchecked = 0;
        std::vector<std::string> problems;
    };
    BlobReport blobCheck() const;

    struct Impl;

  private:
    std::unique_ptr<Impl> d_;
};

// The hash a run's resolved experiment is stored under (RunRecord::configHash): mode-sweep finds
// a point's finished or stopped runs by it.
std::string configHash(const ExperimentConfig& config);

// The SQL of schema version 1, for tests that migrate a first-version file.
const char* runStoreSchemaV1();

} // namespace mode
