#include "log_repair.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "file_util.h"

namespace dynakv::storage {

namespace {

std::string DirOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

std::string FreeName(const std::string& base) {
  std::error_code ec;
  if (!std::filesystem::exists(base, ec)) return base;
  for (int i = 1;; ++i) {
    std::string name = base + "." + std::to_string(i);
    if (!std::filesystem::exists(name, ec)) return name;
  }
}

Status CopyFile(const std::string& from, const std::string& to) {
  FileDescriptor in, out;
  Status s = OpenFile(from, O_RDONLY, &in);
  if (!s.ok()) return s;
  std::uint64_t size = 0;
  s = FileSize(in.get(), from, &size);
  if (!s.ok()) return s;
  s = OpenFile(to, O_WRONLY | O_CREAT | O_TRUNC, &out);
  if (!s.ok()) return s;
  std::string buf;
  for (std::uint64_t off = 0; off < size;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size - off, 1u << 20));
    buf.resize(n);
    s = ReadAt(in.get(), off, n, buf.data(), from);
    if (!s.ok()) return s;
    s = WriteAll(out.get(), buf, to);
    if (!s.ok()) return s;
    off += n;
  }
  return SyncFd(out.get(), to);
}

}  // namespace

Status CutLog(const std::string& path, std::uint64_t offset) {
  FileDescriptor fd;
  Status s = OpenFile(path, O_WRONLY, &fd);
  if (!s.ok()) return s;
  if (::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0) {
    return ErrnoStatus("truncate " + path, errno);
  }
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync " + path, errno);
  return Status::Ok();
}

Status PreserveAndCutLog(const std::string& path, std::uint64_t offset, std::string* kept_as) {
  const std::string kept = FreeName(path + ".corrupt");
  const std::string tmp = kept + ".tmp";
  Status s = CopyFile(path, tmp);
  if (s.ok()) s = RenameFile(tmp, kept);
  if (s.ok()) s = SyncDir(DirOf(path));
  if (!s.ok()) {
    RemoveFile(tmp);
    return s;
  }
  *kept_as = kept;
  return CutLog(path, offset);
}

}  // namespace dynakv::storage
