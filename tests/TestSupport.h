// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Helpers shared by the tests: scratch folders, files and running programs.

#include <filesystem>
#include <string>

// A message (error text, output) holds the expected part; prints the whole message if not.
#define EXPECT_CONTAINS(haystack, needle)                                                          \
    EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << "message: " << (haystack)

namespace mode::test {

// A fresh folder under the system temp dir, removed when the object goes.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name, const std::string& contents) const;
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

struct ProcessResult {
    int exitCode = -1;
    std::string out, err;
};
// Runs a shell command line, capturing stdout and stderr.
ProcessResult runCommand(const std::string& commandLine);

std::string readFile(const std::string& path);

// The folder of the running test executable (/proc/self/exe), where the build puts the
// programs under test too: a copied or moved build tests its own programs, never those of
// the folder it was built in.
const std::string& programDir();
// A program of the build by name, e.g. program("mode-train").
std::string program(const std::string& name);

} // namespace mode::test
