// SPDX-License-Identifier: GPL-3.0-or-later
#include "util/SafeOutput.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <streambuf>
#include <sys/stat.h>
#include <unistd.h>

namespace mode {

namespace {

std::string reason(int error) {
    return std::strerror(error);
}

// The folder part of a path ("." where it has none) and its last part.
std::pair<std::string, std::string> splitPath(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// A stream buffer over a file descriptor that remembers the first write error (errno).
class FdBuffer : public std::streambuf {
  public:
    explicit FdBuffer(int fd) : fd_(fd), buffer_(1 << 16) {
        setp(buffer_.data(), buffer_.data() + buffer_.size());
    }
    int error() const { return error_; }
    bool drain() {
        const char* p = pbase();
        std::size_t left = static_cast<std::size_t>(pptr() - pbase());
        while (left > 0 && error_ == 0) {
            const ssize_t n = ::write(fd_, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                error_ = errno;
            } else {
                p += n;
                left -= static_cast<std::size_t>(n);
            }
        }
        setp(buffer_.data(), buffer_.data() + buffer_.size());
        return error_ == 0;
    }

  protected:
    int_type overflow(int_type c) override {
        if (!drain()) return traits_type::eof();
        if (!traits_type::eq_int_type(c, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(c);
            pbump(1);
        }
        return traits_type::not_eof(c);
    }
    int sync() override { return drain() ? 0 : -1; }

  private:
    int fd_;
    std::vector<char> buffer_;
    int error_ = 0;
};

mode_t currentUmask() {
    const mode_t m = ::umask(022);
    ::umask(m);
    return m;
}

} // namespace

std::optional<FileId> fileId(const std::string& path) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
    return FileId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

void refuseKeptTarget(const std::string& target, const std::vector<KeptFile>& kept,
                      const std::string& flag) {
    const auto id = fileId(target);
    if (!id) return; // a new file is none of them
    for (const auto& k : kept)
        if (fileId(k.path) == id)
            throw OutputError(flag + " " + target + " is " + k.role + " (" + k.path +
                              "); writing there would destroy it: name another file");
}

struct SafeOutputFile::Impl {
    std::string path, temporary; // temporary empty: written directly (a device, a FIFO)
    int fd = -1;
    std::unique_ptr<FdBuffer> buffer;
    std::unique_ptr<std::ostream> out;
    bool committed = false;

    [[noreturn]] void fail(int error) {
        discard();
        throw OutputError("cannot write " + path + ": " + reason(error));
    }
    void discard() {
        if (fd >= 0) ::close(fd);
        fd = -1;
        if (!temporary.empty()) ::unlink(temporary.c_str());
    }
};

SafeOutputFile::SafeOutputFile(std::string path) : d_(std::make_unique<Impl>()) {
    d_->path = std::move(path);
    const std::string& target = d_->path;
    if (target.empty()) throw OutputError("an output file needs a name");
    struct stat st {};
    const bool exists = ::stat(target.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        throw OutputError("cannot write " + target + ": it is a folder; name a file in it");
    if (exists && !S_ISREG(st.st_mode)) {
        d_->fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
        if (d_->fd < 0) throw OutputError("cannot write " + target + ": " + reason(errno));
    } else {
        const auto [folder, name] = splitPath(target);
        struct stat dir {};
        if (::stat(folder.c_str(), &dir) != 0)
            throw OutputError("cannot write " + target + ": the folder " + folder +
                              " does not exist");
        if (!S_ISDIR(dir.st_mode))
            throw OutputError("cannot write " + target + ": " + folder + " is not a folder");
        std::string pattern = folder + "/." + name + ".tmp-XXXXXX";
        const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
        if (fd < 0) throw OutputError("cannot write " + target + ": " + reason(errno));
        d_->fd = fd;
        d_->temporary = pattern;
        // As an ordinary new file would be (mkstemp makes it 0600), or as the file it replaces.
        const mode_t m = exists ? (st.st_mode & 07777) : (0666 & ~currentUmask());
        ::fchmod(fd, m);
    }
    d_->buffer = std::make_unique<FdBuffer>(d_->fd);
    d_->out = std::make_unique<std::ostream>(d_->buffer.get());
}

SafeOutputFile::~SafeOutputFile() {
    if (!d_->committed) d_->discard();
}

std::ostream& SafeOutputFile::stream() {
    return *d_->out;
}

void SafeOutputFile::commit() {
    Impl& d = *d_;
    if (d.committed) return;
    if (!d.buffer->drain()) d.fail(d.buffer->error());
    if (!d.temporary.empty()) {
        if (::fsync(d.fd) != 0) d.fail(errno);
    }
    const int fd = d.fd;
    d.fd = -1;
    if (::close(fd) != 0) {
        const int e = errno;
        d.fail(e);
    }
    if (!d.temporary.empty() && ::rename(d.temporary.c_str(), d.path.c_str()) != 0) d.fail(errno);
    d.committed = true;
}

void writeFileSafely(const std::string& path, std::string_view text) {
    SafeOutputFile f(path);
    f.stream().write(text.data(), static_cast<std::streamsize>(text.size()));
    f.commit();
}

void flushStandardOutput() {
    errno = 0;
    std::cout.flush();
    const bool streamFailed = !std::cout;
    const int flushed = std::fflush(stdout);
    const int error = errno;
    if (streamFailed || flushed != 0 || std::ferror(stdout))
        throw OutputError("cannot write to standard output" +
                          (error != 0 ? ": " + reason(error) : std::string()) +
                          "; the output is incomplete");
}

} // namespace mode
