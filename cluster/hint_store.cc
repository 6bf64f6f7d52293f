#include "hint_store.h"

#include <utility>

#include "coding.h"
#include "replica_service.h"
#include "storage/engine.h"

namespace dynakv::cluster {

storage::Status HintStore::Open(const std::string& dir, storage::FsyncPolicy fsync,
                                std::function<std::int64_t()> clock_ms,
                                std::unique_ptr<HintStore>* store,
                                storage::LogCorruptionPolicy corruption,
                                std::function<int(std::string_view)> log_fault_hook) {
  storage::Options options;
  options.dir = dir;
  options.fsync = fsync;
  // Under drop-and-repair a damaged hint log loses hints, which anti-entropy makes good as it
  // does for the data's own log.
  options.log_corruption_policy = corruption;
  options.clock_ms = std::move(clock_ms);
  options.log_fault_hook = std::move(log_fault_hook);  // tests only
  // Hints are few and short-lived: a small log checkpoints soon after a handoff emptied it.
  options.log_checkpoint_bytes = 8ull << 20;
  // A long outage may pile up many; past this they wait on disk (offload), not in memory.
  options.max_memory = 64ull << 20;
  std::unique_ptr<storage::Engine> engine;
  storage::Status status = storage::Engine::Open(options, &engine);
  if (!status.ok()) return status;
  *store = std::make_unique<HintStore>(std::move(engine));
  return storage::Status::Ok();
}

HintStore::HintStore(std::unique_ptr<storage::Engine> engine) : engine_(std::move(engine)) {
  // One pass over the keys (no values) learns the owners of hints kept from before a restart.
  std::vector<std::string> keys;
  std::uint64_t cursor = 0;
  do {
    keys.clear();
    cursor = engine_->Scan(cursor, 1024, &keys);
    for (const std::string& stored_key : keys) {
      std::string_view owner;
      std::string_view key;
      if (ParseStoreKey(stored_key, &owner, &key)) NoteOwner(owner);
    }
  } while (cursor != 0);
}

void HintStore::NoteOwner(std::string_view owner) {
  auto it = owners_.find(owner);
  if (it == owners_.end()) it = owners_.emplace(std::string(owner), 0).first;
  it->second = put_sequence_;
}

std::vector<std::string> HintStore::owners() const {
  std::vector<std::string> owners;
  for (const auto& [owner, last_put] : owners_) owners.push_back(owner);
  return owners;
}

void HintStore::ForgetOwners(const std::set<std::string, std::less<>>& seen,
                             std::uint64_t pass_start) {
  for (auto it = owners_.begin(); it != owners_.end();) {
    if (seen.count(it->first) == 0 && it->second <= pass_start) {
      it = owners_.erase(it);
    } else {
      ++it;
    }
  }
}

HintStore::~HintStore() = default;

std::string HintStore::StoreKey(std::string_view owner, std::string_view key) {
  std::string stored;
  stored.reserve(owner.size() + key.size() + 5);
  coding::PutLengthPrefixed(&stored, owner);
  stored.append(key);
  return stored;
}

bool HintStore::ParseStoreKey(std::string_view stored, std::string_view* owner,
                              std::string_view* key) {
  if (!coding::GetLengthPrefixed(&stored, owner) || owner->empty()) return false;
  *key = stored;
  return true;
}

storage::Status HintStore::Put(std::string_view owner, std::string_view key,
                               const SiblingSet& incoming, std::int64_t now_ms,
                               std::int64_t tombstone_grace_ms) {
  const std::string stored_key = StoreKey(owner, key);
  SiblingSet merged;
  std::string stored;
  if (const auto existing = engine_->Get(stored_key)) {
    stored = existing->ToString();
    // Bytes that do not decode (a damaged store) are replaced by the incoming set.
    if (!SiblingSet::Decode(stored, &merged)) merged = SiblingSet();
  }
  ++put_sequence_;
  NoteOwner(owner);
  merged.Merge(incoming);
  if (merged.empty()) return storage::Status::Ok();
  std::string encoded = merged.Encode();
  if (encoded == stored) return storage::Status::Ok();
  return engine_->Put(stored_key, encoded,
                      ReplicaService::StorageExpiry(merged, now_ms, tombstone_grace_ms));
}

std::string HintStore::Get(std::string_view owner, std::string_view key) {
  const auto stored = engine_->Get(StoreKey(owner, key));
  return stored ? stored->ToString() : std::string();
}

bool HintStore::DeleteIfUnchanged(std::string_view owner, std::string_view key,
                                  std::string_view encoded) {
  const std::string stored_key = StoreKey(owner, key);
  const auto stored = engine_->Get(stored_key);
  if (!stored || stored->ToString() != encoded) return false;
  return engine_->Delete(stored_key);
}

std::uint64_t HintStore::Scan(std::uint64_t cursor, std::size_t count, std::vector<Hint>* hints,
                              std::uint64_t* bad) {
  std::vector<std::string> keys;
  const std::uint64_t next = engine_->Scan(cursor, count, &keys);
  for (const std::string& stored_key : keys) {
    const auto value = engine_->Get(stored_key);
    if (!value) continue;  // expired or deleted meanwhile
    Hint hint;
    hint.encoded = value->ToString();
    std::string_view owner;
    std::string_view key;
    SiblingSet unused;
    if (!ParseStoreKey(stored_key, &owner, &key) || !SiblingSet::Decode(hint.encoded, &unused)) {
      // Undeliverable as it is: the owner would refuse it on every attempt.
      engine_->Delete(stored_key);
      ++*bad;
      continue;
    }
    hint.owner.assign(owner);
    hint.key.assign(key);
    hints->push_back(std::move(hint));
  }
  return next;
}

std::uint64_t HintStore::size() const { return engine_->KeyCount(); }

void HintStore::SetFsyncPolicy(storage::FsyncPolicy policy) { engine_->SetFsyncPolicy(policy); }

storage::Status HintStore::FlushLog() { return engine_->FlushLog(); }

void HintStore::Tick() { engine_->Tick(); }

}  // namespace dynakv::cluster
