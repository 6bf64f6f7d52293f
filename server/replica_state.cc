#include "replica_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace dynakv::server {
namespace {

constexpr std::size_t kRecordBytes = 128;
constexpr char kMagic[] = "dynakv-replication-1";

// FNV-1a 64: enough to tell a whole record from a torn or foreign one.
std::uint64_t Fnv(std::string_view bytes) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

ReplicaState::ReplicaState(std::string dir) : path_(std::move(dir) + "/replication.state") {}

ReplicaState::~ReplicaState() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<ReplicaState::Saved> ReplicaState::Load(std::string* problem) const {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) *problem = path_ + ": " + std::strerror(errno);
    return std::nullopt;
  }
  char record[kRecordBytes + 1] = {};
  const ssize_t n = ::pread(fd, record, kRecordBytes, 0);
  ::close(fd);
  char magic[32] = {};
  char replid[64] = {};
  long long offset = 0;
  unsigned long long done = 0;
  unsigned db = 0;
  std::uint64_t sum = 0;
  int body = 0;
  if (n != static_cast<ssize_t>(kRecordBytes) ||
      std::sscanf(record, "%31s %63s %lld %llu %u%n %" SCNx64, magic, replid, &offset, &done, &db,
                  &body, &sum) != 6 ||
      std::strcmp(magic, kMagic) != 0 || std::strlen(replid) != 40 || offset < 0 ||
      Fnv(std::string_view(record, static_cast<std::size_t>(body))) != sum) {
    *problem = path_ + ": not a whole replication record";
    return std::nullopt;
  }
  return Saved{replid, offset, static_cast<std::size_t>(done), db};
}

bool ReplicaState::Save(const Saved& state, std::string* error) {
  if (last_ && last_->replid == state.replid && last_->offset == state.offset &&
      last_->done == state.done && last_->db == state.db) {
    return true;
  }
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      *error = path_ + ": " + std::strerror(errno);
      return false;
    }
  }
  char record[kRecordBytes + 1];
  const int body = std::snprintf(record, sizeof(record), "%s %s %lld %zu %u", kMagic,
                                 state.replid.c_str(), state.offset, state.done, state.db);
  std::snprintf(record + body, sizeof(record) - static_cast<std::size_t>(body), " %016" PRIx64,
                Fnv(std::string_view(record, static_cast<std::size_t>(body))));
  const std::size_t used = std::strlen(record);
  std::memset(record + used, ' ', kRecordBytes - used);
  record[kRecordBytes - 1] = '\n';
  // One write of a fixed size at one place: a killed process leaves the old record or the new.
  if (::pwrite(fd_, record, kRecordBytes, 0) != static_cast<ssize_t>(kRecordBytes)) {
    *error = path_ + ": " + std::strerror(errno);
    return false;
  }
  last_ = state;
  return true;
}

void ReplicaState::Clear() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  ::unlink(path_.c_str());
  last_.reset();
}

}  // namespace dynakv::server
