#include "daemon.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <utility>

// jemalloc's control interface, weak as in info.cc: the server links jemalloc, tests may not.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace dynakv::server {
namespace {

// Whether jemalloc runs its background purging thread (main.cc's malloc_conf asks for it).
bool JemallocBackgroundThread() {
  bool enabled = false;
  std::size_t len = sizeof(enabled);
  return mallctl != nullptr && mallctl("background_thread", &enabled, &len, nullptr, 0) == 0 &&
         enabled;
}

}  // namespace

bool RedirectStderr(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "Can't open the log file '" + path + "': " + std::strerror(errno);
    return false;
  }
  // dup2 swaps descriptor 2 in one step: no line is lost or written to a closed descriptor.
  // The copy on 2 is not close-on-exec (dup2 clears the flag), which children would inherit
  // as their stderr anyway.
  const bool ok = ::dup2(fd, STDERR_FILENO) >= 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    *error = "Can't redirect the log to '" + path + "': " + std::strerror(saved);
    return false;
  }
  return true;
}

bool Daemonize(bool keep_stderr, std::string* error) {
  std::fflush(nullptr);  // nothing buffered is written twice, by parent and child
  const bool background_thread = JemallocBackgroundThread();
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid > 0) ::_exit(0);  // the parent: the shell that started us gets its prompt back
  ::setsid();               // no controlling terminal: a closed terminal no longer HUPs us
  // A forked child has none of the parent's threads, and jemalloc turns its background thread
  // off in it: turn it back on, or freed memory stays resident while the node is idle.
  if (background_thread) {
    bool on = true;
    mallctl("background_thread", nullptr, nullptr, &on, sizeof(on));
  }
  const int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    if (!keep_stderr) ::dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO) ::close(null);
  }
  return true;
}

PidFile::PidFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  std::FILE* f = std::fopen(path_.c_str(), "w");
  if (f == nullptr) return;
  written_ = std::fprintf(f, "%d\n", static_cast<int>(::getpid())) > 0;
  written_ = std::fclose(f) == 0 && written_;
}

PidFile::~PidFile() {
  if (written_) ::unlink(path_.c_str());
}

std::string PidFilePath(const std::string& pidfile, bool daemonize, int port) {
  if (!pidfile.empty()) return pidfile;
  if (!daemonize) return "";
  return "/var/run/dynakv_" + std::to_string(port) + ".pid";
}

}  // namespace dynakv::server
