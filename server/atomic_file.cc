#include "atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace dynakv::server {

bool WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode,
                         AtomicWriteFailure* failure) {
  // The pid keeps two processes sharing a directory (a test, a second node) off each other's
  // temporary file.
  failure->temp = path + ".tmp-" + std::to_string(getpid());
  const std::string& temp = failure->temp;
  auto fail = [&](AtomicWriteFailure::Step step, int fd) {
    failure->step = step;
    failure->error = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    return false;
  };
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail(AtomicWriteFailure::Step::kOpen, -1);
  // open's mode is filtered by the umask; the file keeps the mode asked for (CONFIG REWRITE
  // keeps the config file's own).
  if (::fchmod(fd, mode) != 0) return fail(AtomicWriteFailure::Step::kOpen, fd);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return fail(AtomicWriteFailure::Step::kWrite, fd);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(AtomicWriteFailure::Step::kSync, fd);
  if (::close(fd) != 0) return fail(AtomicWriteFailure::Step::kSync, -1);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return fail(AtomicWriteFailure::Step::kRename, -1);
  }
  // The rename itself is durable once the directory is synced.
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return true;
}

}  // namespace dynakv::server
