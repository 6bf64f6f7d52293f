#include "own_actor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <utility>

#include "atomic_file.h"
#include "clock.h"
#include "log.h"
#include "server.h"
#include "storage/engine.h"

namespace dynakv::server {

namespace {

std::string RandomIncarnation() {
  std::random_device device;
  std::mt19937_64 rng((static_cast<std::uint64_t>(device()) << 32) ^ device() ^
                      static_cast<std::uint64_t>(NowMs()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 16; ++i) id.push_back(kHex[rng() % 16]);
  return id;
}

// Makes an unlink in `dir` durable; best effort (a kill -9 needs none of it, a power loss does).
void SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string CurrentBootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  if (!in || !std::getline(in, id)) return "";
  return id;
}

std::string IncarnationFileText(std::string_view id, std::string_view boot_id) {
  std::string text(id);
  text.push_back('\n');
  if (!boot_id.empty()) {
    text.append(boot_id);
    text.push_back('\n');
  }
  return text;
}

std::string DataDirIncarnation(const std::string& dir, bool renew, std::string_view boot_id,
                               std::string* warning) {
  const std::string path = dir + "/incarnation";
  std::ifstream in(path);
  std::string id;
  std::string written_at_boot;
  const bool well_formed = in && std::getline(in, id) && id.size() == 16 &&
                           id.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (well_formed && !std::getline(in, written_at_boot)) written_at_boot.clear();
  // Since the machine restarted, the log may have lost what it had written but not yet fsynced
  // while other replicas hold those writes' dots: counting on would hand the dots out again.
  const bool rebooted = !boot_id.empty() && !written_at_boot.empty() && written_at_boot != boot_id;
  if (!renew && well_formed && !rebooted) {
    if (written_at_boot != boot_id && !boot_id.empty()) {
      // A file of an older version (no boot line): taken as of this boot from now on.
      AtomicWriteFailure failure;
      WriteFileAtomically(path, IncarnationFileText(id, boot_id), 0644, &failure);
    }
    return id;
  }
  if (!renew && rebooted) {
    *warning = "The machine restarted since " + path +
               " was written (writes not yet fsynced then may be lost here while other replicas "
               "hold them): counting as a new incarnation";
  } else if (in.is_open() && !renew) {
    *warning = "The counter incarnation file " + path + " is malformed: using a new one";
  }
  id = RandomIncarnation();
  AtomicWriteFailure failure;
  if (!WriteFileAtomically(path, IncarnationFileText(id, boot_id), 0644, &failure)) {
    if (!warning->empty()) warning->append("; ");
    warning->append("Can't keep the counter incarnation in " + path + " (" +
                    std::strerror(failure.error) + "): this process counts as a new actor");
  }
  return id;
}

OwnActor::OwnActor(Server& server, cluster::ClusterNode& node, std::string dir)
    : server_(server), node_(node), dir_(std::move(dir)), boot_id_(CurrentBootId()) {
  std::string warning;
  id_ = DataDirIncarnation(dir_, false, boot_id_, &warning);
  actor_ = node_.self_id() + "/" + id_;
  if (!warning.empty()) Log(server_.log_level(), LogLevel::kWarning, "%s", warning.c_str());
  undecodable_seen_ = node_.stats().undecodable_values;
}

void OwnActor::RenewAfterLostCopies() {
  const std::uint64_t undecodable = node_.stats().undecodable_values;
  if (undecodable == undecodable_seen_) return;
  undecodable_seen_ = undecodable;
  std::string warning;
  id_ = DataDirIncarnation(dir_, true, boot_id_, &warning);
  actor_ = node_.self_id() + "/" + id_;
  // The new actor has written nothing: whatever the old one left unlogged is not its concern.
  unlogged_end_ = 0;
  file_removed_ = false;
  if (!warning.empty()) {
    // The file still names the old actor, whose copies were lost: a restart must not take it.
    ::unlink(path().c_str());
    file_removed_ = true;
  }
  Log(server_.log_level(), LogLevel::kWarning,
      "A stored copy could not be read: counting as a new incarnation (%s)%s%s", actor_.c_str(),
      warning.empty() ? "" : "; ", warning.c_str());
}

std::string OwnActor::Store(std::string_view key, const cluster::SiblingSet& set) {
  storage::Engine& engine = server_.engine();
  KeepIfLogged();
  const std::uint64_t before = engine.LogEnd();
  std::string error = node_.PutLocal(key, set);
  // Every change of the copy appends a record: none, nothing of the write is here to lose.
  if (engine.LogEnd() == before) return error;
  // In the log file, not only in the buffer the loop flushes at the end of its iteration: killed
  // in between, the node would come back without a dot the other replicas may already hold.
  const storage::Status logged = engine.FlushLog();
  if (logged.ok()) return error;
  Unlogged(engine.LogEnd());
  return error.empty() ? "ERR this replica could not store the write: " + logged.ToString() : error;
}

void OwnActor::Unlogged(std::uint64_t log_end) {
  if (log_end > unlogged_end_) unlogged_end_ = log_end;
  if (file_removed_) return;
  if (::unlink(path().c_str()) != 0 && errno != ENOENT) {
    Log(server_.log_level(), LogLevel::kWarning,
        "A write of actor %s is in memory but its commit log write failed, and the incarnation "
        "file %s could not be removed (%s): restarted before the log takes the write, this node "
        "could number a later write with a dot another replica already holds",
        actor_.c_str(), path().c_str(), std::strerror(errno));
    return;
  }
  SyncDirectory(dir_);
  file_removed_ = true;
  Log(server_.log_level(), LogLevel::kWarning,
      "A write of actor %s is in memory but its commit log write failed: until the log takes it, "
      "a restart counts as a new incarnation (%s removed)",
      actor_.c_str(), path().c_str());
}

void OwnActor::KeepIfLogged() {
  if (!file_removed_) return;
  if (unlogged_end_ != 0 && server_.engine().DurableLogEnd() < unlogged_end_) return;
  // The disk may still be nearly full: tried again at most once a second, and until then the
  // file stays away, so a restart is a new actor (always safe, one more name in the contexts).
  const auto now = std::chrono::steady_clock::now();
  if (now < next_write_back_) return;
  next_write_back_ = now + std::chrono::seconds(1);
  AtomicWriteFailure failure;
  if (!WriteFileAtomically(path(), IncarnationFileText(id_, boot_id_), 0644, &failure)) {
    if (!write_back_failed_) {
      Log(server_.log_level(), LogLevel::kWarning,
          "Can't write the incarnation file %s back yet (%s): until it is, a restart counts as a "
          "new incarnation",
          path().c_str(), std::strerror(failure.error));
    }
    write_back_failed_ = true;
    return;
  }
  unlogged_end_ = 0;
  file_removed_ = false;
  write_back_failed_ = false;
  Log(server_.log_level(), LogLevel::kNotice, "Incarnation file %s written back (actor %s)",
      path().c_str(), actor_.c_str());
}

}  // namespace dynakv::server
