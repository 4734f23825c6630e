// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/CsvReader.h"

#include "util/Utf8.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mode {
namespace {

[[noreturn]] void fail(const std::string& source, std::int64_t line, const std::string& what) {
    throw DataError(source + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + what);
}

std::string hexByte(unsigned char c) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02x", c);
    return text;
}

bool isSpace(char c) {
    return c == ' ' || c == '\t';
}

} // namespace

CsvReader::CsvReader(const std::string& path, char delimiter, LoadProgress progress,
                     std::size_t blockBytes)
    : source_(path), delim_(delimiter), progress_(std::move(progress)) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(path, 0, std::string("cannot open the file (") + std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode))
        total_ = static_cast<std::uint64_t>(st.st_size);
    own_.resize(std::max<std::size_t>(blockBytes, 1));
    data_ = own_.data();
}

CsvReader::CsvReader(std::string_view text, std::string source, char delimiter)
    : source_(std::move(source)), delim_(delimiter), data_(text.data()), size_(text.size()),
      total_(text.size()), eof_(true) {
    hash_ = fnv1a64(text.data(), text.size());
    checkNewBytes(0, size_);
}

CsvReader::~CsvReader() {
    if (hashing_.valid()) hashing_.wait();
    if (fd_ >= 0) ::close(fd_);
}

void CsvReader::joinHashing() {
    if (hashing_.valid()) hashing_.get();
}

std::string CsvReader::contentHash() {
    joinHashing();
    return hex16(hash_);
}

// More bytes behind those not yet parsed; the buffer grows when one record fills it.
void CsvReader::refill() {
    if (fd_ < 0) { // text in memory: all of it is held
        eof_ = true;
        return;
    }
    joinHashing(); // moving bytes below would pull them from under the hash
    if (pos_ > 0) {
        std::memmove(own_.data(), own_.data() + pos_, size_ - pos_);
        offset_ += pos_;
        size_ -= pos_;
        pos_ = 0;
    }
    if (size_ == own_.size()) {
        if (own_.size() >= kMaxRecordBytes)
            fail(source_, nextLine_,
                 "a record of more than " + std::to_string(kMaxRecordBytes >> 20) +
                     " MiB (no end of line found): this is not a CSV file of rows");
        own_.resize(own_.size() * 2);
    }
    data_ = own_.data();
    ssize_t n = 0;
    do
        n = ::read(fd_, own_.data() + size_, own_.size() - size_);
    while (n < 0 && errno == EINTR);
    if (n < 0) fail(source_, 0, std::string("cannot read the file (") + std::strerror(errno) + ")");
    if (n == 0) {
        eof_ = true;
        return;
    }
    // Hashing runs beside the parse of the block (both only read it).
    const char* block = own_.data() + size_;
    hashing_ = std::async(std::launch::async, [this, block, n] {
        hash_ = fnv1a64(block, static_cast<std::size_t>(n), hash_);
    });
    size_ += static_cast<std::size_t>(n);
    checkNewBytes(size_ - static_cast<std::size_t>(n), size_);
    if (progress_ && !progress_(offset_ + size_, total_))
        throw LoadStopped(source_ + ": loading was stopped");
}

bool CsvReader::next() {
    for (;;) {
        if (!started_) {
            if (size_ < 3 && !eof_) {
                refill();
                continue;
            }
            started_ = true;
            if (size_ >= 3 && std::memcmp(data_, "\xEF\xBB\xBF", 3) == 0) pos_ = 3; // a BOM
        }
        if (pos_ >= size_ && eof_) return false;
        if (pos_ >= size_ || scanRecord() == Scan::NeedMore) {
            refill();
            continue;
        }
        checkUtf8(pos_, recordEnd_);
        line_ = nextLine_;
        nextLine_ += recordLines_;
        pos_ = recordEnd_;
        if (blank_) continue;
        makeFields();
        return true;
    }
}

// One record from pos_: its fields' spans and where it ends, or NeedMore when the bytes held end
// inside it and the file goes on.
CsvReader::Scan CsvReader::scanRecord() {
    const char* d = data_;
    const std::size_t n = size_;
    const bool more = !eof_;
    std::size_t i = pos_;
    std::int64_t lines = 0;
    spans_.clear();
    blank_ = true;
    for (;;) { // one field per pass
        Span span;
        if (i < n && d[i] == '"') {
            blank_ = false;
            const std::int64_t openLine = nextLine_ + lines;
            span.start = ++i;
            for (;;) {
                if (i >= n) {
                    if (more) return Scan::NeedMore;
                    fail(source_, openLine, "a quoted field opened on this line is never closed");
                }
                const char c = d[i++];
                if (c == '"') {
                    if (i >= n && more) return Scan::NeedMore; // "" split by the block's end
                    if (i < n && d[i] == '"') {
                        span.escaped = true;
                        ++i;
                        continue;
                    }
                    break;
                }
                if (c == '\n') ++lines;
            }
            span.size = i - 1 - span.start;
            while (i < n && isSpace(d[i]))
                ++i;
            if (i >= n && more) return Scan::NeedMore;
            if (i < n && d[i] != delim_ && d[i] != '\n' && d[i] != '\r')
                fail(source_, nextLine_ + lines,
                     "unexpected '" + std::string(1, d[i]) + "' after a closing quote (field " +
                         std::to_string(spans_.size() + 1) + ")");
        } else {
            std::size_t start = i;
            while (i < n && d[i] != delim_ && d[i] != '\n' && d[i] != '\r')
                ++i;
            if (i >= n && more) return Scan::NeedMore;
            std::size_t end = i;
            if (end > start) blank_ = false; // spaces alone still make a field
            while (start < end && isSpace(d[start]))
                ++start;
            while (end > start && isSpace(d[end - 1]))
                --end;
            span.start = start;
            span.size = end - start;
        }
        spans_.push_back(span);
        if (i < n && d[i] == delim_) {
            ++i;
            blank_ = false;
            continue;
        }
        if (i < n && d[i] == '\r') {
            ++i;
            if (i >= n && more) return Scan::NeedMore; // is a \n next?
        }
        if (i < n && d[i] == '\n') {
            ++i;
            ++lines;
        }
        break;
    }
    recordEnd_ = i;
    recordLines_ = lines;
    return Scan::Record;
}

// Bytes just read (data_[begin, end)): no control bytes, or this is a binary file, refused at
// its first block; where the first byte past ASCII is, for checkUtf8.
void CsvReader::checkNewBytes(std::size_t begin, std::size_t end) {
    unsigned char control = 0, high = 0;
    for (std::size_t i = begin; i < end; ++i) {
        const auto c = static_cast<unsigned char>(data_[i]);
        control |= c < 0x20 && c != '\n' && c != '\r' && c != '\t';
        high |= c & 0x80;
    }
    if (high && firstHigh_ == kNone)
        for (std::size_t i = begin; i < end; ++i)
            if (static_cast<unsigned char>(data_[i]) & 0x80) {
                firstHigh_ = offset_ + i;
                break;
            }
    if (!control) return;
    std::int64_t line = nextLine_ + std::count(data_ + pos_, data_ + begin, '\n');
    for (std::size_t i = begin; i < end; ++i) {
        const auto c = static_cast<unsigned char>(data_[i]);
        if (c == '\n') ++line;
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
            fail(source_, line,
                 "binary data (byte " + hexByte(c) + " at offset " + std::to_string(offset_ + i) +
                     "): this is not a text CSV file");
    }
}

// A record past the first non-ASCII byte must be valid UTF-8 (labels and names end up in the
// store, JSON and on the terminal); the bad byte is named by line and column.
void CsvReader::checkUtf8(std::size_t begin, std::size_t end) const {
    if (offset_ + end <= firstHigh_) return;
    const std::string_view record(data_ + begin, end - begin);
    const std::size_t bad = invalidUtf8Offset(record);
    if (bad == std::string_view::npos) return;
    std::int64_t line = nextLine_;
    std::size_t lineStart = 0;
    for (std::size_t i = 0; i < bad; ++i)
        if (record[i] == '\n') {
            ++line;
            lineStart = i + 1;
        }
    fail(source_, line,
         "column " + std::to_string(bad - lineStart + 1) + ": byte " +
             hexByte(static_cast<unsigned char>(record[bad])) +
             " is not valid UTF-8; save the file as UTF-8");
}

void CsvReader::makeFields() {
    fields_.clear();
    unescaped_.clear();
    for (const Span& s : spans_) {
        if (!s.escaped) {
            fields_.emplace_back(data_ + s.start, s.size);
            continue;
        }
        std::string& text = unescaped_.emplace_back();
        text.reserve(s.size);
        for (std::size_t i = s.start; i < s.start + s.size; ++i) {
            text += data_[i];
            if (data_[i] == '"') ++i; // the second of a pair
        }
        fields_.emplace_back(text);
    }
}

} // namespace mode
