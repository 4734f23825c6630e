// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// CSV records one at a time (RFC 4180 quoting), from a file read in blocks or from text in
// memory: a file is never held whole. Each byte is checked once on the way (no control bytes,
// valid UTF-8) and every error names the source, the line and what is wrong.

#include "data/Dataset.h"

#include <cstdint>
#include <deque>
#include <future>
#include <string>
#include <string_view>
#include <vector>

namespace mode {

class CsvReader {
  public:
    // A file, read in blocks of `blockBytes` (a record longer than a block grows it); `progress`
    // hears after each block and may stop the load. Throws DataError for a file that cannot be
    // opened.
    static constexpr std::size_t kBlockBytes = 8u << 20;
    CsvReader(const std::string& path, char delimiter, LoadProgress progress = {},
              std::size_t blockBytes = kBlockBytes);
    // Text in memory (kept by the caller while the reader lives); `source` names it in messages.
    CsvReader(std::string_view text, std::string source, char delimiter);
    ~CsvReader();
    CsvReader(const CsvReader&) = delete;
    CsvReader& operator=(const CsvReader&) = delete;

    // The next record that is not blank, false at the end. Its fields stay valid until the next
    // call; fields are trimmed of spaces and tabs unless quoted.
    bool next();
    const std::vector<std::string_view>& fields() const { return fields_; }
    std::int64_t line() const { return line_; } // the line the record starts on
    const std::string& source() const { return source_; }

    std::uint64_t bytesRead() const { return offset_ + pos_; }
    std::uint64_t totalBytes() const { return total_; } // the file's size, 0 when unknown
    // FNV-1a 64 of every byte (data::fnv1a64Hex of the whole file), once next() returned false.
    std::string contentHash();

    // A record longer than this (a file without line ends) is refused.
    static constexpr std::size_t kMaxRecordBytes = 64u << 20;

  private:
    struct Span {
        std::size_t start = 0, size = 0;
        bool escaped = false; // holds "" pairs to turn into "
    };
    enum class Scan { Record, NeedMore };

    Scan scanRecord();
    void refill();
    void checkNewBytes(std::size_t begin, std::size_t end);
    void checkUtf8(std::size_t begin, std::size_t end) const;
    void makeFields();
    void joinHashing();

    std::string source_;
    char delim_;
    LoadProgress progress_;
    int fd_ = -1;
    std::string own_;            // a file's buffer
    const char* data_ = nullptr; // the bytes held: data_[0, size_)
    std::size_t size_ = 0;
    std::size_t pos_ = 0;      // where the next record starts
    std::uint64_t offset_ = 0; // the file offset of data_[0]
    std::uint64_t total_ = 0;
    bool eof_ = false;
    bool started_ = false;
    std::int64_t nextLine_ = 1;
    std::int64_t line_ = 0;
    static constexpr std::uint64_t kNone = ~std::uint64_t{0};
    std::uint64_t firstHigh_ = kNone; // the offset of the first byte past ASCII

    // The record last scanned.
    std::vector<Span> spans_;
    std::size_t recordEnd_ = 0;
    std::int64_t recordLines_ = 0; // line ends inside it
    bool blank_ = true;
    std::vector<std::string_view> fields_;
    std::deque<std::string> unescaped_;

    std::uint64_t hash_ = kFnvOffsetBasis;
    std::future<void> hashing_; // of the last block read, while it is parsed
};

} // namespace mode
