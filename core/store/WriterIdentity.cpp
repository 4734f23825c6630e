// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/WriterIdentity.h"

#include <cerrno>
#include <csignal>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace mode {

namespace {

std::string readFirstLine(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses).
bool procStat(std::int64_t pid, char* state, std::string* startTicks) {
    std::string stat = readFirstLine("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) return false;
    std::istringstream rest(stat.substr(close + 1));
    std::string field;
    // field 3 is the state, field 22 the start time.
    rest >> *state;
    for (int i = 4; i <= 22 && rest >> field; ++i) {
        if (i == 22) *startTicks = field;
    }
    return !startTicks->empty();
}

std::string startStamp(std::int64_t pid) {
    char state = '?';
    std::string ticks;
    if (!procStat(pid, &state, &ticks)) return {};
    return ticks + "@" + readFirstLine("/proc/sys/kernel/random/boot_id");
}

} // namespace

WriterIdentity WriterIdentity::current() {
    WriterIdentity w;
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) w.host = host;
    w.pid = static_cast<std::int64_t>(getpid());
    w.started = startStamp(w.pid);
    return w;
}

bool WriterIdentity::alive() const {
    if (pid <= 0) return false;
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
    char state = '?';
    std::string ticks;
    if (!procStat(pid, &state, &ticks)) {
        // No /proc (not Linux): the signal test is all there is.
        return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
    }
    if (state == 'Z' || state == 'X') return false;
    return started.empty() || started == startStamp(pid);
}

} // namespace mode
