// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/SweepCommand.h"

#include "cli/CliCommon.h"
#include "config/Choices.h"
#include "store/RunStore.h"
#include "sweep/Sweep.h"
#include "util/Format.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mode {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string selfDir() {
    std::error_code ec;
    auto p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(".") : p.parent_path().string();
}

struct Job {
    pid_t pid = 0;
    bool resumed = false; // continues a stopped run from its checkpoint
    SweepRun point;
    std::string out, err;
    std::chrono::steady_clock::time_point started;
};

// Signal handlers only count: the main loop forwards the stop to the runs.
volatile std::sig_atomic_t g_stop = 0;
void onSignal(int) {
    g_stop = g_stop + 1;
}

// Starts mode-train with `args`, stdout and stderr into files. The child stops (SIGINT: it stores
// its run as `stopped`, resumable) when mode-sweep dies, even by SIGKILL.
pid_t startRun(const std::vector<std::string>& args, const std::string& out,
               const std::string& err) {
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid != 0) return pid; // the parent, or -1
    // Its own process group: a Ctrl-C in the terminal reaches mode-sweep alone, which passes it on
    // once (a run that got it twice would leave at once, unstored).
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGINT);
    if (getppid() != parent) _exit(130); // the parent died before prctl took effect
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(127);
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
}

std::string hostName() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::string h = host;
    for (char& c : h)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return h;
}

// This sweep's work folder: mode-sweep-<host>-<pid> (a temp folder shared by machines keeps them
// apart).
fs::path workFolderFor(pid_t pid) {
    return fs::temp_directory_path() / ("mode-sweep-" + hostName() + "-" + std::to_string(pid));
}

// Removes the work folders that sweeps of this user on this machine left when killed with -9:
// only names mode-sweep-<this host>-<digits>, owned by this user, whose process is gone.
void removeStaleWorkFolders() {
    std::error_code ec;
    const std::string prefix = "mode-sweep-" + hostName() + "-";
    for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string digits = name.substr(prefix.size());
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
        struct stat st {};
        if (::lstat(entry.path().c_str(), &st) != 0 || st.st_uid != getuid() ||
            !S_ISDIR(st.st_mode))
            continue;
        const long pid = std::strtol(digits.c_str(), nullptr, 10);
        if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
            fs::remove_all(entry.path(), ec);
    }
}

std::string readText(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The last line of a run's messages (what went wrong, for a failed run).
std::string lastLine(std::string text) {
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return text.substr(text.rfind('\n') + 1);
}

struct SweepOptions {
    std::string file, db, shardText = "0/1", keepModels = "best";
    int jobs = 2, threads = 1;
    bool dryRun = false, quiet = false;
};

// The points of this shard and what the store already holds of them.
struct SweepPlan {
    Shard shard;
    std::string storePath;
    std::size_t points = 0;
    std::vector<SweepRun> todo;                    // not finished yet
    std::vector<std::string> todoHashes;           // configHash of each, worked out once
    std::size_t resumes = 0;                       // how many of them continue a stopped run
    std::map<std::string, std::int64_t> resumable; // config hash -> a stopped run with a checkpoint
};

SweepPlan planSweep(const SweepOptions& o) {
    SweepPlan plan;
    plan.storePath = o.db.empty() ? RunStore::defaultPath() : o.db;
    plan.shard = Shard::parse(o.shardText);
    std::vector<SweepRun> points;
    // A large grid is seconds of work: say so, and how far it is.
    Sweep sweep = Sweep::fromFile(o.file, [&](std::size_t done, std::size_t total) {
        if (total < 100000 || o.quiet) return;
        if (done == 0)
            std::cerr << "mode-sweep: checking the " << total << " points of the grid\n";
        else if (done % 250000 == 0)
            std::cerr << "mode-sweep: " << done << " of " << total << " points checked\n";
    });
    if (sweep.size() >= 100000 && !o.quiet)
        std::cerr << "mode-sweep: " << sweep.size()
                  << " points checked; comparing with the store\n";
    for (const auto& p : sweep.points())
        if (plan.shard.contains(p.index)) {
            points.push_back(p);
            points.back().config.train.threads = o.threads;
        }
    std::set<std::string> done;
    RunStore store(plan.storePath); // created if new; stale runs become interrupted
    for (const auto& r : store.listRuns()) {
        if (r.status == RunStatus::Finished) done.insert(r.configHash);
        // A point stopped (Ctrl-C, a signal, mode-sweep killed) or interrupted after at least
        // one epoch continues from its checkpoint (newest run first: the first one counts).
        else if ((r.status == RunStatus::Stopped || r.status == RunStatus::Interrupted) &&
                 r.hasCheckpoint)
            plan.resumable.emplace(r.configHash, r.id);
    }
    plan.points = points.size();
    for (auto& p : points) {
        std::string hash = configHash(p.config);
        if (done.count(hash)) continue;
        plan.resumes += plan.resumable.count(hash);
        plan.todo.push_back(std::move(p));
        plan.todoHashes.push_back(std::move(hash));
    }
    return plan;
}

// Runs the plan's points as mode-train processes, `jobs` at a time, until all are done or a
// signal stops them.
class SweepRunner {
  public:
    SweepRunner(SweepPlan plan, const SweepOptions& o, fs::path work)
        : plan_(std::move(plan)), o_(o), work_(std::move(work)), train_(selfDir() + "/mode-train") {
    }

    int run() {
        while (next_ < plan_.todo.size() || !running_.empty()) {
            if (!startRuns()) return kExitBadInput;
            if (running_.empty()) break;
            forwardStop();
            // Polled, so that a signal arriving between the check above and the wait is seen
            // within 0.1 s (a blocking wait would sleep through it until a run ends).
            int status = 0;
            const pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid == 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            if (pid < 0) {
                if (errno == EINTR) continue;
                break;
            }
            finished(pid, status);
        }
        const double wall = secondsSince(start_);
        std::cerr << "mode-sweep: " << completed_ << " runs in " << formatDuration(wall) << " ("
                  << formatDuration(busySeconds_) << " of run time), " << failed_ << " failed"
                  << (g_stop ? ", interrupted" : "") << "\n";
        if (g_stop) return 130;
        return failed_ ? kExitRunFailed : 0;
    }

  private:
    static double secondsSince(std::chrono::steady_clock::time_point t) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    }

    // Starts points until `jobs` run; false if mode-train cannot be started at all.
    bool startRuns() {
        while (!g_stop && next_ < plan_.todo.size() &&
               static_cast<int>(running_.size()) < o_.jobs) {
            Job job;
            job.point = plan_.todo[next_++];
            const std::string base = (work_ / std::to_string(job.point.index)).string();
            try { // the point's experiment, for the record beside its output
                writeFileSafely(base + ".json", job.point.config.toJson().dump(2));
            } catch (const OutputError& e) {
                std::cerr << "mode-sweep: " << e.what() << "\n";
                return false;
            }
            job.out = base + ".out";
            job.err = base + ".err";
            const auto again = plan_.resumable.find(configHash(job.point.config));
            job.resumed = again != plan_.resumable.end();
            std::vector<std::string> args{
                train_, "--db", plan_.storePath, "--keep-models", o_.keepModels, "--json", "-q"};
            if (job.resumed)
                args.insert(args.end(), {"--resume", std::to_string(again->second)});
            else
                args.insert(args.end(), {"--config", base + ".json"});
            job.pid = startRun(args, job.out, job.err);
            if (job.pid < 0) {
                std::cerr << "mode-sweep: cannot start " << train_ << ": " << std::strerror(errno)
                          << "\n";
                for (auto& [p, j] : running_)
                    kill(p, SIGINT);
                while (!running_.empty() && waitpid(-1, nullptr, 0) > 0)
                    running_.erase(running_.begin());
                return false;
            }
            job.started = std::chrono::steady_clock::now();
            running_.emplace(job.pid, std::move(job));
        }
        return true;
    }

    // A stop asked for: each run is told once (it stops after its current step and is stored
    // as `stopped`, to be resumed by the next invocation); a second signal ends them at once.
    void forwardStop() {
        if (g_stop <= forwarded_) return;
        forwarded_ = g_stop;
        for (auto& [p, j] : running_)
            kill(p, forwarded_ == 1 ? SIGINT : SIGKILL);
        if (!o_.quiet)
            std::cerr << "mode-sweep: " << (forwarded_ == 1 ? "stopping" : "killing") << " "
                      << running_.size() << (running_.size() == 1 ? " run" : " runs")
                      << (forwarded_ == 1 ? " (again to kill them)" : "") << "\n";
    }

    void finished(pid_t pid, int status) {
        auto it = running_.find(pid);
        if (it == running_.end()) return;
        Job job = std::move(it->second);
        running_.erase(it);
        const double took = secondsSince(job.started);
        busySeconds_ += took;
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (code == kExitBadInput && job.resumed && !g_stop) {
            // The stored checkpoint could not be resumed (damaged, or of an older version): the
            // point runs again from the start instead of failing on every invocation.
            plan_.resumable.erase(configHash(job.point.config));
            if (!o_.quiet)
                std::cerr << "mode-sweep: " << job.point.config.name
                          << ": its checkpoint cannot be resumed (" << lastLine(readText(job.err))
                          << "); running it from the start\n";
            plan_.todo.push_back(job.point);
            return;
        }
        ++completed_;
        const std::string result = outcome(job, code);
        if (o_.quiet) return;
        const std::size_t left = plan_.todo.size() - completed_;
        const double eta =
            secondsSince(start_) / static_cast<double>(completed_) * static_cast<double>(left);
        std::cerr << "[" << completed_ << "/" << plan_.todo.size() << "] " << job.point.config.name
                  << ": " << result << " (" << formatDuration(took) << ")"
                  << (left && !g_stop ? ", ETA " + formatDuration(eta) : std::string()) << "\n";
    }

    std::string outcome(const Job& job, int code) {
        if (code == 130 && g_stop) return "stopped (stored; the next invocation resumes it)";
        if (code != 0) {
            ++failed_;
            return "FAILED (exit " + std::to_string(code) + "): " + lastLine(readText(job.err));
        }
        auto j = json::parse(readText(job.out), nullptr, false);
        std::string r =
            "run " + (j.is_object() ? j.value("run_id", json()).dump() : std::string("?"));
        if (j.is_object() && j["test_accuracy"].is_number())
            r += ", test accuracy " + formatFixed(j["test_accuracy"].get<double>(), 4);
        return r;
    }

    SweepPlan plan_;
    const SweepOptions& o_;
    fs::path work_;
    std::string train_;
    std::map<pid_t, Job> running_;
    std::size_t next_ = 0, completed_ = 0;
    int failed_ = 0;
    int forwarded_ = 0; // signals passed on to the runs
    double busySeconds_ = 0;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

const char* kFooter =
    "Sweep file:\n"
    "  {\"name\": \"regimes-alpha\", \"base_file\": \"regimes.json\", \"base\": {\"train\": "
    "{\"epochs\": 20}},\n"
    "   \"grid\": {\"loss.alpha\": [0, 0.01, 0.1, 1], \"train.seed\": [1, 2, 3]}}\n"
    "Examples:\n"
    "  mode-sweep experiments/sweeps/regimes-alpha.json --jobs 2\n"
    "  mode-sweep sweep.json --db shard3.sqlite --shard 3/8      # Slurm: --shard "
    "$SLURM_ARRAY_TASK_ID/8\n"
    "  mode-sweep sweep.json --dry-run\n"
    "Exit codes: 0 every run finished, 1 some run failed or diverged, 2 bad input, 130 "
    "interrupted.";

void addOptions(CLI::App& app, SweepOptions& o) {
    app.add_option("sweep", o.file, "sweep file (JSON)")->required();
    app.add_option("--db", o.db, "run store (SQLite); default: " + RunStore::defaultPath());
    app.add_option("-j,--jobs", o.jobs, "runs at the same time (processes)")
        ->check(CLI::Range(1, 256));
    app.add_option("--threads", o.threads, "LibTorch threads per run (0: one per core)")
        ->check(CLI::Range(0, 256));
    app.add_option("--shard", o.shardText,
                   "run only shard i of n (0 <= i < n): the points whose index % n == i");
    app.add_option("--keep-models", o.keepModels,
                   "models each run keeps besides its last epoch's (mode-train --keep-models)")
        ->check(CLI::IsMember(choiceNames<KeepModels>()))
        ->capture_default_str();
    app.add_flag("--dry-run", o.dryRun, "list the runs to do and exit");
    app.add_flag("-q,--quiet", o.quiet, "no progress lines");
}

} // namespace

int sweepCommand(int argc, char** argv) {
    CLI::App app{"Run a sweep of MoDE experiments (a grid over any config fields), each run into "
                 "the store."};
    app.footer(kFooter);
    app.set_version_flag("--version", std::string("mode-sweep ") + MODE_VERSION);
    SweepOptions o;
    addOptions(app, o);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitBadInput;
    }
    // One mode-sweep per sweep file, shard and store: a second would run every point twice.
    // The claim is the store's, taken before the plan and dropped on every way out.
    struct Claim {
        std::unique_ptr<RunStore> store;
        std::string sweep;
        ~Claim() {
            try {
                if (store) store->releaseSweep(sweep);
            } catch (const std::exception&) { // left behind, it is taken over: its process is gone
            }
        }
    } claim;
    SweepPlan plan;
    try {
        if (!o.dryRun) {
            const Shard shard = Shard::parse(o.shardText);
            claim.sweep = fs::absolute(o.file).lexically_normal().string() + " shard " +
                          std::to_string(shard.index) + "/" + std::to_string(shard.count);
            claim.store = std::make_unique<RunStore>(o.db.empty() ? RunStore::defaultPath() : o.db);
            claim.store->claimSweep(claim.sweep);
        }
        plan = planSweep(o);
    } catch (const std::exception& e) {
        std::cerr << "mode-sweep: " << e.what() << "\n";
        return kExitBadInput;
    }
    const std::size_t resumes = plan.resumes;
    std::cerr << "mode-sweep: " << plan.points << " runs in shard " << plan.shard.index << "/"
              << plan.shard.count << ", " << plan.points - plan.todo.size()
              << " already finished in " << plan.storePath << ", " << plan.todo.size() << " to run"
              << (resumes
                      ? " (" + std::to_string(resumes) + " of them resumed from their checkpoints)"
                      : std::string())
              << "\n";
    if (o.dryRun) {
        for (const auto& p : plan.todo)
            std::cout << p.index << "\t" << p.config.name << "\n";
        return 0;
    }
    removeStaleWorkFolders();
    struct WorkFolder { // removed on every way out
        fs::path path;
        ~WorkFolder() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    } work{workFolderFor(getpid())};
    fs::create_directories(work.path);
    // No SA_RESTART: a signal also ends the wait for the runs at once.
    struct sigaction action {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    return SweepRunner(std::move(plan), o, work.path).run();
}

} // namespace mode
