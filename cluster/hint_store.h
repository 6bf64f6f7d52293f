// Hinted handoff's durable half: writes this node accepted on behalf of a replica that could not
// take them (sloppy quorum), kept until that replica has them.
//
// The hints live in a storage engine of their own (its own commit log and segments, in a
// directory next to the node's data), never in the node's replica data: a hint is not this
// node's copy of the key, must not be served by its reads, and must be found again, owner by
// owner, after a restart. A hint is keyed by (intended owner, key) and holds an encoded
// SiblingSet; hints for the same owner and key merge, so a key written many times while its
// owner was down costs one hint.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/versioned_value.h"
#include "storage/options.h"
#include "storage/status.h"

namespace dynakv::storage {
class Engine;
}

namespace dynakv::cluster {

class HintStore {
 public:
  struct Hint {
    std::string owner;
    std::string key;
    std::string encoded;  // the SiblingSet's bytes, as stored
  };

  // Opens (creating) the store in `dir`, whose parent must exist. `clock_ms` as in
  // storage::Options (empty: the system clock).
  static storage::Status Open(const std::string& dir, storage::FsyncPolicy fsync,
                              std::function<std::int64_t()> clock_ms,
                              std::unique_ptr<HintStore>* store,
                              storage::LogCorruptionPolicy corruption =
                                  storage::LogCorruptionPolicy::kRefuse,
                              std::function<int(std::string_view)> log_fault_hook = nullptr);
  // Over an engine opened elsewhere (Open is the usual way).
  explicit HintStore(std::unique_ptr<storage::Engine> engine);
  ~HintStore();
  HintStore(const HintStore&) = delete;
  HintStore& operator=(const HintStore&) = delete;

  // Merges `incoming` into the hint for (owner, key). The hint expires with the merged set, as
  // a replica's copy would (ReplicaService::StorageExpiry), so an expiring value does not
  // outlive itself as a hint.
  storage::Status Put(std::string_view owner, std::string_view key, const SiblingSet& incoming,
                      std::int64_t now_ms, std::int64_t tombstone_grace_ms);
  // The hint's stored bytes, or "" when there is none.
  std::string Get(std::string_view owner, std::string_view key);
  // Deletes the hint if it still holds `encoded`: a hint that grew while a copy of it was in
  // flight to its owner must stay until the newer bytes are delivered too.
  bool DeleteIfUnchanged(std::string_view owner, std::string_view key, std::string_view encoded);

  // Iterates in the engine's hash order (cursor semantics as storage::Engine::Scan: start at 0,
  // 0 returned means the pass is complete; a hint may be seen twice). Stored entries that are
  // not hints (a foreign or corrupt store) are deleted and counted in *bad.
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count, std::vector<Hint>* hints,
                     std::uint64_t* bad);

  std::uint64_t size() const;  // hints held

  // The owners that may have hints here (a superset: it learns of owners as hints are stored
  // and when opened, and forgets them only through ForgetOwners), so the handoff can tell
  // without a scan whether any owner it can reach has hints waiting.
  std::vector<std::string> owners() const;
  // Counts stores; ForgetOwners uses it to keep owners that got hints while a pass was running.
  std::uint64_t put_sequence() const { return put_sequence_; }
  // A full pass over the store that began at put_sequence() == `pass_start` saw hints only for
  // `seen`: every other owner without a Put since then has none left.
  void ForgetOwners(const std::set<std::string, std::less<>>& seen, std::uint64_t pass_start);
  // Makes Put and DeleteIfUnchanged durable per the fsync policy (called before acking a hint).
  storage::Status FlushLog();
  // The fsync policy from now on (CONFIG SET appendfsync reaches it through ClusterNode).
  void SetFsyncPolicy(storage::FsyncPolicy policy);
  // The engine's periodic work (expiry, compaction): the handoff timer calls it.
  void Tick();

  // The engine key of a hint, and back. The owner is length-prefixed, so no key or id can make
  // two pairs collide.
  static std::string StoreKey(std::string_view owner, std::string_view key);
  static bool ParseStoreKey(std::string_view stored, std::string_view* owner,
                            std::string_view* key);

 private:
  void NoteOwner(std::string_view owner);

  std::unique_ptr<storage::Engine> engine_;
  // Owner -> put_sequence_ of its last Put.
  std::map<std::string, std::uint64_t, std::less<>> owners_;
  std::uint64_t put_sequence_ = 0;
};

}  // namespace dynakv::cluster
