#include "field_table.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "storage/engine.h"  // HashKey
#include "types/ops.h"

namespace dynakv::types {

namespace {

// A snapshot's chunks: 1,024 for a large table, so a write that settles one serializes about a
// thousandth of the table (a 100,000-member set: some 100 members, a few microseconds).
constexpr unsigned kMaxChunkBits = 10;

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

FieldTable::NodePtr& FieldTable::Chain::Next(Node& n) { return n.next; }

std::uint64_t FieldTable::Chain::Hash(const Node& n) { return storage::HashKey(n.field()); }

FieldTable::FieldTable() = default;
FieldTable::~FieldTable() = default;

void FieldTable::Reserve(std::size_t fields) {
  if (size_ != 0 || snapshot_ != nullptr) return;
  buckets_.Reserve(fields);
}

std::optional<std::string_view> FieldTable::Get(std::string_view field) const {
  for (const Node* n = buckets_.Slot(storage::HashKey(field)).get(); n != nullptr;
       n = n->next.get()) {
    if (n->field() == field) return n->value();
  }
  return std::nullopt;
}

bool FieldTable::Set(std::string_view field, std::string_view value) {
  const std::uint64_t hash = storage::HashKey(field);
  if (snapshot_ != nullptr) snapshot_->Settle(hash);
  NodePtr& head = buckets_.Slot(hash);
  NodePtr* link = &head;
  while (*link && (*link)->field() != field) link = &(*link)->next;
  bool added = false;
  if (*link && (*link)->value_len == value.size()) {
    if (!value.empty())
      std::memcpy((*link)->bytes() + (*link)->field_len, value.data(), value.size());
  } else {
    NodePtr fresh = MakeNode(field, value);
    node_bytes_ += NodeBytes(*fresh);
    payload_bytes_ += field.size() + value.size();
    if (*link) {
      NodePtr old = std::move(*link);
      node_bytes_ -= NodeBytes(*old);
      payload_bytes_ -= old->field_len + old->value_len;
      fresh->next = std::move(old->next);
      *link = std::move(fresh);
    } else {
      fresh->next = std::move(head);
      head = std::move(fresh);
      ++size_;
      added = true;
    }
  }
  MaybeResize();
  return added;
}

bool FieldTable::Remove(std::string_view field) {
  const std::uint64_t hash = storage::HashKey(field);
  if (snapshot_ != nullptr) snapshot_->Settle(hash);
  NodePtr* link = &buckets_.Slot(hash);
  while (*link && (*link)->field() != field) link = &(*link)->next;
  if (!*link) return false;
  NodePtr old = std::move(*link);
  *link = std::move(old->next);
  node_bytes_ -= NodeBytes(*old);
  payload_bytes_ -= old->field_len + old->value_len;
  --size_;
  old.reset();
  MaybeResize();
  return true;
}

void FieldTable::MaybeResize() {
  if (snapshot_ != nullptr) return;  // nothing moves while a snapshot reads the buckets
  buckets_.AfterChange(size_);
}

void FieldTable::ForEach(const Visitor& fn) const {
  buckets_.Walk(0, 0, [&fn](const Node& n) { fn(n.field(), n.value()); });
}

void FieldTable::AppendPairs(std::string* out) const {
  // Two length prefixes per pair; most lengths fit a one-byte varint, so this rarely regrows.
  out->reserve(out->size() + payload_bytes_ + 2 * size_ + 16);
  buckets_.Walk(0, 0, [out](const Node& n) {
    PutVarint(out, n.field_len);
    out->append(n.bytes(), n.field_len);
    PutVarint(out, n.value_len);
    out->append(n.bytes() + n.field_len, n.value_len);
  });
}

std::uint64_t FieldTable::Scan(std::uint64_t cursor, std::size_t count, const Visitor& fn) const {
  return buckets_.Scan(cursor, count, [&fn](const Node& n) { fn(n.field(), n.value()); });
}

std::pair<std::string_view, std::string_view> FieldTable::Random(std::mt19937_64& rng) const {
  const Node& n = buckets_.Random(rng);
  return {n.field(), n.value()};
}

// --- Snapshots ----------------------------------------------------------------------------------

std::unique_ptr<FieldTable::Snapshot> FieldTable::StartSnapshot(bool with_values) {
  // Chunk boundaries must be bucket boundaries of both arrays.
  const unsigned bits = std::min(buckets_.common_bits(), kMaxChunkBits);
  auto snapshot = std::make_unique<Snapshot>(*this, with_values, bits);
  snapshot_ = snapshot.get();
  return snapshot;
}

void FieldTable::EndSnapshot() { snapshot_ = nullptr; }

std::unique_ptr<storage::ObjectSnapshot> SnapshotTable(std::string_view prefix, FieldTable* table,
                                                       bool with_values) {
  std::unique_ptr<FieldTable::Snapshot> snapshot = table->StartSnapshot(with_values);
  std::string header(prefix);
  PutVarint(&header, snapshot->size());
  return WithHeader(std::move(header), std::move(snapshot));
}

FieldTable::Snapshot::Snapshot(const FieldTable& table, bool with_values, unsigned chunk_bits)
    : ChunkedSnapshot(std::size_t{1} << chunk_bits),
      table_(table),
      with_values_(with_values),
      chunk_shift_(64 - chunk_bits),
      size_(table.size()) {}

void FieldTable::Snapshot::SerializeChunk(std::size_t c, std::string* out) const {
  const bool with_values = with_values_;
  table_.buckets_.Walk(static_cast<std::uint64_t>(c) << chunk_shift_,
                       (static_cast<std::uint64_t>(c) + 1) << chunk_shift_,
                       [out, with_values](const Node& n) {
                         PutVarint(out, n.field_len);
                         out->append(n.bytes(), n.field_len);
                         if (!with_values) return;
                         PutVarint(out, n.value_len);
                         out->append(n.bytes() + n.field_len, n.value_len);
                       });
}

}  // namespace dynakv::types
