// The keys a command works on. Command handlers never reach the storage engine directly: they
// go through a Keyspace, so the same handler runs on a single node (LocalKeyspace, straight to
// the engine) and in cluster mode (a snapshot of the key's replicas, see snapshot_keyspace.h),
// where the coordinator turns what the handler changed into replicated versions.
//
// A keyspace is one numbered database (SELECT): a handler's ctx.keyspace is the client's selected
// database, and db() names it (for what keys alone do not identify: WATCH, keyspace notification
// channels, blocked clients). Cluster mode has database 0 only, as Redis Cluster.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/engine.h"
#include "storage/status.h"
#include "types/ops.h"

namespace dynakv::server {

// Told of every change made through a LocalKeyspace: the source of the server's "key modified"
// signal (Server::SignalModifiedKey) for writes, as Redis's signalModifiedKey is called by every
// command that changes a key.
class KeyspaceObserver {
 public:
  virtual ~KeyspaceObserver() = default;
  // `key` was written, deleted or had its expiry changed (only when it did change: a DEL of a
  // missing key, an EXPIRE of one, a refused write are no change).
  virtual void KeyModified(std::uint32_t db, std::string_view key) = 0;
  // Every key of database `db` (of every database when -1: FLUSHALL) is about to go; called
  // before, so what exists can still be looked up.
  virtual void KeyspaceClearing(int db) = 0;
};

// What Redis 7.0's OBJECT ENCODING of a string depends on besides its bytes: how the command
// that last wrote it made its object. A LocalKeyspace keeps it as the engine's hint of the value
// (storage::Engine::Put), in memory only, which is what Redis does too: loading an RDB file
// re-encodes every string by its bytes (tryObjectEncoding), so a restart forgets the rest.
enum StringHint : std::uint8_t {
  // tryObjectEncoding's rule (SET and its family, GETSET, INCR, RESTORE, APPEND to a new key):
  // "int" for a long's canonical text, "embstr" up to 44 bytes, "raw" beyond.
  kStringAsSet = 0,
  // Unshared, then changed (dbUnshareStringValue: APPEND to a key, SETRANGE, SETBIT, BITFIELD,
  // BITOP's result, PFADD): "raw" at any length.
  kStringRaw = 1,
  // Made from text and never re-encoded (INCRBYFLOAT's createStringObject): "embstr" up to 44
  // bytes, "raw" beyond, even for an integer's text.
  kStringText = 2,
  // dupStringObject's copy of a kStringAsSet object (COPY): the same encoding, but an object of
  // its own, so never one of the shared integers (OBJECT REFCOUNT 1).
  kStringCopied = 3,
};

class Keyspace {
 public:
  virtual ~Keyspace() = default;

  // The database this keyspace is (0 in cluster mode).
  virtual std::uint32_t db() const { return 0; }

  // --- one key, with the engine's semantics (see storage/engine.h) --------------------------
  // The value of a live key; valid until the next call on this keyspace.
  virtual std::optional<storage::ValueRef> Get(std::string_view key) = 0;
  virtual bool Exists(std::string_view key) = 0;
  // nullopt: no such key; 0: no expiry; otherwise absolute unix ms.
  virtual std::optional<std::int64_t> GetExpireAt(std::string_view key) = 0;
  virtual storage::Status Put(std::string_view key, std::string_view value,
                              std::int64_t expire_at_ms) = 0;
  // Put, of a string whose encoding follows `hint` rather than SET's rule. Where hints are not
  // kept (a snapshot of replicas in cluster mode: encodings follow the bytes) it is Put.
  virtual storage::Status PutString(std::string_view key, std::string_view value,
                                    std::int64_t expire_at_ms, StringHint hint) {
    (void)hint;
    return Put(key, value, expire_at_ms);
  }
  // A string Redis unshares without changing it (SETBIT of a bit as it was, BITFIELD writing
  // what is there, PFADD adding nothing, PFCOUNT): "raw" from now on, nothing written.
  virtual void MarkStringRaw(std::string_view key) { (void)key; }
  virtual bool Delete(std::string_view key) = 0;  // whether the key existed
  // 0 removes the expiry; a past time deletes the key. False when the key does not exist.
  virtual bool SetExpireAt(std::string_view key, std::int64_t expire_at_ms) = 0;

  // Writes byte pieces into the string at `key` (storage::Engine::PatchString: a missing key is
  // an empty string, the value grows with zero bytes, the expiry stays), which is then raw
  // (kStringRaw: Redis unshares a string before changing it in place). The caller has checked
  // that the key holds no typed value. By default (a snapshot of replicas in cluster mode, whose
  // writes are whole values anyway) the whole value is read, patched and put back.
  virtual storage::Status PatchString(std::string_view key,
                                      const std::vector<storage::BytePatch>& pieces) {
    std::string value;
    std::int64_t expire_at_ms = 0;
    if (std::optional<storage::ValueRef> current = Get(key)) {
      value = current->ToString();
      expire_at_ms = current->expire_at_ms();
    }
    storage::ApplyBytePatches(&value, pieces);
    return Put(key, value, expire_at_ms);
  }

  // --- typed values (types/): Get's ValueRef::object() is non-null for them ------------------
  // One element operation (types/ops.h), logged as such (storage::Engine::Mutate).
  virtual storage::Status Mutate(std::string_view key, std::string_view op, std::int64_t* result) {
    (void)key, (void)op, (void)result;
    return storage::Status::InvalidArgument(std::string(kTypedValuesUnavailable));
  }
  // A whole typed value in its serialized form (RENAME, COPY).
  virtual storage::Status PutObject(std::string_view key, std::string_view serialized,
                                    std::int64_t expire_at_ms) {
    (void)key, (void)serialized, (void)expire_at_ms;
    return storage::Status::InvalidArgument(std::string(kTypedValuesUnavailable));
  }
  // --- what OBJECT IDLETIME and MEMORY USAGE report (storage::Engine::Inspect) --------------
  // Looking is not an access. By default (a snapshot of replicas in cluster mode): the value's
  // own size, never idle.
  virtual std::optional<storage::KeyUsage> Inspect(std::string_view key) {
    std::optional<storage::ValueRef> value = Get(key);
    if (!value) return std::nullopt;
    storage::KeyUsage usage;
    usage.memory_bytes =
        key.size() + (value->object() ? value->object()->MemoryUsage() : value->size());
    return usage;
  }
  // RESTORE ... IDLETIME; false where access times are not kept.
  virtual bool SetIdleTime(std::string_view key, std::int64_t idle_seconds) {
    (void)key, (void)idle_seconds;
    return false;
  }
  // RESTORE ... FREQ, and putting a frequency back after a look; false where it is not kept.
  virtual bool SetLfuFrequency(std::string_view key, int frequency) {
    (void)key, (void)frequency;
    return false;
  }

  // Where a keyspace has no typed values (cluster mode, for now: README).
  static constexpr std::string_view kTypedValuesUnavailable =
      "this data type is not available in cluster mode yet";

  // --- the keys this node stores (in cluster mode: its own replica, not the whole cluster) ---
  virtual std::uint64_t KeyCount() = 0;
  virtual std::uint64_t Scan(std::uint64_t cursor, std::size_t count,
                             std::vector<std::string>* keys) = 0;
  virtual std::optional<std::string> RandomKey() = 0;
  // FLUSHALL: every database (in cluster mode, this node's replica).
  virtual void Clear() = 0;
  // FLUSHDB: this database only. The default, for keyspaces that are the only database, is
  // Clear().
  virtual storage::Status ClearDb() {
    Clear();
    return storage::Status::Ok();
  }
};

// Single-node mode: every operation is the engine's own, in database `db`. Header-only so the
// calls stay as cheap as calling the engine (the hot path Redis benchmarks measure).
class LocalKeyspace final : public Keyspace {
 public:
  // `observer` (which must outlive it) hears of every change.
  LocalKeyspace(storage::Engine& engine, std::uint32_t db, KeyspaceObserver& observer)
      : engine_(engine), db_(db), observer_(observer) {}

  std::uint32_t db() const override { return db_; }
  std::optional<storage::ValueRef> Get(std::string_view key) override {
    return engine_.Get(db_, key);
  }
  bool Exists(std::string_view key) override { return engine_.Exists(db_, key); }
  std::optional<std::int64_t> GetExpireAt(std::string_view key) override {
    return engine_.GetExpireAt(db_, key);
  }
  storage::Status Put(std::string_view key, std::string_view value,
                      std::int64_t expire_at_ms) override {
    storage::Status s = engine_.Put(db_, key, value, expire_at_ms);
    if (s.ok()) observer_.KeyModified(db_, key);
    return s;
  }
  storage::Status PutString(std::string_view key, std::string_view value,
                            std::int64_t expire_at_ms, StringHint hint) override {
    storage::Status s = engine_.Put(db_, key, value, expire_at_ms, hint);
    if (s.ok()) observer_.KeyModified(db_, key);
    return s;
  }
  void MarkStringRaw(std::string_view key) override { engine_.SetHint(db_, key, kStringRaw); }
  storage::Status PatchString(std::string_view key,
                              const std::vector<storage::BytePatch>& pieces) override {
    storage::Status s = engine_.PatchString(db_, key, pieces, kStringRaw);
    if (s.ok()) observer_.KeyModified(db_, key);
    return s;
  }
  bool Delete(std::string_view key) override {
    const bool existed = engine_.Delete(db_, key);
    if (existed) observer_.KeyModified(db_, key);
    return existed;
  }
  bool SetExpireAt(std::string_view key, std::int64_t expire_at_ms) override {
    const bool existed = engine_.SetExpireAt(db_, key, expire_at_ms);
    if (existed) observer_.KeyModified(db_, key);
    return existed;
  }
  std::optional<storage::KeyUsage> Inspect(std::string_view key) override {
    return engine_.Inspect(db_, key);
  }
  bool SetIdleTime(std::string_view key, std::int64_t idle_seconds) override {
    return engine_.SetIdleTime(db_, key, idle_seconds);
  }
  bool SetLfuFrequency(std::string_view key, int frequency) override {
    return engine_.SetLfuFrequency(db_, key, frequency);
  }
  storage::Status Mutate(std::string_view key, std::string_view op, std::int64_t* result) override {
    storage::Status s = engine_.Mutate(db_, key, op, result);
    if (s.ok() && !types::OpChangedNothing(op, *result)) observer_.KeyModified(db_, key);
    return s;
  }
  storage::Status PutObject(std::string_view key, std::string_view serialized,
                            std::int64_t expire_at_ms) override {
    storage::Status s = engine_.PutObject(db_, key, serialized, expire_at_ms);
    if (s.ok()) observer_.KeyModified(db_, key);
    return s;
  }

  std::uint64_t KeyCount() override { return engine_.KeyCount(db_); }
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count,
                     std::vector<std::string>* keys) override {
    return engine_.Scan(db_, cursor, count, keys);
  }
  std::optional<std::string> RandomKey() override { return engine_.RandomKey(db_); }
  void Clear() override {
    observer_.KeyspaceClearing(-1);
    engine_.Clear();
  }
  storage::Status ClearDb() override {
    observer_.KeyspaceClearing(static_cast<int>(db_));
    return engine_.FlushDb(db_);
  }

 private:
  storage::Engine& engine_;
  const std::uint32_t db_;
  KeyspaceObserver& observer_;
};

}  // namespace dynakv::server
