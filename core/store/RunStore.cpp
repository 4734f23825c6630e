// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/RunStore.h"

#include "store/SampleBlob.h"

#include "data/Dataset.h"
#include "store/WriterIdentity.h"
#include "train/EventsJson.h"
#include "train/Metrics.h"
#include "util/Utf8.h"

#include <sys/stat.h>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace mode {

namespace {

// ---- schema -----------------------------------------------------------------------------
// Version 1: runs, tags, steps, epochs, routing, per-expert metrics.
const char* kSchemaV1 = R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  started_at REAL NOT NULL,
  ended_at REAL,
  config_json TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  dataset TEXT NOT NULL,
  dataset_fingerprint TEXT NOT NULL DEFAULT '',
  seed INTEGER NOT NULL DEFAULT 0,
  device TEXT NOT NULL DEFAULT '',
  experts INTEGER NOT NULL,
  alpha REAL NOT NULL,
  distill TEXT NOT NULL DEFAULT '',
  gate TEXT NOT NULL DEFAULT '',
  libtorch_version TEXT NOT NULL DEFAULT '',
  mode_version TEXT NOT NULL DEFAULT '',
  start_json TEXT NOT NULL DEFAULT '{}',
  epochs_completed INTEGER NOT NULL DEFAULT 0,
  steps INTEGER NOT NULL DEFAULT 0,
  wall_seconds REAL NOT NULL DEFAULT 0,
  test_accuracy REAL,
  val_accuracy REAL,
  gate_routing_accuracy REAL
);
CREATE INDEX runs_by_dataset ON runs(dataset);
CREATE TABLE run_tags (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE TABLE steps (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  loss REAL, task_loss REAL, distill_loss REAL, balance_loss REAL,
  samples_per_second REAL, wall_seconds REAL,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE epochs (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  step INTEGER NOT NULL,
  wall_seconds REAL,
  train_loss REAL, train_task_loss REAL, train_distill_loss REAL, train_accuracy REAL,
  val_loss REAL, val_accuracy REAL, test_loss REAL, test_accuracy REAL,
  test_rmse REAL, test_r2 REAL,
  gate_entropy REAL, expert_similarity REAL, gate_routing_accuracy REAL,
  PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE routing (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('class', 'subtask')),
  matrix_json TEXT NOT NULL,
  PRIMARY KEY (run_id, epoch, kind)
) WITHOUT ROWID;
CREATE TABLE expert_epochs (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  expert INTEGER NOT NULL,
  allocated INTEGER NOT NULL,
  probing_accuracy REAL, probing_error REAL,
  load REAL, share REAL, similarity REAL,
  PRIMARY KEY (run_id, epoch, expert)
) WITHOUT ROWID;
)sql";

// Version 2: notes, the writer's identity and heartbeat (to tell a crashed writer from a live
// one), checkpoints.
const char* kMigrationV2 = R"sql(
ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN heartbeat_at REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN writer_host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN writer_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN writer_started TEXT NOT NULL DEFAULT '';
UPDATE runs SET heartbeat_at = COALESCE(ended_at, started_at);
CREATE INDEX runs_by_status ON runs(status);
CREATE TABLE checkpoints (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  step INTEGER NOT NULL,
  wall_seconds REAL NOT NULL,
  created_at REAL NOT NULL,
  state BLOB NOT NULL
);
)sql";

// Version 3: each kept epoch's per-sample routing of the test rows (store/SampleBlob.h).
const char* kMigrationV3 = R"sql(
CREATE TABLE sample_routing (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  samples BLOB NOT NULL,
  PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
)sql";

// Version 4: models kept beside the checkpoint, each an archive holding "model" as a checkpoint
// does, and why: the best validation epoch's so far (replaced by a better one), or every epoch's.
const char* kMigrationV4 = R"sql(
CREATE TABLE models (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  kept TEXT NOT NULL CHECK (kept IN ('best', 'every')),
  state BLOB NOT NULL,
  PRIMARY KEY (run_id, epoch)
);
)sql";

// Version 5: a checksum of every stored blob (blobChecksum), checked on every read (rows of an
// older version keep NULL: read as they are, unchecked); the sweeps being run (claimSweep).
const char* kMigrationV5 = R"sql(
ALTER TABLE checkpoints ADD COLUMN checksum INTEGER;
ALTER TABLE models ADD COLUMN checksum INTEGER;
ALTER TABLE sample_routing ADD COLUMN checksum INTEGER;
CREATE TABLE sweep_claims (
  sweep TEXT PRIMARY KEY,
  writer_host TEXT NOT NULL,
  writer_pid INTEGER NOT NULL,
  writer_started TEXT NOT NULL,
  claimed_at REAL NOT NULL
);
)sql";

// A store of version 2 or 3 is read as it is (versions 3 and 4 only add tables, which readers
// look for).
constexpr int kOldestReadable = 2;
// kMigrations[v] brings version v to v + 1.
const char* kMigrations[] = {kSchemaV1, kMigrationV2, kMigrationV3, kMigrationV4, kMigrationV5};
// The counters and final values of run :id as its stored data says (an UPDATE's SET list): a row
// never claims more than was written, whether the run ended, failed or its writer died.
constexpr const char* kCountersFromStoredData =
    "epochs_completed = (SELECT COALESCE(MAX(epoch), 0) FROM epochs WHERE run_id = :id), "
    "steps = MAX((SELECT COALESCE(MAX(step), 0) FROM steps WHERE run_id = :id), "
    "            (SELECT COALESCE(MAX(step), 0) FROM epochs WHERE run_id = :id)), "
    "test_accuracy = (SELECT test_accuracy FROM epochs WHERE run_id = :id ORDER BY epoch DESC "
    "LIMIT 1), "
    "val_accuracy = (SELECT val_accuracy FROM epochs WHERE run_id = :id ORDER BY epoch DESC LIMIT "
    "1), "
    "gate_routing_accuracy = (SELECT gate_routing_accuracy FROM epochs WHERE run_id = :id ORDER BY "
    "epoch DESC LIMIT 1)";

// SQLite's application_id of a MoDE run store ("MoDE"), so that file(1) and this program know one.
constexpr int kApplicationId = 0x4D6F4445;

// A writer that has not written for this long, on another host, is taken for dead.
constexpr double kStaleHeartbeatSeconds = 15 * 60;

double now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

template <typename T> void bindOpt(SQLite::Statement& s, int i, const std::optional<T>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);
}
std::optional<double> optDouble(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getDouble();
}
double orNaN(const SQLite::Column& c) {
    return c.isNull() ? std::nan("") : c.getDouble();
}

json runStartJson(const RunStart& s) {
    return {
        {"device", s.device},
        {"train_rows", s.trainRows},
        {"val_rows", s.valRows},
        {"test_rows", s.testRows},
        {"features", s.features},
        {"parameters", s.parameters},
        {"steps_per_epoch", s.stepsPerEpoch},
        {"epochs", s.epochs},
        {"experts", s.experts},
        {"classification", s.classification},
        {"class_names", s.classNames},
        {"subtask_names", s.subtaskNames},
        {"dataset", s.datasetName},
        {"dataset_fingerprint", s.datasetFingerprint},
        {"vocabulary", s.vocabulary},
        {"preprocessing", s.preprocessing.empty() ? json(nullptr) : json::parse(s.preprocessing)}};
}
RunStart runStartFromJson(const std::string& text) {
    RunStart s;
    auto j = json::parse(text, nullptr, false);
    if (!j.is_object()) return s;
    s.device = j.value("device", "");
    s.trainRows = j.value("train_rows", std::int64_t{0});
    s.valRows = j.value("val_rows", std::int64_t{0});
    s.testRows = j.value("test_rows", std::int64_t{0});
    s.features = j.value("features", std::int64_t{0});
    s.parameters = j.value("parameters", std::int64_t{0});
    s.stepsPerEpoch = j.value("steps_per_epoch", std::int64_t{0});
    s.epochs = j.value("epochs", 0);
    s.experts = j.value("experts", 0);
    s.classification = j.value("classification", true);
    s.classNames = j.value("class_names", std::vector<std::string>{});
    s.subtaskNames = j.value("subtask_names", std::vector<std::string>{});
    s.datasetName = j.value("dataset", "");
    s.datasetFingerprint = j.value("dataset_fingerprint", "");
    s.vocabulary = j.value("vocabulary", std::vector<std::string>{});
    if (const auto p = j.find("preprocessing"); p != j.end() && p->is_object())
        s.preprocessing = p->dump();
    return s;
}

// A metric's column in SQL, quoted: a valid metric name may still be an SQL keyword ("order").
std::string quotedColumn(const std::string& name) {
    std::string out = "\"";
    for (char c : name)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

// The column list of a metric table's INSERT or SELECT: "a", "b", "c".
template <typename Metrics> std::string columnList(const Metrics& metrics) {
    std::string out;
    for (const auto* m : metrics)
        out += (out.empty() ? "" : ", ") + quotedColumn(m->name);
    return out;
}

// A run's row, read by column name (readRun), never by position.
const char* kRunColumns =
    "id, name, status, message, started_at, ended_at, heartbeat_at, config_json, config_hash, "
    "dataset, "
    "dataset_fingerprint, seed, device, experts, alpha, distill, gate, libtorch_version, "
    "mode_version, start_json, "
    "epochs_completed, steps, wall_seconds, test_accuracy, val_accuracy, gate_routing_accuracy, "
    "notes, "
    "writer_host, writer_pid, writer_started, "
    "(SELECT MAX(val_accuracy) FROM epochs e WHERE e.run_id = runs.id) AS best_val_accuracy, "
    "(SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM run_tags t WHERE t.run_id = runs.id "
    "ORDER BY tag)) "
    "AS tags, EXISTS (SELECT 1 FROM checkpoints c WHERE c.run_id = runs.id) AS has_checkpoint";

} // namespace

namespace {
// The checksum stored with every blob (models, checkpoints, routing): zlib's CRC-32. It guards
// against accidental damage (a flipped, zeroed or lost byte, a torn write, a bad sector), not
// against someone who edits the store on purpose and could rewrite the checksum as well: every
// burst of damaged bits up to 32 long is caught for certain, any other damage is missed with a
// probability of 2^-32, at over 1 GB/s, from a library the project links already. A
// cryptographic hash would add nothing against accidents and a package to install.
std::int64_t blobChecksum(const void* data, std::size_t size) {
    return static_cast<std::int64_t>(
        crc32_z(crc32_z(0L, Z_NULL, 0), static_cast<const Bytef*>(data), size));
}

void putSamples(SQLite::Database& db, std::int64_t run, int epoch, const SampleRouting& samples) {
    SQLite::Statement s(db, "INSERT OR REPLACE INTO sample_routing (run_id, epoch, samples, "
                            "checksum) VALUES (?,?,?,?)");
    const std::string blob = encodeSamples(samples);
    s.bind(1, run);
    s.bind(2, epoch);
    s.bindNoCopy(3, blob.data(), static_cast<int>(blob.size()));
    s.bind(4, blobChecksum(blob.data(), blob.size()));
    s.exec();
}
} // namespace

const char* runStoreSchemaV1() {
    return kSchemaV1;
}

ExperimentConfig RunRecord::config() const {
    return ExperimentConfig::fromJson(json::parse(configJson), "stored run");
}

struct RunStore::Impl {
    std::string path;
    Mode mode;
    std::unique_ptr<SQLite::Database> db;
    WriterIdentity self = WriterIdentity::current();
    std::pair<std::uintmax_t, std::uintmax_t> identity{0, 0}; // device and inode of the opened file
    bool checksums = false; // schema 5: blobs carry a checksum column

    // The checksum column where the schema has one, else NULL (an older store, read as it is).
    std::string checksumColumn() const { return checksums ? "checksum" : "NULL"; }

    // Refuses a blob whose bytes are not those written (its checksum disagrees); one stored
    // without a checksum (an older version) passes unchecked.
    void verify(const SQLite::Column& blob, const SQLite::Column& checksum,
                const std::string& what) const {
        if (checksum.isNull()) return;
        if (blobChecksum(blob.getBlob(), static_cast<std::size_t>(blob.getBytes())) !=
            checksum.getInt64())
            throw RunStoreError("run store " + path + ": " + what +
                                " fails its checksum: its bytes were damaged after they were "
                                "written (a disk error, or the file was edited); it is not used");
    }

    [[noreturn]] void fail(const std::string& what, const std::exception& e) const {
        std::string reason = e.what();
        if (auto* se = dynamic_cast<const SQLite::Exception*>(&e)) {
            const int code = se->getErrorCode();
            if (code == SQLITE_FULL)
                reason = "the disk is full (" + reason + ")";
            else if (code == SQLITE_READONLY)
                reason = "the file is read-only (" + reason + ")";
            else if (code == SQLITE_NOTADB)
                reason = "it is not a run store (not a SQLite database)";
            else if (code == SQLITE_CORRUPT)
                reason = "the file is damaged (" + reason + ")";
            else if (code == SQLITE_IOERR)
                reason = "a read or write failed: " + reason +
                         " (the disk may be full, a file-size limit reached or the file removed)";
            else if ((code & 0xff) == SQLITE_BUSY) {
                throw RunStoreBusy("run store " + path + ": " + what +
                                   ": another program holds it locked (" + reason + ")");
            }
        }
        throw RunStoreError("run store " + path + ": " + what + ": " + reason);
    }

    int userVersion() const { return db->execAndGet("PRAGMA user_version").getInt(); }
    bool hasTable(const char* name) const {
        SQLite::Statement q(*db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
        q.bind(1, name);
        return q.executeStep();
    }

    // What the file's header says: its schema version, its application id and whether it holds
    // tables (ours or another program's).
    struct Header {
        int version = 0, application = 0;
        bool hasTables = false, hasOurTables = false;
    };

    // The connection, after the checks that need no SQL: the folder, the file's permission.
    void connect() {
        // A folder, FIFO or device is refused before SQLite opens it: opening a FIFO waits for
        // a writer forever, and SQLite calls a folder "disk I/O error".
        std::error_code ec;
        const auto kind = fs::status(path, ec);
        if (fs::is_directory(kind))
            throw RunStoreError("run store " + path +
                                ": it is a folder, not a run store file; "
                                "name a file (e.g. " +
                                (fs::path(path) / "runs.sqlite").string() + ")");
        if (fs::exists(kind) && !fs::is_regular_file(kind))
            throw RunStoreError("run store " + path +
                                ": it is not a regular file (a device, pipe or socket)");
        if (mode == Mode::ReadWrite) {
            // The default store's folder is made on first use; a folder the user named that
            // does not exist is a typo more often than a wish, and is said so.
            const fs::path parent = fs::path(path).parent_path();
            if (!parent.empty() && !fs::exists(parent)) {
                if (path != RunStore::defaultPath())
                    throw RunStoreError("run store " + path + ": the folder " + parent.string() +
                                        " does not exist; create it or name another --db");
                fs::create_directories(parent);
            }
        } else if (!fs::exists(path)) {
            throw RunStoreError("run store " + path + ": no such file");
        }
        // A file without write permission is not written, even by root (who may write anyway).
        struct stat st {};
        if (mode == Mode::ReadWrite && ::stat(path.c_str(), &st) == 0 &&
            (st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0)
            throw RunStoreError(
                "run store " + path +
                ": the file is read-only (no write permission); make it writable or "
                "use another --db");
        const int flags = mode == Mode::ReadWrite ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE
                                                  : SQLite::OPEN_READONLY;
        db = std::make_unique<SQLite::Database>(path, flags, 5000);
        if (mode == Mode::ReadWrite && sqlite3_db_readonly(db->getHandle(), "main") == 1)
            throw RunStoreError(
                "run store " + path +
                ": the file is read-only; open it with write permission or use another --db");
        db->exec("PRAGMA foreign_keys = ON");
    }

    Header readHeader() {
        // Another program's database is refused before anything is written to it (the switch
        // to WAL below rewrites the file's header). One statement reads one snapshot: a store
        // that another program is creating right now is seen before or after, never between.
        SQLite::Statement header(
            *db, "SELECT user_version, application_id, (SELECT count(*) FROM sqlite_master), "
                 "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                 " name IN ('runs', 'steps', 'epochs')) "
                 "FROM pragma_user_version, pragma_application_id");
        header.executeStep(); // also proves it is a SQLite file
        Header h;
        h.version = header.getColumn(0).getInt();
        h.application = header.getColumn(1).getInt();
        h.hasTables = header.getColumn(2).getInt() > 0;
        h.hasOurTables = header.getColumn(3).getInt() == 3;
        return h;
    }

    // Another program's database, or a newer schema, is refused before anything is written.
    void requireOurs(const Header& h) const {
        // Foreign: another application's id; tables without a schema version; or a schema
        // version without our tables (user_version is common, application_id rarely set).
        if ((h.application != 0 && h.application != kApplicationId) ||
            (h.version == 0 && h.hasTables) ||
            (h.version > 0 && h.version <= kSchemaVersion && h.application == 0 && !h.hasOurTables))
            throw RunStoreError("run store " + path +
                                ": the file is a SQLite database of another program (not a MoDE "
                                "run store); it was left unchanged: use another --db");
        if (h.version > kSchemaVersion)
            throw RunStoreError("run store " + path + ": schema version " +
                                std::to_string(h.version) + " is newer than this program's (" +
                                std::to_string(kSchemaVersion) + "); update MoDE Workbench");
    }

    void switchToWal() {
        // Switching a new file to WAL needs it to itself; SQLite answers "busy" at once
        // (no busy handler) while another program is doing the same: try for a while.
        std::string journal;
        for (int attempt = 0;; ++attempt) {
            try {
                journal = db->execAndGet("PRAGMA journal_mode = WAL").getString();
                break;
            } catch (const SQLite::Exception& e) {
                if ((e.getErrorCode() & 0xff) != SQLITE_BUSY || attempt >= 500) throw;
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        }
        if (journal != "wal")
            throw RunStoreError("run store " + path +
                                ": cannot switch to WAL mode (is it on a network file system?)");
        db->exec("PRAGMA synchronous = NORMAL");
    }

    void open() {
        try {
            connect();
            const Header h = readHeader();
            requireOurs(h);
            if (mode == Mode::ReadWrite) {
                switchToWal();
                if (h.version < kSchemaVersion) migrate();
                if (h.application == 0)
                    db->exec("PRAGMA application_id = " + std::to_string(kApplicationId));
                findEpochColumns();
                checksums = true;
                markInterrupted();
            } else if (h.version < kOldestReadable) {
                throw RunStoreError(
                    "run store " + path + ": schema version " + std::to_string(h.version) +
                    " needs an upgrade; open it once for writing (e.g. with mode-train)");
            } else {
                findEpochColumns();
                checksums = h.version >= 5;
            }
        } catch (const RunStoreError&) {
            throw;
        } catch (const std::exception& e) {
            fail("cannot open it", e);
        }
    }

    // Creates or upgrades the schema under the write lock (BEGIN IMMEDIATE), reading the version
    // again once the lock is held: two programs opening a new store at the same moment (two
    // workbench windows, mode-sweep -j) must not both create it.
    void migrate() {
        SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
        const int from = userVersion();
        if (from == 0 && db->execAndGet("SELECT count(*) FROM sqlite_master").getInt() > 0)
            throw RunStoreError("run store " + path +
                                ": the file is a SQLite database of another program");
        for (int v = from; v < kSchemaVersion; ++v) {
            db->exec(kMigrations[v]);
            db->exec("PRAGMA user_version = " + std::to_string(v + 1));
        }
        tx.commit();
    }

    int markInterrupted() {
        SQLite::Statement q(*db, "SELECT id, heartbeat_at, writer_host, writer_pid, writer_started "
                                 "FROM runs WHERE status = 'running'");
        std::vector<std::int64_t> gone;
        while (q.executeStep()) {
            WriterIdentity w{q.getColumn(2).getString(), q.getColumn(3).getInt64(),
                             q.getColumn(4).getString()};
            if (!writerAlive(w, q.getColumn(1).getDouble()))
                gone.push_back(q.getColumn(0).getInt64());
        }
        if (gone.empty()) return 0;
        SQLite::Transaction tx(*db);
        // The row's counters are set to what the dead writer managed to store (steps written after
        // its last epoch included), so that the row agrees with its data.
        SQLite::Statement u(
            *db, std::string("UPDATE runs SET status = 'interrupted', ended_at = heartbeat_at, "
                             "message = 'the writing process ended without finishing the run "
                             "(killed or crashed)', ") +
                     kCountersFromStoredData + " WHERE id = :id AND status = 'running'");
        for (auto id : gone) {
            u.bind(":id", id);
            u.exec();
            u.reset();
        }
        tx.commit();
        return static_cast<int>(gone.size());
    }

    bool writerAlive(const WriterIdentity& w, double heartbeat) const {
        if (w.host == self.host) return w.alive();
        return now() - heartbeat < kStaleHeartbeatSeconds;
    }

    void heartbeat(std::int64_t run) {
        SQLite::Statement u(*db, "UPDATE runs SET heartbeat_at = ? WHERE id = ?");
        u.bind(1, now());
        u.bind(2, run);
        u.exec();
    }

    void insertSteps(std::int64_t run, const std::vector<StepMetrics>& steps) {
        if (steps.empty()) return;
        const auto& metrics = stepMetrics();
        std::string names, marks;
        for (const auto& m : metrics) {
            names += ", " + quotedColumn(m.name);
            marks += ",?";
        }
        SQLite::Statement s(*db, "INSERT OR REPLACE INTO steps (run_id, step, epoch, wall_seconds" +
                                     names + ") VALUES (?,?,?,?" + marks + ")");
        for (const auto& step : steps) {
            s.bind(1, run);
            s.bind(2, step.step);
            s.bind(3, step.epoch);
            s.bind(4, step.wallSeconds);
            for (std::size_t i = 0; i < metrics.size(); ++i)
                s.bind(static_cast<int>(5 + i), metrics[i].get(step));
            s.exec();
            s.reset();
        }
    }

    // The epoch metrics this file has a column for: all of the catalog once opened for writing
    // (a metric added since the file was made gets its column then); a read-only file may have
    // fewer, and the others read as missing.
    std::vector<const EpochMetric*> epochColumns;

    void findEpochColumns() {
        std::set<std::string> present;
        SQLite::Statement q(*db, "SELECT name FROM pragma_table_info('epochs')");
        while (q.executeStep())
            present.insert(q.getColumn(0).getString());
        epochColumns.clear();
        std::vector<std::string> missing;
        for (const auto& m : epochMetrics()) {
            if (present.count(m.name))
                epochColumns.push_back(&m);
            else if (mode == Mode::ReadWrite)
                missing.push_back(m.name);
        }
        if (missing.empty()) return;
        SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
        present.clear();
        q.reset();
        while (q.executeStep())
            present.insert(q.getColumn(0).getString()); // again, under the lock
        for (const auto& name : missing)
            if (!present.count(name))
                db->exec("ALTER TABLE epochs ADD COLUMN " + quotedColumn(name) + " REAL");
        tx.commit();
        for (const auto& name : missing)
            epochColumns.push_back(findEpochMetric(name));
    }

    RunRecord readRun(SQLite::Statement& q) const {
        RunRecord r;
        auto text = [&](const char* c) { return q.getColumn(c).getString(); };
        r.id = q.getColumn("id").getInt64();
        r.name = text("name");
        r.status = runStatusFromString(text("status"));
        r.message = text("message");
        r.startedAt = q.getColumn("started_at").getDouble();
        r.endedAt = optDouble(q.getColumn("ended_at"));
        r.heartbeatAt = q.getColumn("heartbeat_at").getDouble();
        r.configJson = text("config_json");
        r.configHash = text("config_hash");
        r.dataset = text("dataset");
        r.datasetFingerprint = text("dataset_fingerprint");
        r.seed = q.getColumn("seed").getInt64();
        r.device = text("device");
        r.experts = q.getColumn("experts").getInt();
        r.alpha = q.getColumn("alpha").getDouble();
        r.distill = text("distill");
        r.gate = text("gate");
        r.libtorchVersion = text("libtorch_version");
        r.modeVersion = text("mode_version");
        r.start = runStartFromJson(text("start_json"));
        r.epochsCompleted = q.getColumn("epochs_completed").getInt();
        r.steps = q.getColumn("steps").getInt64();
        r.wallSeconds = q.getColumn("wall_seconds").getDouble();
        r.testAccuracy = optDouble(q.getColumn("test_accuracy"));
        r.valAccuracy = optDouble(q.getColumn("val_accuracy"));
        r.gateRoutingAccuracy = optDouble(q.getColumn("gate_routing_accuracy"));
        r.notes = text("notes");
        WriterIdentity w{text("writer_host"), q.getColumn("writer_pid").getInt64(),
                         text("writer_started")};
        r.bestValAccuracy = optDouble(q.getColumn("best_val_accuracy"));
        std::string tags = q.getColumn("tags").isNull() ? "" : text("tags");
        for (std::size_t a = 0; !tags.empty() && a <= tags.size();) {
            auto b = tags.find('\x1f', a);
            if (b == std::string::npos) b = tags.size();
            r.tags.push_back(tags.substr(a, b - a));
            a = b + 1;
        }
        r.hasCheckpoint = q.getColumn("has_checkpoint").getInt() != 0;
        // A reader cannot rewrite the file, but it reports a dead writer's run as it is.
        if (r.status == RunStatus::Running && !writerAlive(w, r.heartbeatAt)) {
            r.status = RunStatus::Interrupted;
            r.message = "the writing process ended without finishing the run (killed or crashed)";
        }
        return r;
    }

    void requireRun(std::int64_t id) const {
        SQLite::Statement q(*db, "SELECT 1 FROM runs WHERE id = ?");
        q.bind(1, id);
        if (!q.executeStep())
            throw RunStoreError("run store " + path + ": there is no run with id " +
                                std::to_string(id));
    }

    template <typename F> auto guarded(const std::string& what, F&& f) const {
        try {
            return f();
        } catch (const RunStoreError&) {
            throw;
        } catch (const std::exception& e) {
            fail(what, e);
        }
    }
};

RunStore::RunStore(const std::string& path, Mode mode) : d_(std::make_unique<Impl>()) {
    d_->path = path;
    d_->mode = mode;
    d_->open();
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) d_->identity = {st.st_dev, st.st_ino};
}

void RunStore::requireFileInPlace() const {
    struct stat st {};
    if (::stat(d_->path.c_str(), &st) != 0)
        throw RunStoreError("run store " + d_->path +
                            ": the file was deleted while a run was writing to it; "
                            "the run stops here (what it wrote went with the file)");
    if (std::pair<std::uintmax_t, std::uintmax_t>(st.st_dev, st.st_ino) != d_->identity)
        throw RunStoreError("run store " + d_->path +
                            ": the file was replaced by another while a run was writing to it; "
                            "the run stops here (the new file is left alone)");
}
RunStore::~RunStore() = default;

std::string RunStore::defaultPath() {
    fs::path base;
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x && fs::path(x).is_absolute())
        base = x;
    else if (const char* h = std::getenv("HOME"); h && *h)
        base = fs::path(h) / ".local" / "share";
    else
        base = fs::current_path();
    return (base / "mode-workbench" / "runs.sqlite").string();
}

std::string configHash(const ExperimentConfig& config) {
    const std::string text = config.toJson().dump();
    return fnv1a64Hex(text.data(), text.size());
}

const std::string& RunStore::path() const {
    return d_->path;
}
int RunStore::schemaVersion() const {
    return d_->userVersion();
}

namespace {
// Text a user gives the store is UTF-8 (JSON exports and the terminal need it): refused otherwise.
void requireUtf8(const std::string& path, const std::string& what, const std::string& text) {
    const auto bad = invalidUtf8Offset(text);
    if (bad != std::string::npos)
        throw RunStoreError("run store " + path + ": the " + what + " is not valid UTF-8 (byte " +
                            std::to_string(bad + 1) + " of '" + printable(text) +
                            "'); nothing was changed");
}
} // namespace

std::int64_t RunStore::beginRun(const ExperimentConfig& config, const RunStart& start,
                                const std::string& name) {
    requireUtf8(d_->path, "run name", name);
    requireUtf8(d_->path, "experiment name", config.name);
    for (const auto& c : start.classNames)
        requireUtf8(d_->path, "class name", c);
    return d_->guarded("cannot record the start of a run", [&] {
        const std::string configText = config.toJson().dump();
        SQLite::Statement s(
            *d_->db, "INSERT INTO runs (name, status, started_at, heartbeat_at, config_json, "
                     "config_hash, dataset, "
                     "dataset_fingerprint, seed, device, experts, alpha, distill, gate, "
                     "libtorch_version, mode_version, "
                     "start_json, writer_host, writer_pid, writer_started) "
                     "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        const double t = now();
        s.bind(1, name);
        s.bind(2, t);
        s.bind(3, t);
        s.bind(4, configText);
        s.bind(5, configHash(config));
        s.bind(6, start.datasetName.empty() ? config.datasetLabel() : start.datasetName);
        s.bind(7, start.datasetFingerprint);
        s.bind(8, static_cast<std::int64_t>(config.train.seed));
        s.bind(9, start.device);
        s.bind(10, config.model.experts);
        s.bind(11, config.loss.alpha);
        s.bind(12, config.loss.distill);
        s.bind(13, config.model.gate);
        s.bind(14, start.libtorchVersion);
        s.bind(15, std::string(MODE_VERSION));
        s.bind(16, runStartJson(start).dump());
        s.bind(17, d_->self.host);
        s.bind(18, d_->self.pid);
        s.bind(19, d_->self.started);
        s.exec();
        return d_->db->getLastInsertRowid();
    });
}

void RunStore::appendSteps(std::int64_t run, const std::vector<StepMetrics>& steps) {
    d_->guarded("cannot write the steps of run " + std::to_string(run), [&] {
        SQLite::Transaction tx(*d_->db);
        d_->insertSteps(run, steps);
        d_->heartbeat(run);
        tx.commit();
    });
}

void RunStore::appendEpoch(std::int64_t run, const EpochMetrics& m,
                           const std::vector<StepMetrics>& pendingSteps) {
    d_->guarded(
        "cannot write epoch " + std::to_string(m.epoch) + " of run " + std::to_string(run), [&] {
            auto& db = *d_->db;
            SQLite::Transaction tx(db);
            d_->insertSteps(run, pendingSteps);
            std::string marks;
            for (std::size_t i = 0; i < d_->epochColumns.size(); ++i)
                marks += ",?";
            SQLite::Statement e(
                db, "INSERT OR REPLACE INTO epochs (run_id, epoch, step, wall_seconds, " +
                        columnList(d_->epochColumns) + ") VALUES (?,?,?,?" + marks + ")");
            e.bind(1, run);
            e.bind(2, m.epoch);
            e.bind(3, m.step);
            e.bind(4, m.wallSeconds);
            for (std::size_t i = 0; i < d_->epochColumns.size(); ++i)
                bindOpt(e, static_cast<int>(5 + i), d_->epochColumns[i]->get(m));
            e.exec();

            SQLite::Statement r(db, "INSERT OR REPLACE INTO routing (run_id, epoch, kind, "
                                    "matrix_json) VALUES (?,?,?,?)");
            auto putRouting = [&](const char* kind, const RoutingMatrix& matrix) {
                r.bind(1, run);
                r.bind(2, m.epoch);
                r.bind(3, kind);
                r.bind(4, routingJson(matrix).dump());
                r.exec();
                r.reset();
            };
            putRouting("class", m.routingByClass);
            if (m.routingBySubtask) putRouting("subtask", *m.routingBySubtask);
            if (m.samples) putSamples(db, run, m.epoch, *m.samples);

            SQLite::Statement x(
                db, "INSERT OR REPLACE INTO expert_epochs (run_id, epoch, expert, allocated, "
                    "probing_accuracy, "
                    "probing_error, load, share, similarity) VALUES (?,?,?,?,?,?,?,?,?)");
            for (const auto& ex : m.experts) {
                x.bind(1, run);
                x.bind(2, m.epoch);
                x.bind(3, ex.expert);
                x.bind(4, ex.allocated);
                bindOpt(x, 5, ex.probingAccuracy);
                bindOpt(x, 6, ex.probingError);
                x.bind(7, ex.load);
                x.bind(8, ex.share);
                x.bind(9, ex.similarity);
                x.exec();
                x.reset();
            }
            SQLite::Statement u(
                db, "UPDATE runs SET epochs_completed = ?, steps = ?, wall_seconds = ?, "
                    "test_accuracy = ?, "
                    "val_accuracy = ?, gate_routing_accuracy = ?, heartbeat_at = ? WHERE id = ?");
            u.bind(1, m.epoch);
            u.bind(2, m.step);
            u.bind(3, m.wallSeconds);
            u.bind(4, m.testAccuracy);
            u.bind(5, m.valAccuracy);
            bindOpt(u, 6, m.gateRoutingAccuracy);
            u.bind(7, now());
            u.bind(8, run);
            u.exec();
            tx.commit();
        });
}

void RunStore::saveCheckpoint(std::int64_t run, const Checkpoint& c) {
    d_->guarded("cannot write the checkpoint of run " + std::to_string(run), [&] {
        SQLite::Statement s(*d_->db, "INSERT OR REPLACE INTO checkpoints (run_id, epoch, step, "
                                     "wall_seconds, created_at, state, checksum) "
                                     "VALUES (?,?,?,?,?,?,?)");
        s.bind(1, run);
        s.bind(2, c.epoch);
        s.bind(3, c.step);
        s.bind(4, c.wallSeconds);
        s.bind(5, now());
        s.bindNoCopy(6, c.state.data(), static_cast<int>(c.state.size()));
        s.bind(7, blobChecksum(c.state.data(), c.state.size()));
        s.exec();
    });
}

void RunStore::saveModel(std::int64_t run, int epoch, const std::string& state, bool ifBest) {
    d_->guarded(
        "cannot keep the model of run " + std::to_string(run) + ", epoch " + std::to_string(epoch),
        [&] {
            auto& db = *d_->db;
            SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
            if (ifBest) {
                // This epoch's validation score against the kept model's (NULL: none
                // kept, or a score that is not a number).
                SQLite::Statement q(
                    db, "SELECT (SELECT val_accuracy FROM epochs WHERE run_id = ?1 AND "
                        "epoch = ?2), (SELECT MAX(e.val_accuracy) FROM models m JOIN "
                        "epochs e ON e.run_id = m.run_id AND e.epoch = m.epoch WHERE "
                        "m.run_id = ?1), EXISTS (SELECT 1 FROM models WHERE run_id = ?1)");
                q.bind(1, run);
                q.bind(2, epoch);
                q.executeStep();
                const auto score = optDouble(q.getColumn(0));
                const auto kept = optDouble(q.getColumn(1));
                const bool any = q.getColumn(2).getInt() != 0;
                q.reset();
                if (!score || (any && kept && *score <= *kept)) return;
                // The previous best only: models kept for every epoch (a run resumed
                // with another choice) stay.
                SQLite::Statement del(db, "DELETE FROM models WHERE run_id = ? AND kept = 'best'");
                del.bind(1, run);
                del.exec();
            }
            SQLite::Statement s(db, "INSERT OR REPLACE INTO models (run_id, epoch, kept, "
                                    "state, checksum) VALUES (?,?,?,?,?)");
            s.bind(1, run);
            s.bind(2, epoch);
            s.bind(3, ifBest ? "best" : "every");
            s.bindNoCopy(4, state.data(), static_cast<int>(state.size()));
            s.bind(5, blobChecksum(state.data(), state.size()));
            s.exec();
            tx.commit();
        });
}

void RunStore::resumeRun(std::int64_t id, int epoch, std::int64_t step, const RunStart& start) {
    d_->guarded("cannot resume run " + std::to_string(id), [&] {
        auto& db = *d_->db;
        // Checked and changed under the write lock: two programs resuming the same run cannot
        // both get it.
        SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
        const RunRecord r = run(id);
        if (r.status == RunStatus::Finished)
            throw RunStoreError("run store " + d_->path + ": run " + std::to_string(id) +
                                " finished; there is nothing to resume");
        if (r.status == RunStatus::Running)
            throw RunStoreError("run store " + d_->path + ": run " + std::to_string(id) +
                                " is still being trained by another process; stop it first");
        const std::pair<const char*, std::int64_t> after[] = {
            {"DELETE FROM steps WHERE run_id = ? AND step > ?", step},
            {"DELETE FROM epochs WHERE run_id = ? AND epoch > ?", epoch},
            {"DELETE FROM routing WHERE run_id = ? AND epoch > ?", epoch},
            {"DELETE FROM expert_epochs WHERE run_id = ? AND epoch > ?", epoch},
            {"DELETE FROM sample_routing WHERE run_id = ? AND epoch > ?", epoch},
            {"DELETE FROM models WHERE run_id = ? AND epoch > ?", epoch}};
        for (const auto& [sql, from] : after) {
            SQLite::Statement del(db, sql);
            del.bind(1, id);
            del.bind(2, from);
            del.exec();
        }
        SQLite::Statement u(
            db,
            "UPDATE runs SET status = 'running', message = '', ended_at = NULL, heartbeat_at = ?, "
            "epochs_completed = ?, steps = ?, device = ?, writer_host = ?, writer_pid = ?, "
            "writer_started = ? WHERE id = ?");
        u.bind(1, now());
        u.bind(2, epoch);
        u.bind(3, step);
        u.bind(4, start.device);
        u.bind(5, d_->self.host);
        u.bind(6, d_->self.pid);
        u.bind(7, d_->self.started);
        u.bind(8, id);
        u.exec();
        tx.commit();
    });
}

void RunStore::finishRun(std::int64_t run, const RunResult& result) {
    d_->guarded("cannot record the end of run " + std::to_string(run), [&] {
        SQLite::Statement u(
            *d_->db,
            std::string("UPDATE runs SET status = :status, message = :message, ended_at = :t, "
                        "heartbeat_at = :t, wall_seconds = :wall, ") +
                kCountersFromStoredData + " WHERE id = :id");
        u.bind(":status", toString(result.status));
        u.bind(":message", result.message);
        u.bind(":t", now());
        u.bind(":wall", result.wallSeconds);
        u.bind(":id", run);
        u.exec();
    });
}

std::vector<RunRecord> RunStore::listRuns(const RunFilter& f) const {
    return d_->guarded("cannot list the runs", [&] {
        // Whether a `running` run is really running depends on its writer: decided per row below.
        const bool byWriter =
            f.status && (*f.status == RunStatus::Interrupted || *f.status == RunStatus::Running);
        std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE 1";
        if (!f.dataset.empty()) sql += " AND dataset = :dataset";
        if (f.status)
            sql += byWriter ? " AND status IN ('running', 'interrupted')" : " AND status = :status";
        if (!f.tag.empty())
            sql +=
                " AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.tag = :tag)";
        if (f.alphaMin) sql += " AND alpha >= :amin";
        if (f.alphaMax) sql += " AND alpha <= :amax";
        if (f.experts) sql += " AND experts = :experts";
        if (!f.search.empty())
            sql += " AND (instr(lower(name), lower(:search)) > 0 OR instr(lower(dataset), "
                   "lower(:search)) > 0"
                   " OR instr(lower(notes), lower(:search)) > 0)";
        sql += " ORDER BY started_at DESC, id DESC";
        SQLite::Statement q(*d_->db, sql);
        if (!f.dataset.empty()) q.bind(":dataset", f.dataset);
        if (f.status && !byWriter) q.bind(":status", toString(*f.status));
        if (!f.tag.empty()) q.bind(":tag", f.tag);
        if (f.alphaMin) q.bind(":amin", *f.alphaMin);
        if (f.alphaMax) q.bind(":amax", *f.alphaMax);
        if (f.experts) q.bind(":experts", *f.experts);
        if (!f.search.empty()) q.bind(":search", f.search);
        std::vector<RunRecord> runs;
        while (q.executeStep()) {
            auto r = d_->readRun(q);
            if (f.status && r.status != *f.status) continue;
            runs.push_back(std::move(r));
            if (f.limit > 0 && static_cast<int>(runs.size()) >= f.limit) break;
        }
        return runs;
    });
}

bool RunStore::hasRun(std::int64_t id) const {
    return d_->guarded("cannot read run " + std::to_string(id), [&] {
        SQLite::Statement q(*d_->db, "SELECT 1 FROM runs WHERE id = ?");
        q.bind(1, id);
        return q.executeStep();
    });
}

RunRecord RunStore::run(std::int64_t id) const {
    return d_->guarded("cannot read run " + std::to_string(id), [&] {
        SQLite::Statement q(*d_->db,
                            std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
        q.bind(1, id);
        if (!q.executeStep())
            throw RunStoreError("run store " + d_->path + ": there is no run with id " +
                                std::to_string(id));
        return d_->readRun(q);
    });
}

std::vector<StepMetrics> RunStore::steps(std::int64_t run, std::int64_t afterStep) const {
    return d_->guarded("cannot read the steps of run " + std::to_string(run), [&] {
        d_->requireRun(run);
        std::vector<const StepMetric*> metrics;
        for (const auto& m : stepMetrics())
            metrics.push_back(&m);
        SQLite::Statement q(*d_->db, "SELECT step, epoch, wall_seconds, " + columnList(metrics) +
                                         " FROM steps WHERE run_id = ? AND step > ? ORDER BY step");
        q.bind(1, run);
        q.bind(2, afterStep);
        SQLite::Statement first(*d_->db,
                                "SELECT MIN(step) FROM steps WHERE run_id = ? AND epoch = ?");
        std::vector<StepMetrics> out;
        std::int64_t lastEpoch = -1, firstStepOfEpoch = 0;
        while (q.executeStep()) {
            StepMetrics m;
            m.step = q.getColumn("step").getInt64();
            m.epoch = q.getColumn("epoch").getInt();
            if (m.epoch != lastEpoch) {
                lastEpoch = m.epoch;
                firstStepOfEpoch = m.step;
                if (afterStep > 0 && out.empty()) { // the epoch may have begun before afterStep
                    first.reset();
                    first.bind(1, run);
                    first.bind(2, m.epoch);
                    if (first.executeStep() && !first.getColumn(0).isNull())
                        firstStepOfEpoch = first.getColumn(0).getInt64();
                }
            }
            m.stepInEpoch = m.step - firstStepOfEpoch + 1;
            m.wallSeconds = orNaN(q.getColumn("wall_seconds"));
            for (const auto* metric : metrics)
                metric->set(m, orNaN(q.getColumn(metric->name.c_str())));
            out.push_back(m);
        }
        return out;
    });
}

std::vector<EpochMetrics> RunStore::epochs(std::int64_t run, int afterEpoch) const {
    return d_->guarded("cannot read the epochs of run " + std::to_string(run), [&] {
        d_->requireRun(run);
        auto& db = *d_->db;
        SQLite::Transaction snapshot(db); // one consistent view while a writer appends
        std::vector<EpochMetrics> out;
        std::map<int, std::size_t> at;
        SQLite::Statement q(db, "SELECT epoch, step, wall_seconds, " +
                                    columnList(d_->epochColumns) +
                                    " FROM epochs WHERE run_id = ? AND epoch > ? ORDER BY epoch");
        q.bind(1, run);
        q.bind(2, afterEpoch);
        while (q.executeStep()) {
            EpochMetrics m;
            m.epoch = q.getColumn("epoch").getInt();
            m.step = q.getColumn("step").getInt64();
            m.wallSeconds = orNaN(q.getColumn("wall_seconds"));
            for (const auto* metric : d_->epochColumns)
                metric->set(m, optDouble(q.getColumn(metric->name.c_str())));
            at[m.epoch] = out.size();
            out.push_back(std::move(m));
        }
        SQLite::Statement r(
            db, "SELECT epoch, kind, matrix_json FROM routing WHERE run_id = ? AND epoch > ?");
        r.bind(1, run);
        r.bind(2, afterEpoch);
        while (r.executeStep()) {
            auto it = at.find(r.getColumn(0).getInt());
            if (it == at.end()) continue;
            RoutingMatrix m;
            try {
                m = routingFromJson(json::parse(r.getColumn(2).getString()));
            } catch (const std::exception& e) {
                throw RunStoreError("run store " + d_->path + ": the routing matrix of run " +
                                    std::to_string(run) + ", epoch " + std::to_string(it->first) +
                                    " is damaged: " + e.what());
            }
            if (r.getColumn(1).getString() == "class")
                out[it->second].routingByClass = std::move(m);
            else
                out[it->second].routingBySubtask = std::move(m);
        }
        SQLite::Statement x(db, "SELECT epoch, expert, allocated, probing_accuracy, probing_error, "
                                "load, share, similarity "
                                "FROM expert_epochs WHERE run_id = ? AND epoch > ? "
                                "ORDER BY epoch, expert");
        x.bind(1, run);
        x.bind(2, afterEpoch);
        while (x.executeStep()) {
            auto it = at.find(x.getColumn(0).getInt());
            if (it == at.end()) continue;
            ExpertMetrics e;
            e.expert = x.getColumn(1).getInt();
            e.allocated = x.getColumn(2).getInt64();
            e.probingAccuracy = optDouble(x.getColumn(3));
            e.probingError = optDouble(x.getColumn(4));
            e.load = orNaN(x.getColumn(5));
            e.share = orNaN(x.getColumn(6));
            e.similarity = orNaN(x.getColumn(7));
            out[it->second].experts.push_back(e);
        }
        snapshot.commit();
        return out;
    });
}

std::vector<int> RunStore::sampleRoutingEpochs(std::int64_t run) const {
    return d_->guarded("cannot read the per-sample routing of run " + std::to_string(run), [&] {
        d_->requireRun(run);
        if (!d_->hasTable("sample_routing")) return std::vector<int>{}; // an older store, read
        SQLite::Statement q(*d_->db,
                            "SELECT epoch FROM sample_routing WHERE run_id = ? ORDER BY epoch");
        q.bind(1, run);
        std::vector<int> out;
        while (q.executeStep())
            out.push_back(q.getColumn(0).getInt());
        return out;
    });
}

std::optional<SampleRouting> RunStore::sampleRouting(std::int64_t run, int epoch) const {
    return d_->guarded(
        "cannot read the per-sample routing of run " + std::to_string(run),
        [&]() -> std::optional<SampleRouting> {
            d_->requireRun(run);
            if (!d_->hasTable("sample_routing")) return std::nullopt;
            const RunRecord r = this->run(run);
            SQLite::Statement q(*d_->db, "SELECT samples, " + d_->checksumColumn() +
                                             " FROM sample_routing WHERE run_id = ? AND epoch = ?");
            q.bind(1, run);
            q.bind(2, epoch);
            if (!q.executeStep()) return std::nullopt;
            const auto c = q.getColumn(0);
            d_->verify(c, q.getColumn(1),
                       "the stored routing of epoch " + std::to_string(epoch) + " of run " +
                           std::to_string(run));
            try {
                SampleRouting samples =
                    decodeSamples(std::string(static_cast<const char*>(c.getBlob()), c.getBytes()));
                requireSamplesInRange(samples, r.experts,
                                      samples.classification ? r.start.classNames.size() : 0);
                return samples;
            } catch (const std::exception& e) {
                throw RunStoreError("run store " + d_->path + ": run " + std::to_string(run) +
                                    ", epoch " + std::to_string(epoch) + ": " + e.what());
            }
        });
}

std::vector<int> RunStore::modelEpochs(std::int64_t run) const {
    return d_->guarded("cannot read the models of run " + std::to_string(run), [&] {
        d_->requireRun(run);
        std::set<int> epochs;
        if (d_->hasTable("models")) { // an older store, read as it is, keeps none
            SQLite::Statement q(*d_->db, "SELECT epoch FROM models WHERE run_id = ?");
            q.bind(1, run);
            while (q.executeStep())
                epochs.insert(q.getColumn(0).getInt());
        }
        SQLite::Statement c(*d_->db, "SELECT epoch FROM checkpoints WHERE run_id = ?");
        c.bind(1, run);
        if (c.executeStep()) epochs.insert(c.getColumn(0).getInt());
        return std::vector<int>(epochs.begin(), epochs.end());
    });
}

std::optional<Checkpoint> RunStore::model(std::int64_t run, int epoch) const {
    return d_->guarded(
        "cannot read the model of run " + std::to_string(run) + ", epoch " + std::to_string(epoch),
        [&]() -> std::optional<Checkpoint> {
            d_->requireRun(run);
            if (d_->hasTable("models")) {
                SQLite::Statement q(*d_->db, "SELECT state, " + d_->checksumColumn() +
                                                 " FROM models WHERE run_id = ? AND epoch = ?");
                q.bind(1, run);
                q.bind(2, epoch);
                if (q.executeStep()) {
                    Checkpoint c;
                    c.epoch = epoch;
                    const auto blob = q.getColumn(0);
                    d_->verify(blob, q.getColumn(1),
                               "the stored model of epoch " + std::to_string(epoch) + " of run " +
                                   std::to_string(run));
                    c.state.assign(static_cast<const char*>(blob.getBlob()),
                                   static_cast<std::size_t>(blob.getBytes()));
                    return c;
                }
            }
            auto c = checkpoint(run);
            if (c && c->epoch == epoch) return c;
            return std::nullopt;
        });
}

std::optional<Checkpoint> RunStore::checkpoint(std::int64_t run, bool withState) const {
    return d_->guarded(
        "cannot read the checkpoint of run " + std::to_string(run),
        [&]() -> std::optional<Checkpoint> {
            d_->requireRun(run);
            SQLite::Statement q(
                *d_->db, withState ? "SELECT epoch, step, wall_seconds, state, " +
                                         d_->checksumColumn() + " FROM checkpoints WHERE run_id = ?"
                                   : std::string("SELECT epoch, step, wall_seconds FROM "
                                                 "checkpoints WHERE run_id = ?"));
            q.bind(1, run);
            if (!q.executeStep()) return std::nullopt;
            Checkpoint c;
            c.epoch = q.getColumn(0).getInt();
            c.step = q.getColumn(1).getInt64();
            c.wallSeconds = q.getColumn(2).getDouble();
            if (withState) {
                const auto blob = q.getColumn(3);
                d_->verify(blob, q.getColumn(4),
                           "the stored checkpoint of run " + std::to_string(run) + " (epoch " +
                               std::to_string(c.epoch) + ")");
                c.state.assign(static_cast<const char*>(blob.getBlob()),
                               static_cast<std::size_t>(blob.getBytes()));
            }
            return c;
        });
}

std::map<std::int64_t, std::vector<SeriesPoint>>
RunStore::series(const std::vector<std::int64_t>& runs, const std::string& metric,
                 int maxPoints) const {
    const bool stepLevel = findStepMetric(metric) != nullptr;
    const bool epochLevel = std::any_of(d_->epochColumns.begin(), d_->epochColumns.end(),
                                        [&](const EpochMetric* m) { return m->name == metric; });
    if (!stepLevel && !epochLevel) {
        std::string known;
        for (const auto& m : stepMetrics())
            known += " " + m.name;
        for (const auto* m : d_->epochColumns)
            known += " " + m->name;
        throw RunStoreError("unknown metric '" + metric + "'; known:" + known);
    }
    return d_->guarded("cannot read the series '" + metric + "'", [&] {
        auto& db = *d_->db;
        SQLite::Transaction snapshot(db);
        const std::string table = stepLevel ? "steps" : "epochs";
        const std::string x = stepLevel ? "step" : "epoch";
        // The column name is a catalog name (checked above), never the caller's text as such.
        const std::string col = quotedColumn(metric);
        // Buckets are equal ranges of steps (or epochs), averaged here while the primary key is
        // scanned in order (no sort in SQLite); runs that log at different densities thin alike.
        SQLite::Statement range(db, "SELECT count(*), min(" + x + "), max(" + x + ") FROM " +
                                        table + " WHERE run_id = ? AND " + col + " IS NOT NULL");
        SQLite::Statement all(db, "SELECT step, epoch, wall_seconds, " + col + " FROM " + table +
                                      " WHERE run_id = ? AND " + col + " IS NOT NULL ORDER BY " +
                                      x);
        std::map<std::int64_t, std::vector<SeriesPoint>> out;
        for (auto id : runs) {
            d_->requireRun(id);
            range.bind(1, id);
            range.executeStep();
            const std::int64_t n = range.getColumn(0).getInt64();
            const std::int64_t lo = range.getColumn(1).getInt64(),
                               hi = range.getColumn(2).getInt64();
            range.reset();
            auto& points = out[id];
            const bool thin = maxPoints > 0 && n > maxPoints;
            const std::int64_t width =
                thin ? (hi - lo + maxPoints) / maxPoints : 1; // ceil((hi - lo + 1) / maxPoints)
            points.reserve(static_cast<std::size_t>(thin ? maxPoints : n));
            SeriesPoint sum;
            std::int64_t inBucket = 0, bucket = -1;
            auto flush = [&] {
                if (inBucket == 0) return;
                const double k = static_cast<double>(inBucket);
                points.push_back({sum.step / k, sum.epoch / k, sum.wallSeconds / k, sum.value / k});
                sum = SeriesPoint{};
                inBucket = 0;
            };
            all.bind(1, id);
            while (all.executeStep()) {
                const std::int64_t key = all.getColumn(stepLevel ? 0 : 1).getInt64();
                const std::int64_t b = (key - lo) / width;
                if (b != bucket) {
                    flush();
                    bucket = b;
                }
                sum.step += all.getColumn(0).getDouble();
                sum.epoch += all.getColumn(1).getDouble();
                sum.wallSeconds += orNaN(all.getColumn(2));
                sum.value += all.getColumn(3).getDouble();
                ++inBucket;
            }
            flush();
            all.reset();
        }
        snapshot.commit();
        return out;
    });
}

void RunStore::deleteRun(std::int64_t id) {
    d_->guarded("cannot delete run " + std::to_string(id), [&] {
        // Checked and deleted under the write lock: a run that another live process trains keeps
        // its rows (that trainer would go on and report epochs the store no longer holds). Its
        // own writer may delete it.
        SQLite::Transaction tx(*d_->db, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement w(*d_->db, "SELECT writer_host, writer_pid FROM runs WHERE id = ?");
        w.bind(1, id);
        const bool ours = w.executeStep() && w.getColumn(0).getString() == d_->self.host &&
                          w.getColumn(1).getInt64() == d_->self.pid;
        w.reset();
        if (run(id).status == RunStatus::Running && !ours)
            throw RunStoreError("run store " + d_->path + ": run " + std::to_string(id) +
                                " is being trained by a live process; stop it first (nothing "
                                "was deleted)");
        SQLite::Statement s(*d_->db, "DELETE FROM runs WHERE id = ?");
        s.bind(1, id);
        s.exec();
        tx.commit();
    });
}

void RunStore::claimSweep(const std::string& sweep) {
    d_->guarded("cannot claim the sweep " + sweep, [&] {
        auto& db = *d_->db;
        SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement q(db, "SELECT writer_host, writer_pid, writer_started, claimed_at FROM "
                                "sweep_claims WHERE sweep = ?");
        q.bind(1, sweep);
        if (q.executeStep()) {
            const WriterIdentity w{q.getColumn(0).getString(), q.getColumn(1).getInt64(),
                                   q.getColumn(2).getString()};
            // On another host its life cannot be seen: the claim holds until released.
            const bool alive = w.host != d_->self.host || w.alive();
            if (alive && !(w.host == d_->self.host && w.pid == d_->self.pid))
                throw RunStoreError("run store " + d_->path + ": another mode-sweep (process " +
                                    std::to_string(w.pid) + " on " + w.host +
                                    ") is running this sweep into this store; wait for it, or "
                                    "stop it (a second one would run every point twice)");
        }
        q.reset();
        SQLite::Statement put(db, "INSERT OR REPLACE INTO sweep_claims VALUES (?,?,?,?,?)");
        put.bind(1, sweep);
        put.bind(2, d_->self.host);
        put.bind(3, d_->self.pid);
        put.bind(4, d_->self.started);
        put.bind(5, now());
        put.exec();
        tx.commit();
    });
}

void RunStore::releaseSweep(const std::string& sweep) {
    d_->guarded("cannot release the sweep " + sweep, [&] {
        SQLite::Statement s(*d_->db, "DELETE FROM sweep_claims WHERE sweep = ? AND writer_host = ? "
                                     "AND writer_pid = ?");
        s.bind(1, sweep);
        s.bind(2, d_->self.host);
        s.bind(3, d_->self.pid);
        s.exec();
    });
}

void RunStore::rename(std::int64_t id, const std::string& name) {
    requireUtf8(d_->path, "name", name);
    d_->guarded("cannot rename run " + std::to_string(id), [&] {
        d_->requireRun(id);
        SQLite::Statement s(*d_->db, "UPDATE runs SET name = ? WHERE id = ?");
        s.bind(1, name);
        s.bind(2, id);
        s.exec();
    });
}

void RunStore::addTag(std::int64_t id, const std::string& tag) {
    if (tag.empty()) throw RunStoreError("a tag cannot be empty");
    requireUtf8(d_->path, "tag", tag);
    d_->guarded("cannot tag run " + std::to_string(id), [&] {
        d_->requireRun(id);
        SQLite::Statement s(*d_->db, "INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)");
        s.bind(1, id);
        s.bind(2, tag);
        s.exec();
    });
}

void RunStore::removeTag(std::int64_t id, const std::string& tag) {
    d_->guarded("cannot untag run " + std::to_string(id), [&] {
        d_->requireRun(id);
        SQLite::Statement s(*d_->db, "DELETE FROM run_tags WHERE run_id = ? AND tag = ?");
        s.bind(1, id);
        s.bind(2, tag);
        s.exec();
    });
}

void RunStore::setNotes(std::int64_t id, const std::string& notes) {
    requireUtf8(d_->path, "notes", notes);
    d_->guarded("cannot write the notes of run " + std::to_string(id), [&] {
        d_->requireRun(id);
        SQLite::Statement s(*d_->db, "UPDATE runs SET notes = ? WHERE id = ?");
        s.bind(1, notes);
        s.bind(2, id);
        s.exec();
    });
}

namespace {

const char* kMergedRunColumns =
    "name, status, message, started_at, ended_at, config_json, config_hash, dataset, "
    "dataset_fingerprint, seed, device, experts, alpha, distill, gate, libtorch_version, "
    "mode_version, start_json, epochs_completed, steps, wall_seconds, test_accuracy, val_accuracy, "
    "gate_routing_accuracy, notes, heartbeat_at, writer_host, writer_pid, writer_started";

// The statements that copy what belongs to run ?2 of the attached store `src` to run ?1 of
// main. Epoch metrics: the columns both files have (either may be older, or have metrics the
// other lacks).
std::set<std::string> columnsOf(SQLite::Database& db, const char* schema,
                                const char* table = "epochs") {
    std::set<std::string> out;
    SQLite::Statement q(db, std::string("SELECT name FROM pragma_table_info('") + table + "', '" +
                                schema + "')");
    while (q.executeStep())
        out.insert(q.getColumn(0).getString());
    return out;
}

// The source's checksum column of a blob table, copied as it is (damage found later is still
// found), or NULL where the source is older than checksums.
std::string checksumOf(SQLite::Database& db, const char* table) {
    return columnsOf(db, "src", table).count("checksum") ? "checksum" : "NULL";
}

std::vector<std::string> childCopies(SQLite::Database& db) {
    // Every epoch metric of the source is kept, the ones this program does not know included
    // (a newer version's, or one added with addEpochMetric): main gains their columns.
    const std::set<std::string> ours = columnsOf(db, "main");
    std::string epochCols;
    for (const auto& name : columnsOf(db, "src")) {
        if (name == "run_id" || name == "epoch" || name == "step" || name == "wall_seconds")
            continue;
        if (!ours.count(name))
            db.exec("ALTER TABLE main.epochs ADD COLUMN " + quotedColumn(name) + " REAL");
        epochCols += (epochCols.empty() ? "" : ", ") + quotedColumn(name);
    }
    std::vector<const StepMetric*> steps;
    for (const auto& m : stepMetrics())
        steps.push_back(&m);
    const std::string stepCols = columnList(steps);
    std::vector<std::string> copies{
        "INSERT INTO main.steps (run_id, step, epoch, wall_seconds, " + stepCols +
            ") SELECT ?1, step, epoch, wall_seconds, " + stepCols +
            " FROM src.steps WHERE run_id = ?2",
        "INSERT INTO main.epochs (run_id, epoch, step, wall_seconds, " + epochCols +
            ") SELECT ?1, epoch, step, wall_seconds, " + epochCols +
            " FROM src.epochs WHERE run_id = ?2",
        "INSERT INTO main.routing SELECT ?1, epoch, kind, matrix_json FROM src.routing WHERE "
        "run_id = ?2",
        "INSERT INTO main.expert_epochs SELECT ?1, epoch, expert, allocated, probing_accuracy, "
        "probing_error, load, share, similarity FROM src.expert_epochs WHERE run_id = ?2",
        "INSERT INTO main.run_tags SELECT ?1, tag FROM src.run_tags WHERE run_id = ?2",
        "INSERT INTO main.checkpoints (run_id, epoch, step, wall_seconds, created_at, state, "
        "checksum) SELECT ?1, epoch, step, wall_seconds, created_at, state, " +
            checksumOf(db, "checkpoints") + " FROM src.checkpoints WHERE run_id = ?2"};
    // A store of an older version has no per-sample routing.
    SQLite::Statement has(db, "SELECT 1 FROM src.sqlite_master WHERE name = 'sample_routing'");
    if (has.executeStep())
        copies.push_back("INSERT INTO main.sample_routing (run_id, epoch, samples, checksum) "
                         "SELECT ?1, epoch, samples, " +
                         checksumOf(db, "sample_routing") +
                         " FROM src.sample_routing WHERE run_id = ?2");
    // Nor kept models.
    SQLite::Statement hasModels(db, "SELECT 1 FROM src.sqlite_master WHERE name = 'models'");
    if (hasModels.executeStep())
        copies.push_back(
            "INSERT INTO main.models (run_id, epoch, kept, state, checksum) SELECT ?1, epoch, "
            "kept, state, " +
            checksumOf(db, "models") + " FROM src.models WHERE run_id = ?2");
    return copies;
}

// Copies every run of `src` that main does not hold yet (same config hash and start time).
RunStore::MergeCount copyRuns(SQLite::Database& db, const std::vector<std::string>& children) {
    RunStore::MergeCount count;
    SQLite::Statement runs(db, "SELECT id, config_hash, started_at FROM src.runs ORDER BY id");
    SQLite::Statement exists(db,
                             "SELECT 1 FROM main.runs WHERE config_hash = ? AND started_at = ?");
    SQLite::Statement copyRun(db, std::string("INSERT INTO main.runs (") + kMergedRunColumns +
                                      ") SELECT " + kMergedRunColumns +
                                      " FROM src.runs WHERE id = ?");
    std::vector<std::unique_ptr<SQLite::Statement>> copies;
    for (const auto& sql : children)
        copies.push_back(std::make_unique<SQLite::Statement>(db, sql));
    while (runs.executeStep()) {
        const std::int64_t old = runs.getColumn(0).getInt64();
        exists.bind(1, runs.getColumn(1).getString());
        exists.bind(2, runs.getColumn(2).getDouble());
        const bool present = exists.executeStep();
        exists.reset();
        if (present) {
            ++count.skipped;
            continue;
        }
        copyRun.bind(1, old);
        copyRun.exec();
        copyRun.reset();
        const std::int64_t id = db.getLastInsertRowid();
        for (auto& c : copies) {
            c->bind(1, id);
            c->bind(2, old);
            c->exec();
            c->reset();
        }
        ++count.copied;
    }
    return count;
}

} // namespace

RunStore::MergeCount RunStore::mergeFrom(const std::string& otherPath) {
    {
        RunStore other(otherPath, Mode::ReadOnly); // checks it is a run store of this schema
        if (fs::equivalent(fs::path(otherPath), fs::path(d_->path)))
            throw RunStoreError("run store " + otherPath + ": cannot merge a store into itself");
    }
    return d_->guarded("cannot merge " + otherPath, [&] {
        auto& db = *d_->db;
        SQLite::Statement attach(db, "ATTACH DATABASE ? AS src");
        attach.bind(1, otherPath);
        attach.exec();
        struct Detach {
            SQLite::Database& db;
            ~Detach() {
                try {
                    db.exec("DETACH DATABASE src");
                } catch (...) {
                }
            }
        } detach{db};
        SQLite::Transaction tx(db);
        const MergeCount count = copyRuns(db, childCopies(db));
        tx.commit();
        return count;
    });
}

int RunStore::markInterruptedRuns() {
    return d_->guarded("cannot check for interrupted runs", [&] { return d_->markInterrupted(); });
}

std::string RunStore::integrityCheck() const {
    return d_->guarded("cannot check its integrity", [&] {
        SQLite::Statement q(*d_->db, "PRAGMA integrity_check");
        std::string report;
        while (q.executeStep())
            report += (report.empty() ? "" : "\n") + q.getColumn(0).getString();
        return report;
    });
}

RunStore::BlobReport RunStore::blobCheck() const {
    BlobReport report;
    // (table, run, epoch) of every blob, listed first; each is then read by the reader that
    // programs use, so check refuses exactly what they would.
    struct Blob {
        std::string table;
        std::int64_t run;
        int epoch;
    };
    std::vector<Blob> blobs;
    d_->guarded("cannot list its stored blobs", [&] {
        for (const char* table : {"checkpoints", "models", "sample_routing"}) {
            if (!d_->hasTable(table)) continue;
            SQLite::Statement q(*d_->db, std::string("SELECT run_id, epoch, ") +
                                             d_->checksumColumn() + " IS NULL FROM " + table +
                                             " ORDER BY run_id, epoch");
            while (q.executeStep()) {
                blobs.push_back({table, q.getColumn(0).getInt64(), q.getColumn(1).getInt()});
                if (q.getColumn(2).getInt() != 0) ++report.unchecked;
            }
        }
    });
    for (const auto& b : blobs) {
        try {
            if (b.table == "checkpoints")
                checkpoint(b.run);
            else if (b.table == "models")
                model(b.run, b.epoch);
            else
                sampleRouting(b.run, b.epoch);
            ++report.checked;
        } catch (const RunStoreError& e) {
            std::string what = e.what();
            const std::string prefix = "run store " + d_->path + ": ";
            if (what.rfind(prefix, 0) == 0) what = what.substr(prefix.size());
            report.problems.push_back(what);
        }
    }
    return report;
}

std::vector<std::string> RunStore::consistencyCheck() const {
    return d_->guarded("cannot check the runs against their data", [&] {
        SQLite::Statement q(
            *d_->db, "SELECT r.id, r.status, r.epochs_completed, r.steps, r.test_accuracy, "
                     "  (SELECT COALESCE(MAX(epoch), 0) FROM epochs e WHERE e.run_id = r.id), "
                     "  (SELECT COALESCE(MAX(step), 0) FROM steps s WHERE s.run_id = r.id), "
                     "  (SELECT COALESCE(MAX(step), 0) FROM epochs e WHERE e.run_id = r.id), "
                     "  (SELECT test_accuracy FROM epochs e WHERE e.run_id = r.id ORDER BY epoch "
                     "DESC LIMIT 1) "
                     "FROM runs r WHERE r.status != 'running' ORDER BY r.id");
        std::vector<std::string> problems;
        while (q.executeStep()) {
            const auto id = q.getColumn(0).getInt64();
            const std::string who =
                "run " + std::to_string(id) + " (" + q.getColumn(1).getString() + "): ";
            const int epochs = q.getColumn(2).getInt(), storedEpochs = q.getColumn(5).getInt();
            const auto steps = q.getColumn(3).getInt64();
            const auto storedSteps = std::max(q.getColumn(6).getInt64(), q.getColumn(7).getInt64());
            if (epochs != storedEpochs)
                problems.push_back(who + "says " + std::to_string(epochs) + " epochs completed, " +
                                   std::to_string(storedEpochs) + " are stored");
            if (steps != storedSteps)
                problems.push_back(who + "says " + std::to_string(steps) +
                                   " steps, the last stored step is " +
                                   std::to_string(storedSteps));
            if (!q.getColumn(8).isNull() &&
                (q.getColumn(4).isNull() ||
                 q.getColumn(4).getDouble() != q.getColumn(8).getDouble()))
                problems.push_back(who + "its test accuracy is not its last stored epoch's (" +
                                   std::to_string(q.getColumn(8).getDouble()) + ")");
        }
        return problems;
    });
}

} // namespace mode
