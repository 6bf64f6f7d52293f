// How a replica stores a key whose version set holds a convergent collection (a set, a hash:
// Version::collection): as a storage object (storage/object.h) whose logged operation is "join
// this version set", so a write of one element appends O(element) bytes to the commit log (the
// delta it shipped), not the whole merged set (issue 11's bound). Recovery replays the joins in
// log order onto the last checkpointed copy; joins are deterministic, so the replayed copy is
// byte-identical to the one the replica held.
//
// In memory (and in checkpoints) the object is the set's SiblingSet::Encode() bytes, as a plain
// value is; only the log differs. Other keys (strings, counters, tombstones) stay plain values.
//
// StoredSiblingsCodec wraps the server's codec of typed values: operations and serialized
// objects that start with kStoredSiblingsTag are its own, everything else goes to `next`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/engine.h"
#include "storage/object.h"

namespace dynakv::cluster {

// The first byte of a stored version set's serialized form and of its join operation. No
// types:: value type (types/value_type.h: 1-4) or opcode (types/ops.h: 1-69) uses it.
inline constexpr char kStoredSiblingsTag = static_cast<char>(0xC5);

// StoredSiblingsCodec::Apply's *result bits.
inline constexpr std::int64_t kJoinChanged = 1;        // the bytes changed
inline constexpr std::int64_t kJoinHasCollection = 2;  // the joined set holds a collection

class StoredSiblings final : public storage::ValueObject {
 public:
  explicit StoredSiblings(std::string encoded) : encoded_(std::move(encoded)) {}
  std::size_t MemoryUsage() const override { return sizeof(*this) + encoded_.capacity(); }
  void Serialize(std::string* out) const override;
  bool Empty() const override { return encoded_.empty(); }
  // SiblingSet::Encode() bytes.
  const std::string& encoded() const { return encoded_; }
  void set_encoded(std::string encoded) { encoded_ = std::move(encoded); }

 private:
  std::string encoded_;
};

class StoredSiblingsCodec final : public storage::ObjectCodec {
 public:
  // `next` (may be null) must outlive this.
  explicit StoredSiblingsCodec(const storage::ObjectCodec* next) : next_(next) {}
  std::unique_ptr<storage::ValueObject> Decode(std::string_view serialized) const override;
  // The join: `op` is JoinOp(delta). Over an absent key it creates the object from the delta.
  // *result: kJoinChanged | kJoinHasCollection as they apply.
  bool Apply(storage::ValueObject* object, std::string_view op, std::int64_t* result,
             std::unique_ptr<storage::ValueObject>* created) const override;

 private:
  const storage::ObjectCodec* next_;
};

// The operation that joins the version set encoded as `encoded_delta` into the stored one.
std::string JoinOp(std::string_view encoded_delta);
// The serialized form of a stored version set (Engine::PutObject).
std::string SerializedSiblings(std::string_view encoded);
// The SiblingSet::Encode() bytes of a stored value, whichever way it is stored; "" for an
// object that is not a stored version set.
std::string StoredBytes(const storage::ValueRef& stored);

}  // namespace dynakv::cluster
