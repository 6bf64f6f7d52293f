#include "file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

namespace dynakv::storage {

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Status ErrnoStatus(const std::string& context, int err) {
  return Status::IoError(context + ": " + std::strerror(err), err);
}

Status OpenFile(const std::string& path, int flags, FileDescriptor* out) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  *out = FileDescriptor(fd);
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status ReadAt(int fd, std::uint64_t offset, std::size_t n, char* dst, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::pread(fd, dst, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read " + path, errno);
    }
    if (r == 0) return Status::Corruption("unexpected end of file in " + path);
    dst += r;
    offset += static_cast<std::uint64_t>(r);
    n -= static_cast<std::size_t>(r);
  }
  return Status::Ok();
}

Status SyncFd(int fd, const std::string& path) {
  if (::fdatasync(fd) != 0) return ErrnoStatus("fdatasync " + path, errno);
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  FileDescriptor fd;
  Status s = OpenFile(dir, O_RDONLY | O_DIRECTORY, &fd);
  if (!s.ok()) return s;
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync " + dir, errno);
  return Status::Ok();
}

Status FileSize(int fd, const std::string& path, std::uint64_t* size) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat " + path, errno);
  *size = static_cast<std::uint64_t>(st.st_size);
  return Status::Ok();
}

Status TruncateFile(const std::string& path, std::uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    return ErrnoStatus("truncate " + path, errno);
  }
  return Status::Ok();
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink " + path, errno);
  return Status::Ok();
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename " + from, errno);
  return Status::Ok();
}

Status CreateDirIfMissing(const std::string& dir) {
  // Parents too: a configured `dir = "./data/node-1"` should work on a fresh checkout.
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("mkdir " + dir, error ? error.value() : errno);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument(dir + " is not a directory");
  return Status::Ok();
}

Status ListDir(const std::string& dir, std::vector<std::string>* names) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) return ErrnoStatus("opendir " + dir, errno);
  names->clear();
  while (const dirent* ent = ::readdir(d.get())) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") names->push_back(std::move(name));
  }
  return Status::Ok();
}

Status ReadWholeFile(const std::string& path, std::string* out) {
  FileDescriptor fd;
  Status s = OpenFile(path, O_RDONLY, &fd);
  if (!s.ok()) return s;
  std::uint64_t size;
  s = FileSize(fd.get(), path, &size);
  if (!s.ok()) return s;
  out->resize(size);
  return ReadAt(fd.get(), 0, size, out->data(), path);
}

Status WriteFileAtomically(const std::string& dir, const std::string& name, std::string_view data) {
  const std::string tmp = dir + "/" + name + ".tmp";
  FileDescriptor fd;
  Status s = OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC, &fd);
  if (s.ok()) s = WriteAll(fd.get(), data, tmp);
  if (s.ok() && ::fsync(fd.get()) != 0) s = ErrnoStatus("fsync " + tmp, errno);
  fd = FileDescriptor();
  if (s.ok()) s = RenameFile(tmp, dir + "/" + name);
  if (s.ok()) s = SyncDir(dir);
  if (!s.ok()) RemoveFile(tmp);
  return s;
}

}  // namespace dynakv::storage
