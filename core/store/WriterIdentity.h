// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Who is writing a run: host, process id and the process's start time, so that a run left
// `running` by a process that is gone (killed, crashed, machine rebooted) is told apart from a
// live one, even when the process id has been reused.

#include <cstdint>
#include <string>

namespace mode {

struct WriterIdentity {
    std::string host;
    std::int64_t pid = 0;
    std::string started; // the process's start time in clock ticks since boot, plus the boot id

    static WriterIdentity current();
    // Whether this process (on this host) still runs: same pid, same start, not a zombie.
    bool alive() const;
};

} // namespace mode
