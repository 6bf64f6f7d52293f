// Running as a service the classic Unix way, as Redis does: logfile (stderr to a file that
// logrotate may move away), daemonize (fork into the background) and pidfile. Under systemd the
// node stays in the foreground and talks to the manager instead (service_notifier.h).
#pragma once

#include <string>

namespace dynakv::server {

// Opens `path` for appending (creating it, mode 0644) and makes it the process's stderr, where
// every log line goes. Called again on SIGHUP, it reopens the file by name: once logrotate has
// renamed the old file, the lines go to a fresh one. On failure the old stderr stays and
// *error says why.
bool RedirectStderr(const std::string& path, std::string* error);

// Redis's daemonize(): forks, the parent exits 0, the child becomes a session leader with
// stdin and stdout (and stderr, unless `keep_stderr`: it is the logfile) on /dev/null, and
// jemalloc's background thread running again if it ran before. Must run before the node starts
// threads of its own. False with *error when fork fails.
bool Daemonize(bool keep_stderr, std::string* error);

// The pid file: written (the pid and a newline) when constructed, removed when destroyed, as
// Redis removes it at shutdown. A file that cannot be written is only a warning, as in Redis.
class PidFile {
 public:
  // "" writes nothing.
  explicit PidFile(std::string path);
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

  bool written() const { return written_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool written_ = false;
};

// Where the pid goes: `pidfile`, or with daemonize and no pidfile Redis's default,
// /var/run/dynakv_<port>.pid; "" for none.
std::string PidFilePath(const std::string& pidfile, bool daemonize, int port);

}  // namespace dynakv::server
