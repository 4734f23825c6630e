// SPDX-License-Identifier: GPL-3.0-or-later
#include "TestSupport.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>

namespace mode::test {

TempDir::TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("mode-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name, const std::string& contents) const {
    auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << contents;
    return p.string();
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string& programDir() {
    static const std::string dir = [] {
        std::error_code ec;
        const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
        if (ec) throw std::runtime_error("cannot read /proc/self/exe: " + ec.message());
        return self.parent_path().string();
    }();
    return dir;
}

std::string program(const std::string& name) {
    return programDir() + "/" + name;
}

ProcessResult runCommand(const std::string& commandLine) {
    TempDir tmp;
    const std::string outFile = tmp / "out", errFile = tmp / "err";
    const std::string full = commandLine + " >" + outFile + " 2>" + errFile;
    int status = std::system(full.c_str());
    ProcessResult r;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = readFile(outFile);
    r.err = readFile(errFile);
    return r;
}

} // namespace mode::test
