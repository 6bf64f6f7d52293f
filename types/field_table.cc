#include "field_table.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "storage/engine.h"  // HashKey
#include "types/ops.h"

namespace dynakv::types {

namespace {

constexpr unsigned kMinBits = 2;

}  // namespace

// 16 bytes before the field: the hash is not kept (it is recomputed when the table resizes, and
// chains are short enough to compare fields directly), which saves a jemalloc size class for
// most small members (a 14-byte set member: 30 bytes, class 32, instead of 48).
struct FieldTable::Node {
  NodePtr next;
  std::uint32_t field_len = 0;
  std::uint32_t value_len = 0;

  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  std::string_view field() const { return {bytes(), field_len}; }
  std::string_view value() const { return {bytes() + field_len, value_len}; }
};

void FieldTable::NodeDeleter::operator()(Node* n) const {
  std::destroy_at(n);
  std::free(n);
}

FieldTable::NodePtr FieldTable::MakeNode(std::string_view field, std::string_view value) {
  void* mem = std::malloc(sizeof(Node) + field.size() + value.size());
  if (mem == nullptr) throw std::bad_alloc();
  NodePtr n(std::construct_at(static_cast<Node*>(mem)));
  n->field_len = static_cast<std::uint32_t>(field.size());
  n->value_len = static_cast<std::uint32_t>(value.size());
  if (!field.empty()) std::memcpy(n->bytes(), field.data(), field.size());
  if (!value.empty()) std::memcpy(n->bytes() + field.size(), value.data(), value.size());
  return n;
}

std::size_t FieldTable::NodeBytes(const Node& n) {
  // malloc hands out 16-byte multiples (jemalloc's small classes are at least as fine).
  return (sizeof(Node) + n.field_len + n.value_len + 15) & ~std::size_t{15};
}

FieldTable::FieldTable()
    : buckets_(std::size_t{1} << kMinBits), bits_(kMinBits), shift_(64 - kMinBits) {}

FieldTable::~FieldTable() {
  // Chains are freed iteratively: a recursive unique_ptr chain could overflow the stack.
  for (NodePtr& bucket : buckets_) {
    while (bucket) bucket = std::move(bucket->next);
  }
}

std::optional<std::string_view> FieldTable::Get(std::string_view field) const {
  const std::uint64_t hash = storage::HashKey(field);
  for (const Node* n = buckets_[BucketOf(hash)].get(); n != nullptr; n = n->next.get()) {
    if (n->field() == field) return n->value();
  }
  return std::nullopt;
}

bool FieldTable::Set(std::string_view field, std::string_view value) {
  const std::uint64_t hash = storage::HashKey(field);
  NodePtr* link = &buckets_[BucketOf(hash)];
  while (*link && (*link)->field() != field) link = &(*link)->next;
  if (*link && (*link)->value_len == value.size()) {
    if (!value.empty())
      std::memcpy((*link)->bytes() + (*link)->field_len, value.data(), value.size());
    return false;
  }
  NodePtr fresh = MakeNode(field, value);
  node_bytes_ += NodeBytes(*fresh);
  payload_bytes_ += field.size() + value.size();
  if (*link) {
    NodePtr old = std::move(*link);
    node_bytes_ -= NodeBytes(*old);
    payload_bytes_ -= old->field_len + old->value_len;
    fresh->next = std::move(old->next);
    *link = std::move(fresh);
    return false;
  }
  fresh->next = std::move(buckets_[BucketOf(hash)]);
  buckets_[BucketOf(hash)] = std::move(fresh);
  ++size_;
  if (size_ > buckets_.size()) Resize(bits_ + 1);
  return true;
}

bool FieldTable::Remove(std::string_view field) {
  const std::uint64_t hash = storage::HashKey(field);
  NodePtr* link = &buckets_[BucketOf(hash)];
  while (*link && (*link)->field() != field) link = &(*link)->next;
  if (!*link) return false;
  NodePtr old = std::move(*link);
  *link = std::move(old->next);
  node_bytes_ -= NodeBytes(*old);
  payload_bytes_ -= old->field_len + old->value_len;
  --size_;
  if (bits_ > kMinBits && size_ < buckets_.size() / 8) Resize(bits_ - 1);
  return true;
}

void FieldTable::Resize(unsigned bits) {
  std::vector<NodePtr> fresh(std::size_t{1} << bits);
  const unsigned shift = 64 - bits;
  for (NodePtr& bucket : buckets_) {
    while (bucket) {
      NodePtr n = std::move(bucket);
      bucket = std::move(n->next);
      NodePtr& dst = fresh[static_cast<std::size_t>(storage::HashKey(n->field()) >> shift)];
      n->next = std::move(dst);
      dst = std::move(n);
    }
  }
  buckets_ = std::move(fresh);
  bits_ = bits;
  shift_ = shift;
}

void FieldTable::ForEach(const Visitor& fn) const {
  for (const NodePtr& bucket : buckets_) {
    for (const Node* n = bucket.get(); n != nullptr; n = n->next.get()) fn(n->field(), n->value());
  }
}

void FieldTable::AppendPairs(std::string* out) const {
  // Two length prefixes per pair; most lengths fit a one-byte varint, so this rarely regrows.
  out->reserve(out->size() + payload_bytes_ + 2 * size_ + 16);
  for (const NodePtr& bucket : buckets_) {
    for (const Node* n = bucket.get(); n != nullptr; n = n->next.get()) {
      PutVarint(out, n->field_len);
      out->append(n->bytes(), n->field_len);
      PutVarint(out, n->value_len);
      out->append(n->bytes() + n->field_len, n->value_len);
    }
  }
}

std::uint64_t FieldTable::Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const {
  std::size_t passed = 0;
  // A cursor is a bucket boundary unless the table shrank since it was handed out: only then do
  // the first bucket's fields below it need their hash to be skipped.
  const std::size_t first = BucketOf(cursor);
  const bool mid_bucket = (static_cast<std::uint64_t>(first) << shift_) != cursor;
  for (std::size_t b = first; b < buckets_.size(); ++b) {
    for (const Node* n = buckets_[b].get(); n != nullptr; n = n->next.get()) {
      if (mid_bucket && b == first && storage::HashKey(n->field()) < cursor) continue;
      fn(n->field(), n->value());
      ++passed;
    }
    if (b + 1 == buckets_.size()) return 0;
    if (passed >= count) return static_cast<std::uint64_t>(b + 1) << shift_;
  }
  return 0;
}

std::pair<std::string_view, std::string_view> FieldTable::Random(std::mt19937_64& rng) const {
  // A random non-empty bucket, then a random node of its chain (chains are short: load <= 1).
  const std::size_t n = buckets_.size();
  std::size_t b = static_cast<std::size_t>(rng() & (n - 1));
  while (!buckets_[b]) b = (b + 1) & (n - 1);
  std::size_t len = 0;
  for (const Node* node = buckets_[b].get(); node != nullptr; node = node->next.get()) ++len;
  std::size_t pick = static_cast<std::size_t>(rng() % len);
  const Node* node = buckets_[b].get();
  while (pick-- > 0) node = node->next.get();
  return {node->field(), node->value()};
}

}  // namespace dynakv::types
