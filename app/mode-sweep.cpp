// mode-sweep: runs every point of a sweep (datasets x alphas x experts x seeds, any config field)
// as mode-train processes, N at a time, each run into the store. Finished points are skipped, so
// an interrupted sweep resumes where it stopped; --shard i/n splits a sweep over machines or
// scheduler array jobs (each with its own store; `mode-runs merge` joins them).

#include "cli/CliCommon.h"
#include "store/RunStore.h"
#include "sweep/Sweep.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sys/prctl.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace mode;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

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
void onSignal(int) { g_stop = g_stop + 1; }

// Starts mode-train with `args`, stdout and stderr into files. The child stops (SIGINT: it stores
// its run as `stopped`, resumable) when mode-sweep dies, even by SIGKILL.
pid_t startRun(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
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
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
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

// This sweep's work folder: mode-sweep-<host>-<pid> (a temp folder shared by machines keeps them apart).
fs::path workFolderFor(pid_t pid) { return fs::temp_directory_path() / ("mode-sweep-" + hostName() + "-" + std::to_string(pid)); }

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
        if (::lstat(entry.path().c_str(), &st) != 0 || st.st_uid != getuid() || !S_ISDIR(st.st_mode)) continue;
        const long pid = std::strtol(digits.c_str(), nullptr, 10);
        if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
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

std::string formatSeconds(double s) {
    std::ostringstream o;
    if (s >= 3600) o << static_cast<int>(s / 3600) << " h " << static_cast<int>(s / 60) % 60 << " min";
    else if (s >= 60) o << static_cast<int>(s / 60) << " min " << static_cast<int>(s) % 60 << " s";
    else o << std::fixed << std::setprecision(1) << s << " s";
    return o.str();
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Run a sweep of MoDE experiments (a grid over any config fields), each run into the store."};
    app.footer("Sweep file:\n"
               "  {\"name\": \"regimes-alpha\", \"base_file\": \"regimes.json\", \"base\": {\"train\": {\"epochs\": 20}},\n"
               "   \"grid\": {\"loss.alpha\": [0, 0.01, 0.1, 1], \"train.seed\": [1, 2, 3]}}\n"
               "Examples:\n"
               "  mode-sweep experiments/sweeps/regimes-alpha.json --jobs 2\n"
               "  mode-sweep sweep.json --db shard3.sqlite --shard 3/8      # Slurm: --shard $SLURM_ARRAY_TASK_ID/8\n"
               "  mode-sweep sweep.json --dry-run\n"
               "Exit codes: 0 every run finished, 1 some run failed or diverged, 2 bad input, 130 interrupted.");
    app.set_version_flag("--version", std::string("mode-sweep ") + MODE_VERSION);
    std::string file, db, shardText = "0/1";
    int jobs = 2, threads = 1;
    bool dryRun = false, quiet = false;
    app.add_option("sweep", file, "sweep file (JSON)")->required();
    app.add_option("--db", db, "run store (SQLite); default: " + RunStore::defaultPath());
    app.add_option("-j,--jobs", jobs, "runs at the same time (processes)")->check(CLI::Range(1, 256));
    app.add_option("--threads", threads, "LibTorch threads per run (0: one per core)")->check(CLI::Range(0, 256));
    app.add_option("--shard", shardText, "run only shard i of n (0 <= i < n): the points whose index % n == i");
    app.add_flag("--dry-run", dryRun, "list the runs to do and exit");
    app.add_flag("-q,--quiet", quiet, "no progress lines");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitBadInput;
    }

    std::vector<SweepRun> points;
    Shard shard;
    std::string storePath = db.empty() ? RunStore::defaultPath() : db;
    std::set<std::string> done;
    std::map<std::string, std::int64_t> resumable; // config hash -> a stopped run with a checkpoint
    try {
        shard = Shard::parse(shardText);
        const Sweep sweep = Sweep::fromFile(file);
        for (auto& p : sweep.expand())
            if (shard.contains(p.index)) {
                p.config.train.threads = threads;
                points.push_back(std::move(p));
            }
        RunStore store(storePath); // created if new; stale runs become interrupted
        for (const auto& r : store.listRuns()) {
            if (r.status == RunStatus::Finished) done.insert(r.configHash);
            // A point stopped (Ctrl-C, a signal, mode-sweep killed) or interrupted after at least
            // one epoch continues from its checkpoint (newest run first: the first one counts).
            else if ((r.status == RunStatus::Stopped || r.status == RunStatus::Interrupted) && r.hasCheckpoint)
                resumable.emplace(r.configHash, r.id);
        }
    } catch (const std::exception& e) {
        std::cerr << "mode-sweep: " << e.what() << "\n";
        return kExitBadInput;
    }
    std::vector<SweepRun> todo;
    std::size_t resumes = 0;
    for (auto& p : points)
        if (!done.count(configHash(p.config))) {
            resumes += resumable.count(configHash(p.config));
            todo.push_back(std::move(p));
        }
    std::cerr << "mode-sweep: " << points.size() << " runs in shard " << shard.index << "/" << shard.count << ", "
              << points.size() - todo.size() << " already finished in " << storePath << ", " << todo.size() << " to run"
              << (resumes ? " (" + std::to_string(resumes) + " of them resumed from their checkpoints)" : std::string()) << "\n";
    if (dryRun) {
        for (const auto& p : todo) std::cout << p.index << "\t" << p.config.name << "\n";
        return 0;
    }

    const std::string train = selfDir() + "/mode-train";
    removeStaleWorkFolders();
    const fs::path work = workFolderFor(getpid());
    fs::create_directories(work);
    struct WorkFolder { // removed on every way out
        fs::path path;
        ~WorkFolder() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    } workFolder{work};
    // No SA_RESTART: a signal also ends the wait for the runs at once.
    struct sigaction action {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    int forwarded = 0; // signals passed on to the runs

    std::map<pid_t, Job> running;
    std::size_t next = 0, completed = 0;
    int failed = 0;
    const auto start = std::chrono::steady_clock::now();
    double busySeconds = 0;
    while ((next < todo.size() || !running.empty())) {
        while (!g_stop && next < todo.size() && static_cast<int>(running.size()) < jobs) {
            Job job;
            job.point = todo[next++];
            const std::string base = (work / std::to_string(job.point.index)).string();
            writeTextFile(base + ".json", job.point.config.toJson().dump(2));
            job.out = base + ".out";
            job.err = base + ".err";
            const auto again = resumable.find(configHash(job.point.config));
            const std::vector<std::string> args =
                again != resumable.end()
                    ? std::vector<std::string>{train, "--resume", std::to_string(again->second), "--db", storePath, "--json", "-q"}
                    : std::vector<std::string>{train, "--config", base + ".json", "--db", storePath, "--json", "-q"};
            job.resumed = again != resumable.end();
            job.pid = startRun(args, job.out, job.err);
            if (job.pid < 0) {
                std::cerr << "mode-sweep: cannot start " << train << ": " << std::strerror(errno) << "\n";
                for (auto& [p, j] : running) kill(p, SIGINT);
                while (!running.empty() && waitpid(-1, nullptr, 0) > 0) running.erase(running.begin());
                return kExitBadInput;
            }
            job.started = std::chrono::steady_clock::now();
            running.emplace(job.pid, std::move(job));
        }
        if (running.empty()) break;
        // A stop asked for: each run is told once (it stops after its current step and is stored
        // as `stopped`, to be resumed by the next invocation); a second signal ends them at once.
        if (g_stop > forwarded) {
            forwarded = g_stop;
            for (auto& [p, j] : running) kill(p, forwarded == 1 ? SIGINT : SIGKILL);
            if (!quiet)
                std::cerr << "mode-sweep: " << (forwarded == 1 ? "stopping" : "killing") << " " << running.size()
                          << (running.size() == 1 ? " run" : " runs") << (forwarded == 1 ? " (again to kill them)" : "") << "\n";
        }
        // Polled, so that a signal arriving between the check above and the wait is seen within
        // 0.1 s (a blocking wait would sleep through it until a run ends).
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
        auto it = running.find(pid);
        if (it == running.end()) continue;
        Job job = std::move(it->second);
        running.erase(it);
        const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - job.started).count();
        busySeconds += took;
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (code == kExitBadInput && job.resumed && !g_stop) {
            // The stored checkpoint could not be resumed (damaged, or of an older version): the
            // point runs again from the start instead of failing on every invocation.
            resumable.erase(configHash(job.point.config));
            if (!quiet)
                std::cerr << "mode-sweep: " << job.point.config.name << ": its checkpoint cannot be resumed ("
                          << lastLine(readText(job.err)) << "); running it from the start\n";
            todo.push_back(job.point);
            continue;
        }
        ++completed;
        std::string result;
        if (code == 130 && g_stop) {
            result = "stopped (stored; the next invocation resumes it)";
        } else if (code == 0) {
            auto j = json::parse(readText(job.out), nullptr, false);
            std::ostringstream r;
            r << "run " << (j.is_object() ? j.value("run_id", json()).dump() : "?");
            if (j.is_object() && j["test_accuracy"].is_number())
                r << ", test accuracy " << std::fixed << std::setprecision(4) << j["test_accuracy"].get<double>();
            result = r.str();
        } else {
            ++failed;
            result = "FAILED (exit " + std::to_string(code) + "): " + lastLine(readText(job.err));
        }
        if (!quiet) {
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const std::size_t left = todo.size() - completed;
            const double eta = completed ? elapsed / static_cast<double>(completed) * static_cast<double>(left) : 0;
            std::cerr << "[" << completed << "/" << todo.size() << "] " << job.point.config.name << ": " << result << " ("
                      << formatSeconds(took) << ")" << (left && !g_stop ? ", ETA " + formatSeconds(eta) : std::string()) << "\n";
        }
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << "mode-sweep: " << completed << " runs in " << formatSeconds(wall) << " (" << formatSeconds(busySeconds)
              << " of run time), " << failed << " failed" << (g_stop ? ", interrupted" : "") << "\n";
    if (g_stop) return 130;
    return failed ? kExitRunFailed : 0;
}
