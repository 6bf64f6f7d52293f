#include "cluster/stored_siblings.h"

#include <utility>

#include "cluster/versioned_value.h"

namespace dynakv::cluster {

namespace {

bool HasCollection(const SiblingSet& set) {
  for (const Version& version : set.versions()) {
    if (version.collection) return true;
  }
  return false;
}

}  // namespace

void StoredSiblings::Serialize(std::string* out) const {
  out->push_back(kStoredSiblingsTag);
  out->append(encoded_);
}

std::unique_ptr<storage::ValueObject> StoredSiblingsCodec::Decode(
    std::string_view serialized) const {
  if (serialized.empty() || serialized.front() != kStoredSiblingsTag) {
    return next_ != nullptr ? next_->Decode(serialized) : nullptr;
  }
  serialized.remove_prefix(1);
  SiblingSet set;
  if (serialized.empty() || !SiblingSet::Decode(serialized, &set)) return nullptr;
  return std::make_unique<StoredSiblings>(std::string(serialized));
}

bool StoredSiblingsCodec::Apply(storage::ValueObject* object, std::string_view op,
                                std::int64_t* result,
                                std::unique_ptr<storage::ValueObject>* created) const {
  if (op.empty() || op.front() != kStoredSiblingsTag) {
    return next_ != nullptr && next_->Apply(object, op, result, created);
  }
  op.remove_prefix(1);
  SiblingSet delta;
  if (!SiblingSet::Decode(op, &delta)) return false;
  StoredSiblings* stored = nullptr;
  if (object != nullptr) {
    stored = dynamic_cast<StoredSiblings*>(object);
    if (stored == nullptr) return false;  // a typed value of the types library: not ours
  }
  if (stored != nullptr) {
    // The common write: one collection version joined with one of its kind, without decoding the
    // elements the delta does not touch.
    std::string encoded;
    if (MergeEncodedCollection(stored->encoded(), delta, &encoded)) {
      *result = kJoinHasCollection;
      if (encoded != stored->encoded()) {
        *result |= kJoinChanged;
        stored->set_encoded(std::move(encoded));
      }
      return true;
    }
  }
  SiblingSet set;
  // Bytes that do not decode are no copy, as ReplicaService::Load takes them (Decode checked
  // them when they were stored, so only memory corruption gets here).
  if (stored != nullptr && !SiblingSet::Decode(stored->encoded(), &set)) set = SiblingSet();
  set.Merge(delta);
  std::string encoded = set.Encode();
  *result = HasCollection(set) ? kJoinHasCollection : 0;
  if (stored == nullptr) {
    *result |= kJoinChanged;
    *created = std::make_unique<StoredSiblings>(std::move(encoded));
  } else if (encoded != stored->encoded()) {
    *result |= kJoinChanged;
    stored->set_encoded(std::move(encoded));
  }
  return true;
}

std::string JoinOp(std::string_view encoded_delta) {
  std::string op(1, kStoredSiblingsTag);
  op.append(encoded_delta);
  return op;
}

std::string SerializedSiblings(std::string_view encoded) { return JoinOp(encoded); }

std::string StoredBytes(const storage::ValueRef& stored) {
  if (stored.object() == nullptr) return stored.ToString();
  const auto* siblings = dynamic_cast<const StoredSiblings*>(stored.object());
  return siblings != nullptr ? siblings->encoded() : std::string();
}

}  // namespace dynakv::cluster
