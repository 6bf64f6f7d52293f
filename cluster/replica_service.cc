#include "replica_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "cluster/stored_siblings.h"
#include "storage/engine.h"

namespace dynakv::cluster {

std::int64_t ReplicaService::NowMs() const {
  if (options_.clock_ms) return options_.clock_ms();
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t ReplicaService::StorageExpiry(const SiblingSet& set, std::int64_t now_ms,
                                           std::int64_t tombstone_grace_ms) {
  std::int64_t latest = 0;
  bool has_tombstone = false;
  for (const Version& version : set.versions()) {
    if (version.collection) return 0;
    if (version.tombstone) {
      has_tombstone = true;
      continue;
    }
    if (version.expire_at_ms == 0) return 0;
    // A non-positive expiry only comes from a broken peer; it means "already expired".
    latest = std::max(latest, std::max<std::int64_t>(version.expire_at_ms, 1));
  }
  if (has_tombstone) {
    const std::int64_t grace = std::max<std::int64_t>(tombstone_grace_ms, 0);
    const std::int64_t until = now_ms > std::numeric_limits<std::int64_t>::max() - grace
                                   ? std::numeric_limits<std::int64_t>::max()
                                   : now_ms + grace;
    latest = std::max(latest, std::max<std::int64_t>(until, 1));
  }
  return latest;
}

std::int64_t ReplicaService::NowUs() const {
  if (options_.clock_ms) return options_.clock_ms() * 1000;
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

void ReplicaService::Load(std::string_view key, std::string* bytes, SiblingSet* set,
                          bool* as_object) {
  *set = SiblingSet();
  bytes->clear();
  if (as_object != nullptr) *as_object = false;
  const auto stored = engine_.Get(key);
  if (const storage::Status error = engine_.TakeReadError(); !error.ok()) {
    // A damaged segment block: this copy is gone, the other replicas still have theirs, and
    // read repair and anti-entropy bring it back as they do an undecodable one.
    ++stats_.undecodable_values;
    if (options_.log_warning) {
      options_.log_warning("Stored value of key '" + std::string(key.substr(0, 64)) +
                           "' could not be read (" + error.ToString() +
                           "); treating the replica as empty");
    }
    return;
  }
  if (!stored) return;
  *bytes = StoredBytes(*stored);
  if (as_object != nullptr) *as_object = stored->object() != nullptr;
  // A copy held as an object was checked whole when it was read back from disk, and since then
  // only joined and encoded here: its payloads need no second check on every read.
  if (SiblingSet::Decode(*bytes, set, /*check_payloads=*/stored->object() == nullptr)) return;
  ++stats_.undecodable_values;
  if (options_.log_warning) {
    options_.log_warning("Stored value of key '" + std::string(key.substr(0, 64)) +
                         "' is not a valid sibling set (" + std::to_string(bytes->size()) +
                         " bytes); treating the replica as empty");
  }
  *set = SiblingSet();
}

SiblingSet ReplicaService::Get(std::string_view key, std::string* encoded) {
  std::string bytes;
  SiblingSet set;
  Load(key, &bytes, &set);
  if (flushed_before_us_ > 0 && !set.empty()) {
    // A copy a crash kept past its FLUSHALL (the epoch is recorded before the data goes).
    const std::size_t before = set.size();
    DropFlushed(&set);
    if (set.size() != before) bytes = set.empty() ? std::string() : set.Encode();
  }
  // Only bytes that decoded are handed out: garbage is "no copy", which read repair replaces.
  if (encoded != nullptr) *encoded = set.empty() ? std::string() : std::move(bytes);
  return set;
}

std::string ReplicaService::GetEncoded(std::string_view key) {
  std::string encoded;
  Get(key, &encoded);
  return encoded;
}

std::int64_t ReplicaService::SkewLimitUs() const {
  if (options_.max_clock_skew_ms <= 0) return std::numeric_limits<std::int64_t>::max();
  return NowUs() + std::int64_t{options_.max_clock_skew_ms} * 1000;
}

storage::Status ReplicaService::CheckClockSkew(std::string_view key, const SiblingSet& set) {
  const std::int64_t limit_us = SkewLimitUs();
  for (const Version& version : set.versions()) {
    if (version.timestamp_us <= limit_us) continue;
    ++stats_.clock_skew_rejections;
    const std::string error =
        "a version of key '" + std::string(key.substr(0, 64)) + "' is stamped " +
        std::to_string(version.timestamp_us) + " us, more than max-clock-skew-ms (" +
        std::to_string(options_.max_clock_skew_ms) + ") ahead of this node's clock";
    if (options_.log_warning) options_.log_warning("Refused " + error);
    return storage::Status::InvalidArgument(error);
  }
  return storage::Status::Ok();
}

void ReplicaService::ObserveRead(std::string_view key, const SiblingSet& read) {
  // Only the sane stamps move the clock; CheckClockSkew counts and logs the others.
  const bool sane = CheckClockSkew(key, read).ok();
  const std::int64_t limit_us = SkewLimitUs();
  for (const Version& version : read.versions()) {
    if (sane || version.timestamp_us <= limit_us) clock_.Observe(version.timestamp_us);
  }
}

storage::Status ReplicaService::Put(std::string_view key, const SiblingSet& unfiltered) {
  if (storage::Status skew = CheckClockSkew(key, unfiltered); !skew.ok()) return skew;
  for (const Version& version : unfiltered.versions()) clock_.Observe(version.timestamp_us);
  SiblingSet filtered;
  const SiblingSet* incoming = &unfiltered;
  if (flushed_before_us_ > 0) {
    filtered = unfiltered;
    DropFlushed(&filtered);
    if (filtered.empty()) return storage::Status::Ok();  // all of it predates a FLUSHALL
    incoming = &filtered;
  }
  std::string stored;
  if (const auto ref = engine_.Get(key); ref && ref->object() != nullptr) {
    // A collection's copy (stored_siblings.h): the engine joins `incoming` into it and logs only
    // the join, O(incoming) bytes.
    stored = StoredBytes(*ref);
    return JoinStored(key, *incoming, std::move(stored));
  }
  SiblingSet merged;
  Load(key, &stored, &merged, nullptr);
  if (merged.empty()) stored.clear();  // undecodable bytes are no copy, for the observer too
  merged.Merge(*incoming);
  if (merged.empty()) return storage::Status::Ok();
  std::string encoded = merged.Encode();
  if (encoded == stored) return storage::Status::Ok();
  storage::Status status;
  if (std::any_of(merged.versions().begin(), merged.versions().end(),
                  [](const Version& v) { return v.collection; })) {
    // Becomes a collection here: stored whole once, joined from then on.
    status = engine_.PutObject(key, SerializedSiblings(encoded), 0);
    if (status.code() == storage::Status::Code::kInvalidArgument) {
      // An engine opened without StoredSiblingsCodec (unit tests, tools): a plain value.
      status = engine_.Put(key, encoded, 0);
    }
  } else {
    status = engine_.Put(key, encoded, StorageExpiry(merged, NowMs(), options_.tombstone_grace_ms));
  }
  if (status.ok() && on_change_) on_change_(key, stored, encoded);
  return status;
}

storage::Status ReplicaService::JoinStored(std::string_view key, const SiblingSet& incoming,
                                           std::string stored) {
  std::string op = JoinOp(incoming.Encode());
  // A coordinator's own replica gets each delta twice: from the command (stored before the delta
  // ships, cluster_collections.h) and as one of the write's replicas. The second join changes
  // nothing (joins are idempotent) and is skipped, with its log record and its O(set) decode and
  // encode, when nothing at all was logged since the first.
  if (key == last_join_key_ && op == last_join_op_ && engine_.LogEnd() == last_join_log_end_) {
    return storage::Status::Ok();
  }
  std::int64_t result = 0;
  storage::Status status = engine_.Mutate(key, op, &result);
  if (status.ok()) {
    last_join_key_.assign(key);
    last_join_op_ = std::move(op);
    last_join_log_end_ = engine_.LogEnd();
  }
  if (!status.ok() || (result & kJoinChanged) == 0) return status;
  const auto ref = engine_.Get(key);
  std::string encoded = ref ? StoredBytes(*ref) : std::string();
  if ((result & kJoinHasCollection) == 0) {
    // No collection any more (a write that replaced it, a type change): a plain value again,
    // with its storage expiry (tombstone grace), as any other key.
    SiblingSet merged;
    if (SiblingSet::Decode(encoded, &merged)) {
      status =
          engine_.Put(key, encoded, StorageExpiry(merged, NowMs(), options_.tombstone_grace_ms));
      if (!status.ok()) return status;
    }
  }
  if (on_change_) on_change_(key, stored, encoded);
  return status;
}

storage::Status ReplicaService::PutBatch(
    const std::vector<std::pair<std::string_view, SiblingSet>>& writes) {
  for (const auto& [key, set] : writes) {
    if (storage::Status skew = CheckClockSkew(key, set); !skew.ok()) return skew;
  }
  storage::Engine::AtomicGroup group(engine_);
  for (const auto& [key, set] : writes) {
    if (storage::Status status = Put(key, set); !status.ok()) return status;
  }
  return storage::Status::Ok();
}

storage::Status ReplicaService::FlushLog() {
  storage::Status status = engine_.FlushLog();
  if (hints_ != nullptr) {
    const storage::Status hinted = hints_->FlushLog();
    if (status.ok()) status = hinted;
  }
  return status;
}

storage::Status ReplicaService::StoreHint(std::string_view owner, std::string_view key,
                                          const SiblingSet& incoming) {
  if (owner == options_.self_id) return Put(key, incoming);
  if (hints_ == nullptr) {
    return storage::Status::InvalidArgument("this node keeps no hints (hints are disabled)");
  }
  if (storage::Status skew = CheckClockSkew(key, incoming); !skew.ok()) return skew;
  for (const Version& version : incoming.versions()) clock_.Observe(version.timestamp_us);
  // (The owner drops what a FLUSHALL covers when the hint is delivered.)
  const storage::Status status =
      hints_->Put(owner, key, incoming, NowMs(), options_.tombstone_grace_ms);
  if (status.ok()) ++stats_.hints_stored;
  return status;
}

bus::KeyPage ReplicaService::LiveKeys(const bus::KeyPageRequest& request) {
  // Bounded per request: a page is one bus reply, answered on the loop.
  const std::size_t count =
      static_cast<std::size_t>(std::clamp<std::uint64_t>(request.count, 1, 10000));
  const std::int64_t now = NowMs();
  auto live = [&](const std::string& key) {
    const SiblingSet set = Get(key);
    const Version* winner = set.Resolve();
    return winner != nullptr && winner->IsLive(now);
  };
  bus::KeyPage page;
  if (request.random) {
    for (std::size_t draw = 0; draw < count * 4 && page.keys.size() < count; ++draw) {
      std::optional<std::string> key = engine_.RandomKey();
      if (!key) break;
      if (live(*key)) page.keys.push_back(std::move(*key));
    }
    return page;
  }
  std::vector<std::string> keys;
  page.next_cursor = engine_.Scan(request.cursor, count, &keys);
  for (std::string& key : keys) {
    if (live(key)) page.keys.push_back(std::move(key));
  }
  return page;
}

void ReplicaService::DropFlushed(SiblingSet* set) const {
  if (flushed_before_us_ <= 0 || set->empty()) return;
  bool any = false;
  for (const Version& version : set->versions()) any |= version.timestamp_us <= flushed_before_us_;
  if (!any) return;
  SiblingSet kept;
  for (const Version& version : set->versions()) {
    if (version.timestamp_us > flushed_before_us_) kept.Add(version);
  }
  *set = std::move(kept);
}

namespace {

storage::Status IoError(const std::string& what, const std::string& path) {
  return storage::Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

// Writes `contents` to `path` so that a crash leaves the old or the new file, never a torn one.
storage::Status WriteFileDurably(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create", tmp);
  const bool written =
      ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
      ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (!written) return IoError("cannot write", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return IoError("cannot rename to", path);
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return storage::Status::Ok();
}

}  // namespace

storage::Status ReplicaService::LoadFlushEpoch() {
  if (options_.flush_epoch_file.empty()) return storage::Status::Ok();
  std::ifstream in(options_.flush_epoch_file);
  if (!in) {
    if (errno == ENOENT) return storage::Status::Ok();
    return IoError("cannot read", options_.flush_epoch_file);
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::string contents = text.str();
  long long value = 0;
  char extra = 0;
  if (std::sscanf(contents.c_str(), "%lld%c", &value, &extra) < 1 || value < 0 ||
      (extra != 0 && extra != '\n')) {
    return storage::Status::Corruption("the FLUSHALL epoch file " + options_.flush_epoch_file +
                                       " does not hold a timestamp");
  }
  flushed_before_us_ = value;
  clock_.Observe(value);
  return storage::Status::Ok();
}

storage::Status ReplicaService::ApplyFlush(std::int64_t timestamp_us) {
  clock_.Observe(timestamp_us);
  if (timestamp_us > flushed_before_us_) {
    // Recorded before the data goes: after a crash in between, the copies still on disk are
    // dropped as they are read back in by no one (reads filter too) and the next FLUSHALL
    // finishes the job.
    if (!options_.flush_epoch_file.empty()) {
      const storage::Status status =
          WriteFileDurably(options_.flush_epoch_file, std::to_string(timestamp_us) + "\n");
      if (!status.ok()) return status;
    }
    flushed_before_us_ = timestamp_us;
  }
  engine_.Clear();
  return engine_.FlushLog();
}

}  // namespace dynakv::cluster
