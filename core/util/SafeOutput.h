// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Output files written whole or not at all, never over a file the command reads or keeps, and
// standard output checked: every program writes its files and its stdout through these.

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mode {

// An output that cannot be written, or must not be: the message names the file and why.
class OutputError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The file a path names, through symbolic links: its device and inode (none where nothing is
// there). Two paths name the same file where these agree, whatever the spelling or links.
struct FileId {
    std::uint64_t device = 0, inode = 0;
    bool operator==(const FileId& o) const { return device == o.device && inode == o.inode; }
};
std::optional<FileId> fileId(const std::string& path);

// A file the command reads or keeps (its store, its data, its config), by what it is to it.
struct KeptFile {
    std::string path;
    std::string role; // "the run store", "the data file"
};
// Throws OutputError where `target` is one of `kept` (the same file, compared by device and
// inode), before anything is written: "--out s.sqlite is the run store (s.sqlite); ...".
// `flag` names the option the target came from ("--out").
void refuseKeptTarget(const std::string& target, const std::vector<KeptFile>& kept,
                      const std::string& flag = "--out");

// A file written through a temporary file beside it (same folder, so the rename is atomic),
// renamed over the target by commit() once everything is written, flushed and synced. Until
// then the target is untouched; a failure or a destructor without commit() removes the
// temporary file, so no partial file is ever left. A target that exists and is not a regular
// file (a device such as /dev/null, a FIFO, a shell's >(...)) is written directly; a folder is
// refused. Every failure throws OutputError naming the target and the system's reason.
class SafeOutputFile {
  public:
    explicit SafeOutputFile(std::string path);
    ~SafeOutputFile();
    SafeOutputFile(const SafeOutputFile&) = delete;
    SafeOutputFile& operator=(const SafeOutputFile&) = delete;

    std::ostream& stream();
    void commit();

    struct Impl;

  private:
    std::unique_ptr<Impl> d_;
};

// `text` into `path` through SafeOutputFile.
void writeFileSafely(const std::string& path, std::string_view text);

// Flushes std::cout and stdout and throws OutputError where any write to standard output failed
// (a full disk, /dev/full, a closed pipe): output that was cut short is never reported done.
void flushStandardOutput();

} // namespace mode
