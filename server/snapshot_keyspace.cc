#include "snapshot_keyspace.h"

namespace dynakv::server {

void SnapshotKeyspace::Load(std::string_view key, const cluster::SiblingSet& set) {
  KeyState& state = Slot(key);
  state = KeyState{};
  const cluster::Version* winner = set.Resolve();
  if (winner == nullptr || !winner->IsLive(now_ms_)) return;
  state.exists = true;
  state.value = winner->value;
  state.expire_at_ms = winner->expire_at_ms;
}

SnapshotKeyspace::KeyState& SnapshotKeyspace::Slot(std::string_view key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) it = keys_.emplace(std::string(key), KeyState{}).first;
  return it->second;
}

SnapshotKeyspace::KeyState* SnapshotKeyspace::Live(std::string_view key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return nullptr;
  KeyState& state = it->second;
  if (!state.exists) return nullptr;
  if (state.expire_at_ms != 0 && state.expire_at_ms <= now_ms_) return nullptr;
  return &state;
}

std::optional<storage::ValueRef> SnapshotKeyspace::Get(std::string_view key) {
  const KeyState* state = Live(key);
  if (state == nullptr) return std::nullopt;
  const auto size = static_cast<std::uint32_t>(state->value.size());
  return storage::ValueRef(state->value.data(), size, size, /*compressed=*/false,
                           state->expire_at_ms);
}

std::optional<std::int64_t> SnapshotKeyspace::GetExpireAt(std::string_view key) {
  const KeyState* state = Live(key);
  if (state == nullptr) return std::nullopt;
  return state->expire_at_ms;
}

storage::Status SnapshotKeyspace::Put(std::string_view key, std::string_view value,
                                      std::int64_t expire_at_ms) {
  KeyState& state = Slot(key);
  state.exists = true;
  state.value.assign(value);
  state.expire_at_ms = expire_at_ms;
  state.changed = true;
  return storage::Status::Ok();
}

bool SnapshotKeyspace::Delete(std::string_view key) {
  KeyState* state = Live(key);
  if (state == nullptr) return false;
  state->exists = false;
  state->value.clear();
  state->expire_at_ms = 0;
  state->changed = true;
  return true;
}

bool SnapshotKeyspace::SetExpireAt(std::string_view key, std::int64_t expire_at_ms) {
  KeyState* state = Live(key);
  if (state == nullptr) return false;
  // As the engine does: a time already past deletes the key.
  if (expire_at_ms != 0 && expire_at_ms <= now_ms_) return Delete(key);
  state->expire_at_ms = expire_at_ms;
  state->changed = true;
  return true;
}

}  // namespace dynakv::server
