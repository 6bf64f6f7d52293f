// Thin POSIX file helpers returning Status, plus the RAII descriptor every file user holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace dynakv::storage {

// Owns one file descriptor; closes it on destruction.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// "<context>: <strerror(errno)>" as an IoError.
Status ErrnoStatus(const std::string& context, int err);

Status OpenFile(const std::string& path, int flags, FileDescriptor* out);
Status WriteAll(int fd, std::string_view data, const std::string& path);
// Reads exactly n bytes at offset; a short read is Corruption (the file is shorter than its
// metadata claims).
Status ReadAt(int fd, std::uint64_t offset, std::size_t n, char* dst, const std::string& path);
Status SyncFd(int fd, const std::string& path);  // fdatasync
Status SyncDir(const std::string& dir);          // makes creations/renames/unlinks durable
Status FileSize(int fd, const std::string& path, std::uint64_t* size);
Status TruncateFile(const std::string& path, std::uint64_t size);
Status RemoveFile(const std::string& path);
Status RenameFile(const std::string& from, const std::string& to);
// Creates `dir` and any missing parents; fails when it exists as something else.
Status CreateDirIfMissing(const std::string& dir);
Status ListDir(const std::string& dir, std::vector<std::string>* names);
Status ReadWholeFile(const std::string& path, std::string* out);
// Writes `data` to path.tmp, fsyncs it, renames it over `path` and fsyncs the directory, so a
// crash leaves either the old or the new content.
Status WriteFileAtomically(const std::string& dir, const std::string& name, std::string_view data);

}  // namespace dynakv::storage
