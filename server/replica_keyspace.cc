#include "replica_keyspace.h"

#include <vector>

#include "clock.h"
#include "cluster/stored_siblings.h"
#include "cluster/versioned_value.h"
#include "snapshot_keyspace.h"

namespace dynakv::server {
namespace {

// RANDOMKEY draws this many keys before walking the keyspace for a live one: a replica where
// most keys are tombstones still answers, and one with none live answers nil.
constexpr int kRandomDraws = 16;
constexpr std::size_t kWalkBatch = 256;

}  // namespace

bool ReplicaKeyspace::LoadLive(std::string_view key) {
  std::optional<storage::ValueRef> stored = engine_.Get(key);
  if (!stored) return false;
  cluster::SiblingSet set;
  // Bytes that are not a version set (a data dir written in single-node mode) are no value.
  if (!cluster::SiblingSet::Decode(cluster::StoredBytes(*stored), &set)) return false;
  const cluster::Version* winner = set.Resolve();
  if (winner == nullptr || !winner->IsLive(NowMs())) return false;
  object_.reset();
  if (IsTypedVersion(*winner)) {  // a collection reads as a value of its type
    object_ = codec_ != nullptr ? codec_->Decode(TypedValue(*winner)) : nullptr;
    if (object_ == nullptr) return false;
  }
  value_ = PlainValue(*winner);  // a counter reads as its number
  expire_at_ms_ = winner->expire_at_ms;
  return true;
}

std::optional<storage::ValueRef> ReplicaKeyspace::Get(std::string_view key) {
  if (!LoadLive(key)) return std::nullopt;
  if (object_) return storage::ValueRef(object_.get(), expire_at_ms_);
  const auto size = static_cast<std::uint32_t>(value_.size());
  return storage::ValueRef(value_.data(), size, size, /*compressed=*/false, expire_at_ms_);
}

bool ReplicaKeyspace::Exists(std::string_view key) { return LoadLive(key); }

std::optional<std::int64_t> ReplicaKeyspace::GetExpireAt(std::string_view key) {
  if (!LoadLive(key)) return std::nullopt;
  return expire_at_ms_;
}

storage::Status ReplicaKeyspace::Put(std::string_view, std::string_view, std::int64_t) {
  return storage::Status::InvalidArgument(
      "in cluster mode keys are written through the coordinator");
}

bool ReplicaKeyspace::Delete(std::string_view) { return false; }

bool ReplicaKeyspace::SetExpireAt(std::string_view, std::int64_t) { return false; }

std::uint64_t ReplicaKeyspace::Scan(std::uint64_t cursor, std::size_t count,
                                    std::vector<std::string>* keys) {
  const std::size_t first = keys->size();
  cursor = engine_.Scan(cursor, count, keys);
  std::size_t kept = first;
  for (std::size_t i = first; i < keys->size(); ++i) {
    if (!LoadLive((*keys)[i])) continue;
    if (kept != i) (*keys)[kept] = std::move((*keys)[i]);  // never a self-move: it empties
    ++kept;
  }
  keys->resize(kept);
  return cursor;
}

std::optional<std::string> ReplicaKeyspace::RandomKey() {
  for (int i = 0; i < kRandomDraws; ++i) {
    std::optional<std::string> key = engine_.RandomKey();
    if (!key) return std::nullopt;  // nothing stored at all
    if (LoadLive(*key)) return key;
  }
  std::vector<std::string> batch;
  std::uint64_t cursor = 0;
  do {
    batch.clear();
    cursor = Scan(cursor, kWalkBatch, &batch);
    if (!batch.empty()) return std::move(batch.front());
  } while (cursor != 0);
  return std::nullopt;
}

}  // namespace dynakv::server
