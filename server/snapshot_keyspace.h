// A cluster-mode command's view of its keys: what the coordinator read from the replicas,
// reconciled, with last-write-wins picking the value a Redis client sees. The command's handler
// runs against it exactly as against the engine; what it changes is recorded, not applied, and
// the coordinator then writes each changed key back to its replicas as a new version.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/collection_state.h"
#include "cluster/versioned_value.h"
#include "keyspace.h"
#include "storage/object.h"

namespace dynakv::server {

// The string a plain read shows for a (non-typed) version: its bytes, a counter's value in
// decimal (GET, VGET, DUMP, OBJECT ENCODING see a counter as the string holding the number), or
// an HLL collection's registers as a Redis HLL string (crdt::HllRegisters::ToRedis).
std::string PlainValue(const cluster::Version& version);
// Whether a plain read sees `version` as a typed value (types/), and its serialized form: a
// typed version's bytes, or a collection's elements as a new value of its type (a set of the
// ORSet's members, built as Redis builds a new set; a hash of the map's fields in byte order,
// encoded by the default hash-max-listpack-* limits; a sorted set of the members and merged
// scores, by the zset-max-listpack-* ones). An HLL collection is a string, not typed.
bool IsTypedVersion(const cluster::Version& version);
// `decoded`, when given, is the collection's state already decoded from version.value.
std::string TypedValue(const cluster::Version& version,
                       const cluster::CollectionState* decoded = nullptr);

// A collection version of a sibling set (`version`, nullptr for none) and its state decoded.
struct DecodedCollection {
  const cluster::Version* version = nullptr;
  cluster::CollectionState state;
};

class SnapshotKeyspace final : public Keyspace {
 public:
  // What a key holds after the command ran.
  struct KeyState {
    bool exists = false;  // false: absent, or deleted by the command
    std::string value;    // a string's bytes
    // A typed value (types/) instead of a string: what the coordinator writes back serialized,
    // as a typed version (cluster::Version::typed).
    std::unique_ptr<storage::ValueObject> object;
    std::int64_t expire_at_ms = 0;
    bool changed = false;  // the command wrote it: it needs a new version
    // How: the element operations (types/ops.h) applied to the loaded value, in order, unless
    // `replaced` (a Put, PutObject or Delete: the value as a whole). A collection key's new
    // version is made from these (cluster_collections.h).
    std::vector<std::string> ops;
    bool replaced = false;
  };
  using KeyStates = std::map<std::string, KeyState, std::less<>>;

  // `node_local` answers KEYS/SCAN/DBSIZE/RANDOMKEY/FLUSHALL (commands without keys never get
  // here, but a Keyspace must answer them); `now_ms` decides which versions have expired.
  // `codec` decodes typed versions and applies element operations (nullptr: typed values read
  // as absent and cannot be written).
  SnapshotKeyspace(Keyspace& node_local, std::int64_t now_ms,
                   const storage::ObjectCodec* codec = nullptr)
      : node_local_(node_local), now_ms_(now_ms), codec_(codec) {}

  // The key as the replicas hold it: the last-write-wins version if it is live, else absent.
  // `decoded`, when given, is a collection version of `set` the caller decoded already (a
  // collection write decodes its copy once for the command and the delta).
  void Load(std::string_view key, const cluster::SiblingSet& set,
            const DecodedCollection* decoded = nullptr);

  const KeyStates& keys() const { return keys_; }

  // What wrote `key` in a transaction or script (CallCommand notes every write command run
  // against the snapshot; IncrementKindOf): a key that increments wrote (the INCR family,
  // HINCRBY, ZINCRBY), and nothing else but expiry changes (EXPIRE, PERSIST, ...), is written as
  // increments of the values read, not as the values computed, so concurrent increments through
  // other nodes all count (ClusterExecutor::AddVersion).
  enum class WriteKind { kIncrement, kExpiry, kOther };
  void NoteWrite(std::string_view key, WriteKind kind);
  bool OnlyIncremented(std::string_view key) const;

  std::optional<storage::ValueRef> Get(std::string_view key) override;
  bool Exists(std::string_view key) override { return Live(key) != nullptr; }
  std::optional<std::int64_t> GetExpireAt(std::string_view key) override;
  // A key the snapshot was not loaded with counts as absent; writing it still records it.
  storage::Status Put(std::string_view key, std::string_view value,
                      std::int64_t expire_at_ms) override;
  bool Delete(std::string_view key) override;
  bool SetExpireAt(std::string_view key, std::int64_t expire_at_ms) override;
  storage::Status Mutate(std::string_view key, std::string_view op, std::int64_t* result) override;
  storage::Status PutObject(std::string_view key, std::string_view serialized,
                            std::int64_t expire_at_ms) override;

  std::uint64_t KeyCount() override { return node_local_.KeyCount(); }
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count,
                     std::vector<std::string>* keys) override {
    return node_local_.Scan(cursor, count, keys);
  }
  std::optional<std::string> RandomKey() override { return node_local_.RandomKey(); }
  void Clear() override { node_local_.Clear(); }

 private:
  // The key's state if it exists and has not expired; nullptr otherwise.
  KeyState* Live(std::string_view key);
  KeyState& Slot(std::string_view key);
  void Drop(KeyState* state);  // the key no longer exists

  Keyspace& node_local_;
  const std::int64_t now_ms_;
  const storage::ObjectCodec* codec_;
  KeyStates keys_;
  struct Writers {
    bool increment = false;
    bool other = false;
  };
  std::map<std::string, Writers, std::less<>> writers_;  // NoteWrite's keys
};

}  // namespace dynakv::server
