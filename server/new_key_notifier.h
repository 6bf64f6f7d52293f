// Keyspace notifications of class n ("new"): Redis fires "new" whenever a write adds a key to
// the database (dbAdd), before the command's own event. Rather than every command asking
// whether its write created a key, the server hands commands this wrapper of the keyspace while
// the class is enabled (single node): a write to a key that did not exist before and does
// after publishes "new". Without the class enabled the keyspace is used directly, so the check
// costs nothing then.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "keyspace.h"

namespace dynakv::server {

class Server;

class NewKeyNotifier final : public Keyspace {
 public:
  NewKeyNotifier(Server& server, Keyspace& inner) : server_(server), inner_(inner) {}

  std::uint32_t db() const override { return inner_.db(); }
  std::optional<storage::ValueRef> Get(std::string_view key) override { return inner_.Get(key); }
  bool Exists(std::string_view key) override { return inner_.Exists(key); }
  std::optional<std::int64_t> GetExpireAt(std::string_view key) override {
    return inner_.GetExpireAt(key);
  }
  storage::Status Put(std::string_view key, std::string_view value,
                      std::int64_t expire_at_ms) override;
  storage::Status PutString(std::string_view key, std::string_view value, std::int64_t expire_at_ms,
                            StringHint hint) override;
  void MarkStringRaw(std::string_view key) override { inner_.MarkStringRaw(key); }
  storage::Status PatchString(std::string_view key,
                              const std::vector<storage::BytePatch>& pieces) override;
  bool Delete(std::string_view key) override { return inner_.Delete(key); }
  bool SetExpireAt(std::string_view key, std::int64_t expire_at_ms) override {
    return inner_.SetExpireAt(key, expire_at_ms);
  }
  storage::Status Mutate(std::string_view key, std::string_view op, std::int64_t* result) override;
  storage::Status PutObject(std::string_view key, std::string_view serialized,
                            std::int64_t expire_at_ms) override;

  std::uint64_t KeyCount() override { return inner_.KeyCount(); }
  std::uint64_t Scan(std::uint64_t cursor, std::size_t count,
                     std::vector<std::string>* keys) override {
    return inner_.Scan(cursor, count, keys);
  }
  std::optional<std::string> RandomKey() override { return inner_.RandomKey(); }
  void Clear() override { inner_.Clear(); }
  storage::Status ClearDb() override { return inner_.ClearDb(); }
  std::optional<storage::KeyUsage> Inspect(std::string_view key) override {
    return inner_.Inspect(key);
  }
  bool SetIdleTime(std::string_view key, std::int64_t idle_seconds) override {
    return inner_.SetIdleTime(key, idle_seconds);
  }
  bool SetLfuFrequency(std::string_view key, int frequency) override {
    return inner_.SetLfuFrequency(key, frequency);
  }

  // While held, "new" events wait and are published by Release, in order: for a command that
  // writes in another order than Redis notifies (SMOVE adds to its destination first, for crash
  // safety, where Redis removes from the source, notifies, then creates the destination).
  void Hold() { ++holds_; }
  void Release();

 private:
  // "new" when `key` exists now and `existed` says it did not before.
  void NoteWrite(std::string_view key, bool existed, const storage::Status& status);

  Server& server_;
  Keyspace& inner_;
  int holds_ = 0;
  std::vector<std::string> held_;
};

// Holds the server's "new" events (if any) for its scope; see NewKeyNotifier::Hold.
class NewKeyEventsHold {
 public:
  explicit NewKeyEventsHold(NewKeyNotifier* notifier) : notifier_(notifier) {
    if (notifier_ != nullptr) notifier_->Hold();
  }
  ~NewKeyEventsHold() { Release(); }
  NewKeyEventsHold(const NewKeyEventsHold&) = delete;
  NewKeyEventsHold& operator=(const NewKeyEventsHold&) = delete;
  void Release() {
    if (notifier_ != nullptr) notifier_->Release();
    notifier_ = nullptr;
  }

 private:
  NewKeyNotifier* notifier_;
};

}  // namespace dynakv::server
