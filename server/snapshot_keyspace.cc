#include "snapshot_keyspace.h"

#include "cluster/collection_state.h"
#include "cluster_lists.h"
#include "crdt/pn_counter.h"
#include "types/hash.h"
#include "types/set.h"
#include "types/sorted_set.h"

namespace dynakv::server {

std::string PlainValue(const cluster::Version& version) {
  if (version.collection) {
    // An HLL reads as the Redis string of its registers; other collections are typed values.
    cluster::CollectionState state;
    if (cluster::CollectionState::Decode(version.value, &state) &&
        state.kind() == cluster::CollectionState::Kind::kHll) {
      return state.hll().registers().ToRedis();
    }
    return version.value;
  }
  if (!version.counter) return version.value;
  crdt::PnCounter state;
  crdt::PnCounter::Decode(version.value, &state);  // checked when its set was decoded
  return std::to_string(state.Value());
}

bool IsTypedVersion(const cluster::Version& version) {
  if (version.typed) return true;
  cluster::CollectionState::Kind kind;
  return version.collection && cluster::CollectionState::PeekKind(version.value, &kind) &&
         kind != cluster::CollectionState::Kind::kHll;
}

std::string TypedValue(const cluster::Version& version, const cluster::CollectionState* decoded) {
  if (!version.collection) return version.value;
  cluster::CollectionState decoded_here;
  if (decoded == nullptr) {
    cluster::CollectionState::Decode(version.value, &decoded_here);  // checked when stored
    decoded = &decoded_here;
  }
  const cluster::CollectionState& state = *decoded;
  std::string out;
  if (state.kind() == cluster::CollectionState::Kind::kList) return ListValue(state.list());
  if (state.kind() == cluster::CollectionState::Kind::kSet) {
    types::Set::SerializeMembers(state.set().Members(), &out);
    return out;
  }
  if (state.kind() == cluster::CollectionState::Kind::kZset) {
    // Members by score, then bytes, each with its merged score (an LWW register plus totals),
    // as a new sorted set: encoded by the default zset-max-listpack-* limits.
    const std::vector<std::pair<std::string, double>> range = state.zset().Range();
    std::vector<std::pair<std::string_view, double>> ascending;
    ascending.reserve(range.size());
    for (const auto& [member, score] : range) ascending.emplace_back(member, score);
    return types::SortedSet::SerializeEntries(ascending);
  }
  // Fields in byte order, each with its merged value (an LWW register plus counter totals).
  const types::TypeLimits limits;
  const std::vector<std::pair<std::string, std::string>> entries = state.map().Entries();
  if (types::Hash::SerializeListpack(entries, limits, &out)) return out;
  types::Hash hash;
  for (const auto& [field, value] : entries) hash.Set(field, value, limits);
  hash.Serialize(&out);
  return out;
}

void SnapshotKeyspace::Load(std::string_view key, const cluster::SiblingSet& set,
                            const DecodedCollection* decoded) {
  KeyState& state = Slot(key);
  state = KeyState{};
  const cluster::Version* winner = set.Resolve();
  if (winner == nullptr || !winner->IsLive(now_ms_)) return;
  if (IsTypedVersion(*winner)) {
    // A typed value this node cannot decode (no codec, or bytes that are not one) reads as
    // absent rather than as a string holding its serialized form.
    if (codec_ == nullptr) return;
    const bool given = decoded != nullptr && decoded->version == winner;
    state.object = codec_->Decode(TypedValue(*winner, given ? &decoded->state : nullptr));
    // A list whose every element waits for its anchor (crdt/sequence.h) shows none: absent.
    if (state.object == nullptr || state.object->Empty()) return;
  } else {
    state.value = PlainValue(*winner);
  }
  state.exists = true;
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
  if (state->object) return storage::ValueRef(state->object.get(), state->expire_at_ms);
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
  state.object.reset();
  state.value.assign(value);
  state.expire_at_ms = expire_at_ms;
  state.changed = true;
  state.replaced = true;
  state.ops.clear();
  return storage::Status::Ok();
}

bool SnapshotKeyspace::Delete(std::string_view key) {
  KeyState* state = Live(key);
  if (state == nullptr) return false;
  Drop(state);
  state->replaced = true;
  state->ops.clear();
  return true;
}

void SnapshotKeyspace::Drop(KeyState* state) {
  state->exists = false;
  state->object.reset();
  state->value.clear();
  state->expire_at_ms = 0;
  state->changed = true;
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

storage::Status SnapshotKeyspace::Mutate(std::string_view key, std::string_view op,
                                         std::int64_t* result) {
  if (codec_ == nullptr) {
    return storage::Status::InvalidArgument(std::string(kTypedValuesUnavailable));
  }
  KeyState* live = Live(key);
  if (live != nullptr && !live->object) {
    return storage::Status::InvalidArgument(std::string(storage::kHoldsString));
  }
  *result = 0;
  if (live == nullptr) {
    std::unique_ptr<storage::ValueObject> created;
    if (!codec_->Apply(nullptr, op, result, &created)) {
      return storage::Status::InvalidArgument("operation refused");
    }
    if (created == nullptr || created->Empty()) return storage::Status::Ok();
    KeyState& state = Slot(key);
    state.exists = true;
    state.value.clear();
    state.object = std::move(created);
    state.expire_at_ms = 0;
    state.changed = true;
    state.ops.emplace_back(op);
    return storage::Status::Ok();
  }
  std::unique_ptr<storage::ValueObject> unused;
  if (!codec_->Apply(live->object.get(), op, result, &unused)) {
    return storage::Status::InvalidArgument("operation refused");
  }
  live->changed = true;
  live->ops.emplace_back(op);
  if (live->object->Empty()) Drop(live);  // Redis never keeps an empty collection
  return storage::Status::Ok();
}

storage::Status SnapshotKeyspace::PutObject(std::string_view key, std::string_view serialized,
                                            std::int64_t expire_at_ms) {
  std::unique_ptr<storage::ValueObject> object =
      codec_ != nullptr ? codec_->Decode(serialized) : nullptr;
  if (object == nullptr) return storage::Status::InvalidArgument("not a typed value");
  KeyState& state = Slot(key);
  state.exists = true;
  state.value.clear();
  state.object = std::move(object);
  state.expire_at_ms = expire_at_ms;
  state.changed = true;
  state.replaced = true;
  state.ops.clear();
  return storage::Status::Ok();
}

void SnapshotKeyspace::NoteWrite(std::string_view key, WriteKind kind) {
  auto it = writers_.find(key);
  if (it == writers_.end()) it = writers_.emplace(std::string(key), Writers{}).first;
  it->second.increment = it->second.increment || kind == WriteKind::kIncrement;
  it->second.other = it->second.other || kind == WriteKind::kOther;
}

bool SnapshotKeyspace::OnlyIncremented(std::string_view key) const {
  const auto it = writers_.find(key);
  return it != writers_.end() && it->second.increment && !it->second.other;
}

}  // namespace dynakv::server
