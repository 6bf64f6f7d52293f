// The replica side: this node's copies of keys, as the local storage engine holds them. Both the
// bus (other coordinators' REPLICA_GET / REPLICA_PUT) and this node's own coordinator go through
// it, so a write lands the same way whoever coordinates it.
//
// A key's stored value is its SiblingSet::Encode() bytes: a plain value, or, once the set holds a
// convergent collection, an object of those bytes whose writes are logged as joins of what
// arrived (stored_siblings.h). A write never overwrites blindly: the incoming set is merged with
// the stored one, so a replica keeps every version no other version has seen, whatever order
// writes and repairs arrive in.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/bus_protocol.h"
#include "cluster/cluster_node.h"
#include "cluster/hybrid_clock.h"
#include "cluster/versioned_value.h"
#include "hint_store.h"
#include "storage/status.h"

namespace dynakv::storage {
class Engine;
}

namespace dynakv::cluster {

class ReplicaService {
 public:
  // Every reference must outlive the service. `options` supplies the clock, the tombstone grace
  // period and the warning log.
  ReplicaService(storage::Engine& engine, HybridClock& clock, const ClusterOptions& options,
                 ClusterStats& stats)
      : engine_(engine), clock_(clock), options_(options), stats_(stats) {}
  ReplicaService(const ReplicaService&) = delete;
  ReplicaService& operator=(const ReplicaService&) = delete;

  // The stored copy. Undecodable bytes count as no copy (and are counted and logged): the next
  // write or read repair replaces them. `encoded`, when given, gets the copy's bytes ("" when
  // there is none).
  SiblingSet Get(std::string_view key, std::string* encoded = nullptr);
  // The same, encoded (what a REPLICA_GET returns); empty when there is no valid copy.
  std::string GetEncoded(std::string_view key);
  // Merges `incoming` into the stored copy and stores the result (unchanged bytes are not
  // rewritten, so repeated read repairs cost no log writes). Timestamps are folded into the
  // hybrid clock, so this node's next write sorts after what it has stored. A set with a version
  // stamped more than max_clock_skew_ms ahead of the local clock is refused (InvalidArgument):
  // once stored, it would win every last-write-wins comparison and drag every clock along.
  storage::Status Put(std::string_view key, const SiblingSet& incoming);
  // Put of every (key, set) as ONE atomic group of the engine (one commit-log record): a crash
  // keeps all of them or none. Nothing is stored when a set fails the clock-skew check.
  storage::Status PutBatch(const std::vector<std::pair<std::string_view, SiblingSet>>& writes);
  // Folds the timestamps of data read from replicas into the hybrid clock, skipping (and
  // logging) any beyond max_clock_skew_ms ahead.
  void ObserveRead(std::string_view key, const SiblingSet& read);
  // Makes stored writes (and hints) durable per the fsync policy: replica acks wait for it.
  storage::Status FlushLog();

  // Hinted handoff: the store for writes held on behalf of other replicas (null: this node
  // keeps none). Set once, before the bus starts.
  void set_hint_store(HintStore* hints) { hints_ = hints; }
  // Keeps `incoming` as a hint for `owner`, merged with any hint for the same key (a hint
  // naming this node is applied to its own copy instead). Fails when this node keeps no hints.
  storage::Status StoreHint(std::string_view owner, std::string_view key,
                            const SiblingSet& incoming);

  // Called after every change Put stores, with the key's previous and new encoded sets ("" for
  // no valid copy): anti-entropy's Merkle trees follow writes through it. Set once, before the
  // bus starts.
  using ChangeObserver = std::function<void(std::string_view key, std::string_view old_encoded,
                                            std::string_view new_encoded)>;
  void set_change_observer(ChangeObserver observer) { on_change_ = std::move(observer); }

  // FLUSHALL of the whole cluster (ClusterNode::FlushAll): records `timestamp_us` durably in
  // options.flush_epoch_file (kept when later than the one recorded) and empties the replica.
  // From then on every version stamped at or before the latest recorded flush is dropped
  // wherever it arrives (replica writes, hints, read repair, anti-entropy, reads), so copies
  // that missed the flush (hints queued before it, a replica that flushed later) cannot bring
  // a flushed key back. Observed by the hybrid clock: this node's later writes sort after it.
  storage::Status ApplyFlush(std::int64_t timestamp_us);
  // Reads options.flush_epoch_file (absent: never flushed). Fails on unreadable contents.
  storage::Status LoadFlushEpoch();
  std::int64_t flushed_before_us() const { return flushed_before_us_; }
  // Removes from `set` the versions a recorded flush covers.
  void DropFlushed(SiblingSet* set) const;

  // KEY_PAGE: live keys only (a set whose last-write-wins version is live), the engine's scan
  // order; with request.random, up to request.count keys drawn at random.
  bus::KeyPage LiveKeys(const bus::KeyPageRequest& request);

  std::int64_t NowMs() const;
  // The same wall clock in microseconds, for HybridClock.
  std::int64_t NowUs() const;

  // The storage expiry of a stored set: the latest expiry of its values, 0 (none) if any value
  // has none; a set with tombstones is kept at least until now + grace, so the delete
  // replicates, and is then purged. A collection (Version::collection) is never purged: its
  // context is what keeps an older copy elsewhere from bringing removed elements back, and
  // nothing here knows that every replica has seen the removal (README: tombstones).
  static std::int64_t StorageExpiry(const SiblingSet& set, std::int64_t now_ms,
                                    std::int64_t tombstone_grace_ms);

 private:
  // The latest timestamp (us) a version may carry: max_clock_skew_ms ahead of this clock.
  std::int64_t SkewLimitUs() const;
  // Ok unless a version of `set` is stamped beyond the clock-skew bound; counts and logs it.
  storage::Status CheckClockSkew(std::string_view key, const SiblingSet& set);
  // Reads and decodes the stored copy; *bytes gets the raw stored value ("" when none), and
  // *as_object (when given) whether it is stored as a collection's object (stored_siblings.h).
  void Load(std::string_view key, std::string* bytes, SiblingSet* set, bool* as_object = nullptr);
  // Put into a copy stored as an object: the engine joins `incoming` and logs only it. `stored`:
  // the copy's bytes before, for the change observer.
  storage::Status JoinStored(std::string_view key, const SiblingSet& incoming, std::string stored);

  storage::Engine& engine_;
  HybridClock& clock_;
  const ClusterOptions& options_;
  ClusterStats& stats_;
  HintStore* hints_ = nullptr;
  ChangeObserver on_change_;
  std::int64_t flushed_before_us_ = 0;  // the latest recorded FLUSHALL's timestamp
  // The last join JoinStored logged, and the engine's LogEnd() right after it.
  std::string last_join_key_;
  std::string last_join_op_;
  std::uint64_t last_join_log_end_ = 0;
};

}  // namespace dynakv::cluster
