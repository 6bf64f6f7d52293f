// dynakv-check-log: reports torn tails and corruption in commit logs and, with --fix, cuts each
// damaged log at its first bad record (in the spirit of redis-check-aof --fix). The server
// refuses to start on a log corrupt in the middle (log_check.cc says why); this is what the
// operator runs then. Without --fix it changes nothing.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "file_names.h"
#include "file_util.h"
#include "log_check.h"
#include "log_repair.h"
#include "manifest.h"

namespace dynakv::storage {
namespace {

constexpr int kClean = 0, kProblems = 1, kUsage = 2;

void Usage(const char* program) {
  std::fprintf(stderr,
               "Usage: %s [--fix] <data dir | log file>\n"
               "Checks dynakv commit logs (log-<n>.log) for torn tails and corruption.\n"
               "  --fix  cut each damaged log at its first bad record; a log corrupt in the\n"
               "         middle is first copied to <log>.corrupt. Without --fix nothing changes.\n"
               "Exit status: 0 no damage (with --fix: every damaged log was cut), 1 damage found\n"
               "and not fixed (or a log could not be read), 2 usage error.\n",
               program);
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The logs recovery would replay, oldest first: those at or above the MANIFEST's floor.
Status ListLogs(const std::string& dir, std::vector<std::string>* paths) {
  Manifest manifest;
  bool have_manifest = false;
  Status s = ReadManifest(dir, &manifest, &have_manifest);
  if (!s.ok()) return s;
  std::vector<std::string> names;
  s = ListDir(dir, &names);
  if (!s.ok()) return s;
  std::vector<std::uint64_t> seqs;
  for (const std::string& name : names) {
    std::uint64_t seq = 0;
    if (ParseFileName(name, &seq) != FileKind::kLog) continue;
    if (have_manifest && seq < manifest.log_seq) {
      std::printf("%s/%s: already in a segment (recovery deletes it), not checked\n", dir.c_str(),
                  name.c_str());
      continue;
    }
    seqs.push_back(seq);
  }
  std::sort(seqs.begin(), seqs.end());
  for (std::uint64_t seq : seqs) paths->push_back(dir + "/" + LogFileName(seq));
  return Status::Ok();
}

// A running server holds the directory's LOCK; cutting a log under it would lose its writes.
bool LockDir(const std::string& dir, FileDescriptor* lock) {
  if (!OpenFile(dir + "/" + kLockName, O_RDWR, lock).ok()) return true;  // no engine ever ran
  if (::flock(lock->get(), LOCK_EX | LOCK_NB) == 0) return true;
  std::fprintf(stderr, "%s is in use by a running server: stop it before --fix\n", dir.c_str());
  return false;
}

void Report(const LogCheck& c) {
  if (!c.damage) {
    // A GROUP record (a transaction, a multi-key command) counts once: it is applied whole.
    std::printf("%s: ok, %llu records (%llu atomic groups), %llu bytes\n", c.path.c_str(),
                static_cast<unsigned long long>(c.records),
                static_cast<unsigned long long>(c.groups),
                static_cast<unsigned long long>(c.file_size));
    return;
  }
  const LogDamage& d = *c.damage;
  std::printf("%s: %s at offset %llu (%s): %llu records (%llu bytes) before it; ", c.path.c_str(),
              c.corrupt ? "CORRUPTION" : "TORN TAIL", static_cast<unsigned long long>(d.offset),
              d.reason.c_str(), static_cast<unsigned long long>(d.records_before),
              static_cast<unsigned long long>(d.offset));
  if (d.records_after > 0) {
    std::printf("%llu valid records in the %llu bytes from it on (the first at offset %llu)",
                static_cast<unsigned long long>(d.records_after),
                static_cast<unsigned long long>(d.bytes_from_offset()),
                static_cast<unsigned long long>(d.first_record_after));
  } else {
    std::printf("nothing valid in the %llu bytes from it on",
                static_cast<unsigned long long>(d.bytes_from_offset()));
  }
  if (c.later_records > 0) {
    std::printf("; later logs hold %llu records written after it",
                static_cast<unsigned long long>(c.later_records));
  }
  std::printf("\n");
}

bool Fix(const LogCheck& c) {
  const LogDamage& d = *c.damage;
  std::string kept;
  const Status s =
      c.corrupt ? PreserveAndCutLog(c.path, d.offset, &kept) : CutLog(c.path, d.offset);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: cut failed: %s\n", c.path.c_str(), s.ToString().c_str());
    return false;
  }
  std::printf("%s: cut at offset %llu: dropped %llu bytes holding %llu valid records%s%s\n",
              c.path.c_str(), static_cast<unsigned long long>(d.offset),
              static_cast<unsigned long long>(d.bytes_from_offset()),
              static_cast<unsigned long long>(d.records_after),
              kept.empty() ? "" : "; every original byte is kept in ", kept.c_str());
  return true;
}

int Run(int argc, char** argv) {
  bool fix = false;
  std::string target;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--fix") {
      fix = true;
    } else if (arg == "--help" || arg == "-h") {
      Usage(argv[0]);
      return kClean;
    } else if (arg.starts_with("-") || !target.empty()) {
      Usage(argv[0]);
      return kUsage;
    } else {
      target = arg;
    }
  }
  if (target.empty()) {
    Usage(argv[0]);
    return kUsage;
  }
  const bool dir_mode = IsDir(target);
  std::vector<std::string> paths;
  if (dir_mode) {
    const Status s = ListLogs(target, &paths);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return kProblems;
    }
  } else {
    paths.push_back(target);
  }
  FileDescriptor lock;
  if (fix) {
    const std::size_t slash = target.rfind('/');
    const std::string dir = dir_mode                     ? target
                            : slash == std::string::npos ? "."
                                                         : target.substr(0, slash);
    if (!LockDir(dir, &lock)) return kProblems;
  }

  std::vector<LogCheck> checks(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const Status s = CheckLogFile(paths[i], &checks[i]);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return kProblems;
    }
  }
  ClassifyLogDamage(&checks);
  int damaged = 0;
  for (const LogCheck& c : checks) {
    Report(c);
    damaged += c.damage ? 1 : 0;
  }
  if (paths.empty()) std::printf("%s: no commit logs\n", target.c_str());
  if (damaged == 0) return kClean;
  if (!fix) {
    std::printf(
        "%d damaged log(s); nothing was changed. Run with --fix to cut %s at the first "
        "bad record.\n",
        damaged, damaged == 1 ? "it" : "each");
    return kProblems;
  }
  bool ok = true;
  for (const LogCheck& c : checks) {
    if (c.damage) ok = Fix(c) && ok;
  }
  return ok ? kClean : kProblems;
}

}  // namespace
}  // namespace dynakv::storage

int main(int argc, char** argv) { return dynakv::storage::Run(argc, argv); }
